"""Steward edits of curated fields, with optimistic concurrency and a revision history."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from schemakg.app.services.browse import CatalogBrowser
from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import InvalidInput, NotFound, PreconditionFailed
from schemakg.kernel.model import ColumnInfo, Provenance, Revision, TableInfo, column_key, table_key
from schemakg.kernel.store.schema_repo import CURATED_FIELDS, NotFoundError, SchemaRepository, StaleRevisionError


class CurationService:
    def __init__(
        self, catalog: SchemaRepository, browser: CatalogBrowser, on_change: Callable[[], None] | None = None
    ) -> None:
        self.catalog = catalog
        self.browser = browser
        self.on_change = on_change  # told after each applied edit (the search index)

    def _apply(
        self, kind: str, key: str, changes: dict[str, Any], expected_revision: int | None, who: str, source: Provenance
    ) -> None:
        allowed = CURATED_FIELDS[kind]
        unknown = sorted(set(changes) - set(allowed))
        if unknown:
            raise InvalidInput(f"not curated fields of a {kind}: {', '.join(unknown)}", {"fields": unknown})
        if not changes:
            raise InvalidInput("no field to change")
        try:
            self.catalog.update_curated(kind, key, changes, expected_revision, who, source, now_iso())
        except StaleRevisionError as exc:
            raise PreconditionFailed(
                f"the {kind} was changed by someone else (now at revision {exc.current}); reload and retry",
                {"current_revision": exc.current},
            ) from exc
        except NotFoundError as exc:
            raise NotFound(f"{kind} not found") from exc
        if self.on_change is not None:
            self.on_change()

    def edit_table(
        self,
        database: str,
        table: str,
        changes: dict[str, Any],
        expected_revision: int | None,
        who: str,
        source: Provenance = Provenance.STEWARD,
    ) -> TableInfo:
        table = self.browser.table(database, table).name
        self._apply("table", table_key(database, table), changes, expected_revision, who, source)
        return self.browser.table(database, table)

    def edit_column(
        self,
        database: str,
        table: str,
        column: str,
        changes: dict[str, Any],
        expected_revision: int | None,
        who: str,
        source: Provenance = Provenance.STEWARD,
    ) -> ColumnInfo:
        found = self.browser.column(database, table, column)
        table, column = found.table, found.name
        self._apply("column", column_key(database, table, column), changes, expected_revision, who, source)
        return self.browser.column(database, table, column)

    def table_history(self, database: str, table: str, field: str | None = None) -> list[Revision]:
        table = self.browser.table(database, table).name
        return self.catalog.history(table_key(database, table), field)

    def column_history(self, database: str, table: str, column: str, field: str | None = None) -> list[Revision]:
        found = self.browser.column(database, table, column)
        return self.catalog.history(column_key(database, found.table, found.name), field)
