"""Reading the catalogue: tables, columns, foreign keys and search."""

from __future__ import annotations

import re

from schemakg.kernel.errors import InvalidInput, NotFound
from schemakg.kernel.model import ColumnInfo, ForeignKeyInfo, Page, SearchHit, TableInfo
from schemakg.kernel.store.schema_repo import SchemaRepository

_TERM = re.compile(r"[\w\-]+", re.UNICODE)


class CatalogBrowser:
    def __init__(self, catalog: SchemaRepository) -> None:
        self.catalog = catalog

    def tables(self, database: str, offset: int, limit: int, include_removed: bool = False) -> Page[TableInfo]:
        self.catalog.require_database(database)
        items, total = self.catalog.list_tables(database, offset, limit, include_removed)
        return Page(items=items, total=total, offset=offset, limit=limit)

    def table(self, database: str, table: str) -> TableInfo:
        self.catalog.require_database(database)
        info = self.catalog.get_table(database, table)
        if info is None:
            raise NotFound(f"table {table!r} not found in database {database!r}")
        return info

    def columns(
        self, database: str, table: str | None, offset: int, limit: int, include_removed: bool = False
    ) -> Page[ColumnInfo]:
        if table is None:
            self.catalog.require_database(database)
        else:
            self.table(database, table)
        items, total = self.catalog.list_columns(database, table, offset, limit, include_removed)
        return Page(items=items, total=total, offset=offset, limit=limit)

    def column(self, database: str, table: str, column: str) -> ColumnInfo:
        self.table(database, table)
        info = self.catalog.get_column(database, table, column)
        if info is None:
            raise NotFound(f"column {column!r} not found in table {table!r}")
        return info

    def foreign_keys(self, database: str) -> list[ForeignKeyInfo]:
        self.catalog.require_database(database)
        return self.catalog.foreign_keys(database)

    def search(self, query: str, database: str | None, kind: str | None, limit: int) -> list[SearchHit]:
        terms = [t.lower().replace("_", " ") for t in _TERM.findall(query)]
        if not terms:
            raise InvalidInput("the search query needs at least one word", {"field": "q"})
        if kind not in (None, "table", "column"):
            raise InvalidInput("kind must be 'table' or 'column'", {"field": "kind"})
        if database is not None:
            self.catalog.require_database(database)
        return self.catalog.search(terms[:8], database, kind, limit)
