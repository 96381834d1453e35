"""Tables and columns: browse, curate (If-Match), and read their revision history."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from schemakg.app.api import links
from schemakg.app.api.deps import Offset, container, etag, expected_revision, require
from schemakg.app.api.schemas import ColumnEdit, TableEdit
from schemakg.app.container import Container
from schemakg.kernel.model import ApiKeyInfo, ColumnInfo, Page, Revision, Role, TableInfo

router = APIRouter(prefix="/databases/{database:name}/tables", tags=["catalog"])
_reader = [Depends(require(Role.ANALYST))]


@router.get("", response_model=Page[TableInfo], dependencies=_reader, openapi_extra=links.TABLE_LIST)
def list_tables(
    database: str,
    offset: Offset = 0,
    limit: int = Query(50, ge=1, le=500),
    include_removed: bool = False,
    app: Container = Depends(container),
) -> Page[TableInfo]:
    return app.browser.tables(database, offset, limit, include_removed)


@router.get("/{table:name}", response_model=TableInfo, dependencies=_reader, openapi_extra=links.TABLE_READ)
def get_table(database: str, table: str, response: Response, app: Container = Depends(container)) -> TableInfo:
    info = app.browser.table(database, table)
    response.headers["ETag"] = etag(info.revision)
    return info


@router.patch("/{table:name}", response_model=TableInfo, openapi_extra=links.TABLE_EDIT)
def edit_table(
    database: str,
    table: str,
    body: TableEdit,
    request: Request,
    response: Response,
    principal: ApiKeyInfo = Depends(require(Role.STEWARD)),
    app: Container = Depends(container),
) -> TableInfo:
    info = app.curation.edit_table(
        database, table, body.model_dump(exclude_unset=True), expected_revision(request), principal.name
    )
    response.headers["ETag"] = etag(info.revision)
    return info


@router.get("/{table:name}/history", response_model=list[Revision], dependencies=_reader)
def table_history(
    database: str, table: str, field: str | None = None, app: Container = Depends(container)
) -> list[Revision]:
    return app.curation.table_history(database, table, field)


@router.get(
    "/{table:name}/columns", response_model=Page[ColumnInfo], dependencies=_reader, openapi_extra=links.COLUMN_LIST
)
def list_columns(
    database: str,
    table: str,
    offset: Offset = 0,
    limit: int = Query(100, ge=1, le=500),
    include_removed: bool = False,
    app: Container = Depends(container),
) -> Page[ColumnInfo]:
    return app.browser.columns(database, table, offset, limit, include_removed)


@router.get(
    "/{table:name}/columns/{column:name}",
    response_model=ColumnInfo,
    dependencies=_reader,
    openapi_extra=links.COLUMN_READ,
)
def get_column(
    database: str, table: str, column: str, response: Response, app: Container = Depends(container)
) -> ColumnInfo:
    info = app.browser.column(database, table, column)
    response.headers["ETag"] = etag(info.revision)
    return info


@router.patch("/{table:name}/columns/{column:name}", response_model=ColumnInfo, openapi_extra=links.COLUMN_EDIT)
def edit_column(
    database: str,
    table: str,
    column: str,
    body: ColumnEdit,
    request: Request,
    response: Response,
    principal: ApiKeyInfo = Depends(require(Role.STEWARD)),
    app: Container = Depends(container),
) -> ColumnInfo:
    info = app.curation.edit_column(
        database, table, column, body.model_dump(exclude_unset=True), expected_revision(request), principal.name
    )
    response.headers["ETag"] = etag(info.revision)
    return info


@router.get("/{table:name}/columns/{column:name}/history", response_model=list[Revision], dependencies=_reader)
def column_history(
    database: str, table: str, column: str, field: str | None = None, app: Container = Depends(container)
) -> list[Revision]:
    return app.curation.column_history(database, table, column, field)
