"""The CLI as a user runs it: a real process, its own engine, exit codes and messages."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemakg.app.container import Container
from schemakg.kernel.model import JobState
from schemakg.kernel.settings import Settings
from schemakg.retrieval.artifacts import shipped_version
from tests.conftest import LOCAL_GGUF, SAMPLE_DB, small_warehouse

CLI = [sys.executable, "-m", "schemakg.app.cli.main"]


def _run(args: list[str], data_dir: Path, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHEMAKG_DATA_DIR": str(data_dir), "COLUMNS": "200", **(extra or {})}
    env.pop("NEO4J_URI", None)
    return subprocess.run(CLI + args, check=False, env=env, capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cli-data")


def test_demo_ingests_and_shows_the_sample(data_dir: Path) -> None:
    result = _run(["demo", "--no-questions"], data_dir)
    assert result.returncode == 0, result.stderr
    assert "succeeded" in result.stdout
    assert "SchemaKG ready in " in result.stdout  # the warm-up loaded the retriever before the first request
    assert f"column retriever: {shipped_version()} (shipped)" in result.stdout  # a fresh data dir
    for expected in ("employees", "departments", "SALARY", "employees.DEPARTMENT_ID → departments.DEPARTMENT_ID"):
        assert expected in result.stdout


def test_bad_url_is_a_clear_error(data_dir: Path) -> None:
    result = _run(["db", "add", "broken", "sqlite:////nowhere/x.sqlite"], data_dir)
    assert result.returncode == 1
    assert "SQLite database file not found" in result.stdout


def test_add_ingest_list(data_dir: Path, sample_copy: Path) -> None:
    assert _run(["db", "add", "hr2", f"sqlite://u:TopSecret9@localhost/{sample_copy}"], data_dir).returncode == 0
    ingest = _run(["db", "ingest", "hr2"], data_dir)
    assert ingest.returncode == 0 and "succeeded" in ingest.stdout
    listing = _run(["db", "list"], data_dir)
    assert "hr2" in listing.stdout and "TopSecret9" not in listing.stdout + listing.stderr
    assert "u:***@" in listing.stdout


def test_eval_compare_pairs_two_runs(tmp_path: Path, data_dir: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text("\n".join(f'{{"index": {i}, "correct": {str(i < 6).lower()}}}' for i in range(8)))
    second.write_text("\n".join(f'{{"index": {i}, "correct": {str(i < 1).lower()}}}' for i in range(8)))
    result = _run(["eval", "compare", str(first), str(second)], data_dir)
    assert result.returncode == 0, result.stderr
    assert '"only_first": 5' in result.stdout and '"p_value": 0.0625' in result.stdout
    missing = _run(["eval", "compare", str(tmp_path / "nothing.jsonl"), str(second)], data_dir)
    assert missing.returncode == 1 and "cannot compare" in missing.stdout


@pytest.fixture(scope="module")
def catalogue_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A data dir holding two ingested databases, ``hr`` and ``music``, held open the way a running service holds
    it (the CLI processes reuse its graph engine)."""
    data_dir = tmp_path_factory.mktemp("cli-catalogue")
    concerts = data_dir / "concerts.sqlite"
    with sqlite3.connect(concerts) as connection:
        connection.executescript(
            "CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT, age INTEGER);"
            "CREATE TABLE concert (concert_id INTEGER PRIMARY KEY, concert_name TEXT, year INTEGER,"
            " singer_id INTEGER REFERENCES singer(singer_id));"
            "INSERT INTO singer VALUES (1, 'Joe Sharp', 'Netherlands', 52), (2, 'Ann Bell', 'France', 31);"
        )
    service = Container(Settings(data_dir=data_dir, llm_model_path=LOCAL_GGUF if LOCAL_GGUF.exists() else None))
    try:
        for name, path in (("hr", SAMPLE_DB), ("music", concerts)):
            _ingest(service, name, path)
        yield data_dir
    finally:
        service.close()


def _ingest(service: Container, name: str, path: Path) -> None:
    service.databases.register(name, f"sqlite:///{path}")
    job = service.databases.start_ingestion(name)
    deadline = time.monotonic() + 120
    while service.jobs.get(job.id).state in (JobState.QUEUED, JobState.RUNNING):
        assert time.monotonic() < deadline, "ingestion did not finish"
        time.sleep(0.1)
    assert service.jobs.get(job.id).state == JobState.SUCCEEDED


