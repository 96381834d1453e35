"""Export and import of the curated catalogue against the real engine and the sample database: a round trip
into a fresh data directory (a diff of exports), idempotence, a newer edit in the target as a conflict, what
the target lacks, dry runs, search over imported text, bad documents and no secrets in the file."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest

from schemakg.app.container import Container
from schemakg.app.services.catalog_document import (
    CatalogDocument,
    ColumnFields,
    TableFields,
    dump_document,
    parse_document,
)
from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import InvalidInput, NotFound
from schemakg.kernel.model import JobState, ProposalKind, ProposalState
from schemakg.kernel.settings import Settings
from schemakg.kernel.store.schema_repo import CURATED_FIELDS
from tests.conftest import ADMIN_KEY, SAMPLE_DB, count_nodes
from tests.generation.test_knowledge import _proposal

COLUMN_DESCRIPTION = ProposalKind.COLUMN_DESCRIPTION

PASSWORD = "Catalogue-Pa55-never-exported"


def _register_and_ingest(container: Container, name: str, url: str) -> None:
    container.databases.register(name, url)
    job = container.databases.start_ingestion(name)
    deadline = time.monotonic() + 120
    while (info := container.jobs.get(job.id)).state in (JobState.QUEUED, JobState.RUNNING):
        assert time.monotonic() < deadline, "ingestion did not finish"
        time.sleep(0.1)
    assert info.state == JobState.SUCCEEDED, info


@pytest.fixture(scope="module")
def source(container: Container, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The sample database in the session's catalogue, registered with a password, curated by stewards and by
    approved LLM proposals (a description and a dependency); one proposal rejected."""
    name = f"transfer{int(time.time() * 1000) % 100000}"
    _register_and_ingest(container, name, f"sqlite://steward:{PASSWORD}@localhost/{SAMPLE_DB}")
    edit = container.curation
    edit.edit_table(name, "employees", {"description": "People on the payroll"}, None, "alice")
    edit.edit_column(name, "employees", "SALARY", {"description": "Monthly salary"}, None, "alice")
    edit.edit_column(
        name,
        "employees",
        "SALARY",
        {"description": "Monthly gross salary in USD", "synonyms": ["pay", "wage"]},
        2,
        "bob",
    )
    edit.edit_column(name, "jobs", "JOB_TITLE", {"value_explanation": "the official title"}, None, "alice")
    described, dependency, rejected = (f"{name}-{kind}" for kind in ("description", "dependency", "rejected"))
    proposals = [
        _proposal(name, described, COLUMN_DESCRIPTION, column="departments.DEPARTMENT_NAME", description="unit name"),
        _proposal(
            name,
            dependency,
            ProposalKind.DEPENDENCY,
            column="employees.SALARY",
            relation="at most",
            tail="jobs.MAX_SALARY",
            text="a salary never exceeds its job's maximum",
        ),
        _proposal(name, rejected, COLUMN_DESCRIPTION, column="regions.REGION_NAME", description="rejected text"),
    ]
    for proposal in proposals:
        assert container.proposals_repo.create(proposal)
    container.proposals.approve(proposals[0].id, "carol")
    container.proposals.approve(proposals[1].id, "carol")
    container.proposals.reject(proposals[2].id, "carol")
    return name


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Container]:
    """A second service on a fresh data directory of its own (its own engine)."""
    built = Container(Settings(data_dir=tmp_path_factory.mktemp("fresh-data"), admin_key=ADMIN_KEY, torch_threads=1))
    yield built
    built.close()


@pytest.fixture(scope="module")
def exported(container: Container, source: str) -> str:
    return dump_document(container.catalog_transfer.export([source]))


@pytest.fixture(scope="module")
def first_import(fresh: Container, source: str, exported: str) -> dict[str, Any]:
    _register_and_ingest(fresh, source, f"sqlite:///{SAMPLE_DB}")
    return fresh.catalog_transfer.import_document(parse_document(exported), "tester").model_dump()


def _entry(document: dict[str, Any], table: str, column: str | None = None) -> dict[str, Any]:
    found = next(t for t in document["databases"][0]["tables"] if t["name"] == table)
    return found if column is None else next(c for c in found["columns"] if c["name"] == column)


