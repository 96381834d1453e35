"""Analysts' retrieval and linking: ranked columns, the selected set, and the linked sub-schema."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, ConfigDict, Field

from schemakg.app.api.deps import container, require
from schemakg.app.api.schemas import CatalogueRetrieveRequest, RetrieveRequest, RetrieveResponse, RoutedRetrieveResponse
from schemakg.app.container import Container
from schemakg.kernel.model import JobInfo, RetrieverInfo, Role

router = APIRouter(tags=["linking"])


@router.post(
    "/databases/{database:name}/retrieve",
    response_model=RetrieveResponse,
    dependencies=[Depends(require(Role.ANALYST))],
)
def retrieve(database: str, body: RetrieveRequest, app: Container = Depends(container)) -> RetrieveResponse:
    result = app.linking.retrieve(database, body.question, body.evidence, body.mode, body.top)
    return RetrieveResponse(
        ranked=result.ranked,
        selected=result.selected,
        linked=result.link.schema_,
        timings_ms=result.link.timings_ms,
    )


@router.post("/retrieve", response_model=RoutedRetrieveResponse, dependencies=[Depends(require(Role.ANALYST))])
def retrieve_catalogue(body: CatalogueRetrieveRequest, app: Container = Depends(container)) -> RoutedRetrieveResponse:
    """A question to the whole catalogue: the best databases, and retrieval in the best one."""
    routes, result = app.linking.retrieve_catalogue(
        body.question, body.evidence, body.databases, body.routes, body.mode, body.top
    )
    return RoutedRetrieveResponse(
        database=routes[0].database,
        routes=routes,
        ranked=result.ranked,
        selected=result.selected,
        linked=result.link.schema_,
        timings_ms=result.link.timings_ms,
    )


@router.get("/retriever", response_model=RetrieverInfo, dependencies=[Depends(require(Role.ANALYST))])
def retriever_info(app: Container = Depends(container)) -> RetrieverInfo:
    """The retriever version that serves (shipped with the package, trained here, or zero-shot) and its
    validation figures; ``available`` lists what ``POST /retriever/activate`` accepts."""
    return app.linking.retriever_info()


class ActivateRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    version: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._\-]+$")


@router.post(
    "/retriever/activate", status_code=202, response_model=JobInfo, dependencies=[Depends(require(Role.ADMIN))]
)
def activate_retriever(body: ActivateRequest, app: Container = Depends(container)) -> JobInfo:
    """Serve a trained retriever version; the column index is rebuilt with it as a job."""
    return app.linking.start_activation(body.version)
