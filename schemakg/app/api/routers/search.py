"""Full-text search over table and column names and descriptions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from schemakg.app.api.deps import container, require
from schemakg.app.container import Container
from schemakg.kernel.model import Role, SearchHit

router = APIRouter(tags=["catalog"])


@router.get("/search", response_model=list[SearchHit], dependencies=[Depends(require(Role.ANALYST))])
def search(
    q: str = Query(min_length=1, max_length=200),
    database: str | None = None,
    kind: str | None = Query(None, description="'table' or 'column'"),
    limit: int = Query(20, ge=1, le=200),
    app: Container = Depends(container),
) -> list[SearchHit]:
    return app.browser.search(q, database, kind, limit)
