"""The evaluation harness against the real catalogue: the query log it builds must never hold the answer."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from schemakg.app.container import Container
from schemakg.app.evaluation import (
    EvalDatabases,
    EvalInputError,
    bootstrap_ci,
    evaluate_linking,
    evaluate_routing,
    ingest_history,
    load_questions,
    load_tables,
    paired_comparison,
    schema_metadata,
    summarise,
)
from schemakg.kernel.model import column_ref
from tests.conftest import SAMPLE_DB


def test_history_leaves_out_evaluated_questions_and_near_duplicates_of_their_sql(
    tmp_path: Path, container: Container
) -> None:
    (tmp_path / "hr_1").mkdir()
    shutil.copyfile(SAMPLE_DB, tmp_path / "hr_1" / "hr_1.sqlite")
    catalogue = EvalDatabases(container, {}, tmp_path)
    evaluated = {
        "db_id": "hr_1",
        "question": "How many employees earn more than 5000?",
        "query": "SELECT count(*) FROM employees WHERE salary > 5000",
    }
    # The log spells the evaluated question's SQL otherwise (as an engine copy's history does), and holds a
    # near-duplicate of each spelling.
    history = [
        {**evaluated, "query": "SELECT count(*) FROM employees AS e WHERE e.salary > 5000"},
        {
            "db_id": "hr_1",
            "question": "Count the employees paid over 9000.",
            "query": "select  COUNT(*) from employees where SALARY > 9000",
        },
        {
            "db_id": "hr_1",
            "question": "How many employees are paid above 7000?",
            "query": "SELECT count(*) FROM employees AS e WHERE e.salary > 7000",
        },
        {"db_id": "hr_1", "question": "What is the highest salary?", "query": "SELECT max(salary) FROM employees"},
        {"db_id": "other_db", "question": "Anything", "query": "SELECT 1"},
    ]

    logged = ingest_history(container, catalogue, history, [evaluated])

    assert logged == {"hr_1": 1}
    rows = container.store.read("MATCH (q:QueryExample {database: 'eval-hr_1'}) RETURN q.question AS question")
    assert [r["question"] for r in rows] == ["What is the highest salary?"]

    # Routing logs every database the history names, not only those under evaluation.
    (tmp_path / "hr_2").mkdir()
    shutil.copyfile(SAMPLE_DB, tmp_path / "hr_2" / "hr_2.sqlite")
    others = [{**row, "db_id": "hr_2"} for row in history[1:3]]
    assert ingest_history(container, catalogue, history + others, [evaluated], ["hr_1", "hr_2"]) == {
        "hr_1": 1,
        "hr_2": 2,
    }


def test_labels_that_say_more_than_the_name_document_the_columns(tmp_path: Path, container: Container) -> None:
    (tmp_path / "hr_1").mkdir()
    shutil.copyfile(SAMPLE_DB, tmp_path / "hr_1" / "hr_1.sqlite")
    tables = {
        "hr_1": {
            "db_id": "hr_1",
            "table_names_original": ["employees"],
            "column_names_original": [[-1, "*"], [0, "SALARY"], [0, "FIRST_NAME"], [0, "EMAIL"]],
            "column_names": [[-1, "*"], [0, "monthly pay"], [0, "first name"], [0, "mail address"]],
        }
    }
    name = EvalDatabases(container, tables, tmp_path).ensure("hr_1")
    email = container.curation.edit_column(name, "employees", "EMAIL", {"description": "work e-mail"}, None, "steward")

    EvalDatabases(container, tables, tmp_path).ensure("hr_1")  # a later evaluation run over the same catalogue

    column = container.browser.column
    assert column(name, "employees", "SALARY").description == "monthly pay"
    assert not column(name, "employees", "FIRST_NAME").description  # the label only repeats the name
    assert column(name, "employees", "EMAIL").description == "work e-mail"  # never overwrites documentation
    assert column(name, "employees", "EMAIL").revision == email.revision


def test_first_attempt_counts_only_questions_answered_without_a_retry() -> None:
    records = [
        {"correct": True, "executable": True, "retries": 0, "latency_s": 1.0},
        {"correct": True, "executable": True, "retries": 1, "latency_s": 3.0},
        {"correct": False, "executable": True, "retries": 0, "latency_s": 2.0},
        {"correct": False, "executable": False, "retries": 2, "latency_s": 5.0},
    ]
    report = summarise(records, ["easy", "hard", "easy", "hard"])
    assert report["execution_accuracy"] == 0.5
    assert report["executable_rate"] == 0.75
    assert report["first_attempt"] == {"execution_accuracy": 0.25, "executable_rate": 0.5}
    assert report["by_difficulty"]["hard"] == {"n": 2, "execution_accuracy": 0.5}
    assert report["latency_s_p50"] == 2.5
    assert report["execution_accuracy_ci95"][0] < 0.5 < report["execution_accuracy_ci95"][1]
    assert "by_candidates" not in report  # one candidate: no curve


def test_questions_with_an_uninformative_gold_result_are_counted_apart() -> None:
    records = [
        {"correct": True, "executable": True, "retries": 0, "latency_s": 1.0, "gold_informative": False},
        {"correct": True, "executable": True, "retries": 0, "latency_s": 1.0, "gold_informative": True},
        {"correct": False, "executable": False, "retries": 0, "latency_s": 1.0, "gold_informative": True},
        {"correct": False, "executable": True, "retries": 0, "latency_s": 1.0},  # its gold SQL did not run
    ]
    split = summarise(records, ["easy"] * 4)["by_gold_result"]
    assert split["informative"] == {"n": 2, "execution_accuracy": 0.5, "executable_rate": 0.5}
    assert split["uninformative"] == {"n": 1, "execution_accuracy": 1.0, "executable_rate": 1.0}
    assert "by_gold_result" not in summarise(records[3:], ["easy"])  # records written before the split


def test_each_check_that_asks_again_reports_its_replacements_and_the_accuracy_without_it() -> None:
    base = {"executable": True, "retries": 0, "latency_s": 1.0}
    records = [
        {**base, "correct": True, "area_check": "replaced", "correct_before_area_check": False},
        {**base, "correct": False, "area_check": "replaced", "correct_before_area_check": True},
        {**base, "correct": True, "area_check": "kept the first query"},
        {**base, "correct": True, "shape_check": "replaced", "correct_before_shape_check": False},
    ]
    report = summarise(records, ["easy"] * 4)
    assert report["area_check"] == {
        "asked": 3,
        "replaced": 2,
        "replaced_right_before": 1,
        "replaced_right_after": 1,
        "execution_accuracy_without": 0.75,
    }
    assert report["shape_check"]["asked"] == 1 and report["shape_check"]["execution_accuracy_without"] == 0.5


def test_bootstrap_interval_narrows_with_more_questions() -> None:
    low, high = bootstrap_ci([True, False] * 10)
    wide = high - low
    low, high = bootstrap_ci([True, False] * 200)
    assert low < 0.5 < high and high - low < wide / 3
    assert bootstrap_ci([True] * 30) == [1.0, 1.0]


def test_paired_comparison_counts_discordant_questions() -> None:
    first = [{"index": i, "correct": i < 12} for i in range(20)]
    second = [{"index": i, "correct": i < 2 or i >= 18} for i in range(20)]
    paired = paired_comparison(first, second)
    assert (paired["only_first"], paired["only_second"]) == (10, 2)
    assert paired["p_value"] == 0.0386  # exact two-sided sign test, 2 of 12
    assert paired_comparison(first, first)["p_value"] == 1.0


def _candidate(signature: str | None, correct: bool, greedy: bool = False, latency_s: float = 2.0) -> dict:
    return {"greedy": greedy, "signature": signature, "row_count": 1, "latency_s": latency_s, "correct": correct}


def test_candidate_curve_replays_the_choice_for_each_count() -> None:
    # Greedy wrong; two samples agree on the right answer: right from 3 candidates on.
    overturned = [_candidate("a", False, greedy=True, latency_s=0), _candidate("b", True), _candidate("b", True)]
    # Greedy right; samples split: greedy keeps it.
    kept = [_candidate("c", True, greedy=True, latency_s=0), _candidate("d", False), _candidate(None, False)]
    records = [
        {"correct": True, "executable": True, "retries": 0, "latency_s": 10.0, "candidates": overturned},
        {"correct": True, "executable": True, "retries": 0, "latency_s": 10.0, "candidates": kept},
    ]
    curve = summarise(records, ["easy", "easy"])["by_candidates"]
    assert curve["1"]["execution_accuracy"] == 0.5 and curve["1"]["latency_s_p50"] == 6.0
    assert curve["2"]["execution_accuracy"] == 0.5  # a tie keeps the greedy answer
    assert curve["3"]["execution_accuracy"] == 1.0 and curve["3"]["latency_s_p50"] == 10.0


def _spider_entry(db_id: str, tables: dict[str, list[str]], fks: list[tuple[int, int]]) -> dict:
    names = list(tables)
    columns = [[-1, "*"]] + [[i, c] for i, t in enumerate(names) for c in tables[t]]
    return {
        "db_id": db_id,
        "table_names_original": names,
        "column_names_original": columns,
        "column_types": ["text"] * len(columns),
        "primary_keys": [1],
        "foreign_keys": [list(fk) for fk in fks],
    }


def test_an_empty_evaluation_database_leaves_out_sqlite_s_own_tables() -> None:
    entry = _spider_entry(
        "shop", {"orders": ["order_id", "item"], "sqlite_sequence": ["name", "seq"]}, fks=[(3, 1)]
    )  # sqlite_sequence.name → orders.order_id
    metadata = schema_metadata(entry)
    assert list(metadata.tables) == ["orders"]
    assert not metadata.tables["orders"].foreign_keys


def _write(path: Path, entries: object) -> Path:
    path.write_text(json.dumps(entries))
    return path


def test_well_formed_tables_and_questions_load_as_written(tmp_path: Path) -> None:
    entry = _spider_entry("shop", {"orders": ["order_id", "item"]}, fks=[])
    schemas = load_tables(_write(tmp_path / "t.json", [entry]))
    assert schemas == {"shop": entry}
    rows = [{"question": "How many orders?", "db_id": "shop", "SQL": "SELECT count(*) FROM orders", "difficulty": 1}]
    assert load_questions(_write(tmp_path / "q.json", rows), schemas) == rows  # BIRD's SQL, extra fields kept


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.pop("table_names_original"), "entry 0, table_names_original: Field required"),
        (lambda e: e.update(db_id=7), "entry 0, db_id: Input should be a valid string"),
        (lambda e: e["column_names_original"].append([5, "x"]), "names a table index outside 0..0"),
        (lambda e: e["column_types"].pop(), "column_types has 2 entries for 3 columns"),
        (lambda e: e.update(foreign_keys=[[1, 9]]), "a primary or foreign key names a column index outside 0..2"),
    ],
)
def test_a_malformed_tables_entry_is_named(tmp_path: Path, change, message: str) -> None:
    good = _spider_entry("first", {"orders": ["order_id", "item"]}, fks=[])
    bad = _spider_entry("shop", {"orders": ["order_id", "item"]}, fks=[])
    change(bad)
    path = _write(tmp_path / "t.json", [good, bad])
    with pytest.raises(EvalInputError) as raised:
        load_tables(path)
    assert str(raised.value).startswith(f"{path}: entry 1")
    assert message.removeprefix("entry 0") in str(raised.value)


@pytest.mark.parametrize(
    ("row", "need_sql", "message"),
    [
        ({"db_id": "shop", "query": "SELECT 1"}, True, "entry 1, question: Field required"),
        ({"question": 5, "db_id": "shop", "query": "SELECT 1"}, True, "entry 1, question: Input should be a valid"),
        ({"question": "q", "db_id": "mall", "query": "SELECT 1"}, False, "entry 1: db_id 'mall' is not in the tables"),
        ({"question": "q", "db_id": "shop"}, True, "entry 1: no gold SQL ('query' or 'SQL')"),
        ({"question": "q", "db_id": "shop", "query": ["SELECT 1"]}, False, "entry 1, query: Input should be a valid"),
    ],
)
def test_a_malformed_question_is_named(tmp_path: Path, row: dict, need_sql: bool, message: str) -> None:
    schemas = {"shop": _spider_entry("shop", {"orders": ["order_id"]}, fks=[])}
    path = _write(tmp_path / "q.json", [{"question": "How many?", "db_id": "shop", "query": "SELECT 1"}, row])
    with pytest.raises(EvalInputError, match=re.escape(f"{path}: {message}")):
        load_questions(path, schemas, need_sql)


def test_a_routing_question_needs_no_gold_sql(tmp_path: Path) -> None:
    schemas = {"shop": _spider_entry("shop", {"orders": ["order_id"]}, fks=[])}
    rows = [{"question": "How many orders?", "db_id": "shop"}]
    assert load_questions(_write(tmp_path / "q.json", rows), schemas, need_sql=False) == rows


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot be read"), ("{bad", "not JSON"), ('{"db_id": "shop"}', "not a JSON list of entries")],
)
def test_a_file_that_is_no_list_of_entries_is_refused(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "t.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(EvalInputError, match=re.escape(f"{path}: {message}")):
        load_tables(path)


def test_routing_evaluation_ranks_every_database_for_each_question(tmp_path: Path, container: Container) -> None:
    tables = {
        "concerts": _spider_entry("concerts", {"singer": ["singer_id", "name", "country", "age"]}, []),
        "payroll": _spider_entry("payroll", {"employees": ["employee_id", "first_name", "salary", "hire_date"]}, []),
    }
    questions = [
        {"db_id": "concerts", "question": "What are the names of singers from France?", "query": ""},
        {"db_id": "payroll", "question": "What is the salary of each employee?", "query": ""},
    ]
    catalogue = EvalDatabases(container, tables, None)
    predictions = tmp_path / "routes.jsonl"
    report = evaluate_routing(container, questions, catalogue, predictions, lambda *_: None)
    assert report["n"] == 2 and report["databases"] == 2
    assert report["recall_at_1"] == 1.0 and report["recall_at_3"] == 1.0
    assert report["latency_ms_p50"] > 0
    lines = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert [(line["index"], line["db_id"], line["ranked"]) for line in lines] == [
        (0, "concerts", ["concerts", "payroll"]),
        (1, "payroll", ["payroll", "concerts"]),
    ]
    # Each question's flag, and recall@1 split by it: two databases with nothing in common are told apart.
    assert report["decided"] == sum(line["decided"] for line in lines) / 2 == 1.0
    assert report["recall_at_1_decided"] == 1.0 and report["recall_at_1_undecided"] is None


def test_linking_on_an_engine_reads_gold_sql_in_its_dialect_with_schema_qualified_names(
    container: Container, postgres_schemas_url: str
) -> None:
    """``bench/warehouse.py --postgres`` writes the warehouse's tables as ``schema.table`` and its questions in
    PostgreSQL's SQL; the gold links must name the same qualified tables linking returns, or recall reads 0."""
    database = postgres_schemas_url.rsplit("/", 1)[1]
    tables = {
        database: _spider_entry(
            database,
            {"concert.singer": ["singer_id", "name", "country"], "hr.singer": ["singer_id", "name", "salary"]},
            [],
        )
    }
    catalogue = EvalDatabases(container, tables, None, postgres_schemas_url.rsplit("/", 1)[0] + "/postgres")
    question = {
        "db_id": database,
        "question": "What is the salary of each singer on the payroll?",
        "query": "SELECT s.name, s.salary FROM hr.singer AS s WHERE s.salary > 1000",
    }
    assert catalogue.gold(question) == (
        {"hr.singer"},
        {column_ref("hr.singer", "name"), column_ref("hr.singer", "salary")},
    )
    report = evaluate_linking(container, [question], catalogue, None, None, lambda *_: None)
    assert report["table_recall"] == 1.0 and report["column_recall"] == 1.0
