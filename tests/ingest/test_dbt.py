"""Reading dbt's files (pure parsing, no catalogue): the fixture dbt wrote, and small hand-made manifests for
what it does not show (a test on a column no one documented, ref with a package, an unknown subject)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from schemakg.ingest.dbt import parse_manifest
from schemakg.kernel.errors import InvalidInput

FIXTURE = Path(__file__).parents[1] / "fixtures" / "dbt" / "hr"
MANIFEST: dict[str, Any] = json.loads((FIXTURE / "manifest.json").read_text())
CATALOG: dict[str, Any] = json.loads((FIXTURE / "catalog.json").read_text())
V12 = {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v12.json", "dbt_version": "1.10.0"}


def test_the_fixture_dbt_wrote() -> None:
    docs = parse_manifest(MANIFEST)
    assert docs.dbt_version == "1.10.23"
    relations = {r.unique_id: r for r in docs.relations}
    assert [r.kind for r in docs.relations] == ["source"] * 8 + ["model"] * 6  # sources first
    employees = relations["model.hr.employees"]
    assert (employees.database, employees.schema_name, employees.identifier) == ("hr", "main", "employees")
    assert employees.description == "People on the payroll, one row per employee."
    columns = {c.name: c for c in employees.columns}
    assert columns["EMPLOYEE_ID"].key_hints == ["not_null", "unique"]
    assert columns["JOB_ID"].key_hints == ["not_null"]
    assert columns["SALARY"].key_hints == []
    countries = relations["source.hr.hr_raw.countries"]
    assert (countries.schema_name, countries.relation) == ("raw", "hr.raw.countries")
    assert {c.name: c.key_hints for c in countries.columns}["COUNTRY_ID"] == ["not_null", "unique"]
    links = {(r.child, r.column, r.parent, r.field) for r in docs.relationships}
    assert links == {
        ("model.hr.employees", "JOB_ID", "model.hr.jobs", "JOB_ID"),
        ("model.hr.employees", "MANAGER_ID", "model.hr.employees", "EMPLOYEE_ID"),
        ("model.hr.departments", "MANAGER_ID", "model.hr.employees", "EMPLOYEE_ID"),
        ("model.hr.departments", "LOCATION_ID", "model.hr.locations", "LOCATION_ID"),
        ("source.hr.hr_raw.countries", "REGION_ID", "source.hr.hr_raw.regions", "REGION_ID"),  # a source's test
    }
    assert docs.ignored_tests == []


def test_the_catalog_adds_the_warehouse_columns() -> None:
    without = {
        c.name for c in next(r for r in parse_manifest(MANIFEST).relations if r.unique_id == "model.hr.jobs").columns
    }
    docs = parse_manifest(MANIFEST, CATALOG)
    jobs = next(r for r in docs.relations if r.unique_id == "model.hr.jobs")
    assert without == {"JOB_ID", "MIN_SALARY", "MAX_SALARY"}
    assert {c.name for c in jobs.columns} == without | {"JOB_TITLE"}
    assert {c.name: c.description for c in jobs.columns}["JOB_TITLE"] is None  # no comment in the warehouse


def _test(uid: str, name: str, column: str, model: str, depends: list[str], **kwargs: Any) -> dict[str, Any]:
    return {
        "unique_id": uid,
        "resource_type": "test",
        "name": uid,
        "column_name": column,
        "attached_node": None,
        "test_metadata": {"name": name, "kwargs": {"column_name": column, "model": model, **kwargs}},
        "depends_on": {"nodes": depends},
    }


def test_tests_resolved_from_ref_and_source_expressions() -> None:
    model = {"resource_type": "model", "name": "orders", "schema": "analytics", "alias": "fct_orders"}
    manifest = {
        "metadata": V12,
        "nodes": {
            "model.shop.orders": {"unique_id": "model.shop.orders", **model},
            "test.a": _test(
                "test.a", "unique", "ID", "{{ get_where_subquery(ref('shop', 'orders')) }}", ["model.shop.orders"]
            ),
            "test.b": _test(
                "test.b",
                "relationships",
                "CUSTOMER_ID",
                "{{ get_where_subquery(ref('orders')) }}",
                ["source.shop.raw.customers", "model.shop.orders"],
                to="source('raw', 'customers')",
                field="ID",
            ),
            "test.c": _test("test.c", "not_null", "X", "{{ get_where_subquery(ref('gone')) }}", ["model.shop.gone"]),
            "test.d": {**_test("test.d", "accepted_values", "S", "ref('orders')", ["model.shop.orders"])},
        },
        "sources": {
            "source.shop.raw.customers": {
                "unique_id": "source.shop.raw.customers",
                "name": "customers",
                "source_name": "raw",
                "schema": "raw",
                "identifier": "CUSTOMERS",
            }
        },
    }
    docs = parse_manifest(manifest)
    orders = next(r for r in docs.relations if r.kind == "model")
    assert orders.identifier == "fct_orders"  # the alias, not the name
    assert [(c.name, c.key_hints) for c in orders.columns] == [("ID", ["unique"])]  # named by a test only
    assert next(r for r in docs.relations if r.kind == "source").identifier == "CUSTOMERS"
    assert [(r.child, r.parent, r.field) for r in docs.relationships] == [
        ("model.shop.orders", "source.shop.raw.customers", "ID")
    ]
    assert docs.ignored_tests == ["test.c"]  # accepted_values is not a key test: not read at all


@pytest.mark.parametrize(
    ("manifest", "catalog", "message"),
    [
        ("x", None, "the manifest is a JSON str, not an object"),
        ({"metadata": {"dbt_schema_version": "https://schemas.getdbt.com/dbt/manifest/v11.json"}}, None, "v11"),
        ({"metadata": V12, "sources": {"s": {"unique_id": "s"}}}, None, "the manifest: sources.s.name: Field required"),
        ({"metadata": V12}, {"metadata": V12}, "the catalog is not a dbt catalog"),
        ({"metadata": V12}, [], "the catalog is a JSON list"),
    ],
)
def test_malformed_files(manifest: Any, catalog: Any, message: str) -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_manifest(manifest, catalog)
    assert message in raised.value.message
