"""Reading the catalogue: tables, columns, foreign keys and search."""

from __future__ import annotations

import re

from schemakg.app.services.search import CatalogSearch
from schemakg.kernel.errors import InvalidInput, NotFound
from schemakg.kernel.model import ColumnInfo, ForeignKeyInfo, Page, SearchHit, TableInfo
from schemakg.kernel.store.schema_repo import SchemaRepository

_TERM = re.compile(r"[\w\-]+", re.UNICODE)
_ALNUM = re.compile(r"[^\W_]")


class CatalogBrowser:
    def __init__(self, catalog: SchemaRepository, finder: CatalogSearch) -> None:
        self.catalog = catalog
        self.finder = finder

    def tables(self, database: str, offset: int, limit: int, include_removed: bool = False) -> Page[TableInfo]:
        page = self.catalog.table_page(database, offset, limit, include_removed)  # one round trip, 404 included
        if page is None:
            raise NotFound(f"database {database!r} is not registered")
        items, total = page
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
            table = self.table(database, table).name
        items, total = self.catalog.list_columns(database, table, offset, limit, include_removed)
        return Page(items=items, total=total, offset=offset, limit=limit)

    def column(self, database: str, table: str, column: str) -> ColumnInfo:
        table = self.table(database, table).name
        info = self.catalog.get_column(database, table, column)
        if info is None:
            raise NotFound(f"column {column!r} not found in table {table!r}")
        return info

    def foreign_keys(self, database: str) -> list[ForeignKeyInfo]:
        self.catalog.require_database(database)
        return self.catalog.foreign_keys(database)

    def search(self, query: str, database: str | None, kind: str | None, limit: int) -> list[SearchHit]:
        terms = [t for t in _TERM.findall(query) if _ALNUM.search(t)]
        if not terms:
            raise InvalidInput("the search query needs at least one word", {"field": "q"})
        if kind not in (None, "table", "column"):
            raise InvalidInput("kind must be 'table' or 'column'", {"field": "kind"})
        if database is not None and not self.finder.knows(database):
            self.catalog.require_database(database)
        return self.finder.search(terms[:8], database, kind, limit)
