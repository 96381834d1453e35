"""The dbt import against the real engine, the sample database and a manifest dbt wrote
(tests/fixtures/dbt/hr): mapping and the unmapped report, provenance dbt with history, key hints and foreign
keys where the database declares none, idempotence, a steward's edit surviving, proposals, malformed files."""

from __future__ import annotations

import copy
import json
import time
from pathlib import Path
from typing import Any

import pytest

from schemakg.app.container import Container
from schemakg.app.services.dbt_import import DbtImportReport, DbtImportService, read_files
from schemakg.ingest.dbt import DbtRelation, parse_manifest
from schemakg.kernel.errors import InvalidInput
from schemakg.kernel.model import JobState, ProposalState, Provenance
from tests.conftest import SAMPLE_DB

FIXTURE = Path(__file__).parents[2] / "fixtures" / "dbt" / "hr"
MANIFEST: dict[str, Any] = json.loads((FIXTURE / "manifest.json").read_text())
CATALOG: dict[str, Any] = json.loads((FIXTURE / "catalog.json").read_text())


def _database(container: Container, prefix: str) -> str:
    name = f"{prefix}{int(time.time() * 1000) % 100000}"
    container.databases.register(name, f"sqlite:///{SAMPLE_DB}")
    job = container.databases.start_ingestion(name)
    deadline = time.monotonic() + 120
    while (info := container.jobs.get(job.id)).state in (JobState.QUEUED, JobState.RUNNING):
        assert time.monotonic() < deadline, "ingestion did not finish"
        time.sleep(0.1)
    assert info.state == JobState.SUCCEEDED, info
    return name


def _import(container: Container, name: str, proposals: bool = False, manifest: Any = None) -> DbtImportReport:
    docs = parse_manifest(manifest or MANIFEST, CATALOG)
    return container.dbt_import.import_docs(name, docs, proposals, "tester")


@pytest.fixture(scope="module")
def imported(container: Container) -> tuple[str, DbtImportReport]:
    name = _database(container, "dbt")
    return name, _import(container, name)


def test_descriptions_land_with_provenance_dbt(container: Container, imported: tuple[str, DbtImportReport]) -> None:
    name, report = imported
    table = container.browser.table(name, "employees")
    assert table.description == "People on the payroll, one row per employee."
    assert table.description_source == Provenance.DBT
    salary = container.browser.column(name, "employees", "SALARY")
    assert (salary.description, salary.description_source) == ("Monthly gross salary in US dollars.", Provenance.DBT)
    # a source's text (hr_raw.countries, schema raw) lands on the catalogue's bare table
    assert container.browser.table(name, "countries").description == "Countries where the company has locations."
    history = container.curation.column_history(name, "employees", "SALARY")
    assert [(r.field, r.source, r.who) for r in history] == [("description", Provenance.DBT, "tester (dbt import)")]
    applied = {(i.table, i.column, i.item) for i in report.applied}
    assert ("employees", None, "description") in applied and ("jobs", "MAX_SALARY", "description") in applied
    assert report.relations == 14 and report.mapped == 12


def test_unmapped_nodes_and_columns_are_reported(imported: tuple[str, DbtImportReport]) -> None:
    _, report = imported
    tables = {u.node for u in report.unmapped if u.column is None}
    assert tables == {"model.hr.employee_directory", "source.hr.hr_raw.payroll_runs"}
    columns = {(u.node, u.column) for u in report.unmapped if u.column is not None}
    assert columns == {("model.hr.employees", "BONUS_CODE")}
    assert all(u.reason for u in report.unmapped)


