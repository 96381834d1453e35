"""The catalogue's domain model: what the graph holds, as pydantic models at the boundaries."""

from __future__ import annotations

import re
from enum import Enum, StrEnum
from functools import lru_cache
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import AfterValidator, BaseModel, Field


def _has_words(text: str) -> str:
    if not text.strip():
        raise ValueError("the question is blank")
    return text


# A question asked of the service: every entry point (REST, MCP, CLI) takes the same bounds.
Question = Annotated[
    str,
    Field(min_length=1, max_length=2000, description="the question in plain language"),
    AfterValidator(_has_words),
]

NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,63}$"
_NAME_RE = re.compile(NAME_PATTERN)
_COLUMN_REF = re.compile(r"((?:[^\\.]|\\.)*)\.(.*)", re.DOTALL)  # escaped table part, first unescaped dot
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)


class Provenance(str, Enum):
    """Who last set a curated field; re-ingestion only touches ``ingested`` values."""

    INGESTED = "ingested"
    LLM = "llm"
    STEWARD = "steward"
    DBT = "dbt"  # a dbt project's documentation (schemakg import dbt); a steward's edit is never overwritten


class Role(str, Enum):
    ADMIN = "admin"
    STEWARD = "steward"
    ANALYST = "analyst"

    def allows(self, needed: Role) -> bool:
        order = [Role.ANALYST, Role.STEWARD, Role.ADMIN]
        return order.index(self) >= order.index(needed)


class EntityStatus(str, Enum):
    CURRENT = "current"
    REMOVED = "removed"


def valid_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))


def entity_key(*parts: str) -> str:
    """An injective node key: the parts joined by ``/``, each with ``\\`` and ``/`` escaped, so that
    ``a."b/c"`` and ``"a/b".c`` never share a key. Names keep their case: engines that tell ``Users`` from
    ``users`` (PostgreSQL, or SQLite for non-ASCII letters) get two nodes."""
    return "/".join(part.replace("\\", "\\\\").replace("/", "\\/") for part in parts)


def table_key(database: str, table: str) -> str:
    """Stable key: re-ingesting the same table MERGEs onto the same node."""
    return entity_key(database, table)


def column_key(database: str, table: str, column: str) -> str:
    return entity_key(database, table, column)


def column_ref(table: str, column: str) -> str:
    """A column as ``table.column``: the form of column references everywhere (the column index's keys,
    linked and retrieved columns, query-log examples and joins, proposals, foreign-key ``references``).

    Injective: ``\\`` and ``.`` in the table part are escaped with ``\\``, the column part is kept as it is,
    so a reference splits at its first unescaped dot. A schema-qualified table reads
    ``concert\\.singer.name``. References of tables without ``.`` or ``\\`` are exactly
    ``f"{table}.{column}"``, as they were before, whatever the column's name."""
    if "." not in table and "\\" not in table:
        return f"{table}.{column}"
    return table.replace("\\", "\\\\").replace(".", "\\.") + "." + column


def split_column_ref(ref: str) -> tuple[str, str]:
    """``(table, column)`` of a :func:`column_ref`: split at the first dot not escaped by ``\\``, the table
    part unescaped. ``ValueError`` when there is no such dot."""
    if "\\" not in ref:
        table, dot, column = ref.partition(".")
        if dot:
            return table, column
    elif split := _split_escaped(ref):
        return split
    raise ValueError(f"not a table.column reference: {ref!r}")


@lru_cache(maxsize=1 << 16)
def _split_escaped(ref: str) -> tuple[str, str] | None:
    """Cached: linking splits every column key of a catalogue for each question, and a schema-qualified
    catalogue's keys all take this regular-expression path (it tripled a PostgreSQL warehouse's selection)."""
    parts = _COLUMN_REF.match(ref)
    return (_ESCAPE.sub(r"\1", parts.group(1)), parts.group(2)) if parts else None


# --- what ingestion produces -------------------------------------------------------------


class ValueProfile(BaseModel):
    """Bounded statistics of one column's values, from a row sample."""

    examples: list[str] = Field(default_factory=list)
    top_values: list[str] = Field(default_factory=list)
    top_counts: list[int] = Field(default_factory=list)
    match_values: list[str] = Field(default_factory=list, description="distinct text values kept for value matching")
    distinct_estimate: int | None = None
    null_fraction: float | None = None
    sampled_rows: int = 0
    exact: bool = False  # the sample covered the whole table


class ColumnSnapshot(BaseModel):
    name: str
    data_type: str
    nullable: bool = True
    is_pk: bool = False
    comment: str | None = None
    ordinal: int = 0
    profile: ValueProfile | None = None


class ForeignKeySnapshot(BaseModel):
    table: str
    columns: list[str]
    ref_table: str
    ref_columns: list[str]


class TableSnapshot(BaseModel):
    name: str
    comment: str | None = None
    row_estimate: int | None = None
    columns: list[ColumnSnapshot]


class SchemaSnapshot(BaseModel):
    """Everything read from one source database in one ingestion, before any graph write."""

    dialect: str
    tables: list[TableSnapshot]
    foreign_keys: list[ForeignKeySnapshot]
    warnings: list[str] = Field(default_factory=list)


