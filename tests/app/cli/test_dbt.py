"""``schemakg import dbt`` as a user runs it: real processes on a data directory of their own."""

from __future__ import annotations

from pathlib import Path

from tests.app.cli.test_main import _run

FIXTURE = Path(__file__).parents[2] / "fixtures" / "dbt" / "hr"
SAMPLE = Path(__file__).resolve().parents[3] / "schemakg" / "samples" / "hr_1.sqlite"


def test_import_dbt_prints_the_summary(tmp_path: Path) -> None:
    assert _run(["db", "add", "hr", f"sqlite:///{SAMPLE}"], tmp_path).returncode == 0
    assert _run(["db", "ingest", "hr"], tmp_path).returncode == 0
    manifest, catalog = str(FIXTURE / "manifest.json"), str(FIXTURE / "catalog.json")
    first = _run(["import", "dbt", manifest, catalog, "--database", "hr"], tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "hr: 12 of 14 dbt relations mapped; imported" in first.stdout
    assert "imported: employees.SALARY description: set to 'Monthly gross salary in US dollars.'" in first.stdout
    assert "unmapped: hr.main.employee_directory (model.hr.employee_directory)" in first.stdout
    bad = _run(["import", "dbt", str(FIXTURE / "dbt_project.yml"), "--database", "hr"], tmp_path)
    assert bad.returncode == 1
    assert "the manifest" in bad.stdout and "is not JSON" in bad.stdout