def test_the_export_holds_every_curated_field_with_provenance_and_history(exported: str, source: str) -> None:
    document = json.loads(exported)
    assert (document["format"], document["version"]) == ("schemakg-catalog", 1)
    assert [d["name"] for d in document["databases"]] == [source]
    assert [t["name"] for t in document["databases"][0]["tables"]] == ["departments", "employees", "jobs"]
    employees = _entry(document, "employees")
    assert employees["fields"] == {"description": {"value": "People on the payroll", "source": "steward"}}
    salary = _entry(document, "employees", "SALARY")
    assert salary["fields"] == {
        "description": {"value": "Monthly gross salary in USD", "source": "steward"},
        "synonyms": {"value": ["pay", "wage"], "source": "steward"},
    }
    assert [(r["field"], r["who"], r["source"]) for r in salary["history"]] == [
        ("description", "alice", "steward"),
        ("description", "bob", "steward"),
        ("synonyms", "bob", "steward"),
        ("depends_on", f"carol (approved test-model proposal {source}-dependency)", "llm"),
    ]
    assert salary["history"][1]["old"] == "Monthly salary"
    assert salary["dependencies"] == [
        {
            "relation": "at most",
            "tail": "jobs.MAX_SALARY",
            "text": "a salary never exceeds its job's maximum",
            "source": "llm",
            "proposal": f"{source}-dependency",
        }
    ]
    assert _entry(document, "departments", "DEPARTMENT_NAME")["fields"]["description"] == {
        "value": "unit name",
        "source": "llm",
    }
    assert _entry(document, "jobs", "JOB_TITLE")["fields"]["value_explanation"]["value"] == "the official title"
    proposals = document["databases"][0]["proposals"]
    assert [p["state"] for p in proposals] == ["approved", "approved"]  # the rejected one stays home
    assert exported == json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"  # keys sorted


def test_no_secret_and_no_url_in_the_export(container: Container, source: str, exported: str) -> None:
    assert container.databases.get(source).url.startswith("sqlite://steward:***@")  # the password is stored
    yaml_text = dump_document(container.catalog_transfer.export([source]), "yaml")
    for text in (exported, yaml_text):
        assert PASSWORD not in text
        assert "sqlite:" not in text
    assert all("url" not in d for d in json.loads(exported)["databases"])
    assert parse_document(yaml_text) == parse_document(exported)  # YAML reads back to the same document


def test_round_trip_into_a_fresh_data_directory(
    container: Container, fresh: Container, source: str, exported: str, first_import: dict[str, Any]
) -> None:
    assert first_import["conflicts"] == [] and first_import["missing"] == []
    applied = {(i["table"], i["column"], i["item"]) for i in first_import["applied"]}
    assert ("employees", "SALARY", "description") in applied
    assert ("employees", "SALARY", "dependency") in applied
    assert (None, None, "proposal") in applied
    # The diff of the two exports is empty: every curated field, its provenance and its history came across.
    assert dump_document(fresh.catalog_transfer.export([source])) == exported
    assert fresh.curation.column_history(source, "employees", "SALARY") == container.curation.column_history(
        source, "employees", "SALARY"
    )
    assert fresh.proposals.dependencies(source) == container.proposals.dependencies(source)
    salary = fresh.browser.column(source, "employees", "SALARY")
    assert (salary.description, salary.description_source, salary.synonyms) == (
        "Monthly gross salary in USD",
        "steward",
        ["pay", "wage"],
    )
    hits = fresh.browser.search("gross salary", source, "column", 5)
    assert hits and hits[0].column == "SALARY"


def test_a_second_import_changes_nothing(fresh: Container, source: str, exported: str, first_import: Any) -> None:
    revisions = count_nodes(fresh, "Revision", source)
    etag = fresh.browser.column(source, "employees", "SALARY").revision
    report = fresh.catalog_transfer.import_document(parse_document(exported), "tester")
    assert report.applied == [] and report.conflicts == [] and report.missing == []
    assert report.unchanged == len(first_import["applied"])
    assert count_nodes(fresh, "Revision", source) == revisions
    assert fresh.browser.column(source, "employees", "SALARY").revision == etag
    assert dump_document(fresh.catalog_transfer.export([source])) == exported


def test_a_dry_run_reports_and_writes_nothing(fresh: Container, source: str, exported: str, first_import: Any) -> None:
    document = json.loads(exported)
    column = _entry(document, "jobs", "JOB_TITLE")
    column["fields"]["value_explanation"]["value"] = "a title from the HR handbook"
    column["history"].append(
        {
            "field": "value_explanation",
            "old": "the official title",
            "new": "a title from the HR handbook",
            "who": "dave",
            "source": "steward",
            "at": now_iso(),
        }
    )
    report = fresh.catalog_transfer.import_document(CatalogDocument.model_validate(document), "tester", dry_run=True)
    assert report.dry_run
    assert [(i.column, i.item) for i in report.applied] == [("JOB_TITLE", "value_explanation")]
    assert dump_document(fresh.catalog_transfer.export([source])) == exported


def test_what_the_target_lacks_is_reported_not_created(
    fresh: Container, source: str, exported: str, first_import: Any
) -> None:
    document = json.loads(exported)
    ghost = {"name": "ghost", "fields": {"description": {"value": "haunted", "source": "steward"}}}
    document["databases"][0]["tables"].append(ghost)
    _entry(document, "employees")["columns"].append(
        {"name": "BONUS", "fields": {"description": {"value": "yearly", "source": "steward"}}}
    )
    document["databases"].append({"name": "nowhere", "tables": [ghost]})
    tables = count_nodes(fresh, "Table", source)
    report = fresh.catalog_transfer.import_document(CatalogDocument.model_validate(document), "tester")
    assert {(i.database, i.table, i.column, i.item) for i in report.missing} == {
        (source, "ghost", None, "table"),
        (source, "employees", "BONUS", "column"),
        ("nowhere", None, None, "database"),
    }
    assert report.applied == [] and report.conflicts == []
    assert count_nodes(fresh, "Table", source) == tables
    with pytest.raises(NotFound):
        fresh.browser.table(source, "ghost")


