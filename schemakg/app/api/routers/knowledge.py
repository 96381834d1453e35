"""Knowledge completion from query logs, and the steward's decisions on its proposals."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field

from schemakg.app.api.deps import Offset, container, require
from schemakg.app.container import Container
from schemakg.kernel.model import ApiKeyInfo, JobInfo, Page, Proposal, ProposalState, Role

router = APIRouter(tags=["knowledge"])


class CompletionRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int | None = Field(default=None, ge=1, le=100_000, description="at most this many logged examples")
    only_new: bool = Field(default=True, description="skip examples already processed")


@router.post(
    "/databases/{database:name}/knowledge-completion",
    status_code=202,
    response_model=JobInfo,
    dependencies=[Depends(require(Role.STEWARD))],
)
def start_completion(database: str, body: CompletionRequest, app: Container = Depends(container)) -> JobInfo:
    return app.proposals.start_completion(database, body.limit, body.only_new)


@router.get(
    "/databases/{database:name}/proposals", response_model=Page[Proposal], dependencies=[Depends(require(Role.STEWARD))]
)
def list_proposals(
    database: str,
    state: ProposalState | None = None,
    offset: Offset = 0,
    limit: int = Query(50, ge=1, le=500),
    app: Container = Depends(container),
) -> Page[Proposal]:
    return app.proposals.list_for(database, state, offset, limit)


@router.get("/proposals/{proposal_id:name}", response_model=Proposal, dependencies=[Depends(require(Role.STEWARD))])
def get_proposal(proposal_id: str, app: Container = Depends(container)) -> Proposal:
    return app.proposals.get(proposal_id)


@router.post("/proposals/{proposal_id:name}/approve", response_model=Proposal)
def approve(
    proposal_id: str, principal: ApiKeyInfo = Depends(require(Role.STEWARD)), app: Container = Depends(container)
) -> Proposal:
    return app.proposals.approve(proposal_id, principal.name)


@router.post("/proposals/{proposal_id:name}/reject", response_model=Proposal)
def reject(
    proposal_id: str, principal: ApiKeyInfo = Depends(require(Role.STEWARD)), app: Container = Depends(container)
) -> Proposal:
    return app.proposals.reject(proposal_id, principal.name)


@router.get("/databases/{database:name}/dependencies", dependencies=[Depends(require(Role.ANALYST))])
def dependencies(database: str, app: Container = Depends(container)) -> list[dict[str, str | None]]:
    return app.proposals.dependencies(database)
