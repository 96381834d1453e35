"""The curated catalogue as a file: ``schemakg-catalog`` version 1, in JSON or YAML (docs/catalogue-transfer.md).

Diff-friendly: keys sorted, lists in a stable order, nothing that changes from one export to the next unless
the catalogue did (no export time, no revision counters), no connection URL.
"""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_serializer,
)

from schemakg.kernel.errors import InvalidInput
from schemakg.kernel.model import EntityStatus, Proposal, Provenance

FORMAT = "schemakg-catalog"
VERSION = 1
Syntax = Literal["json", "yaml"]
MEDIA_TYPES: dict[str, str] = {"json": "application/json", "yaml": "application/yaml"}

_STRICT = ConfigDict(extra="forbid")


class TextValue(BaseModel):
    """A curated text field and who set it last."""

    model_config = _STRICT
    value: str | None = None
    source: Provenance | None = Field(default=None, description="ingested, llm, steward or dbt")


class ListValue(BaseModel):
    model_config = _STRICT
    value: list[str] | None = None
    source: Provenance | None = None


class TableFields(BaseModel):
    model_config = _STRICT
    description: TextValue | None = None


class ColumnFields(BaseModel):
    model_config = _STRICT
    description: TextValue | None = None
    value_explanation: TextValue | None = None
    synonyms: ListValue | None = None


class RevisionEntry(BaseModel):
    """One change of a curated field (or an approved dependency, field ``depends_on``), as the history API
    shows it."""

    model_config = _STRICT
    field: str
    old: Any = None
    new: Any = None
    who: str
    source: Provenance
    at: str = Field(description="ISO-8601 UTC time of the change")

    # No return annotation: with one, pydantic would describe the output as any object, not as this model.
    @model_serializer(mode="wrap")
    def _both_sides(self, handler: SerializerFunctionWrapHandler):
        """``old`` and ``new`` are always written, null included (a first value's ``old`` is null)."""
        data: dict[str, Any] = handler(self)
        return {"old": None, "new": None} | data


class DependencyEntry(BaseModel):
    """An approved DEPENDS_ON edge from this column to ``tail``."""

    model_config = _STRICT
    relation: str
    tail: str = Field(description="table.column (a table name's own '.' and '\\' escaped with '\\')")
    text: str | None = None
    source: str | None = None
    proposal: str | None = Field(default=None, description="the approved proposal it came from")


class ColumnEntry(BaseModel):
    model_config = _STRICT
    name: str
    status: EntityStatus = EntityStatus.CURRENT
    fields: ColumnFields = Field(default_factory=ColumnFields)
    dependencies: list[DependencyEntry] = Field(default_factory=list)
    history: list[RevisionEntry] = Field(default_factory=list, description="oldest first")


class TableEntry(BaseModel):
    model_config = _STRICT
    name: str
    status: EntityStatus = EntityStatus.CURRENT
    fields: TableFields = Field(default_factory=TableFields)
    history: list[RevisionEntry] = Field(default_factory=list, description="oldest first")
    columns: list[ColumnEntry] = Field(default_factory=list, description="those holding curation, by name")


class DatabaseEntry(BaseModel):
    model_config = _STRICT
    name: str
    dialect: str | None = None
    tables: list[TableEntry] = Field(default_factory=list, description="those holding curation, by name")
    proposals: list[Proposal] = Field(default_factory=list, description="approved knowledge proposals, by id")


class CatalogDocument(BaseModel):
    """A curated catalogue: per database, the tables and columns that hold curation, with provenance and
    history, and the approved proposals. Never a connection URL."""

    model_config = _STRICT
    format: str = Field(description=f"always {FORMAT!r}", json_schema_extra={"enum": [FORMAT]})
    version: int = Field(
        description=f"the format's version; this release reads and writes {VERSION}",
        json_schema_extra={"enum": [VERSION]},
    )
    databases: list[DatabaseEntry] = Field(default_factory=list, description="by name")

    @field_validator("format", "version")
    @classmethod
    def _known(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name == "format" and value != FORMAT:
            raise ValueError(f"not a SchemaKG catalogue: format must be {FORMAT!r}")
        if info.field_name == "version" and value != VERSION:
            raise ValueError(f"catalogue version {value} is not supported: this release reads version {VERSION}")
        return value


def dump_document(document: CatalogDocument, syntax: Syntax = "json") -> str:
    """The document as text: sorted keys, two-space indents, a final newline; unset fields left out."""
    data = document.model_dump(mode="json", exclude_none=True)
    if syntax == "yaml":
        import yaml

        return str(yaml.safe_dump(data, sort_keys=True, allow_unicode=True, default_flow_style=False, width=100))
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def parse_document(text: str | bytes) -> CatalogDocument:
    """A document from JSON or YAML text; ``InvalidInput`` naming the first problem when it is not one."""
    try:
        data = json.loads(text)
    except ValueError as json_error:
        data = _yaml_or_none(text)
        if data is None:
            raise InvalidInput(f"not a JSON or YAML document: {json_error}") from json_error
    if not isinstance(data, dict):
        raise InvalidInput(f"not a SchemaKG catalogue: the document is a {type(data).__name__}, not an object")
    if "format" not in data or "version" not in data:
        raise InvalidInput(f"not a SchemaKG catalogue: it needs 'format': {FORMAT!r} and 'version': {VERSION}")
    try:
        return CatalogDocument.model_validate(data)
    except ValidationError as exc:
        problems = [
            {"location": [str(p) for p in err["loc"]], "problem": err["msg"].removeprefix("Value error, ")}
            for err in exc.errors()
        ]
        first = problems[0]
        raise InvalidInput(f"{'.'.join(first['location'])}: {first['problem']}", problems) from exc


def _yaml_or_none(text: str | bytes) -> Any:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError:
        return None
    return data if isinstance(data, dict) else None
