"""``eval sql --engine-url`` refuses what is not a PostgreSQL or MariaDB server, plainly and without echoing it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

CLI = [sys.executable, "-m", "schemakg.app.cli.main", "eval", "sql"]


@pytest.mark.parametrize("url", ["not a url with s3cret", "sqlite:///u:s3cret@elsewhere.sqlite"])
def test_an_engine_url_that_is_no_postgres_or_mariadb_server_is_refused(url: str, tmp_path: Path) -> None:
    env = {**os.environ, "SCHEMAKG_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    args = ["--tables", "t.json", "--questions", "q.json", "--db-dir", str(tmp_path), "--engine-url", url]
    result = subprocess.run(CLI + args, check=False, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert "--engine-url must be a postgresql:// or mysql:// (MariaDB) server URL" in result.stdout
    assert "s3cret" not in result.stdout + result.stderr