def test_imported_text_older_than_the_search_index_is_found(
    fresh: Container, source: str, exported: str, first_import: Any
) -> None:
    """An imported revision keeps its own (old) time; the search index still re-reads what it changed."""
    fresh.browser.search("salary", source, None, 5)  # the index is at the newest revision's time
    document = json.loads(exported)
    table = _entry(document, "jobs")
    table["columns"].append(
        {
            "name": "MIN_SALARY",
            "fields": {"description": {"value": "xylophone grade floor", "source": "steward"}},
            "history": [
                {"field": "description", "new": "xylophone grade floor", "who": "erin", "source": "steward"}
                | {"at": "2020-01-01T00:00:00.000000+00:00"}
            ],
        }
    )
    report = fresh.catalog_transfer.import_document(CatalogDocument.model_validate(document), "tester")
    assert [(i.column, i.item) for i in report.applied] == [("MIN_SALARY", "description")]
    hits = fresh.browser.search("xylophone", source, "column", 5)
    assert [h.column for h in hits] == ["MIN_SALARY"]


def test_a_newer_edit_in_the_target_is_a_conflict_and_kept(
    container: Container, fresh: Container, source: str, first_import: Any
) -> None:
    fresh.curation.edit_column(source, "employees", "SALARY", {"description": "Edited in the target"}, None, "frank")
    time.sleep(0.01)
    container.curation.edit_column(source, "jobs", "JOB_TITLE", {"value_explanation": "as printed"}, None, "gina")
    later = container.catalog_transfer.export([source])  # newer for JOB_TITLE, older for SALARY
    report = fresh.catalog_transfer.import_document(later, "tester")
    assert [(i.column, i.item) for i in report.conflicts] == [("SALARY", "description")]
    assert "frank" in report.conflicts[0].detail
    assert [(i.column, i.item) for i in report.applied] == [("JOB_TITLE", "value_explanation")]
    assert fresh.browser.column(source, "employees", "SALARY").description == "Edited in the target"
    assert fresh.browser.column(source, "jobs", "JOB_TITLE").value_explanation == "as printed"
    history = fresh.curation.column_history(source, "jobs", "JOB_TITLE")
    assert [(r.who, r.new) for r in history][-1] == ("gina", "as printed")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (b'{"format": "schemakg-catalog", "version": 1, "databases": [', "not a JSON or YAML document"),
        (b"[1, 2]", "not an object"),
        (b'{"databases": []}', "it needs 'format'"),
        (b'{"format": "dbt-manifest", "version": 1, "databases": []}', "format must be 'schemakg-catalog'"),
        (b'{"format": "schemakg-catalog", "version": 2, "databases": []}', "catalogue version 2 is not supported"),
        (
            b'{"format": "schemakg-catalog", "version": 1, "databases": [{"name": "x", "tables": '
            b'[{"name": "t", "fields": {"description": {"value": {"a": 1}}}}]}]}',
            "databases.0.tables.0.fields.description.value",
        ),
        (b"format: schemakg-catalog\nversion: 1\ndatabases: [{name: x, nonsense: 1}]\n", "nonsense"),
    ],
)
def test_bad_documents_are_named(text: bytes, problem: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_document(text)
    assert problem in raised.value.message


def test_history_of_an_unknown_field_is_refused(fresh: Container) -> None:
    document = CatalogDocument.model_validate(
        {
            "format": "schemakg-catalog",
            "version": 1,
            "databases": [
                {
                    "name": "x",
                    "tables": [
                        {"name": "t", "history": [{"field": "secret", "who": "x", "source": "steward", "at": "1"}]}
                    ],
                }
            ],
        }
    )
    with pytest.raises(InvalidInput, match="'secret'"):
        fresh.catalog_transfer.import_document(document, "tester")


def test_the_document_names_exactly_the_curated_fields() -> None:
    assert set(TableFields.model_fields) == set(CURATED_FIELDS["table"])
    assert set(ColumnFields.model_fields) == set(CURATED_FIELDS["column"])


def test_an_unknown_database_is_not_found(container: Container) -> None:
    with pytest.raises(NotFound):
        container.catalog_transfer.export(["no_such_database"])


def test_only_approved_proposals_travel(fresh: Container, exported: str) -> None:
    document = json.loads(exported)
    document["databases"][0]["proposals"][0]["state"] = ProposalState.PENDING.value
    with pytest.raises(InvalidInput, match="not an approved proposal"):
        fresh.catalog_transfer.import_document(CatalogDocument.model_validate(document), "tester")
