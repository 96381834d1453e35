"""Analysts ask questions; SQL (and capped rows) come back with how they were made."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from schemakg.app.api.deps import container, require
from schemakg.app.api.errors import LLM_UNAVAILABLE
from schemakg.app.container import Container
from schemakg.generation.answer import AskRequest, AskResult
from schemakg.kernel.model import Role

router = APIRouter(prefix="/databases/{database:name}", tags=["ask"])


@router.post("/ask", response_model=AskResult, responses=LLM_UNAVAILABLE, dependencies=[Depends(require(Role.ANALYST))])
def ask(database: str, body: AskRequest, app: Container = Depends(container)) -> AskResult:
    return app.answering.ask(database, body)