def test_retrieve_in_a_warehouse_names_the_subject_areas_it_focused_on(tmp_path: Path) -> None:
    service = Container(Settings(data_dir=tmp_path))
    try:
        _ingest(service, "warehouse", small_warehouse(tmp_path / "warehouse.sqlite"))
        result = _run(["retrieve", "warehouse", "Which concerts did the singers from France give?"], tmp_path)
    finally:
        service.close()
    assert result.returncode == 0, result.stderr
    areas = [line for line in result.stdout.splitlines() if line.startswith("subject area ")]
    assert areas and areas[0].startswith("subject area music: coverage ") and "music__singer" in areas[0]


def test_a_question_without_a_database_is_routed(catalogue_dir: Path) -> None:
    routed = _run(["route", "What are the names and countries of singers older than 40?"], catalogue_dir)
    assert routed.returncode == 0, routed.stderr
    assert "routed to music" in routed.stdout and "singer (" in routed.stdout  # the reason: its best tables
    assert routed.stdout.index("│ music") < routed.stdout.index("│ hr")  # both shown, best first
    named = _run(["route", "How old is the singer 'Ann Bell'?"], catalogue_dir)
    assert "routed to music" in named.stdout and "'Ann Bell' is a value of singer.name" in named.stdout
    assert "none of 'ann bell' is among its sampled values" in named.stdout  # hr's reason to be second

    question = "What is the salary of each employee?"
    retrieved = _run(["retrieve", question, "--among", "hr", "--among", "music"], catalogue_dir)
    assert retrieved.returncode == 0, retrieved.stderr
    assert "routed to hr" in retrieved.stdout
    assert "employees.SALARY" in retrieved.stdout and "linked tables: employees" in retrieved.stdout

    unknown = _run(["route", question, "--among", "nowhere"], catalogue_dir)
    assert unknown.returncode == 1 and "'nowhere' is not registered" in unknown.stdout
    both = _run(["retrieve", "hr", question, "--among", "music"], catalogue_dir)
    assert both.returncode == 2 and "not both" in both.stderr
    three = _run(["ask", "hr", "How many", "employees?"], catalogue_dir)
    assert three.returncode == 2 and "one quoted argument" in three.stderr


@pytest.mark.slow
def test_ask_without_a_database_answers_on_the_routed_one(catalogue_dir: Path) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    if not LOCAL_GGUF.exists():
        pytest.skip("the packaged model files come with scripts/setup_llm.sh")
    env = {"SCHEMAKG_LLM_MODEL_PATH": str(LOCAL_GGUF)}
    answered = _run(["ask", "How many employees are there?", "--among", "hr", "--among", "music"], catalogue_dir, env)
    assert answered.returncode == 0, answered.stderr
    assert "routed to hr" in answered.stdout
    with sqlite3.connect(SAMPLE_DB) as connection:
        (count,) = connection.execute("SELECT count(*) FROM employees").fetchone()
    assert f"│ {count} " in answered.stdout


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["route", ""], "Invalid value for QUESTION: String should have at least 1 character"),
        (["ask", "  "], "Invalid value for QUESTION: Value error, the question is blank"),
        (["retrieve", "hr", "x" * 2001], "Invalid value for QUESTION: String should have at most 2000 characters"),
        (["retrieve", "hr", "How many?", "--top", "0"], "Invalid value for --top: Input should be greater than"),
        (["ask", "hr", "How many?", "--mode", "bogus"], "Invalid value for --mode: Input should be 'auto', 'fast'"),
        (["keys", "create", ""], "Invalid value for NAME: String should have at least 1 character"),
    ],
)
def test_an_argument_the_api_would_refuse_is_a_usage_error(args: list[str], said: str, tmp_path: Path) -> None:
    result = _run(args, tmp_path)
    assert result.returncode == 2
    assert said in " ".join(result.stderr.replace("│", " ").split())
    assert "Traceback" not in result.stdout + result.stderr
    assert not (tmp_path / "graph").exists()  # refused before the engine starts
