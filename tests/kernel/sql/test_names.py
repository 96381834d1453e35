"""How the catalogue names the tables of a source with several schemas, and writes them in SQL."""

from __future__ import annotations

import pytest

from schemakg.kernel.sql.names import default_schema, qualified_name, qualifies_tables, split_table_name, table_sql


def test_only_postgresql_names_tables_with_their_schema() -> None:
    assert qualifies_tables("postgresql") and qualifies_tables("postgres")
    assert not any(qualifies_tables(d) for d in ("sqlite", "mysql", "mariadb", None))
    assert default_schema("postgresql") == "public" and default_schema("sqlite") is None


def test_the_default_schema_keeps_bare_names_unless_the_name_holds_a_dot() -> None:
    assert qualified_name("public", "award", "public") == "award"
    assert qualified_name("concert", "singer", "public") == "concert.singer"
    assert qualified_name("public", "a.b", "public") == "public.a.b"  # else it would read as table b of schema a
    assert qualified_name(None, "a.b", None) == "a.b"  # one namespace: the dot is the name's
    assert qualified_name("public", "award", None) == "public.award"  # no default schema: all qualified


@pytest.mark.parametrize(
    ("name", "dialect", "parts"),
    [
        ("concert.singer", "postgresql", ("concert", "singer")),
        ("public.a.b", "postgresql", ("public", "a.b")),
        ("award", "postgresql", (None, "award")),
        ("dot.ted", "sqlite", (None, "dot.ted")),
        ("db.t", "mysql", (None, "db.t")),
    ],
)
def test_split_table_name(name: str, dialect: str, parts: tuple[str | None, str]) -> None:
    assert split_table_name(name, dialect) == parts


@pytest.mark.parametrize(
    ("name", "dialect", "sql"),
    [
        ("concert.singer", "postgresql", "concert.singer"),
        ("Hr.Staff", "postgresql", '"Hr"."Staff"'),
        ("spider concert.singer", "postgresql", '"spider concert".singer'),
        ("public.a.b", "postgresql", 'public."a.b"'),
        ("Singer", "sqlite", "Singer"),  # SQLite does not fold case: no quotes needed
        ("dot.ted", "sqlite", '"dot.ted"'),
        ("sp ace", "mysql", "`sp ace`"),
    ],
)
def test_table_sql_quotes_each_part_only_where_it_must(name: str, dialect: str, sql: str) -> None:
    assert table_sql(name, dialect) == sql
