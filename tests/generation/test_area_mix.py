"""Which answers mix subject areas: tables of namespaces that no foreign key or logged join relates."""

from schemakg.generation.area_mix import MixedAreas, mixed_areas
from schemakg.kernel.sql.links import SchemaNames
from schemakg.retrieval.linker import ContextColumn, DatabaseContext

STRAY = "SELECT name FROM game_injury__stadium EXCEPT SELECT stadium_id FROM swimming__event"


def _context(log_joins: list[tuple[tuple[str, str], tuple[str, str]]] | None = None) -> DatabaseContext:
    columns = [("swimming__stadium", "id"), ("swimming__stadium", "name"), ("swimming__event", "stadium_id")]
    columns += [("game_injury__stadium", "id"), ("game_injury__stadium", "name"), ("game_injury__game", "stadium_id")]
    columns += [("orders", "id"), ("staff", "id")]
    return DatabaseContext(
        database="warehouse",
        dialect="sqlite",
        version="r1",
        columns=[ContextColumn(table=table, name=name) for table, name in columns],
        foreign_keys=[
            (("swimming__event", "stadium_id"), ("swimming__stadium", "id")),
            (("game_injury__game", "stadium_id"), ("game_injury__stadium", "id")),
        ],
        log_joins=log_joins or [],
    )


def _mixed(sql: str, context: DatabaseContext) -> MixedAreas | None:
    return mixed_areas(sql, SchemaNames(context.columns_by_table(), "sqlite"), "sqlite", context)


def test_a_query_over_two_unrelated_databases_mixes_areas() -> None:
    mixed = _mixed(STRAY, _context())
    assert mixed is not None
    assert mixed.read == ["game_injury: game_injury__stadium", "swimming: swimming__event"]
    assert [sorted(area) for area in mixed.tables] == [  # every table of each, for the second try
        ["game_injury__game", "game_injury__stadium"],
        ["swimming__event", "swimming__stadium"],
    ]


def test_one_database_or_related_ones_do_not() -> None:
    joined = "SELECT s.name FROM swimming__stadium AS s JOIN swimming__event AS e ON e.stadium_id = s.id"
    assert _mixed(joined, _context()) is None
    logged = [(("game_injury__stadium", "id"), ("swimming__stadium", "id"))]  # a join the query log has seen
    assert _mixed(STRAY, _context(logged)) is None


def test_tables_without_a_namespace_are_never_flagged() -> None:
    # One database's tables that no foreign key joins are still one subject area.
    assert _mixed("SELECT count(*) FROM orders JOIN staff ON orders.id = staff.id", _context()) is None
    assert _mixed("SELECT count(*) FROM orders JOIN swimming__event ON 1 = 1", _context()) is None
    assert _mixed("SELECT FROM WHERE", _context()) is None
