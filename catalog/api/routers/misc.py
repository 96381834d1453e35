"""Search, jobs, API keys and health."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Response

from catalog.api.deps import Offset, container, require
from catalog.api.schemas import ApiKeyCreate, ApiKeyCreated
from catalog.container import Container
from catalog.model import ApiKeyInfo, JobInfo, Page, Role, SearchHit

router = APIRouter()


@router.get("/health", tags=["health"])
def health(app: Container = Depends(container)) -> dict[str, str]:
    app.store.read("RETURN 1 AS ok")
    return {"status": "ok", "graph": app.store.engine}


@router.get("/search", response_model=list[SearchHit], tags=["catalog"], dependencies=[Depends(require(Role.ANALYST))])
def search(
    q: str = Query(min_length=1, max_length=200),
    database: str | None = None,
    kind: str | None = Query(None, description="'table' or 'column'"),
    limit: int = Query(20, ge=1, le=200),
    app: Container = Depends(container),
) -> list[SearchHit]:
    return app.browser.search(q, database, kind, limit)


@router.get("/jobs", response_model=Page, tags=["jobs"], dependencies=[Depends(require(Role.ANALYST))])
def list_jobs(
    database: str | None = None,
    offset: Offset = 0,
    limit: int = Query(50, ge=1, le=500),
    app: Container = Depends(container),
) -> Page:
    return app.jobs.list(database, offset, limit)


@router.get("/jobs/{job_id}", response_model=JobInfo, tags=["jobs"], dependencies=[Depends(require(Role.ANALYST))])
def get_job(job_id: str, app: Container = Depends(container)) -> JobInfo:
    return app.jobs.get(job_id)


@router.post(
    "/api-keys", status_code=201, response_model=ApiKeyCreated, tags=["keys"],
    dependencies=[Depends(require(Role.ADMIN))],
)
def create_key(body: ApiKeyCreate, app: Container = Depends(container)) -> ApiKeyCreated:
    info, secret = app.keys.create(body.name, body.role)
    return ApiKeyCreated(**info.model_dump(), key=secret)


@router.get("/api-keys", response_model=list[ApiKeyInfo], tags=["keys"], dependencies=[Depends(require(Role.ADMIN))])
def list_keys(app: Container = Depends(container)) -> list[ApiKeyInfo]:
    return app.keys.list()


@router.delete("/api-keys/{key_id}", status_code=204, tags=["keys"], dependencies=[Depends(require(Role.ADMIN))])
def delete_key(key_id: str, app: Container = Depends(container)) -> Response:
    app.keys.delete(key_id)
    return Response(status_code=204)
