"""Request bodies of the HTTP API (responses reuse schemakg.kernel.model)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemakg.kernel.model import ApiKeyInfo, Role

_TEXT = 4000


class DatabaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=64, description="Identifier used in URLs, e.g. 'hr'")
    url: str = Field(min_length=1, max_length=2000, description="SQLAlchemy URL; its password is never shown back")
    description: str | None = Field(default=None, max_length=_TEXT)


class TableEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str | None = Field(default=None, max_length=_TEXT)


class ColumnEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    description: str | None = Field(default=None, max_length=_TEXT)
    value_explanation: str | None = Field(default=None, max_length=_TEXT)
    synonyms: list[str] | None = Field(default=None, max_length=50)


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=100)
    role: Role


class ApiKeyCreated(ApiKeyInfo):
    key: str = Field(description="The secret; shown only in this response")