class IngestSummary(BaseModel):
    tables: int
    columns: int
    foreign_keys: int
    removed_tables: int
    removed_columns: int
    warnings: list[str] = Field(default_factory=list)


# --- what the catalogue serves ------------------------------------------------------------


class DatabaseInfo(BaseModel):
    name: str
    dialect: str
    url: str = Field(description="The connection URL with its password masked")
    description: str | None = None
    created_at: str
    last_ingested_at: str | None = None
    table_count: int = 0


class TableInfo(BaseModel):
    key: str
    database: str
    name: str
    description: str | None = None
    description_source: Provenance | None = None
    comment: str | None = None
    row_estimate: int | None = None
    status: EntityStatus = EntityStatus.CURRENT
    revision: int = 1
    column_count: int = 0


class ColumnInfo(BaseModel):
    key: str
    database: str
    table: str
    name: str
    data_type: str
    nullable: bool = True
    is_pk: bool = False
    ordinal: int = 0
    comment: str | None = None
    description: str | None = None
    description_source: Provenance | None = None
    value_explanation: str | None = None
    value_explanation_source: Provenance | None = None
    synonyms: list[str] = Field(default_factory=list)
    examples: list[str] = Field(default_factory=list)
    top_values: list[str] = Field(default_factory=list)
    match_values: list[str] = Field(default_factory=list, exclude=True)
    distinct_estimate: int | None = None
    null_fraction: float | None = None
    usage_count: int = 0
    key_hints: list[str] = Field(
        default_factory=list, description="what the dbt project's tests assert of the column: unique, not_null"
    )
    status: EntityStatus = EntityStatus.CURRENT
    revision: int = 1
    references: list[str] = Field(
        default_factory=list,
        description="table.column this column points to by FK (a table name's own '.' and '\\' escaped with '\\')",
    )


class ForeignKeyInfo(BaseModel):
    table: str
    column: str
    ref_table: str
    ref_column: str
    source: Literal["dbt"] | None = Field(
        default=None, description="'dbt': a dbt relationships test, where the database declares no key"
    )


class Revision(BaseModel):
    field: str
    old: Any = None
    new: Any = None
    who: str
    source: Provenance
    at: str


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    """One page of a listing: ``items`` from ``offset``, at most ``limit`` of them, out of ``total``."""

    items: list[T]
    total: int
    offset: int
    limit: int


class SearchHit(BaseModel):
    kind: str  # "table" | "column"
    database: str
    table: str
    column: str | None = None
    description: str | None = None
    score: float


class JobState(str, Enum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    SUCCEEDED_WITH_ERRORS = "succeeded_with_errors"
    FAILED = "failed"


class JobKind(StrEnum):
    """What a job does; each kind has one handler, a service method."""

    INGEST_SCHEMA = "ingest_schema"
    INGEST_QUERY_LOG = "ingest_query_log"
    COMPLETE_KNOWLEDGE = "complete_knowledge"
    ACTIVATE_RETRIEVER = "activate_retriever"
    IMPORT_DBT = "import_dbt"


class RetrieverInfo(BaseModel):
    """Which retriever serves, where it came from, and its validation figures (``GET /retriever``)."""

    version: str
    origin: Literal["shipped", "trained here", "zero-shot"]
    base_model: str
    adapter_bytes: int | None = Field(default=None, description="size of the stored adapter (LoRA + CNN heads)")
    validation: dict[str, Any] = Field(
        default_factory=dict, description="per validation source: column recall, strict recall, columns kept"
    )
    available: list[str] = Field(description="versions that can be activated, newest trained first")


class JobInfo(BaseModel):
    id: str
    kind: JobKind
    database: str | None = None
    state: JobState
    done: int = 0
    total: int = 0
    message: str | None = None
    error: str | None = None
    result: dict[str, Any] | None = None
    created_at: str
    updated_at: str
    runner: str | None = Field(default=None, description="'in-process' or 'celery'")
    owner: str | None = Field(default=None, description="host:pid of the process that runs an in-process job")
    heartbeat_at: str | None = Field(default=None, description="last sign of life of a running job")


class ApiKeyInfo(BaseModel):
    id: str
    name: str
    role: Role
    created_at: str


class ProposalKind(str, Enum):
    COLUMN_DESCRIPTION = "column_description"
    DEPENDENCY = "dependency"


class ProposalState(str, Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class Proposal(BaseModel):
    """LLM-extracted knowledge awaiting a steward's decision, with where it came from."""

    id: str
    database: str
    kind: ProposalKind
    state: ProposalState = ProposalState.PENDING
    column: str = Field(description="table.column the knowledge is about (the head of a dependency)")
    description: str | None = None
    relation: str | None = None
    tail: str | None = Field(default=None, description="table.column of a dependency's tail")
    text: str | None = None
    previous: str | None = Field(default=None, description="the column's description when proposed")
    similarity: float | None = Field(default=None, description="embedding similarity to the existing description")
    example_question: str
    example_sql: str
    example_source: str | None = None
    example_line: int | None = None
    model: str
    source: Provenance | None = Field(default=None, description="provenance once approved: llm when absent, or dbt")
    created_at: str
    decided_by: str | None = None
    decided_at: str | None = None
