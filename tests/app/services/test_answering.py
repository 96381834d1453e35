"""Which answers generate evidence when the caller gives none, and which logged examples they show."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from schemakg.app.container import Container
from schemakg.app.evaluation import EvalDatabases
from schemakg.app.services.answering import PastExamples, evidence_by_default
from schemakg.ingest.query_log import LogRecord, QueryLogIngestor
from schemakg.kernel.settings import Settings
from tests.conftest import SAMPLE_DB


@pytest.mark.parametrize(
    ("setting", "endpoint", "expected"),
    [
        ("auto", None, False),  # the embedded small model: evidence lowered its accuracy
        ("auto", "http://llm.internal:8000/v1", True),
        ("on", None, True),
        ("off", "http://llm.internal:8000/v1", False),
    ],
)
def test_evidence_by_default(
    setting: str, endpoint: str | None, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    settings = Settings(ask_evidence=setting, openai_base_url=endpoint)
    assert evidence_by_default(settings) is expected


def test_past_examples_by_masked_question_find_questions_of_the_same_shape(
    tmp_path: Path, container: Container
) -> None:
    (tmp_path / "hr_shapes").mkdir()
    shutil.copyfile(SAMPLE_DB, tmp_path / "hr_shapes" / "hr_shapes.sqlite")
    log = [
        ("List the first names and salaries of all employees.", "SELECT first_name, salary FROM employees"),
        ("Show the names of employees hired in 1987.", "SELECT first_name FROM employees WHERE hire_date LIKE '1987%'"),
        (
            "How many departments have a location id above 1700?",
            "SELECT count(*) FROM departments WHERE location_id > 1700",
        ),
    ]
    name = EvalDatabases(container, {}, tmp_path).ensure("hr_shapes")
    records = [LogRecord(line=number, question=q, sql=sql) for number, (q, sql) in enumerate(log, start=1)]
    QueryLogIngestor(container.examples, container.catalog, name, "sqlite").ingest(
        iter(records), "log", len(records), lambda *_: None
    )
    question = "How many employees have a salary above 10000?"
    linked = ["employees", "salary", "employee_id"]

    def first(masked_weight: float) -> str:
        past = PastExamples(container.question_logs, masked_weight)
        return past.similar(container.linking.context(name), question, 1, linked)[0].question

    assert first(0.0) == log[0][0]  # the same table and column, another shape
    focused = PastExamples(container.question_logs, 0.0).similar(
        container.linking.context(name), question, 3, linked, focus={"Departments", "locations"}
    )
    # Linking focused on another subject area: its example comes first, then the rest by similarity.
    assert [e.question for e in focused] == [log[2][0], log[0][0], log[1][0]]
    assert first(1.0) == log[2][0]  # "How many <mask> have a <mask> above <value>?"
    assert (
        PastExamples(container.question_logs, 0.7)
        .similar(container.linking.context(name), log[2][0], 3, linked)[0]
        .question
        != log[2][0]
    )  # never the question itself
