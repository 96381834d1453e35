"""Catalogue persistence: databases, tables, columns, foreign keys, curated fields and their history.

Portable Cypher only (Neo4j 5 and ArcadeDB). Property values are primitives or lists of
them; curated values that may be lists are stored as they are, history values as JSON text.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from typing import Any

from schemakg.kernel.errors import NotFound
from schemakg.kernel.model import (
    ColumnInfo,
    DatabaseInfo,
    ForeignKeyInfo,
    IngestSummary,
    Provenance,
    Revision,
    SchemaSnapshot,
    TableInfo,
    column_key,
    column_ref,
    table_key,
)
from schemakg.kernel.search.base import CatalogVersion, SearchDoc
from schemakg.kernel.store.base import DuplicateKeyError, GraphStore, GraphTransaction

BATCH = 500
CLAIM_ATTEMPTS = 5  # an edit without an expected revision, applied again after losing its step to another writer
KEY_FORMAT = 2  # 1: "db/table/column" lower-cased; 2: model.entity_key (exact case, "/" and "\\" escaped)
_ESCAPED = "replace(replace({name}, $bs, $bs2), $sl, $sl2)"


def cypher_column_ref(node: str) -> str:
    """Cypher for ``model.column_ref(n.table, n.name)`` of the Column node ``node`` (``\\`` and ``.`` of the
    table escaped); the query takes ``COLUMN_REF_PARAMS``."""
    return f"replace(replace({node}.table, $ref_bs, $ref_bs2), '.', $ref_dot) + '.' + {node}.name"


COLUMN_REF_PARAMS = {"ref_bs": "\\", "ref_bs2": "\\\\", "ref_dot": "\\."}

# Fields a steward (or an approved LLM proposal) may set, per entity kind, with their types.
CURATED_FIELDS: dict[str, dict[str, type]] = {
    "table": {"description": str},
    "column": {"description": str, "value_explanation": str, "synonyms": list},
}
_LABEL = {"table": "Table", "column": "Column"}


class NotFoundError(LookupError):
    pass


class StaleRevisionError(RuntimeError):
    def __init__(self, current: int) -> None:
        super().__init__(f"the entity changed (current revision {current})")
        self.current = current


def _chunks(rows: Sequence[dict[str, Any]], size: int = BATCH) -> Iterable[Sequence[dict[str, Any]]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


_UPSERT_TABLES = """
UNWIND $rows AS r
MERGE (t:Table {key: r.key})
ON CREATE SET t.revision = 1, t.created_at = $at, t.description_source = 'ingested'
WITH t, r, coalesce(t.description_source, 'ingested') = 'ingested' AS ingestable, t.description AS old_description
SET t.name = r.name, t.database = $db, t.comment = r.comment, t.row_estimate = r.row_estimate,
    t.column_count = r.column_count, t.status = 'current', t.removed_at = null, t.ingested_at = $at,
    t.description = CASE WHEN ingestable THEN r.comment ELSE old_description END,
    t.revision = CASE WHEN ingestable AND coalesce(old_description, '') <> coalesce(r.comment, '')
                      THEN t.revision + 1 ELSE t.revision END
WITH t
MATCH (d:Database {key: $db})
MERGE (d)-[:HAS_TABLE]->(t)
"""

_UPSERT_COLUMNS = """
UNWIND $rows AS r
MERGE (c:Column {key: r.key})
ON CREATE SET c.revision = 1, c.created_at = $at, c.description_source = 'ingested'
WITH c, r, coalesce(c.description_source, 'ingested') = 'ingested' AS ingestable, c.description AS old_description
SET c.name = r.name, c.database = $db, c.table = r.table, c.table_key = r.table_key,
    c.data_type = r.data_type, c.nullable = r.nullable, c.is_pk = r.is_pk, c.ordinal = r.ordinal,
    c.comment = r.comment, c.examples = r.examples, c.top_values = r.top_values, c.top_counts = r.top_counts,
    c.match_values = r.match_values,
    c.distinct_estimate = r.distinct_estimate, c.null_fraction = r.null_fraction,
    c.sampled_rows = r.sampled_rows, c.status = 'current', c.removed_at = null, c.ingested_at = $at,
    c.description = CASE WHEN ingestable THEN r.comment ELSE old_description END,
    c.revision = CASE WHEN ingestable AND coalesce(old_description, '') <> coalesce(r.comment, '')
                      THEN c.revision + 1 ELSE c.revision END
