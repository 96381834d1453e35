"""Request bodies of the HTTP API (responses reuse schemakg.kernel.model)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from schemakg.kernel.model import NAME_PATTERN, ApiKeyInfo, Role

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
