"""SQL dialect names as users write them, mapped to sqlglot's."""

from __future__ import annotations

_DIALECTS = {
    "sqlite": "sqlite",
    "postgres": "postgres",
    "postgresql": "postgres",
    "mysql": "mysql",
    "mariadb": "mysql",
    "tsql": "tsql",
    "mssql": "tsql",
    "oracle": "oracle",
    "snowflake": "snowflake",
    "bigquery": "bigquery",
    "duckdb": "duckdb",
    "trino": "trino",
    "presto": "presto",
    "spark": "spark",
    "hive": "hive",
}


def sqlglot_dialect(name: str) -> str | None:
    """sqlglot's name for ``name`` (any case, surrounding blanks ignored), or None for a dialect it is not."""
    return _DIALECTS.get(name.strip().lower())


def known_dialects() -> list[str]:
    return sorted(_DIALECTS)