def test_key_hints_and_foreign_keys_only_where_the_database_declares_none(
    container: Container, imported: tuple[str, DbtImportReport]
) -> None:
    name, report = imported
    assert container.browser.column(name, "employees", "EMAIL").key_hints == ["unique"]
    assert container.browser.column(name, "employees", "EMPLOYEE_ID").key_hints == ["not_null", "unique"]
    assert container.browser.column(name, "employees", "FIRST_NAME").key_hints == []
    keys = {(k.table, k.column, k.ref_table, k.ref_column): k.source for k in container.browser.foreign_keys(name)}
    assert keys[("departments", "LOCATION_ID", "locations", "LOCATION_ID")] == "dbt"
    assert keys[("departments", "MANAGER_ID", "employees", "EMPLOYEE_ID")] == "dbt"
    assert keys[("employees", "MANAGER_ID", "employees", "EMPLOYEE_ID")] == "dbt"
    assert keys[("employees", "JOB_ID", "jobs", "JOB_ID")] is None  # declared: not doubled, not re-labelled
    assert keys[("countries", "REGION_ID", "regions", "REGION_ID")] is None
    added = [i for i in report.applied if i.item == "foreign key"]
    assert len(added) == 3
    assert container.browser.column(name, "departments", "LOCATION_ID").references == ["locations.LOCATION_ID"]


def test_a_second_import_changes_nothing(container: Container, imported: tuple[str, DbtImportReport]) -> None:
    name, first = imported
    before = container.catalog_transfer.transfer.snapshot(name)
    version = container.catalog.version(name)
    again = _import(container, name)
    assert again.applied == [] and again.skipped == []
    assert again.unchanged == first.unchanged + len(first.applied)
    after = container.catalog_transfer.transfer.snapshot(name)
    assert after.revisions == before.revisions and after.tables == before.tables and after.columns == before.columns
    assert container.catalog.version(name) == version


def test_a_steward_edit_survives_and_reingestion_keeps_dbt_work(container: Container) -> None:
    name = _database(container, "dbtedit")
    _import(container, name)
    container.curation.edit_column(name, "employees", "SALARY", {"description": "Pay per month, USD"}, None, "alice")
    changed = copy.deepcopy(MANIFEST)
    changed["nodes"]["model.hr.employees"]["columns"]["SALARY"]["description"] = "Salary (edited in dbt)."
    changed["nodes"]["model.hr.jobs"]["description"] = "Jobs and their salary bands."
    report = _import(container, name, manifest=changed)
    salary = container.browser.column(name, "employees", "SALARY")
    assert (salary.description, salary.description_source) == ("Pay per month, USD", Provenance.STEWARD)
    assert [(i.table, i.column) for i in report.skipped] == [("employees", "SALARY")]
    # dbt's own earlier text is dbt's to change
    assert container.browser.table(name, "jobs").description == "Jobs and their salary bands."
    assert [(i.table, i.item) for i in report.applied] == [("jobs", "description")]
    job = container.databases.start_ingestion(name)
    while container.jobs.get(job.id).state in (JobState.QUEUED, JobState.RUNNING):
        time.sleep(0.1)
    assert container.browser.table(name, "jobs").description == "Jobs and their salary bands."
    assert container.browser.column(name, "employees", "EMAIL").key_hints == ["unique"]
    sources = {(k.table, k.column): k.source for k in container.browser.foreign_keys(name)}
    assert sources[("departments", "LOCATION_ID")] == "dbt" and sources[("employees", "JOB_ID")] is None


def test_a_test_removed_from_the_project_removes_its_key(container: Container) -> None:
    name = _database(container, "dbtdrop")
    _import(container, name)
    changed = copy.deepcopy(MANIFEST)
    for uid in [uid for uid in changed["nodes"] if "LOCATION_ID__LOCATION_ID__ref_locations" in uid]:
        del changed["nodes"][uid]
    for uid in [uid for uid in changed["nodes"] if uid.startswith("test.hr.unique_employees_EMAIL")]:
        del changed["nodes"][uid]
    version = container.catalog.version(name)
    report = _import(container, name, manifest=changed)
    assert container.catalog.version(name) != version  # keys alone changed: the linker reads them again
    assert {(i.table, i.column, i.item) for i in report.applied} == {
        ("departments", "LOCATION_ID", "foreign key"),
        ("employees", "EMAIL", "key hints"),
    }
    assert ("departments", "LOCATION_ID") not in {(k.table, k.column) for k in container.browser.foreign_keys(name)}
    assert container.browser.column(name, "employees", "EMAIL").key_hints == []