WITH c, r
MATCH (t:Table {key: r.table_key})
MERGE (t)-[:HAS_COLUMN]->(c)
"""

_CREATE_FOREIGN_KEYS = """
UNWIND $rows AS r
MATCH (a:Column {key: r.from_key})
MATCH (b:Column {key: r.to_key})
MERGE (a)-[k:FOREIGN_KEY]->(b)
SET k.source = null
WITH r
MATCH (ta:Table {key: r.from_table})
MATCH (tb:Table {key: r.to_table})
MERGE (ta)-[rel:RELATED_TO {source: 'fk', via: r.via}]->(tb)
"""


class SchemaRepository:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    # --- databases -----------------------------------------------------------------------

    def create_database(self, info: DatabaseInfo) -> None:
        self.store.write(
            "CREATE (d:Database {key: $name, name: $name, dialect: $dialect, url: $url, "
            "description: $description, created_at: $created_at, key_format: $key_format, "
            "revision_count: 0, example_count: 0})",
            key_format=KEY_FORMAT,
            **info.model_dump(include={"name", "dialect", "url", "description", "created_at"}),
        )

    def upgrade_keys(self) -> list[str]:
        """Re-key the tables and columns of databases written under the first key format (lower-cased,
        unescaped) to today's injective one, so that an upgrade keeps their curation; returns their names."""
        old = [
            row["name"]
            for row in self.store.read(
                "MATCH (d:Database) WHERE coalesce(d.key_format, 1) < $format RETURN d.name AS name", format=KEY_FORMAT
            )
        ]
        escape = {"bs": "\\", "bs2": "\\\\", "sl": "/", "sl2": "\\/"}

        def upgrade(tx: GraphTransaction, database: str) -> None:
            tx.run(
                f"MATCH (t:Table {{database: $db}}) WITH t, $db + '/' + {_ESCAPED.format(name='t.name')} AS key "
                "WHERE t.key <> key SET t.key = key",
                db=database,
                **escape,
            )
            tx.run(
                f"MATCH (c:Column {{database: $db}}) WITH c, $db + '/' + {_ESCAPED.format(name='c.table')} AS tkey "
                f"WITH c, tkey, tkey + '/' + {_ESCAPED.format(name='c.name')} AS key "
                "WHERE c.key <> key OR c.table_key <> tkey SET c.key = key, c.table_key = tkey",
                db=database,
                **escape,
            )
            tx.run(
                "MATCH (n)-[:HAS_REVISION]->(r:Revision {database: $db}) WHERE r.entity_key <> n.key "
                "SET r.entity_key = n.key",
                db=database,
            )
            tx.run("MATCH (d:Database {key: $db}) SET d.key_format = $format", db=database, format=KEY_FORMAT)

        for database in old:
            self.store.write_transaction(functools.partial(upgrade, database=database))
        return old

    def get_database(self, name: str) -> DatabaseInfo | None:
        rows = self.store.read(
            "MATCH (d:Database {key: $name}) "
            "OPTIONAL MATCH (d)-[:HAS_TABLE]->(t:Table {status: 'current'}) "
            "RETURN d {.*} AS d, count(t) AS tables",
            name=name,
        )
        if not rows or rows[0]["d"] is None:
            return None
        return DatabaseInfo(**rows[0]["d"], table_count=rows[0]["tables"])

    def require_database(self, name: str) -> DatabaseInfo:
        """The registered database ``name``; ``NotFound`` (an HTTP 404) when there is none."""
        info = self.get_database(name)
        if info is None:
            raise NotFound(f"database {name!r} is not registered")
        return info

    def list_databases(self, offset: int, limit: int) -> tuple[list[DatabaseInfo], int]:
        total = self.store.read("MATCH (d:Database) RETURN count(d) AS n")[0]["n"]
        rows = self.store.read(
            "MATCH (d:Database) WITH d ORDER BY d.name SKIP $offset LIMIT $limit "
            "OPTIONAL MATCH (d)-[:HAS_TABLE]->(t:Table {status: 'current'}) "
            "RETURN d {.*} AS d, count(t) AS tables ORDER BY d.name",
            offset=offset,
            limit=limit,
        )
        return [DatabaseInfo(**row["d"], table_count=row["tables"]) for row in rows], total

    def database_names(self) -> list[str]:
        """Every registered database's name, in name order: one round trip, for routing."""
        return [row["name"] for row in self.store.read("MATCH (d:Database) RETURN d.name AS name ORDER BY d.name")]

    def delete_database(self, name: str) -> None:
        def delete(tx: GraphTransaction) -> None:
            tx.run("MATCH (r:Revision) WHERE r.database = $db DETACH DELETE r", db=name)
            tx.run("MATCH (q:QueryExample {database: $db}) DETACH DELETE q", db=name)
            tx.run("MATCH (p:Proposal {database: $db}) DETACH DELETE p", db=name)
            tx.run("MATCH (c:EditClaim {database: $db}) DELETE c", db=name)
            tx.run("MATCH (c:Column {database: $db}) DETACH DELETE c", db=name)
            tx.run("MATCH (t:Table {database: $db}) DETACH DELETE t", db=name)
            tx.run("MATCH (d:Database {key: $db}) DETACH DELETE d", db=name)

        self.store.write_transaction(delete)

    # --- ingestion -----------------------------------------------------------------------

    def apply_snapshot(self, database: str, snapshot: SchemaSnapshot, at: str) -> IngestSummary:
        """Upsert one database's schema in a single transaction: a failure leaves the graph as it was."""
        tables, columns, fks = _snapshot_rows(database, snapshot)

        def write(tx: GraphTransaction) -> tuple[int, int]:
            for chunk in _chunks(tables):
                tx.run(_UPSERT_TABLES, rows=list(chunk), db=database, at=at)
            for chunk in _chunks(columns):
                tx.run(_UPSERT_COLUMNS, rows=list(chunk), db=database, at=at)
            removed_tables = self._mark_removed(tx, "Table", database, [t["key"] for t in tables], at)
            removed_columns = self._mark_removed(tx, "Column", database, [c["key"] for c in columns], at)
            # keys the database declares are read again; those of dbt tests (source 'dbt') are dbt's to change
            tx.run("MATCH (:Column {database: $db})-[e:FOREIGN_KEY]->() WHERE e.source IS NULL DELETE e", db=database)
            tx.run("MATCH (:Table {database: $db})-[e:RELATED_TO {source: 'fk'}]->() DELETE e", db=database)
            for chunk in _chunks(fks):
                tx.run(_CREATE_FOREIGN_KEYS, rows=list(chunk))
            tx.run("MATCH (d:Database {key: $db}) SET d.last_ingested_at = $at", db=database, at=at)
            return removed_tables, removed_columns

        removed_tables, removed_columns = self.store.write_transaction(write)
        return IngestSummary(
            tables=len(tables),
            columns=len(columns),
            foreign_keys=len(fks),
            removed_tables=removed_tables,
            removed_columns=removed_columns,
            warnings=snapshot.warnings,
        )

    @staticmethod
    def _mark_removed(tx: GraphTransaction, label: str, database: str, keys: list[str], at: str) -> int:
        rows = tx.run(
            f"MATCH (n:{label} {{database: $db}}) WHERE n.status = 'current' AND NOT n.key IN $keys "
            "SET n.status = 'removed', n.removed_at = $at RETURN count(n) AS n",
            db=database,
            keys=keys,
            at=at,
        )
        return int(rows[0]["n"]) if rows else 0

    # --- reading the catalogue -----------------------------------------------------------

    def table_page(
        self, database: str, offset: int, limit: int, include_removed: bool = False
    ) -> tuple[list[TableInfo], int] | None:
        """One page of ``database``'s tables by name, and how many there are, in one round trip (the API's
        table listing); ``None`` when the database is not registered."""
        where = "" if include_removed else "WHERE t.status = 'current'"
        rows = self.store.read(
            f"MATCH (d:Database {{key: $db}}) OPTIONAL MATCH (d)-[:HAS_TABLE]->(t:Table) {where} "
            "WITH d, t ORDER BY t.name WITH d, collect(t) AS tables "
            "RETURN size(tables) AS n, [t IN tables[$offset..$end] | t {.*}] AS page",
            db=database,
            offset=offset,
            end=min(offset + limit, 2**31 - 1),  # the engines take 32-bit list indexes
        )
        if not rows:
            return None
        return [TableInfo(**t) for t in rows[0]["page"]], int(rows[0]["n"])

    def list_tables(
        self, database: str, offset: int, limit: int, include_removed: bool = False
    ) -> tuple[list[TableInfo], int]:
        where = "" if include_removed else "WHERE t.status = 'current'"
        total = self.store.read(f"MATCH (t:Table {{database: $db}}) {where} RETURN count(t) AS n", db=database)[0]["n"]
        rows = self.store.read(
            f"MATCH (t:Table {{database: $db}}) {where} RETURN t {{.*}} AS t ORDER BY t.name SKIP $offset LIMIT $limit",
            db=database,
            offset=offset,
            limit=limit,
        )
        return [TableInfo(**row["t"]) for row in rows], total

    def get_table(self, database: str, table: str) -> TableInfo | None:
        """The table spelled ``table``; failing that, the one table whose name equals it ignoring case."""
        rows = self.store.read("MATCH (t:Table {key: $key}) RETURN t {.*} AS t", key=table_key(database, table))
        if not rows:
            rows = self.store.read(
                "MATCH (t:Table {database: $db}) WHERE toLower(t.name) = toLower($name) RETURN t {.*} AS t",
                db=database,
                name=table,
            )
        return TableInfo(**rows[0]["t"]) if len(rows) == 1 else None

    def list_columns(
        self, database: str, table: str | None, offset: int, limit: int, include_removed: bool = False
    ) -> tuple[list[ColumnInfo], int]:
        match = "MATCH (c:Column {table_key: $tkey})" if table else "MATCH (c:Column {database: $db})"
        where = "" if include_removed else "WHERE c.status = 'current'"
        params: dict[str, Any] = {"db": database, "tkey": table_key(database, table) if table else None}
        total = self.store.read(f"{match} {where} RETURN count(c) AS n", **params)[0]["n"]
        rows = self.store.read(
            f"{match} {where} WITH c ORDER BY c.table, c.ordinal, c.name SKIP $offset LIMIT $limit "
            "OPTIONAL MATCH (c)-[:FOREIGN_KEY]->(r:Column) "
            f"RETURN c {{.*}} AS c, collect({cypher_column_ref('r')}) AS refs ORDER BY c.table, c.ordinal, c.name",
            offset=offset,
            limit=limit,
            **params,
            **COLUMN_REF_PARAMS,
        )
        return [ColumnInfo(**row["c"], references=row["refs"]) for row in rows], total

    def get_column(self, database: str, table: str, column: str) -> ColumnInfo | None:
        """The column spelled ``column`` of the table spelled ``table``; failing that, the one column whose
        name equals it ignoring case."""
        returned = (
            "OPTIONAL MATCH (c)-[:FOREIGN_KEY]->(r:Column) "
            f"RETURN c {{.*}} AS c, collect({cypher_column_ref('r')}) AS refs"
        )
        rows = self.store.read(
            f"MATCH (c:Column {{key: $key}}) {returned}", key=column_key(database, table, column), **COLUMN_REF_PARAMS
        )
        if not rows or rows[0]["c"] is None:
            rows = self.store.read(
                f"MATCH (c:Column {{table_key: $tkey}}) WHERE toLower(c.name) = toLower($name) {returned}",
                tkey=table_key(database, table),
                name=column,
                **COLUMN_REF_PARAMS,
            )
        if len(rows) != 1 or rows[0]["c"] is None:
            return None
        return ColumnInfo(**rows[0]["c"], references=rows[0]["refs"])

    def version(self, database: str) -> str:
        """Changes whenever what linking reads of ``database`` may have changed: its ingestion time, the count
        of steward revisions, the count of logged examples and when a dbt import last changed keys."""
        found = self.versions([database])
        if database not in found:
            raise NotFound(f"database {database!r} is not registered")
        return found[database]

    def versions(self, databases: list[str]) -> dict[str, str]:
        """:meth:`version` of each registered database of ``databases``, in one read (routing checks them all
        on every question). The counts are kept on the database node by the writes that add revisions and
        examples, so this read does not grow with the history or the log."""
        rows = self.store.read(
            "UNWIND $dbs AS db MATCH (d:Database {key: db}) RETURN db, d.last_ingested_at AS ingested, "
            "d.revision_count AS revisions, d.example_count AS examples, d.keys_changed_at AS keys",
            dbs=databases,
        )
        return {
            row["db"]: f"{row['ingested']}/{row['revisions']}/{row['examples']}/{row['keys'] or ''}" for row in rows
        }

    def upgrade_counts(self) -> list[str]:
        """Count the revisions and logged examples of databases written before the database node kept those
        counts and the newest revision's time (what :meth:`versions` and :meth:`search_versions` read); returns
        their names."""
        old = [
            row["name"]
            for row in self.store.read(
                "MATCH (d:Database) WHERE d.revision_count IS NULL OR d.example_count IS NULL "
                "OR (d.revision_count > 0 AND d.revised_at IS NULL) RETURN d.key AS name"
            )
        ]
        for database in old:
            self.store.write(
                "MATCH (d:Database {key: $db}) "
                "OPTIONAL MATCH (r:Revision {database: $db}) WITH d, count(r) AS revisions, max(r.at) AS revised_at "
                "OPTIONAL MATCH (q:QueryExample {database: $db}) WITH d, revisions, revised_at, count(q) AS examples "
                "SET d.revision_count = revisions, d.revised_at = revised_at, d.example_count = examples",
                db=database,
            )
        return old

    def column_descriptions(self, database: str, names: list[str]) -> dict[str, str | None]:
        """The description of each ``table.column`` (``model.column_ref``) in ``names`` that exists."""
        rows = self.store.read(
            f"MATCH (c:Column {{database: $db}}) WITH c, {cypher_column_ref('c')} AS ref WHERE ref IN $names "
            "RETURN ref AS name, c.description AS description",
            db=database,
            names=names,
            **COLUMN_REF_PARAMS,
        )
        return {row["name"]: row["description"] for row in rows}

    def foreign_keys(self, database: str) -> list[ForeignKeyInfo]:
        rows = self.store.read(
            "MATCH (a:Column {database: $db, status: 'current'})-[k:FOREIGN_KEY]->(b:Column {status: 'current'}) "
            "RETURN a.table AS table, a.name AS column, b.table AS ref_table, b.name AS ref_column, k.source AS source "
            "ORDER BY table, column",
            db=database,
        )
        return [ForeignKeyInfo(**row) for row in rows]

    # --- curation ------------------------------------------------------------------------

    def update_curated(
        self,
        kind: str,
        key: str,
        changes: dict[str, Any],
        expected_revision: int | None,
        who: str,
        source: Provenance,
        at: str,
    ) -> int:
        """Set curated fields and record one revision per changed field; returns the new revision.

        The write only applies at ``expected_revision`` (optimistic concurrency), checked inside
        the same transaction as the write and made the step's only winner by ``claim_step``. Without
        an expected revision, an edit that lost its step to another writer is applied again on top.
        """
        label = _LABEL[kind]

        def update(tx: GraphTransaction) -> int:
            rows = tx.run(f"MATCH (n:{label} {{key: $key}}) RETURN n {{.*}} AS n", key=key)
            if not rows:
                raise NotFoundError(key)
            current = rows[0]["n"]
            if expected_revision is not None and current.get("revision") != expected_revision:
                raise StaleRevisionError(current.get("revision", 0))
            changed = {field: value for field, value in changes.items() if current.get(field) != value}
            if not changed:
                return int(current["revision"])
            assignments = ", ".join(f"n.{field} = $v_{field}, n.{field}_source = $source" for field in changed)
            updated = tx.run(
                f"MATCH (n:{label} {{key: $key}}) WHERE n.revision = $rev "
                f"SET {assignments}, n.revision = n.revision + 1 RETURN n.revision AS revision",
                key=key,
                rev=current["revision"],
                source=source.value,
                **{f"v_{field}": value for field, value in changed.items()},
            )
            if not updated:
                raise StaleRevisionError(current.get("revision", 0))
            seq = int(current["revision"])
            claim_step(tx, key, current.get("database"), seq)
            create_revisions(
                tx,
                label,
                key,
                current.get("database"),
                [_revision(field, current.get(field), value, who, source, at, seq) for field, value in changed.items()],
            )
            return int(updated[0]["revision"])

        for _ in range(CLAIM_ATTEMPTS):
            try:
                return self.store.write_transaction(update)
            except DuplicateKeyError:
                if expected_revision is not None:
                    break
        raise StaleRevisionError(self._current_revision(label, key))

    def _current_revision(self, label: str, key: str) -> int:
        rows = self.store.read(f"MATCH (n:{label} {{key: $key}}) RETURN n.revision AS revision", key=key)
        if not rows:
            raise NotFoundError(key)
        return int(rows[0]["revision"])

    def record_revision(self, key: str, field: str, old: Any, new: Any, who: str, source: Provenance, at: str) -> None:
        """History for a change that is not a node property (an approved DEPENDS_ON edge)."""

        def record(tx: GraphTransaction) -> None:
            rows = tx.run("MATCH (n:Column {key: $key}) RETURN n.database AS db, n.revision AS rev", key=key)
            if not rows:
                raise NotFoundError(key)
            create_revisions(
                tx, "Column", key, rows[0]["db"], [_revision(field, old, new, who, source, at, rows[0]["rev"])]
            )

        self.store.write_transaction(record)

    def history(self, key: str, field: str | None = None) -> list[Revision]:
        rows = self.store.read(
            "MATCH (r:Revision {entity_key: $key}) WHERE $field IS NULL OR r.field = $field "
            "RETURN r {.*} AS r ORDER BY r.at, r.seq, r.field",
            key=key,
            field=field,
        )
        return [
            Revision(
                field=row["r"]["field"],
                old=json.loads(row["r"]["old"]),
                new=json.loads(row["r"]["new"]),
                who=row["r"]["who"],
                source=Provenance(row["r"]["source"]),
                at=row["r"]["at"],
            )
            for row in rows
        ]

    # --- search --------------------------------------------------------------------------

    def search_versions(self) -> dict[str, CatalogVersion]:
        """Every database's :class:`CatalogVersion`, what the search index compares: read from its node, which
        keeps the revisions' count and newest time, so a long history costs this read nothing."""
        rows = self.store.read(
            "MATCH (d:Database) RETURN d.key AS database, d.last_ingested_at AS ingested, "
            "d.revision_count AS revisions, d.revised_at AS revised_at"
        )
        return {
            row["database"]: CatalogVersion(row["ingested"], int(row["revisions"]), row["revised_at"]) for row in rows
        }

    def searchable_rows(self, database: str, revised_since: str | None = None) -> list[SearchDoc]:
        """The searchable text of the database's current tables and columns; with ``revised_since``, only of
        those with a revision at or after that time."""
        if revised_since is None:
            tables = "MATCH (t:Table {database: $db}) WHERE t.status = 'current' "
            columns = "MATCH (c:Column {database: $db}) WHERE c.status = 'current' "
        else:
            # an imported revision keeps its own time: it counts from when it was imported
            revised = "MATCH (r:Revision {database: $db}) WHERE coalesce(r.imported_at, r.at) >= $since "
            tables = f"{revised}MATCH (t:Table)-[:HAS_REVISION]->(r) WHERE t.status = 'current' WITH DISTINCT t "
            columns = f"{revised}MATCH (c:Column)-[:HAS_REVISION]->(r) WHERE c.status = 'current' WITH DISTINCT c "
        table_rows = self.store.read(
            f"{tables}RETURN t.name AS table, t.description AS description, t.comment AS comment",
            db=database,
            since=revised_since,
        )
        column_rows = self.store.read(
            f"{columns}RETURN c.table AS table, c.name AS column, c.description AS description, c.comment AS comment, "
            "c.value_explanation AS value_explanation, c.synonyms AS synonyms",
            db=database,
            since=revised_since,
        )
        docs = [SearchDoc(database, row["table"], None, row["description"], row["comment"]) for row in table_rows]
        docs += [
            SearchDoc(
                database,
                row["table"],
                row["column"],
                row["description"],
                row["comment"],
                row["value_explanation"],
                tuple(str(s) for s in row["synonyms"] or ()),
            )
            for row in column_rows
        ]
        return docs


