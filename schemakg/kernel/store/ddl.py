"""Engine-specific DDL, in one place. Everything else in the store is portable Cypher."""

from __future__ import annotations

_UNIQUE_KEYS = [
    ("database_key", "Database", "key"),
    ("table_key", "Table", "key"),
    ("column_key", "Column", "key"),
    ("job_id", "Job", "id"),
    ("apikey_id", "ApiKey", "id"),
    ("query_example_key", "QueryExample", "key"),
    ("edit_claim_key", "EditClaim", "key"),
]
_INDEXES = [
    ("table_database", "Table", "database"),
    ("column_database", "Column", "database"),
    ("column_table_key", "Column", "table_key"),
    ("apikey_hash", "ApiKey", "hash"),
    ("revision_entity", "Revision", "entity_key"),
    ("revision_database", "Revision", "database"),
    ("query_example_database", "QueryExample", "database"),
    ("proposal_database", "Proposal", "database"),
    ("edit_claim_database", "EditClaim", "database"),
]


def schema_statements(engine: str) -> list[str]:
    """Neo4j 5 syntax; ArcadeDB accepts the same statements through its Bolt plugin."""
    if engine not in {"neo4j", "arcadedb"}:
        raise ValueError(f"unknown graph engine {engine!r}")
    statements = [
        f"CREATE CONSTRAINT {name} IF NOT EXISTS FOR (n:{label}) REQUIRE n.{prop} IS UNIQUE"
        for name, label, prop in _UNIQUE_KEYS
    ]
    statements += [f"CREATE INDEX {name} IF NOT EXISTS FOR (n:{label}) ON (n.{prop})" for name, label, prop in _INDEXES]
    return statements
