"""Liveness (the service and its graph store answer) and readiness (what serving needs is loaded)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from schemakg.app.api.deps import container
from schemakg.app.container import Container
from schemakg.app.services.warmup import Readiness

router = APIRouter(tags=["health"])


@router.get("/health")
def health(app: Container = Depends(container)) -> dict[str, str]:
    app.store.ping()
    return {"status": "ok", "graph": app.store.engine}


@router.get(
    "/health/ready",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "Not ready: the retriever, the LLM or a database's linking state is still loading "
            "(`loading`), or failed to load (`failed`, with the error).",
        }
    },
)
async def ready(request: Request) -> Readiness | JSONResponse:
    """200 once the start-up warm-up has loaded the retriever (encoder), the LLM (the embedded model) and, for
    every database registered at start-up, its linking context and column index; 503 until then, naming what
    is still loading."""
    warmup = getattr(request.app.state, "warmup", None)
    if warmup is None:  # the application's lifespan has not run
        status = Readiness(status="loading", loading=["start-up"], loaded=[], elapsed_s=0.0)
    else:
        status = warmup.status()
    if status.status != "ready":
        return JSONResponse(status.model_dump(), status_code=503)
    return status
