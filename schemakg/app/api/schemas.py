"""Bodies of the HTTP API that are not kernel models; the Python client (schemakg.client) sends and reads them too."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemakg.kernel.model import NAME_PATTERN, ApiKeyInfo, Question, Role
from schemakg.retrieval.linked_schema import LinkedSchema, RankedColumn, Route

_TEXT = 4000


class DatabaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(
        min_length=1, max_length=64, pattern=NAME_PATTERN, description="Identifier used in URLs, e.g. 'hr'"
    )
    url: str = Field(min_length=1, max_length=2000, description="SQLAlchemy URL; its password is never shown back")
    description: str | None = Field(default=None, max_length=_TEXT)


# An edit names at least one field (the service answers {} with a 422); the schema says so.
_EDIT = ConfigDict(extra="forbid", json_schema_extra={"minProperties": 1})


class TableEdit(BaseModel):
    model_config = _EDIT
    description: str | None = Field(default=None, max_length=_TEXT)


class ColumnEdit(BaseModel):
    model_config = _EDIT
    description: str | None = Field(default=None, max_length=_TEXT)
    value_explanation: str | None = Field(default=None, max_length=_TEXT)
    synonyms: list[str] | None = Field(default=None, max_length=50)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: Role


class ApiKeyCreated(ApiKeyInfo):
    key: str = Field(description="The secret; shown only in this response")


class RetrieveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: Question
    evidence: str | None = Field(default=None, max_length=4000)
    top: int = Field(default=30, ge=1, le=500, description="how many ranked columns to return")
    mode: str | None = Field(
        default=None,
        description="join mode: force-union (default), n-n, 1-1, 1-n, n-1, no-union, force-longest, steiner",
    )


class RetrieveResponse(BaseModel):
    ranked: list[RankedColumn]
    selected: list[str]
    linked: LinkedSchema
    timings_ms: dict[str, float]


class CatalogueRetrieveRequest(RetrieveRequest):
    databases: list[str] | None = Field(
        default=None, max_length=1000, description="route among these databases only (default: all registered)"
    )
    routes: int = Field(default=3, ge=1, le=50, description="how many candidate databases to return")


class RoutedRetrieveResponse(RetrieveResponse):
    database: str = Field(description="the database the question was routed to and linked in")
    routes: list[Route] = Field(description="the best databases for the question, best first, with their tables")
