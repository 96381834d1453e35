"""Schema-qualified names (a PostgreSQL catalogue with several schemas): ``concert.singer`` in SQL is the
catalogue's ``concert.singer``; a bare ``singer`` is only ever the default schema's table."""

from __future__ import annotations

import pytest

from schemakg.generation.guard import GuardError, repair, validate
from schemakg.kernel.sql.links import SchemaNames, sql_links

TABLES = {
    "concert.singer": ["singer_id", "name", "country"],
    "concert.concert": ["concert_id", "title", "singer_id"],
    "hr.singer": ["singer_id", "name", "salary"],
    "award": ["award_id", "title"],
    "Hr.Staff": ["Id", "Name"],
}
NAMES = SchemaNames(TABLES, "postgresql")
FOREIGN_KEYS = [(("concert.concert", "singer_id"), ("concert.singer", "singer_id"))]


@pytest.mark.parametrize(
    ("sql", "tables"),
    [
        ("SELECT name FROM concert.singer", ["concert.singer"]),
        ("SELECT salary FROM hr.singer WHERE name = 'Ann'", ["hr.singer"]),
        ("SELECT concert.singer.name FROM concert.singer", ["concert.singer"]),
        ("SELECT singer.name FROM concert.singer", ["concert.singer"]),
        (
            "SELECT s.name, c.title FROM concert.singer AS s JOIN concert.concert AS c ON s.singer_id = c.singer_id",
            ["concert.singer", "concert.concert"],
        ),
        ("SELECT title FROM award", ["award"]),
        ("SELECT title FROM public.award", ["award"]),  # the default schema, named
        ('SELECT "Name" FROM "Hr"."Staff"', ["Hr.Staff"]),
        ("SELECT Name FROM Concert.Singer", ["concert.singer"]),  # identifiers match ignoring case
    ],
)
def test_qualified_tables_resolve_to_their_catalogue_table(sql: str, tables: list[str]) -> None:
    validated = validate(sql, "postgres", NAMES)
    assert validated.links.tables == tables
    assert validated.sql.replace('"', "").lower() == sql.replace('"', "").lower()  # rendered back as written


def test_columns_resolve_in_their_own_schema_not_a_same_named_table_of_another() -> None:
    links = sql_links("SELECT name, salary FROM hr.singer", NAMES, "postgres")
    assert links.columns == [("hr.singer", "name"), ("hr.singer", "salary")]
    with pytest.raises(GuardError, match="country"):
        validate("SELECT country FROM hr.singer", "postgres", NAMES)  # only concert.singer has it
    joined = sql_links(
        "SELECT title FROM concert.concert AS c JOIN concert.singer AS s ON c.singer_id = s.singer_id",
        NAMES,
        "postgres",
    )
    assert joined.joins == [(("concert.concert", "singer_id"), ("concert.singer", "singer_id"))]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT name FROM singer",  # no default-schema table singer: never concert.singer or hr.singer
        "SELECT title FROM concert",
        'SELECT name FROM "concert.singer"',  # one identifier with a dot: PostgreSQL has no such table
        "SELECT name FROM other.singer",
        "SELECT title FROM public.concert",
    ],
)
def test_a_bare_or_wrongly_qualified_name_matches_no_other_schema(sql: str) -> None:
    with pytest.raises(GuardError) as refused:
        validate(sql, "postgres", NAMES)
    assert refused.value.stage == "schema"
    assert "no such table" in str(refused.value)


def test_a_bare_name_still_matches_the_default_schema_table() -> None:
    names = SchemaNames({**TABLES, "singer": ["singer_id", "nickname"]}, "postgresql")
    assert validate("SELECT nickname FROM singer", "postgres", names).links.tables == ["singer"]
    with pytest.raises(GuardError):
        validate("SELECT country FROM singer", "postgres", names)  # concert.singer's column, not this table's


def test_one_namespace_dialects_keep_dotted_names_whole() -> None:
    names = SchemaNames({"dot.ted": ["a"], "t": ["b"]}, "sqlite")
    assert validate('SELECT a FROM "dot.ted"', "sqlite", names).links.tables == ["dot.ted"]
    assert validate("SELECT b FROM main.t", "sqlite", names).links.tables == ["t"]  # a qualifier is ignored


def test_a_missing_join_to_a_qualified_table_is_written_with_its_schema() -> None:
    repaired = repair("SELECT title FROM concert.concert WHERE name = 'Joe'", "postgres", NAMES, FOREIGN_KEYS)
    assert repaired.notes
    assert "JOIN concert.singer ON" in repaired.sql and '"concert.singer"' not in repaired.sql
    assert validate(repaired.sql, "postgres", NAMES).links.tables == ["concert.concert", "concert.singer"]
