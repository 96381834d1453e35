"""Whether an answer mixes subject areas: a query over a warehouse that reads tables of several databases which no
foreign key or logged join relates (``JoinGraph.areas``). Such a query joins a table of the right database to a
look-alike of another one (``railway__train`` beside ``train_station__station``), and whatever it returns, it is
not the answer. Only tables whose names declare a namespace (``schema.table`` or ``prefix__table``) count: in a
single database, tables that no foreign key joins are still one subject area."""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import BaseModel

from schemakg.kernel.sql.links import SchemaNames, SqlParseError, sql_links
from schemakg.retrieval.join_paths import JoinGraph, namespace

if TYPE_CHECKING:
    from schemakg.retrieval.linker import DatabaseContext


class MixedAreas(BaseModel):
    """The subject areas a query reads, in the order of its tables: what it read of each (``namespace: table,
    table``), and every table of each, so that a second try can be shown one area whole, with the tables that
    linking left out."""

    read: list[str]
    tables: list[list[str]]


def mixed_areas(sql: str, names: SchemaNames, dialect: str, context: DatabaseContext) -> MixedAreas | None:
    """The subject areas the query reads, when it reads more than one; else None."""
    try:
        tables = sql_links(sql, names, dialect).tables
    except SqlParseError:
        return None
    spaces = {namespace(table) for table in tables}
    if None in spaces or len(spaces) < 2:
        return None
    by_table = context.columns_by_table()
    areas = JoinGraph(by_table, context.foreign_keys, context.log_joins, columns=by_table).areas()
    by_area: dict[int, list[str]] = {}
    for table in tables:
        by_area.setdefault(areas.get(table, -1), []).append(table)
    if len(by_area) < 2:
        return None
    return MixedAreas(
        read=[f"{namespace(group[0])}: {', '.join(sorted(group))}" for group in by_area.values()],
        tables=[[table for table in by_table if areas.get(table) == area] for area in by_area],
    )
