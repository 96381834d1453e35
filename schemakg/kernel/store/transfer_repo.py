"""The curated catalogue of one database read and written as a whole: what ``schemakg catalog export`` and
``schemakg catalog import`` move (curated fields with their provenance, revisions, dependencies)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from schemakg.kernel.model import Proposal
from schemakg.kernel.store.base import DuplicateKeyError, GraphStore, GraphTransaction
from schemakg.kernel.store.proposals_repo import ADD_DEPENDENCY
from schemakg.kernel.store.schema_repo import _LABEL, CURATED_FIELDS, claim_step, create_revisions


@dataclass
class CurationSnapshot:
    """Every table and column of a database with its curated fields (``<field>`` and ``<field>_source``),
    status and revision counter; every revision (old and new decoded); every DEPENDS_ON edge."""

    tables: list[dict[str, Any]] = field(default_factory=list)
    columns: list[dict[str, Any]] = field(default_factory=list)
    revisions: list[dict[str, Any]] = field(default_factory=list)
    dependencies: list[dict[str, Any]] = field(default_factory=list)


def _curated(kind: str, node: str) -> str:
    return ", ".join(f"{node}.{name} AS {name}, {node}.{name}_source AS {name}_source" for name in CURATED_FIELDS[kind])


class TransferRepository:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def snapshot(self, database: str) -> CurationSnapshot:
        """Four reads, in a stable order: tables by name, columns by table and name, revisions by entity and
        time (as ``SchemaRepository.history`` orders them), dependencies by head, relation and tail."""
        tables = self.store.read(
            "MATCH (t:Table {database: $db}) RETURN t.key AS key, t.name AS name, t.status AS status, "
            f"t.revision AS revision, {_curated('table', 't')} ORDER BY name",
            db=database,
        )
        columns = self.store.read(
            "MATCH (c:Column {database: $db}) RETURN c.key AS key, c.table AS table, c.name AS name, "
            f"c.status AS status, c.revision AS revision, {_curated('column', 'c')} ORDER BY table, name",
            db=database,
        )
        revisions = self.store.read(
            "MATCH (r:Revision {database: $db}) RETURN r.entity_key AS key, r.field AS field, r.old AS old, "
            "r.new AS new, r.who AS who, r.source AS source, r.at AS at, r.seq AS seq ORDER BY key, at, seq, field",
            db=database,
        )
        dependencies = self.store.read(
            "MATCH (h:Column {database: $db})-[d:DEPENDS_ON]->(t:Column) "
            "RETURN h.key AS head, d.relation AS relation, t.key AS tail_key, t.table AS tail_table, "
            "t.name AS tail_column, d.text AS text, d.source AS source, d.proposal AS proposal "
            "ORDER BY head, relation, tail_key",
            db=database,
        )
        for row in revisions:
            row["old"], row["new"] = json.loads(row["old"]), json.loads(row["new"])
            del row["seq"]
        return CurationSnapshot(tables, columns, revisions, dependencies)

    def approved_proposals(self, database: str) -> list[Proposal]:
        rows = self.store.read(
            "MATCH (p:Proposal {database: $db, state: 'approved'}) RETURN p {.*} AS p ORDER BY p.id", db=database
        )
        return [Proposal(**row["p"]) for row in rows]

    def apply(
        self,
        kind: str,
        key: str,
        database: str,
        expected_revision: int,
        values: dict[str, tuple[Any, str]],
        dependencies: list[dict[str, Any]],
        revisions: list[dict[str, Any]],
        marks: dict[str, str],
    ) -> bool:
        """In one transaction, only while the node is still at ``expected_revision``: set curated fields
        (``field: (value, source)``, one revision step if any), MERGE DEPENDS_ON edges (``tail`` key,
        ``relation``, ``text``, ``source``, ``proposal``) and create revisions as they are. False, writing
        nothing, when the node has moved on (or is gone)."""
        label = _LABEL[kind]
        unknown = set(values) - set(CURATED_FIELDS[kind])
        if unknown:
            raise ValueError(f"not curated fields of a {kind}: {sorted(unknown)}")
        assignments = "".join(f"n.{name} = $v_{name}, n.{name}_source = $s_{name}, " for name in values)

        def work(tx: GraphTransaction) -> bool:
            rows = tx.run(
                f"MATCH (n:{label} {{key: $key}}) WHERE n.revision = $rev "
                f"SET {assignments}n.revision = n.revision + $step RETURN n.revision AS revision",
                key=key,
                rev=expected_revision,
                step=1 if values else 0,
                **{f"v_{name}": value for name, (value, _) in values.items()},
                **{f"s_{name}": source for name, (_, source) in values.items()},
            )
            if not rows:
                return False
            if values:
                claim_step(tx, key, database, expected_revision)
            for dependency in dependencies:
                tx.run(ADD_DEPENDENCY, head=key, **dependency)
            if revisions:
                create_revisions(tx, label, key, database, revisions, marks)
            return True

        try:
            return self.store.write_transaction(work)
        except DuplicateKeyError:  # another writer took the same step first
            return False
