"""``schemakg catalog export|import`` as a user runs them: real processes on a data directory of their own."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tests.app.cli.test_main import _run

SECRET = "Cli-Catalogue-Secret-42"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample registered (a password in its URL) and ingested."""
    directory = tmp_path_factory.mktemp("cli-catalog")
    sample = Path(__file__).resolve().parents[3] / "schemakg" / "samples" / "hr_1.sqlite"
    assert _run(["db", "add", "hr", f"sqlite://u:{SECRET}@localhost/{sample}"], directory).returncode == 0
    ingested = _run(["db", "ingest", "hr"], directory)
    assert ingested.returncode == 0, ingested.stdout + ingested.stderr
    return directory


def test_import_applies_once_then_export_shows_it(data_dir: Path, tmp_path: Path) -> None:
    edited = {
        "format": "schemakg-catalog",
        "version": 1,
        "databases": [
            {
                "name": "hr",
                "tables": [
                    {
                        "name": "employees",
                        "fields": {"description": {"value": "People on the payroll", "source": "steward"}},
                        "history": [
                            {
                                "field": "description",
                                "old": None,
                                "new": "People on the payroll",
                                "who": "alice",
                                "source": "steward",
                                "at": "2026-01-02T03:04:05.000000+00:00",
                            }
                        ],
                        "columns": [{"name": "GHOST", "fields": {"description": {"value": "x", "source": "steward"}}}],
                    }
                ],
            }
        ],
    }
    file = tmp_path / "catalogue.json"
    file.write_text(json.dumps(edited))
    dry = _run(["catalog", "import", str(file), "--dry-run"], data_dir)
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert "would apply 1, unchanged 0, conflicts 0, missing 1" in dry.stdout
    first = _run(["catalog", "import", str(file)], data_dir)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "applied 1, unchanged 0, conflicts 0, missing 1" in first.stdout
    assert "missing: hr.employees.GHOST column" in first.stdout
    second = _run(["catalog", "import", str(file)], data_dir)
    assert "applied 0, unchanged 1, conflicts 0, missing 1" in second.stdout

    out = tmp_path / "export.json"
    exported = _run(["catalog", "export", "--database", "hr", "-o", str(out)], data_dir)
    assert exported.returncode == 0, exported.stdout + exported.stderr
    document = json.loads(out.read_text())
    employees = document["databases"][0]["tables"][0]
    assert employees["fields"] == edited["databases"][0]["tables"][0]["fields"]  # type: ignore[index]
    assert employees["history"] == edited["databases"][0]["tables"][0]["history"]  # type: ignore[index]
    as_yaml = _run(["catalog", "export", "--format", "yaml"], data_dir)
    assert as_yaml.returncode == 0 and yaml.safe_load(as_yaml.stdout) == document
    assert SECRET not in out.read_text() + as_yaml.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"format": "schemakg-catalog", "version": 1, "databases": [', "not a JSON or YAML document"),
        ('{"format": "schemakg-catalog", "version": 3, "databases": []}', "catalogue version 3 is not supported"),
        ("format: other\nversion: 1\n", "format must be 'schemakg-catalog'"),
    ],
)
def test_a_bad_file_is_one_clear_error(tmp_path: Path, content: str, message: str) -> None:
    file = tmp_path / "bad.json"
    file.write_text(content)
    result = _run(["catalog", "import", str(file)], tmp_path / "unused")
    assert result.returncode == 1
    assert message in " ".join(result.stdout.split())
    assert "Traceback" not in result.stderr


def test_an_unreadable_file_is_one_clear_error(tmp_path: Path) -> None:
    result = _run(["catalog", "import", str(tmp_path / "absent.json")], tmp_path / "unused")
    assert result.returncode == 1 and "cannot read" in result.stdout
