"""Steward edits of curated fields, with optimistic concurrency and a revision history."""

from __future__ import annotations

from typing import Any

from schemakg.app.services.browse import CatalogBrowser
from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import InvalidInput, NotFound, PreconditionFailed
from schemakg.kernel.model import ColumnInfo, Provenance, Revision, TableInfo, column_key, table_key
from schemakg.kernel.store.schema_repo import CURATED_FIELDS, NotFoundError, SchemaRepository, StaleRevisionError


class CurationService:
    def __init__(self, catalog: SchemaRepository, browser: CatalogBrowser) -> None:
        self.catalog = catalog
        self.browser = browser

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

    def edit_table(
        self,
        database: str,
        table: str,
        changes: dict[str, Any],
        expected_revision: int | None,
        who: str,
        source: Provenance = Provenance.STEWARD,
    ) -> TableInfo:
        self.browser.table(database, table)
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
        self.browser.column(database, table, column)
        self._apply("column", column_key(database, table, column), changes, expected_revision, who, source)
        return self.browser.column(database, table, column)

    def table_history(self, database: str, table: str, field: str | None = None) -> list[Revision]:
        self.browser.table(database, table)
        return self.catalog.history(table_key(database, table), field)

    def column_history(self, database: str, table: str, column: str, field: str | None = None) -> list[Revision]:
        self.browser.column(database, table, column)
        return self.catalog.history(column_key(database, table, column), field)
