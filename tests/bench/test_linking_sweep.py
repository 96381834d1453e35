import json
from pathlib import Path

import pytest

from bench.linking_sweep import figures, parse_setting, question_parts, sweep
from schemakg.app.container import Container
from schemakg.app.evaluation import EvalDatabases, evaluate_linking
from schemakg.retrieval.linker import LinkerSettings
from tests.app.test_evaluation import _spider_entry


def test_settings_are_read_over_the_served_ones() -> None:
    served = LinkerSettings(region_margin=0.06, area_tables=4)
    assert parse_setting("default", served) is served
    changed = parse_setting("region_margin=0.07,area_tables=none,value_matching=false", served)
    assert (changed.region_margin, changed.area_tables, changed.value_matching) == (0.07, None, False)
    assert changed.table_margin == served.table_margin
    with pytest.raises(SystemExit, match="not a linker setting"):
        parse_setting("margin=0.07", served)
    with pytest.raises(SystemExit, match="not a valid setting"):
        parse_setting("area_tables=many", served)


def test_the_rest_is_split_by_corpus_when_it_holds_several() -> None:
    rows = [
        {"db_id": "warehouse", "source_db": "yelp", "corpus": "spider"},
        {"db_id": "warehouse", "source_db": "twitter_1", "corpus": "spider"},
        {"db_id": "warehouse", "source_db": "debit_card", "corpus": "bird"},
    ]
    assert question_parts(rows, None) == {"all": [0, 1, 2]}
    assert question_parts(rows, {"yelp"}) == {
        "all": [0, 1, 2],
        "tuning databases": [0],
        "the rest": [1, 2],
        "the rest, bird": [2],
        "the rest, spider": [1],
    }
    assert "the rest, spider" not in question_parts(rows[:2], {"yelp"})  # one corpus: no split


def test_the_default_setting_links_each_question_as_eval_linking_does(tmp_path: Path, container: Container) -> None:
    tables = {
        "gigs": _spider_entry(
            "gigs",
            {"singer": ["singer_id", "name", "country", "age"], "concert": ["concert_id", "singer_id", "year"]},
            [(6, 1)],  # concert.singer_id → singer.singer_id
        ),
        "staff": _spider_entry("staff", {"employees": ["employee_id", "first_name", "salary", "hire_date"]}, []),
    }
    questions = [
        {
            "db_id": "gigs",
            "question": "Which countries do singers come from?",
            "query": "SELECT country FROM singer",
        },
        {
            "db_id": "gigs",
            "question": "Names of singers with a concert in 2014",
            "query": "SELECT s.name FROM singer AS s JOIN concert AS c ON s.singer_id = c.singer_id "
            "WHERE c.year = 2014",
        },
        {"db_id": "staff", "question": "What is each employee's salary?", "query": "SELECT salary FROM employees"},
    ]
    catalogue = EvalDatabases(container, tables, None)
    served = container.linking.linker.settings
    one_table = parse_setting("join_completion=false,schema_tables=1", served)
    links, gold = sweep(container, questions, catalogue, [served, one_table])  # first: the databases are new
    predictions = tmp_path / "links.jsonl"
    report = evaluate_linking(container, questions, catalogue, None, predictions, lambda *_: None)

    expected = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert links[0] == [(set(line["tables"]), set(line["columns"])) for line in expected]
    measured = figures(links[0], gold, range(len(questions)))
    assert {key: measured[key] for key in ("table_recall", "table_f6", "column_recall", "avg_columns")} == {
        key: report[key] for key in ("table_recall", "table_f6", "column_recall", "avg_columns")
    }
    assert gold[1] == ({"singer", "concert"}, {"singer.name", "singer.singer_id", "concert.singer_id", "concert.year"})
    assert links[0][1][0] == {"singer", "concert"}
    assert len(links[1][1][0]) == 1  # columns selected in the best table only, and no join completion
