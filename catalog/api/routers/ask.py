"""Analysts ask questions; SQL (and capped rows) come back with how they were made."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from catalog.api.deps import container, require
from catalog.container import Container
from catalog.model import Role
from generation.answer import AskRequest, AskResult

router = APIRouter(prefix="/databases/{database}", tags=["ask"])


@router.post("/ask", response_model=AskResult, dependencies=[Depends(require(Role.ANALYST))])
def ask(database: str, body: AskRequest, app: Container = Depends(container)) -> AskResult:
    return app.answering.ask(database, body)
