"""Liveness: the service answers and its graph store does."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from schemakg.app.api.deps import container
from schemakg.app.container import Container

router = APIRouter(tags=["health"])


@router.get("/health")
def health(app: Container = Depends(container)) -> dict[str, str]:
    app.store.ping()
    return {"status": "ok", "graph": app.store.engine}
