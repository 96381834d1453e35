"""The linked sub-schema a question needs: what linking hands to generation."""

from __future__ import annotations

from pydantic import BaseModel, Field

from schemakg.kernel.model import column_ref
from schemakg.retrieval.join_paths import JoinCondition


class RankedColumn(BaseModel):
    """One column of a question's ranking: its retriever score, and whether linking selected it."""

    column: str
    score: float
    normalised: float
    selected: bool


class ColumnFacts(BaseModel):
    """What the catalogue says about a column, as linking and generation use it."""

    table: str
    name: str
    data_type: str = ""
    description: str | None = None
    value_explanation: str | None = None
    examples: list[str] = Field(default_factory=list)
    is_pk: bool = False


class LinkedColumn(ColumnFacts):
    score: float = 0.0
    join_key: bool = False
    value_match: bool = False


class Dependency(BaseModel):
    head: str
    relation: str
    tail: str
    text: str | None = None


class SubjectArea(BaseModel):
    """A subject area of a large schema that linking focused on, and why: how well it covers the question."""

    name: str  # its namespaces (schemas, or ``prefix__``es), else its first table
    coverage: float  # of the question, plus its share of the column names the question spells out (identifiers)
    tables: list[str]  # its tables that cover the question best, best first: where columns were selected
    # The question's best similarity to the logged questions that read this area, where a query log covers it and
    # reordered the areas (``question_log``).
    log_similarity: float | None = None


class LinkedSchema(BaseModel):
    database: str
    dialect: str
    tables: list[str]
    table_descriptions: dict[str, str] = Field(default_factory=dict)
    columns: list[LinkedColumn]
    joins: list[JoinCondition] = Field(default_factory=list)
    paths: list[list[str]] = Field(default_factory=list)
    value_hints: list[str] = Field(default_factory=list)
    dependencies: list[Dependency] = Field(default_factory=list)
    # A large schema's subject areas that linking kept, best first (the focus); empty for a smaller schema.
    areas: list[SubjectArea] = Field(default_factory=list)

    def column_refs(self) -> list[str]:
        return [column_ref(c.table, c.name) for c in self.columns]


class TableMatch(BaseModel):
    """A table that makes a database a route for a question: the mean of its best columns' scores."""

    table: str
    score: float
    columns: list[str]  # the columns behind the score, best first


class Route(BaseModel):
    """A database a question that names none may be meant for (``retrieval.routing``), and why."""

    database: str
    # Coverage, plus its share of the column names the question spells out and of its ``values``, less what its
    # sampled values' lacking the question's literals took (``lacks``).
    score: float
    tables: list[TableMatch]  # the best tables, best first: why this database
    rerank_score: float | None = None  # the area reranker's final score (combined), for those it rescored
    # The question's best similarity to this database's logged questions, for the best routes a query log covers
    # and reordered (``question_log``).
    log_similarity: float | None = None
    # The values the question writes as literals that this database holds ("'Linda Smith' is a value of
    # player.name"), which added to its score (``Linker.named_shares``).
    values: list[str] = Field(default_factory=list)
    # When its sampled values hold none of the literals the question writes: which, and what that took from its
    # score ("none of 'the imitation game' is among its sampled values (-0.15)"; ``Linker.literal_absences``: the
    # more of its values were sampled in full, the more).
    lacks: str | None = None
    # Only ever the first route: it leads every other database's coverage (plus the shares of the names and values
    # the question writes) by routing.DECIDED or more, and is first by score too (or is the only one).
    decided: bool = False
