"""The evaluation commands check their input files before ingesting anything: a malformed file or entry is named in
one line with exit code 2, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "schemakg.app.cli.main", "eval"]
SCHEMA = {
    "db_id": "shop",
    "table_names_original": ["orders"],
    "column_names_original": [[-1, "*"], [0, "order_id"]],
    "column_types": ["text", "number"],
    "primary_keys": [1],
    "foreign_keys": [],
}


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
    data = tmp_path / "data"
    (tmp_path / "t.json").write_text(json.dumps([SCHEMA]))
    (tmp_path / "q.json").write_text(json.dumps(questions))
    args = [command, "--tables", str(tmp_path / "t.json"), "--questions", str(tmp_path / "q.json")]
    if command == "sql":
        args += ["--db-dir", str(tmp_path)]
    env = {**os.environ, "SCHEMAKG_DATA_DIR": str(data), "COLUMNS": "300"}
    result = subprocess.run(CLI + args, check=False, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout.strip() == f"error: {tmp_path / 'q.json'}: {message}"
    assert "Traceback" not in result.stdout + result.stderr
    assert not (data / "eval").exists()  # nothing registered or built


def test_a_tables_file_that_is_not_json_is_named(tmp_path: Path) -> None:
    (tmp_path / "t.json").write_text("{not json")
    (tmp_path / "q.json").write_text("[]")
    env = {**os.environ, "SCHEMAKG_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "300"}
    args = ["routing", "--tables", str(tmp_path / "t.json"), "--questions", str(tmp_path / "q.json")]
    result = subprocess.run(CLI + args, check=False, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stdout.startswith(f"error: {tmp_path / 't.json'}: not JSON")
    assert "Traceback" not in result.stdout + result.stderr
