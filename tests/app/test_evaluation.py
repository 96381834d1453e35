"""The evaluation harness against the real catalogue: the query log it builds must never hold the answer."""

from __future__ import annotations

import shutil
from pathlib import Path

from schemakg.app.container import Container
from schemakg.app.evaluation import EvalDatabases, ingest_history, summarise
from tests.conftest import SAMPLE_DB


def test_history_leaves_out_evaluated_questions_and_their_sql(tmp_path: Path, container: Container) -> None:
    (tmp_path / "hr_1").mkdir()
    shutil.copyfile(SAMPLE_DB, tmp_path / "hr_1" / "hr_1.sqlite")
    catalogue = EvalDatabases(container, {}, tmp_path)
    evaluated = {
        "db_id": "hr_1",
        "question": "How many employees are there?",
        "query": "SELECT count(*) FROM employees",
    }
    history = [
        evaluated,
        {"db_id": "hr_1", "question": "Count the employees.", "query": "select  COUNT(*) from employees"},
        {"db_id": "hr_1", "question": "What is the highest salary?", "query": "SELECT max(salary) FROM employees"},
        {"db_id": "other_db", "question": "Anything", "query": "SELECT 1"},
    ]

    logged = ingest_history(container, catalogue, history, [evaluated])

    assert logged == {"hr_1": 1}
    rows = container.store.read("MATCH (q:QueryExample {database: 'eval-hr_1'}) RETURN q.question AS question")
    assert [r["question"] for r in rows] == ["What is the highest salary?"]


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
