from __future__ import annotations

from collections.abc import Callable

from schemakg.generation.guard.rules import postgres_reserved_names
from schemakg.kernel.sql.links import SchemaNames

IMDB = SchemaNames(
    {"cast": ["aid", "msid", "role"], "actor": ["aid", "name"], "user": ["user_id", "order"]}, "postgres"
)
Run = Callable[..., tuple[list[str], str]]


def test_tables_qualifiers_and_columns_named_by_reserved_words_are_quoted_in_lower_case(run: Run) -> None:
    notes, sql = run(
        postgres_reserved_names.apply,
        "SELECT Cast.role, u.Order FROM CAST JOIN actor ON Cast.aid = actor.aid JOIN user AS u ON u.user_id = 1",
        dialect="postgres",
        names=IMDB,
    )
    assert sql == (
        'SELECT "cast".role, u."order" FROM "cast" JOIN actor ON "cast".aid = actor.aid '
        'JOIN "user" AS u ON u.user_id = 1'
    )
    assert notes == ["quoted the reserved word cast", "quoted the reserved word order", "quoted the reserved word user"]


def test_quoted_and_ordinary_names_and_other_engines_are_left_alone(run: Run) -> None:
    query = 'SELECT c.role FROM "cast" AS c JOIN actor AS a ON c.aid = a.aid'
    assert run(postgres_reserved_names.apply, query, dialect="postgres", names=IMDB) == ([], query)
    query = "SELECT c.role FROM cast AS c"
    assert run(postgres_reserved_names.apply, query, names=IMDB) == ([], query)  # SQLite
