from __future__ import annotations

import json

import pytest

from schemakg.offline.retriever.gold import gold_links
from schemakg.offline.retriever.schema import DbSchema, SchemaColumn, load_schemas
from tests.conftest import SHARED_DATA


def _schema() -> DbSchema:
    cols = {
        "singer": ["Singer_ID", "Name", "Country", "Age"],
        "concert": ["concert_ID", "Theme", "Stadium_ID"],
        "singer_in_concert": ["concert_ID", "Singer_ID"],
    }
    return DbSchema(
        db_id="concert_singer",
        tables=list(cols),
        columns=[
            SchemaColumn(table=t, name=c, label=c.lower(), data_type="text") for t, cs in cols.items() for c in cs
        ],
    )


def test_double_quoted_non_column_is_a_literal_and_star_links_only_the_table() -> None:
    links = gold_links('SELECT count(*) FROM singer WHERE country = "France"', _schema())
    assert links.tables == ["singer"] and links.columns == [("singer", "Country")] and not links.unresolved


def test_aliases_subqueries_and_correlated_references() -> None:
    sql = (
        "SELECT T1.name FROM singer AS T1 JOIN singer_in_concert AS T2 ON T1.singer_id = T2.singer_id "
        "WHERE T2.concert_id IN (SELECT concert_id FROM concert WHERE theme = 'x' AND stadium_id = T2.concert_id)"
    )
    links = gold_links(sql, _schema())
    assert set(links.tables) == {"singer", "singer_in_concert", "concert"}
    assert set(links.columns) == {
        ("singer", "Name"),
        ("singer", "Singer_ID"),
        ("singer_in_concert", "Singer_ID"),
        ("singer_in_concert", "concert_ID"),
        ("concert", "concert_ID"),
        ("concert", "Theme"),
        ("concert", "Stadium_ID"),
    }


def test_derived_table_columns_resolve_to_base_columns() -> None:
    links = gold_links("SELECT count(*) FROM (SELECT * FROM singer WHERE age > 30 GROUP BY country)", _schema())
    assert links.tables == ["singer"] and set(links.columns) == {("singer", "Age"), ("singer", "Country")}


def test_unknown_names_are_reported() -> None:
    assert gold_links("SELECT salary FROM singer", _schema()).unresolved == ["salary"]


@pytest.mark.skipif(not (SHARED_DATA / "spider-train").exists(), reason="shared Spider data absent")
def test_real_spider_rows() -> None:
    schemas = load_schemas(SHARED_DATA / "spider-train" / "tables.json")
    rows = json.loads((SHARED_DATA / "spider-train" / "train_spider.json").read_text())
    by_query = {r["query"]: r for r in rows}
    cases = {
        "SELECT count(*) FROM head WHERE age  >  56": (["head"], [("head", "age")]),
        'SELECT Census_Ranking FROM city WHERE Status !=  "Village"': (
            ["city"],
            [("city", "Census_Ranking"), ("city", "Status")],
        ),
        "SELECT creation ,  name ,  budget_in_billions FROM department": (
            ["department"],
            [("department", "Creation"), ("department", "Name"), ("department", "Budget_in_Billions")],
        ),
    }
    for sql, (tables, columns) in cases.items():
        links = gold_links(sql, schemas[by_query[sql]["db_id"]])
        assert links.tables == tables and links.columns == columns and not links.unresolved
    resolved = sum(not gold_links(r["query"], schemas[r["db_id"]]).unresolved for r in rows[:300])
    assert resolved == 300