def _revision(field: str, old: Any, new: Any, who: str, source: Provenance, at: str, seq: int) -> dict[str, Any]:
    return {"field": field, "old": old, "new": new, "who": who, "source": source.value, "at": at, "seq": seq}


def claim_step(tx: GraphTransaction, key: str, database: str | None, revision: int) -> None:
    """Take the step from ``revision`` of the node ``key`` for this transaction alone.

    An edit reads the revision and writes later, and the engine's own commit check let two writers that
    read the same revision both commit (ArcadeDB, seen once in CI: two winners of one ETag). Both claims
    of a step carry one unique key, so the second fails (``DuplicateKeyError``) however the engine
    isolates reads. Revisions only grow and claims go with their database, so no later step meets an
    old claim.
    """
    tx.run("CREATE (:EditClaim {key: $claim, database: $db})", claim=f"{key}@{revision}", db=database)


def create_revisions(
    tx: GraphTransaction,
    label: str,
    key: str,
    database: str | None,
    revisions: list[dict[str, Any]],
    marks: dict[str, str] | None = None,
) -> None:
    """Revision nodes of the node ``key``, one per row (``field``, ``old``, ``new``, ``who``, ``source``, ``at``,
    ``seq``; old and new stored as JSON text). ``marks`` are set on each as well (an import's ``imported_at``)."""
    marked = "".join(f", v.{name} = $mark_{name}" for name in marks or {})
    tx.run(
        f"MATCH (n:{label} {{key: $key}}) UNWIND $revisions AS r "
        "CREATE (n)-[:HAS_REVISION]->(v:Revision {entity_key: $key, database: $db, field: r.field, "
        "old: r.old, new: r.new, who: r.who, source: r.source, at: r.at, seq: r.seq})"
        + (f" SET {marked[2:]}" if marked else ""),
        key=key,
        db=database,
        revisions=[{**r, "old": json.dumps(r["old"]), "new": json.dumps(r["new"])} for r in revisions],
        **{f"mark_{name}": value for name, value in (marks or {}).items()},
    )
    if database is not None and revisions:
        tx.run(
            "MATCH (d:Database {key: $db}) SET d.revision_count = d.revision_count + $n, "
            "d.revised_at = CASE WHEN d.revised_at IS NULL OR d.revised_at < $at THEN $at ELSE d.revised_at END",
            db=database,
            n=len(revisions),
            at=max(r["at"] for r in revisions),
        )


