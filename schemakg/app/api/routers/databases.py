"""Source databases: register (the URL is stored as a secret, shown masked), list, delete, and ingest as a job."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request, Response

from schemakg.app.api import links
from schemakg.app.api.deps import Offset, container, require
from schemakg.app.api.schemas import DatabaseCreate
from schemakg.app.container import Container
from schemakg.app.services.dbt_import import DbtUpload
from schemakg.kernel.model import ApiKeyInfo, DatabaseInfo, ForeignKeyInfo, JobInfo, Page, Role

router = APIRouter(prefix="/databases", tags=["databases"])


@router.post("", status_code=201, response_model=DatabaseInfo, dependencies=[Depends(require(Role.ADMIN))])
def register_database(body: DatabaseCreate, app: Container = Depends(container)) -> DatabaseInfo:
    return app.databases.register(body.name, body.url, body.description)


@router.get(
    "",
    response_model=Page[DatabaseInfo],
    dependencies=[Depends(require(Role.ANALYST))],
    openapi_extra=links.DATABASE_LIST,
)
def list_databases(
    offset: Offset = 0, limit: int = Query(50, ge=1, le=500), app: Container = Depends(container)
) -> Page[DatabaseInfo]:
    return app.databases.list(offset, limit)


@router.get(
    "/{database:name}",
    response_model=DatabaseInfo,
    dependencies=[Depends(require(Role.ANALYST))],
    openapi_extra=links.DATABASE_READ,
)
def get_database(database: str, app: Container = Depends(container)) -> DatabaseInfo:
    return app.databases.get(database)


@router.delete("/{database:name}", status_code=204, dependencies=[Depends(require(Role.ADMIN))])
def delete_database(database: str, app: Container = Depends(container)) -> Response:
    app.databases.delete(database)
    return Response(status_code=204)


@router.post(
    "/{database:name}/ingest", status_code=202, response_model=JobInfo, dependencies=[Depends(require(Role.STEWARD))]
)
def ingest_database(database: str, app: Container = Depends(container)) -> JobInfo:
    return app.databases.start_ingestion(database)


@router.get(
    "/{database:name}/foreign-keys", response_model=list[ForeignKeyInfo], dependencies=[Depends(require(Role.ANALYST))]
)
def foreign_keys(database: str, app: Container = Depends(container)) -> list[ForeignKeyInfo]:
    return app.browser.foreign_keys(database)


@router.post(
    "/{database:name}/query-logs",
    status_code=202,
    response_model=JobInfo,
    dependencies=[Depends(require(Role.STEWARD))],
    openapi_extra={"requestBody": {"content": {"application/x-ndjson": {}, "text/csv": {}}, "required": True}},
)
async def upload_query_log(
    database: str,
    request: Request,
    format: str = Query("jsonl", description="'jsonl' (one {question, sql, dialect?, evidence?} per line) or 'csv'"),
    source: str = Query("upload", max_length=200, description="A name for this log, kept as provenance"),
    app: Container = Depends(container),
) -> JobInfo:
    """Upload a question→SQL log as the raw request body; ingestion runs as a job."""
    return await app.query_logs.upload(database, format, source, request.stream())


@router.post(
    "/{database:name}/dbt",
    status_code=202,
    response_model=JobInfo,
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": DbtUpload.model_json_schema()}},
            "required": True,
            "description": "{manifest, catalog?}: dbt's target/manifest.json and, optionally, catalog.json",
        }
    },
)
async def import_dbt(
    database: str,
    request: Request,
    proposals: bool = Query(False, description="column descriptions become pending proposals instead of edits"),
    principal: ApiKeyInfo = Depends(require(Role.STEWARD)),
    app: Container = Depends(container),
) -> JobInfo:
    """Import a dbt project's descriptions (provenance dbt; a steward's edit is kept), the key hints of its
    unique / not_null tests and the foreign keys of its relationships tests, as a job whose result is the
    report (docs/dbt-import.md). Streamed, bounded by SCHEMAKG_MAX_UPLOAD_BYTES."""
    return await app.dbt_import.upload(database, request.stream(), proposals, principal.name)
