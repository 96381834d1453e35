"""Analysts' retrieval and linking: ranked columns, the selected set, and the linked sub-schema."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from catalog.api.deps import container, require
from catalog.container import Container
from catalog.model import Role
from catalog.services.linking import RankedColumn
from retrieval.linked_schema import LinkedSchema

router = APIRouter(prefix="/databases/{database}", tags=["linking"])


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=2000)
    evidence: str | None = Field(default=None, max_length=4000)
    top: int = Field(default=30, ge=1, le=500, description="how many ranked columns to return")
    mode: str | None = Field(default=None, description="join mode: force-union (default), n-n, 1-1, 1-n, n-1, no-union, force-longest")


class RetrieveResponse(BaseModel):
    ranked: list[RankedColumn]
    selected: list[str]
    linked: LinkedSchema
    timings_ms: dict[str, float]


@router.post("/retrieve", response_model=RetrieveResponse, dependencies=[Depends(require(Role.ANALYST))])
def retrieve(database: str, body: RetrieveRequest, app: Container = Depends(container)) -> RetrieveResponse:
    question = f"{body.question} {body.evidence}" if body.evidence else body.question
    ranked = app.linking.rank(database, question)
    result = app.linking.link(database, body.question, body.evidence, body.mode)
    return RetrieveResponse(
        ranked=ranked[: body.top],
        selected=[r.column for r in ranked if r.selected],
        linked=result.schema_,
        timings_ms=result.timings_ms,
    )