def _snapshot_rows(
    database: str, snapshot: SchemaSnapshot
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    tables: list[dict[str, Any]] = []
    columns: list[dict[str, Any]] = []
    for table in snapshot.tables:
        tkey = table_key(database, table.name)
        tables.append(
            {
                "key": tkey,
                "name": table.name,
                "comment": table.comment,
                "row_estimate": table.row_estimate,
                "column_count": len(table.columns),
            }
        )
        for column in table.columns:
            profile = column.profile
            columns.append(
                {
                    "key": column_key(database, table.name, column.name),
                    "table_key": tkey,
                    "table": table.name,
                    "name": column.name,
                    "data_type": column.data_type,
                    "nullable": column.nullable,
                    "is_pk": column.is_pk,
                    "ordinal": column.ordinal,
                    "comment": column.comment,
                    "examples": profile.examples if profile else [],
                    "top_values": profile.top_values if profile else [],
                    "top_counts": profile.top_counts if profile else [],
                    "match_values": profile.match_values if profile else [],
                    "distinct_estimate": profile.distinct_estimate if profile else None,
                    "null_fraction": profile.null_fraction if profile else None,
                    "sampled_rows": profile.sampled_rows if profile else 0,
                }
            )
    fks = [
        {
            "from_key": column_key(database, fk.table, src),
            "to_key": column_key(database, fk.ref_table, dst),
            "from_table": table_key(database, fk.table),
            "to_table": table_key(database, fk.ref_table),
            "via": f"{column_ref(fk.table, src)} = {column_ref(fk.ref_table, dst)}",
        }
        for fk in snapshot.foreign_keys
        for src, dst in zip(fk.columns, fk.ref_columns, strict=True)
    ]
    return tables, columns, fks
