"""Snapshot writes against the real engine: idempotent, all-or-nothing, counted in the catalogue version;
curated edits with one winner per revision step."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from neo4j.exceptions import Neo4jError

from schemakg.app.container import Container
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import (
    ColumnSnapshot,
    DatabaseInfo,
    ForeignKeySnapshot,
    Provenance,
    SchemaSnapshot,
    TableSnapshot,
    column_key,
    column_ref,
    split_column_ref,
    table_key,
)
from schemakg.kernel.store import schema_repo
from schemakg.kernel.store.base import DuplicateKeyError, GraphTransaction
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


def test_first_format_keys_are_upgraded_with_their_history(container: Container, db_name: str) -> None:
    """A catalogue written with lower-cased, unescaped keys: re-keyed once, curation and history kept."""
    container.store.write(
        "CREATE (d:Database {key: $db, name: $db, dialect: 'sqlite', url: 'sqlite://', created_at: $at}) "
        "CREATE (t:Table {key: $db + '/a/b', name: 'A/B', database: $db, status: 'current', revision: 1}) "
        "CREATE (c:Column {key: $db + '/a/b/name', table_key: $db + '/a/b', name: 'Name', table: 'A/B', "
        "database: $db, status: 'current', revision: 2, description: 'kept', data_type: 'TEXT'}) "
        "CREATE (d)-[:HAS_TABLE]->(t)-[:HAS_COLUMN]->(c) "
        "CREATE (c)-[:HAS_REVISION]->(:Revision {entity_key: $db + '/a/b/name', database: $db, field: 'description', "
        "old: 'null', new: '\"kept\"', who: 'steward', source: 'steward', at: $at, seq: 1})",
        db=db_name,
        at=now_iso(),
    )
    assert db_name in container.catalog.upgrade_keys()
    assert container.catalog.upgrade_keys() == []  # once
    assert db_name in container.catalog.upgrade_counts()  # as opening the catalogue does, after the keys
    column = container.catalog.get_column(db_name, "A/B", "Name")
    assert column is not None and column.key == column_key(db_name, "A/B", "Name") and column.description == "kept"
    assert [r.new for r in container.catalog.history(column.key)] == ["kept"]
    table = container.catalog.get_table(db_name, "A/B")
    assert table is not None and table.key == table_key(db_name, "A/B")


def test_column_references_read_from_the_graph_are_the_injective_form(container: Container, db_name: str) -> None:
    """``references`` and ``column_descriptions`` build ``table.column`` in Cypher: the same escaping as
    ``model.column_ref``, so a schema-qualified table, a dotted column and a backslashed table round-trip."""
    _register(container, db_name)
    snapshot = SchemaSnapshot(
        dialect="postgresql",
        tables=[
            TableSnapshot(name="sales.orders", columns=[ColumnSnapshot(name="no.", data_type="INTEGER", is_pk=True)]),
            TableSnapshot(name="back\\slash", columns=[ColumnSnapshot(name="order", data_type="INTEGER")]),
        ],
        foreign_keys=[
            ForeignKeySnapshot(table="back\\slash", columns=["order"], ref_table="sales.orders", ref_columns=["no."])
        ],
    )
    container.catalog.apply_snapshot(db_name, snapshot, now_iso())
    column = container.catalog.get_column(db_name, "back\\slash", "order")
    assert column is not None and column.references == [column_ref("sales.orders", "no.")] == ["sales\\.orders.no."]
    assert split_column_ref(column.references[0]) == ("sales.orders", "no.")
    refs = [column_ref("sales.orders", "no."), column_ref("back\\slash", "order")]
    assert set(container.catalog.column_descriptions(db_name, refs)) == set(refs)
    assert container.catalog.list_columns(db_name, "back\\slash", 0, 10)[0][0].references == column.references


def _example(database: str, n: int) -> dict[str, object]:
    return {
        "key": f"{database}/q/{n}",
        "question": f"how many orders? ({n})",
        "sql": "SELECT count(*) FROM orders",
        "dialect": "sqlite",
        "evidence": None,
        "source": "log.jsonl",
        "line": n,
        "tables": ["orders"],
        "columns": [],
        "joins": [],
        "Table": [table_key(database, "orders")],
        "Column": [],
    }


def test_the_catalogue_version_moves_with_revisions_and_new_examples_only(container: Container, db_name: str) -> None:
    """Routing reads every database's version on each question: the counts live on the database node."""
    _register(container, db_name)
    container.catalog.apply_snapshot(db_name, _snapshot(), now_iso())
    versions = [container.catalog.version(db_name)]
    batch = [_example(db_name, 1), _example(db_name, 2), _example(db_name, 2)]  # a key twice counts once
    assert container.examples.write_batch(db_name, batch, now_iso()) == 2
    versions.append(container.catalog.version(db_name))
    assert container.examples.write_batch(db_name, batch, now_iso()) == 0  # written again: nothing new
    assert container.catalog.version(db_name) == versions[-1]
    assert container.examples.write_batch(db_name, [_example(db_name, 2), _example(db_name, 3)], now_iso()) == 1
    versions.append(container.catalog.version(db_name))
    key = column_key(db_name, "orders", "customer_id")
    container.catalog.update_curated(
        "column", key, {"description": "who ordered"}, None, "ann", Provenance.STEWARD, now_iso()
    )
    versions.append(container.catalog.version(db_name))
    assert len(set(versions)) == 4
    counted = container.store.read(
        "MATCH (d:Database {key: $db}) RETURN d.revision_count AS revisions, d.example_count AS examples", db=db_name
    )[0]
    assert counted == {"revisions": count_nodes(container, "Revision", db_name), "examples": 3}
    assert count_nodes(container, "QueryExample", db_name) == 3
    assert container.examples.question_counts([db_name, "unknown"]) == {db_name: 3}
    newest = container.store.read("MATCH (r:Revision {database: $db}) RETURN max(r.at) AS at", db=db_name)[0]["at"]
    searched = container.catalog.search_versions()[db_name]
    assert (searched.revisions, searched.revised_at) == (counted["revisions"], newest)


