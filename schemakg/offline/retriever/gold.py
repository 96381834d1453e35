"""Gold schema links of a training or evaluation question: the shared SQL resolver
(``schemakg.kernel.sql.links``, the one query-log ingestion uses) over a Spider-format schema."""

from __future__ import annotations

from schemakg.kernel.sql.links import SchemaNames, SqlLinks, sql_links
from schemakg.offline.retriever.schema import DbSchema


def gold_links(sql: str, schema: DbSchema) -> SqlLinks:
    """Tables, (table, column) pairs and unresolved names of ``sql`` (SQLite dialect)."""
    return sql_links(sql, SchemaNames({t: [c.name for c in schema.columns_of(t)] for t in schema.tables}))
