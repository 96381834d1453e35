"""What a dbt import writes besides curated text: key hints on columns (``key_hints``, what dbt's ``unique`` and
``not_null`` tests assert) and foreign keys of ``relationships`` tests (``FOREIGN_KEY {source: 'dbt'}``)
where the database declares none. Re-ingestion keeps both; the next dbt import replaces them."""

from __future__ import annotations

from schemakg.kernel.store.base import GraphStore, GraphTransaction

DBT = "dbt"


class DbtRepository:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def key_hints(self, database: str) -> dict[str, list[str]]:
        """Every column's key hints, by column key (an empty list when it has none)."""
        rows = self.store.read(
            "MATCH (c:Column {database: $db}) RETURN c.key AS key, c.key_hints AS hints", db=database
        )
        return {row["key"]: sorted(row["hints"] or []) for row in rows}

    def foreign_keys(self, database: str) -> dict[tuple[str, str], str | None]:
        """Every FOREIGN_KEY edge from a column of ``database``, as (from key, to key) → its source (None when
        the database declares it)."""
        rows = self.store.read(
            "MATCH (a:Column {database: $db})-[k:FOREIGN_KEY]->(b:Column) "
            "RETURN a.key AS head, b.key AS tail, k.source AS source",
            db=database,
        )
        return {(row["head"], row["tail"]): row["source"] for row in rows}

    def apply(
        self,
        database: str,
        hints: dict[str, list[str]],
        add: list[tuple[str, str]],
        remove: list[tuple[str, str]],
        at: str,
    ) -> None:
        """In one transaction: set the key hints given (column key → hints), create the dbt foreign keys in
        ``add`` unless any key joins those columns already, delete the dbt ones in ``remove``, and note the time
        on the database (the linker's cache key reads it)."""

        def work(tx: GraphTransaction) -> None:
            if hints:
                tx.run(
                    "UNWIND $rows AS r MATCH (c:Column {key: r.key}) SET c.key_hints = r.hints",
                    rows=[{"key": key, "hints": value} for key, value in hints.items()],
                )
            if remove:
                tx.run(
                    "UNWIND $rows AS r MATCH (:Column {key: r.head})-[k:FOREIGN_KEY {source: $dbt}]->"
                    "(:Column {key: r.tail}) DELETE k",
                    rows=[{"head": head, "tail": tail} for head, tail in remove],
                    dbt=DBT,
                )
            if add:
                tx.run(
                    "UNWIND $rows AS r MATCH (a:Column {key: r.head}) MATCH (b:Column {key: r.tail}) "
                    "WHERE NOT (a)-[:FOREIGN_KEY]->(b) CREATE (a)-[:FOREIGN_KEY {source: $dbt}]->(b)",
                    rows=[{"head": head, "tail": tail} for head, tail in add],
                    dbt=DBT,
                )
            if hints or add or remove:
                tx.run("MATCH (d:Database {key: $db}) SET d.keys_changed_at = $at", db=database, at=at)

        self.store.write_transaction(work)
