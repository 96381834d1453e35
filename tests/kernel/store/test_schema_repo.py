"""Snapshot writes against the real engine: idempotent, and all-or-nothing on failure."""

from __future__ import annotations

import pytest
from neo4j.exceptions import Neo4jError

from schemakg.app.container import Container
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import ColumnSnapshot, DatabaseInfo, ForeignKeySnapshot, SchemaSnapshot, TableSnapshot
from schemakg.kernel.store import schema_repo
from tests.conftest import count_nodes


def _snapshot(extra_column: bool = False) -> SchemaSnapshot:
    orders = [
        ColumnSnapshot(name="id", data_type="INTEGER", is_pk=True),
        ColumnSnapshot(name="customer_id", data_type="INTEGER", ordinal=1),
    ]
    if extra_column:
        orders.append(ColumnSnapshot(name="note", data_type="TEXT", ordinal=2))
    return SchemaSnapshot(
        dialect="sqlite",
        tables=[
            TableSnapshot(name="customers", columns=[ColumnSnapshot(name="id", data_type="INTEGER", is_pk=True)]),
            TableSnapshot(name="orders", columns=orders),
        ],
        foreign_keys=[
            ForeignKeySnapshot(table="orders", columns=["customer_id"], ref_table="customers", ref_columns=["id"])
        ],
    )


def _register(container: Container, name: str) -> None:
    container.catalog.create_database(DatabaseInfo(name=name, dialect="sqlite", url="sqlite://", created_at=now_iso()))


def test_repeated_snapshots_merge(container: Container, db_name: str) -> None:
    _register(container, db_name)
    for _ in range(3):
        summary = container.catalog.apply_snapshot(db_name, _snapshot(), now_iso())
    assert (summary.tables, summary.columns, summary.foreign_keys) == (2, 3, 1)
    assert count_nodes(container, "Table", db_name) == 2
    assert count_nodes(container, "Column", db_name) == 3
    edges = container.store.read(
        "MATCH (a:Column {database: $db})-[e:FOREIGN_KEY]->(b) RETURN count(e) AS n", db=db_name
    )[0]["n"]
    assert edges == 1
    related = container.store.read(
        "MATCH (a:Table {database: $db})-[e:RELATED_TO]->(b) RETURN count(e) AS n", db=db_name
    )[0]["n"]
    assert related == 1


def test_failed_write_leaves_no_half_written_graph(
    container: Container, db_name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _register(container, db_name)
    container.catalog.apply_snapshot(db_name, _snapshot(), now_iso())
    # Break the last statement of the transaction: the new column written before it must roll back.
    monkeypatch.setattr(schema_repo, "_CREATE_FOREIGN_KEYS", "UNWIND $rows AS r THIS IS NOT CYPHER")
    with pytest.raises(Neo4jError):
        container.catalog.apply_snapshot(db_name, _snapshot(extra_column=True), now_iso())
    assert count_nodes(container, "Column", db_name) == 3
    assert container.catalog.get_column(db_name, "orders", "note") is None
    assert len(container.catalog.foreign_keys(db_name)) == 1
