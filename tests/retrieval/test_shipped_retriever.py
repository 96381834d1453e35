"""The adapter shipped in the package against the zero-shot model, on fixed questions about the sample
database (written for this test; hr_1's own Spider questions are training data)."""

from __future__ import annotations

import sqlite3

import pytest

from schemakg.retrieval.artifacts import ZERO_SHOT_VERSION, RetrieverModel, load_model, shipped_version
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.encoder import late_interaction, normalise
from schemakg.retrieval.selection import select
from tests.conftest import SAMPLE_DB

QUESTIONS = {
    "What is the average salary of the employees of each department?": {
        "employees.SALARY",
        "employees.DEPARTMENT_ID",
    },
    "List the first and last names of people hired after 2000.": {
        "employees.FIRST_NAME",
        "employees.LAST_NAME",
        "employees.HIRE_DATE",
    },
    "Which job titles pay a maximum of more than 10000?": {"jobs.JOB_TITLE", "jobs.MAX_SALARY"},
    "How many countries does each region have? Give the region's name.": {
        "countries.COUNTRY_ID",
        "countries.REGION_ID",
        "regions.REGION_ID",
        "regions.REGION_NAME",
    },
    "Give the email and phone number of the employee with the highest commission.": {
        "employees.EMAIL",
        "employees.PHONE_NUMBER",
        "employees.COMMISSION_PCT",
    },
    "When did each employee's previous jobs start and end?": {
        "job_history.EMPLOYEE_ID",
        "job_history.START_DATE",
        "job_history.END_DATE",
    },
    "Which departments have no manager?": {"departments.DEPARTMENT_NAME", "departments.MANAGER_ID"},
    "Show the street address and postal code of the offices in Toronto.": {
        "locations.STREET_ADDRESS",
        "locations.POSTAL_CODE",
        "locations.CITY",
    },
}


@pytest.fixture(scope="module")
def docs() -> list[ColumnDoc]:
    with sqlite3.connect(SAMPLE_DB) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [
            ColumnDoc(db_id="hr_1", table=table, column=row[1], data_type=row[2])
            for table in tables
            for row in conn.execute(f"PRAGMA table_info('{table}')")
        ]


def _figures(model: RetrieverModel, docs: list[ColumnDoc]) -> tuple[float, float, float]:
    """Mean R-precision (gold columns among the top len(gold)), mean column recall and mean columns kept
    with the model's own selection policy."""
    questions = list(QUESTIONS)
    q = model.encoder.encode_questions(questions)
    scores = normalise(late_interaction(q, model.encoder.encode_columns(docs)), q.mask)
    names = [f"{d.table}.{d.column}" for d in docs]
    precision, recalls, kept = [], [], []
    for question, row in zip(questions, scores, strict=True):
        gold = QUESTIONS[question]
        top = {names[i] for i in row.argsort(descending=True)[: len(gold)].tolist()}
        chosen = {names[i] for i in select(row.tolist(), model.selection)}
        precision.append(len(top & gold) / len(gold))
        recalls.append(len(chosen & gold) / len(gold))
        kept.append(len(chosen))
    return sum(precision) / len(precision), sum(recalls) / len(recalls), sum(kept) / len(kept)


def test_the_shipped_adapter_ranks_the_needed_columns_higher_and_keeps_fewer(docs: list[ColumnDoc]) -> None:
    precision, recall, kept = _figures(load_model(shipped_version()), docs)
    zero_precision, zero_recall, zero_kept = _figures(load_model(ZERO_SHOT_VERSION), docs)
    assert precision >= 0.85 and precision > zero_precision  # 0.91 against 0.82 when written
    assert recall >= 0.95 and recall >= zero_recall
    assert kept < zero_kept  # 13.1 against 20