def test_proposals_mode_waits_for_a_steward(container: Container) -> None:
    name = _database(container, "dbtprop")
    report = _import(container, name, proposals=True)
    salary = container.browser.column(name, "employees", "SALARY")
    assert salary.description is None
    pending = container.proposals.list_for(name, ProposalState.PENDING, 0, 500).items
    by_column = {p.column: p for p in pending}
    assert by_column["employees.SALARY"].description == "Monthly gross salary in US dollars."
    assert all(p.source == Provenance.DBT and p.model == "dbt" for p in pending)
    assert len(pending) == sum(1 for i in report.applied if i.item == "proposal")
    assert {(i.table, i.column) for i in report.skipped} >= {("employees", None)}  # tables are not proposed
    assert _import(container, name, proposals=True).applied == []  # idempotent
    container.proposals.approve(by_column["employees.SALARY"].id, "carol")
    salary = container.browser.column(name, "employees", "SALARY")
    assert (salary.description, salary.description_source) == ("Monthly gross salary in US dollars.", Provenance.DBT)
    container.proposals.reject(by_column["employees.EMAIL"].id, "carol")
    assert _import(container, name, proposals=True).applied == []  # a rejection stands


@pytest.mark.parametrize(
    ("manifest", "message"),
    [
        ([], "the manifest is a JSON list, not an object"),
        ({"nodes": {}}, "the manifest: metadata: Field required"),
        (
            {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/catalog/v1.json"}},
            "is not a dbt manifest",
        ),
        ({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v7.json"}}, "manifest v7"),
        (
            {"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json"}, "nodes": {"x": 1}},
            "the manifest: nodes.x:",
        ),
    ],
)
def test_malformed_manifests_are_named(manifest: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_manifest(manifest)
    assert message in raised.value.message


def test_files_that_are_not_json_are_refused_before_a_job(tmp_path: Path) -> None:
    broken = tmp_path / "manifest.json"
    broken.write_text('{"metadata": ')
    with pytest.raises(InvalidInput, match=f"the manifest {broken} is not JSON"):
        read_files(broken, None)
    with pytest.raises(InvalidInput, match="cannot read the catalog"):
        read_files(FIXTURE / "manifest.json", tmp_path / "missing.json")
    assert read_files(FIXTURE / "manifest.json", None) == {"manifest": MANIFEST, "catalog": None}


def test_a_job_imports_and_reports_progress(container: Container) -> None:
    name = _database(container, "dbtjob")
    job = container.dbt_import.import_files(name, read_files(FIXTURE / "manifest.json", None), False, "tester")
    while (info := container.jobs.get(job.id)).state in (JobState.QUEUED, JobState.RUNNING):
        time.sleep(0.1)
    assert info.state == JobState.SUCCEEDED, info
    assert info.done == info.total == 8  # the sample's 7 tables, then the keys
    assert DbtImportReport.model_validate(info.result).mapped == 12
    assert not list(container.settings.uploads_dir.glob("*.dbt.json"))  # the stored upload is gone


@pytest.mark.parametrize(
    ("schema", "identifier", "table"),
    [
        ("raw", "employees", "employees"),  # a schema the catalogue does not qualify: the default one
        ("sales", "orders", "sales.orders"),  # a PostgreSQL schema the catalogue holds
        ("SALES", "ORDERS", "sales.orders"),  # ignoring case when only one matches
        ("sales", "employees", None),  # never another schema's table of the same name
        ("public", "stock", "Stock"),
        ("public", "missing", None),
    ],
)
def test_the_mapping_rule(schema: str, identifier: str, table: str | None) -> None:
    tables = {name: {"name": name} for name in ("employees", "sales.orders", "sales.customers", "Stock")}
    relation = DbtRelation(
        unique_id="model.x.y", kind="model", database="db", schema_name=schema, identifier=identifier
    )
    found = DbtImportService._map(relation, tables)
    assert (found["name"] if found else None) == table
