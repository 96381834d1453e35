"""Logged question→SQL examples: QueryExample nodes, the USES edges to what their SQL reads, the usage
counts those edges give tables and columns, and the joins the log teaches (``RELATED_TO {source: 'log'}``).

Keys are content hashes and every write is a MERGE, so writing a batch twice adds nothing.
"""

from __future__ import annotations

from typing import Any

from schemakg.kernel.model import split_column_ref, table_key
from schemakg.kernel.store.base import GraphStore, GraphTransaction, Row

_WRITE_EXAMPLES = """
UNWIND $rows AS r
MERGE (q:QueryExample {key: r.key})
ON CREATE SET q.created_at = $at
SET q.database = $db, q.question = r.question, q.sql = r.sql, q.dialect = r.dialect, q.evidence = r.evidence,
    q.source = r.source, q.line = r.line, q.tables = r.tables, q.columns = r.columns, q.joins = r.joins
"""
_WRITE_USES = """
UNWIND $rows AS r
MATCH (q:QueryExample {{key: r.key}})
UNWIND r.targets AS target
MATCH (n:{label} {{key: target}})
MERGE (q)-[:USES]->(n)
"""


class QueryExampleRepository:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def write_batch(self, database: str, rows: list[dict[str, Any]], at: str) -> int:
        """One batch in one transaction; returns how many of its examples are new (the rest were in the graph). Each
        row carries ``Table`` and ``Column`` lists of the node keys it uses."""
        keys = list({r["key"] for r in rows})

        def write(tx: GraphTransaction) -> int:
            known = int(tx.run("MATCH (q:QueryExample) WHERE q.key IN $keys RETURN count(q) AS n", keys=keys)[0]["n"])
            tx.run(_WRITE_EXAMPLES, rows=rows, db=database, at=at)
            if len(keys) > known:  # the catalogue version counts examples: a batch written again changes nothing
                tx.run(
                    "MATCH (d:Database {key: $db}) SET d.example_count = d.example_count + $n",
                    db=database,
                    n=len(keys) - known,
                )
            for label in ("Table", "Column"):
                tx.run(_WRITE_USES.format(label=label), rows=[{"key": r["key"], "targets": r[label]} for r in rows])
            return len(keys) - known

        return self.store.write_transaction(write)

    def recompute_usage(self, database: str) -> None:
        """Usage counts of tables and columns, and the joins the log teaches, from every example of ``database``."""

        def recompute(tx: GraphTransaction) -> None:
            for label in ("Column", "Table"):
                tx.run(
                    f"MATCH (n:{label} {{database: $db}}) OPTIONAL MATCH (q:QueryExample)-[:USES]->(n) "
                    "WITH n, count(q) AS uses SET n.usage_count = uses",
                    db=database,
                )
            joins = tx.run(
                "MATCH (q:QueryExample {database: $db}) UNWIND q.joins AS via RETURN via, count(*) AS n", db=database
            )
            rows = []
            for row in joins:
                left, right = row["via"].split(" = ", 1)
                rows.append(
                    {
                        "a": table_key(database, split_column_ref(left)[0]),
                        "b": table_key(database, split_column_ref(right)[0]),
                        "via": row["via"],
                        "n": row["n"],
                    }
                )
            tx.run(
                "UNWIND $rows AS r MATCH (a:Table {key: r.a}) MATCH (b:Table {key: r.b}) "
                "MERGE (a)-[e:RELATED_TO {source: 'log', via: r.via}]->(b) SET e.count = r.n",
                rows=rows,
            )

        self.store.write_transaction(recompute)

    def log_joins(self, database: str) -> list[str]:
        """The join conditions (``a.x = b.y``) the log teaches."""
        rows = self.store.read(
            "MATCH (a:Table {database: $db})-[e:RELATED_TO {source: 'log'}]->(:Table) RETURN e.via AS via", db=database
        )
        return [row["via"] for row in rows]

    def questions(self, database: str) -> list[Row]:
        """Every logged ``question``, ``sql`` and ``dialect`` (sqlglot's name) of ``database``, in a stable order."""
        return self.store.read(
            "MATCH (q:QueryExample {database: $db}) "
            "RETURN q.question AS question, q.sql AS sql, q.dialect AS dialect ORDER BY q.key",
            db=database,
        )

    def question_counts(self, databases: list[str]) -> dict[str, int]:
        """How many examples each of ``databases`` has logged (those with none are left out), in one read of the
        count :meth:`write_batch` keeps on each database node."""
        rows = self.store.read(
            "MATCH (d:Database) WHERE d.key IN $dbs AND d.example_count > 0 RETURN d.key AS db, d.example_count AS n",
            dbs=databases,
        )
        return {row["db"]: int(row["n"]) for row in rows}

    def for_knowledge(self, database: str, only_new: bool, limit: int | None) -> list[Row]:
        """Examples to extract column knowledge from: all, or only those not yet read (``only_new``)."""
        return self.store.read(
            "MATCH (q:QueryExample {database: $db}) WHERE NOT $only_new OR q.knowledge_at IS NULL "
            "RETURN q.key AS key, q.question AS question, q.sql AS sql, q.evidence AS evidence, "
            "q.columns AS columns, q.source AS source, q.line AS line ORDER BY q.source, q.line "
            + ("LIMIT $limit" if limit else ""),
            db=database,
            only_new=only_new,
            limit=limit,
        )

    def mark_knowledge_read(self, key: str, at: str, model: str) -> None:
        self.store.write(
            "MATCH (q:QueryExample {key: $key}) SET q.knowledge_at = $at, q.knowledge_model = $model",
            key=key,
            at=at,
            model=model,
        )
