"""The evaluation and training commands check their input files before ingesting anything or loading a model: a
malformed file or entry, an unknown training source or a missing benchmark file is named, with exit code 2, never
a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "schemakg.app.cli.main"]
SCHEMA = {
    "db_id": "shop",
    "table_names_original": ["orders"],
    "column_names_original": [[-1, "*"], [0, "order_id"]],
    "column_types": ["text", "number"],
    "primary_keys": [1],
    "foreign_keys": [],
}


def _run(args: list[str], tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "SCHEMAKG_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "300"}
    result = subprocess.run(CLI + args, check=False, env=env, capture_output=True, text=True, timeout=120)
    assert "Traceback" not in result.stdout + result.stderr
    return result


def _flat(text: str) -> str:
    """Typer's boxed usage error as one line."""
    return " ".join(text.replace("│", " ").split())


@pytest.mark.parametrize(
    ("command", "questions", "message"),
    [
        ("routing", [{"question": 5, "db_id": "shop"}], "entry 0, question: Input should be a valid string"),
        (
            "linking",
            [{"question": "q", "db_id": "mall", "query": "SELECT 1"}],
            "entry 0: db_id 'mall' is not in the tables file",
        ),
        ("sql", [{"question": "How many orders?", "db_id": "shop"}], "entry 0: no gold SQL ('query' or 'SQL')"),
    ],
)
def test_a_malformed_question_stops_the_evaluation_before_any_ingest(
    command: str, questions: list[dict], message: str, tmp_path: Path
) -> None:
    (tmp_path / "t.json").write_text(json.dumps([SCHEMA]))
    (tmp_path / "q.json").write_text(json.dumps(questions))
    args = ["eval", command, "--tables", str(tmp_path / "t.json"), "--questions", str(tmp_path / "q.json")]
    if command == "sql":
        args += ["--db-dir", str(tmp_path)]
    result = _run(args, tmp_path)
    assert result.returncode == 2
    assert result.stdout.strip() == f"error: {tmp_path / 'q.json'}: {message}"
    assert not (tmp_path / "data" / "eval").exists()  # nothing registered or built


@pytest.mark.parametrize("command", [["eval", "routing"], ["retriever", "evaluate"]])
def test_a_tables_file_that_is_not_json_is_named(command: list[str], tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text("{not json")
    (tmp_path / "q.json").write_text("[]")
    result = _run([*command, "--tables", str(tmp_path / "t.json"), "--questions", str(tmp_path / "q.json")], tmp_path)
    assert result.returncode == 2
    assert result.stdout.startswith(f"error: {tmp_path / 't.json'}: not JSON")


def test_an_unknown_training_source_is_named_with_those_known(tmp_path: Path) -> None:
    args = ["retriever", "train", "--sources", "spider-train,spidr-dev", "--corpus-dir", str(tmp_path)]
    result = _run(args, tmp_path)
    assert result.returncode == 2
    known = "bird-train, spider-syn-train, spider-train"
    assert f"Invalid value for --sources: unknown spidr-dev; known: {known}" in _flat(result.stderr)


@pytest.mark.parametrize("command", [["train", "--sources", "bird-train"], ["train-reranker", "--out", "weights"]])
def test_a_missing_benchmark_file_is_named_before_a_run_starts(command: list[str], tmp_path: Path) -> None:
    (tmp_path / "bird-train").mkdir()
    (tmp_path / "bird-train" / "train.json").write_text("[]")
    result = _run(["retriever", *command, "--corpus-dir", str(tmp_path)], tmp_path)
    assert result.returncode == 2
    said = _flat(result.stderr)
    assert "Invalid value for --corpus-dir: missing " in said
    assert str(tmp_path / "bird-train" / "train_schema_mismatch.json") in said
    assert str(tmp_path / "bird-train" / "train.json") not in said  # present: not named
    assert said.count(str(tmp_path / "spider-train" / "tables.json")) == (command[0] == "train-reranker")
    assert not (tmp_path / "data").exists() and not (tmp_path / "weights").exists()


@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["momq", "data", "--out", "splits", "--data-root", "absent"], "'--data-root': dir"),
        (
            ["momq", "eval", "--base-model", ".", "--adapter", "absent", "--data-file", "absent.jsonl"],
            "'--adapter': dir",
        ),
        (["momq", "serve", "--base-model", "absent", "--adapter", "."], "'--base-model': dir"),
    ],
)
def test_a_missing_momq_input_is_named_before_a_model_loads(args: list[str], named: str, tmp_path: Path) -> None:
    result = _run([str(tmp_path / a) if a.startswith("absent") else a for a in args], tmp_path)
    assert result.returncode == 2
    assert f"Invalid value for {named} '{tmp_path / 'absent'}' does not exist." in _flat(result.stderr)