def test_counts_are_added_to_catalogues_written_before_they_were_kept(container: Container, db_name: str) -> None:
    _register(container, db_name)
    container.catalog.apply_snapshot(db_name, _snapshot(), now_iso())
    container.examples.write_batch(db_name, [_example(db_name, 1), _example(db_name, 2)], now_iso())
    key = column_key(db_name, "orders", "id")
    container.catalog.update_curated(
        "column", key, {"description": "order number"}, None, "ann", Provenance.STEWARD, now_iso()
    )
    version, searched = container.catalog.version(db_name), container.catalog.search_versions()[db_name]
    for kept in ("d.revision_count, d.example_count, d.revised_at", "d.revised_at"):  # none kept, or not the time
        container.store.write(f"MATCH (d:Database {{key: $db}}) REMOVE {kept}", db=db_name)
        assert db_name in container.catalog.upgrade_counts()
        assert db_name not in container.catalog.upgrade_counts()  # once
        assert container.catalog.version(db_name) == version
        assert container.catalog.search_versions()[db_name] == searched


def test_a_step_claimed_by_two_open_transactions_commits_once(container: Container, db_name: str) -> None:
    """The unique key holds between transactions open together, not only against one already committed."""
    claimed = threading.Event()
    outcomes: dict[str, Any] = {}

    def slow(tx: GraphTransaction) -> None:
        schema_repo.claim_step(tx, f"{db_name}/t", db_name, 4)
        claimed.set()
        threading.Event().wait(1.0)  # still open while the other claims the same step

    def run(name: str, work: Any) -> None:
        try:
            outcomes[name] = container.store.write_transaction(work) or "committed"
        except DuplicateKeyError:
            outcomes[name] = "refused"

    first = threading.Thread(target=run, args=("first", slow))
    first.start()
    assert claimed.wait(30)
    run("second", lambda tx: schema_repo.claim_step(tx, f"{db_name}/t", db_name, 4))
    first.join()
    assert sorted(outcomes.values()) == ["committed", "refused"]
    assert count_nodes(container, "EditClaim", db_name) == 1
    container.catalog.delete_database(db_name)  # the claims go with their database
    assert count_nodes(container, "EditClaim", db_name) == 0


@pytest.mark.parametrize("if_match", [True, False])
def test_an_edit_that_lost_its_step_is_refused_or_applied_on_top(
    container: Container, db_name: str, monkeypatch: pytest.MonkeyPatch, if_match: bool
) -> None:
    """Another steward's edit commits after this edit read the column and before it claimed the step: with
    an expected revision it is refused (no second winner); without one it is applied again on top."""
    _register(container, db_name)
    container.catalog.apply_snapshot(db_name, _snapshot(), now_iso())
    key = column_key(db_name, "orders", "id")
    start = container.catalog.update_curated(
        "column", key, {"description": "a"}, None, "ann", Provenance.STEWARD, now_iso()
    )
    real_claim, calls = schema_repo.claim_step, []

    def claim_after_a_rival(tx: GraphTransaction, *args: Any) -> None:
        calls.append(args)
        if len(calls) == 1:  # the rival runs in its own transaction and claims first
            rival = threading.Thread(
                target=container.catalog.update_curated,
                args=("column", key, {"description": "rival"}, start, "bob", Provenance.STEWARD, now_iso()),
            )
            rival.start()
            rival.join()
        real_claim(tx, *args)

    monkeypatch.setattr(schema_repo, "claim_step", claim_after_a_rival)
    edit = ("column", key, {"description": "mine"}, start if if_match else None, "ann", Provenance.STEWARD, now_iso())
    if if_match:
        with pytest.raises(schema_repo.StaleRevisionError) as refused:
            container.catalog.update_curated(*edit)
        assert refused.value.current == start + 1
        assert container.catalog.get_column(db_name, "orders", "id").description == "rival"
    else:
        assert container.catalog.update_curated(*edit) == start + 2
        assert container.catalog.get_column(db_name, "orders", "id").description == "mine"
    steps = sorted(revision.new for revision in container.catalog.history(key, "description"))
    assert steps == sorted(["a", "rival"] + ([] if if_match else ["mine"]))
    assert count_nodes(container, "EditClaim", db_name) == len(steps)
