"""An import's write of one node against the real engine: all or nothing, and only while the node is still at
the revision the import read."""

from __future__ import annotations

from schemakg.app.container import Container
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import ColumnSnapshot, DatabaseInfo, SchemaSnapshot, TableSnapshot, column_key
from schemakg.kernel.store import schema_repo
from schemakg.kernel.store.transfer_repo import TransferRepository
from tests.conftest import count_nodes


def test_a_step_another_writer_took_is_not_written_again(container: Container, db_name: str) -> None:
    container.catalog.create_database(
        DatabaseInfo(name=db_name, dialect="sqlite", url="sqlite://", created_at=now_iso())
    )
    columns = [ColumnSnapshot(name="id", data_type="INTEGER", is_pk=True)]
    container.catalog.apply_snapshot(
        db_name,
        SchemaSnapshot(dialect="sqlite", tables=[TableSnapshot(name="t", columns=columns)], foreign_keys=[]),
        now_iso(),
    )
    key, repo = column_key(db_name, "t", "id"), TransferRepository(container.store)
    revision = container.catalog.get_column(db_name, "t", "id").revision  # type: ignore[union-attr]
    imported = {
        "field": "description",
        "old": None,
        "new": "imported",
        "who": "ann",
        "source": "steward",
        "at": now_iso(),
        "seq": revision,
    }

    def apply() -> bool:
        return repo.apply(
            "column", key, db_name, revision, {"description": ("imported", "steward")}, [], [imported], {}
        )

    # a writer that read the same revision committed its claim, but (as an engine may) not yet the node's step
    container.store.write_transaction(lambda tx: schema_repo.claim_step(tx, key, db_name, revision))
    assert apply() is False
    assert container.catalog.get_column(db_name, "t", "id").description is None  # type: ignore[union-attr]
    assert count_nodes(container, "Revision", db_name) == 0
    container.store.write("MATCH (c:EditClaim {database: $db}) DELETE c", db=db_name)
    assert apply() is True
    column = container.catalog.get_column(db_name, "t", "id")
    assert (column.description, column.revision) == ("imported", revision + 1)  # type: ignore[union-attr]
    assert count_nodes(container, "Revision", db_name) == count_nodes(container, "EditClaim", db_name) == 1
