"""The CLI as a user runs it: a real process, its own engine, exit codes and messages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from schemakg.retrieval.artifacts import shipped_version

CLI = [sys.executable, "-m", "schemakg.app.cli.main"]


def _run(args: list[str], data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHEMAKG_DATA_DIR": str(data_dir), "COLUMNS": "200"}
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
