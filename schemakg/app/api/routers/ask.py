"""Analysts ask questions; SQL (and capped rows) come back with how they were made."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import Field

from schemakg.app.api.deps import container, require
from schemakg.app.api.errors import LLM_UNAVAILABLE
from schemakg.app.container import Container
from schemakg.generation.answer import AskRequest, AskResult, RoutedAskResult
from schemakg.kernel.model import Role

router = APIRouter(tags=["ask"])


@router.post(
    "/databases/{database:name}/ask",
    response_model=AskResult,
    responses=LLM_UNAVAILABLE,
    dependencies=[Depends(require(Role.ANALYST))],
)
def ask(database: str, body: AskRequest, app: Container = Depends(container)) -> AskResult:
    return app.answering.ask(database, body)


class CatalogueAskRequest(AskRequest):
    databases: list[str] | None = Field(
        default=None, max_length=1000, description="route among these databases only (default: all registered)"
    )


@router.post(
    "/ask", response_model=RoutedAskResult, responses=LLM_UNAVAILABLE, dependencies=[Depends(require(Role.ANALYST))]
)
def ask_catalogue(body: CatalogueAskRequest, app: Container = Depends(container)) -> RoutedAskResult:
    """A question to the whole catalogue: routed to the best database, answered there."""
    return app.answering.ask_catalogue(body, body.databases)
