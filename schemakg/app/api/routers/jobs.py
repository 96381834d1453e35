"""Job records: state and progress of ingestion, knowledge completion and retriever activation."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from schemakg.app.api.deps import Offset, container, require
from schemakg.app.container import Container
from schemakg.kernel.model import JobInfo, Page, Role

router = APIRouter(prefix="/jobs", tags=["jobs"], dependencies=[Depends(require(Role.ANALYST))])


@router.get("", response_model=Page[JobInfo])
def list_jobs(
    database: str | None = None,
    offset: Offset = 0,
    limit: int = Query(50, ge=1, le=500),
    app: Container = Depends(container),
) -> Page[JobInfo]:
    return app.jobs.list(database, offset, limit)


@router.get("/{job_id:name}", response_model=JobInfo)
def get_job(job_id: str, app: Container = Depends(container)) -> JobInfo:
    return app.jobs.get(job_id)
