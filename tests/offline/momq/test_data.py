"""Building the multi-dialect set: transpilation and filtering on real Spider rows (skipped
without the shared data), and the whole build on a small source tree written here."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
import sqlglot
from typer.testing import CliRunner

from schemakg.app.cli.momq import app
from schemakg.offline.momq.data import (
    DataBuildConfig,
    SourceQuestion,
    build_dataset,
    build_sql_dialect,
    read_examples,
    render_sql_schema,
)
from schemakg.offline.momq.evaluate import execution_correct

SHARED_DATA = Path(__file__).resolve().parents[4] / "shared" / "data"


@pytest.fixture(scope="module")
def spider() -> Path:
    root = SHARED_DATA / "spider-train"
    if not (root / "train_spider.json").exists():
        pytest.skip("shared Spider data is absent")
    return root


def test_transpiles_real_spider_rows_and_drops_what_does_not_parse(spider: Path) -> None:
    rows = json.loads((spider / "train_spider.json").read_text())
    schemas = {f"spider/{entry['db_id']}": entry for entry in json.loads((spider / "tables.json").read_text())}
    village, english = rows[54], rows[69]  # SQLite "..." string literals
    assert village["db_id"] == "farm" and '"Village"' in village["query"]
    questions = [
        SourceQuestion(source="spider", index=index, db_id=row["db_id"], question=row["question"], sql=row["query"])
        for index, row in ((54, village), (69, english))
    ]
    questions.append(
        SourceQuestion(source="spider", index=-1, db_id="farm", question="broken", sql="SELECT FROM WHERE (")
    )

    for dialect in ("mysql", "postgresql"):
        examples, stats = build_sql_dialect(dialect, questions, schemas)
        assert (stats.source_rows, stats.kept, stats.dropped) == (3, 2, 1)
        assert stats.drop_rate == pytest.approx(1 / 3, abs=1e-3) and sum(stats.drop_reasons.values()) == 1
        farm = examples[0]
        assert "'Village'" in farm.query and '"Village"' not in farm.query, "SQLite string literal stays a string"
        sqlglot.parse_one(farm.query, read="postgres" if dialect == "postgresql" else "mysql")
        assert farm.prompt.startswith("[PostgreSQL]" if dialect == "postgresql" else "[MySQL]")
        assert "CREATE TABLE" in farm.prompt and village["question"] in farm.prompt
        assert farm.source_query == village["query"]

    database = spider / "database" / "farm" / "farm.sqlite"
    if database.exists():
        back = sqlglot.transpile(examples[0].query, read="mysql", write="sqlite")[0]
        assert execution_correct(database, village["query"], back) == (True, True)


def test_renders_spider_schema_as_ddl_in_each_dialect(spider: Path) -> None:
    entry = next(e for e in json.loads((spider / "tables.json").read_text()) if e["db_id"] == "department_management")
    for dialect, read in (("mysql", "mysql"), ("postgresql", "postgres"), ("sqlite", "sqlite")):
        ddl = render_sql_schema(entry, dialect)
        statements = sqlglot.parse(ddl, read=read)
        assert len(statements) == len(entry["table_names_original"])
        assert "FOREIGN KEY" in ddl and "PRIMARY KEY" in ddl


def write_fake_sources(root: Path) -> None:
    """Two Spider databases and three text2cypher graphs (one held out as test)."""
    spider = root / "spider-train"
    spider.mkdir(parents=True)
    tables = [
        {
            "db_id": db,
            "table_names_original": ["singer"],
            "column_names_original": [[-1, "*"], [0, "name"], [0, "country"]],
            "column_types": ["text", "text", "text"],
            "primary_keys": [1],
            "foreign_keys": [],
        }
        for db in ("alpha", "beta")
    ]
    (spider / "tables.json").write_text(json.dumps(tables))
    questions = [
        {"db_id": db, "question": f"q{index}", "query": 'SELECT name FROM singer WHERE country = "France"'}
        for db in ("alpha", "beta")
        for index in range(3)
    ] + [{"db_id": "alpha", "question": "broken", "query": "SELECT FROM WHERE ("}]
    (spider / "train_spider.json").write_text(json.dumps(questions))
    (spider / "train_others.json").write_text("[]")

    cypher = root / "text2cypher"
    cypher.mkdir()
    with (cypher / "synthetic_gpt4turbo_demodbs__text2cypher_schemas.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["database", "schema", "structured_schema"])
        for graph in ("movies", "twitter", "northwind"):
            writer.writerow([graph, f"Node properties: {graph}", "{}"])
    columns = ["question", "cypher", "type", "database", "syntax_error", "timeout", "returns_results", "false_schema"]
    for file, flags in (
        ("synthetic_gpt4turbo_demodbs__text2cypher_gpt4turbo.csv", ("False", "False", "")),
        ("synthetic_opus_demodbs__text2cypher_claudeopus.csv", ("True", "False", "")),
    ):
        with (cypher / file).open("w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(columns)
            for graph in ("movies", "twitter", "northwind", "slack"):
                for index in range(2):
                    syntax_error, timeout, false_schema = flags
                    writer.writerow(
                        [
                            f"{graph} q{index}",
                            "MATCH (n) RETURN n",
                            "t",
                            graph,
                            syntax_error,
                            timeout,
                            "True",
                            false_schema,
                        ]
                    )


def test_build_dataset_splits_by_database_and_imbalances_the_training_set(tmp_path: Path) -> None:
    write_fake_sources(tmp_path / "shared")
    config = DataBuildConfig(
        data_root=tmp_path / "shared",
        out_dir=tmp_path / "out",
        include_bird=False,
        low_resource_samples=1,
        validation_fraction=0.5,
    )
    stats = build_dataset(config)

    splits = {split: read_examples(tmp_path / "out" / f"{split}.jsonl") for split in ("train", "validation", "test")}
    assert {(row.dialect, row.db_id) for row in splits["test"]} == {("cypher", "movies")}
    train_dbs = {(row.source, row.db_id) for row in splits["train"]}
    validation_dbs = {(row.source, row.db_id) for row in splits["validation"]}
    assert train_dbs and validation_dbs and not train_dbs & validation_dbs
    train_counts = {
        dialect: sum(row.dialect == dialect for row in splits["train"]) for dialect in ("mysql", "postgresql", "cypher")
    }
    assert train_counts == {"mysql": 3, "postgresql": 1, "cypher": 1}, "mysql whole, the others sampled"

    assert stats.dialects["mysql"].drop_reasons == {"ParseError": 1}
    cypher = stats.dialects["cypher"]
    assert (cypher.source_rows, cypher.kept) == (16, 6)
    assert cypher.drop_reasons == {"syntax_error": 8, "graph_without_schema": 2}
    assert stats.dialects["ngql"].kept == 0 and "nGQL" in (stats.dialects["ngql"].note or "")
    assert (
        json.loads((tmp_path / "out" / "stats.json").read_text())["dialects"]["postgresql"]["split_rows"]["train"] == 1
    )


def test_data_command(tmp_path: Path) -> None:
    write_fake_sources(tmp_path / "shared")
    result = CliRunner().invoke(
        app,
        [
            "data",
            "--out",
            str(tmp_path / "out"),
            "--data-root",
            str(tmp_path / "shared"),
            "--no-bird",
            "--dialect",
            "postgresql",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "postgresql" in result.output and (tmp_path / "out" / "stats.json").exists()
    assert {row.dialect for row in read_examples(tmp_path / "out" / "train.jsonl")} == {"postgresql"}
