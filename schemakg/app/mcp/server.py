"""The MCP tools and resources: a thin face over the container's services, as the HTTP routers are.

Every tool calls one service method; a service's refusal (unknown database, empty question, a role that may
not) comes back to the agent as a tool error with the service's message, never as a crash.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated, Literal, ParamSpec, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ResourceError, ResourceNotFoundError, ToolError
from mcp_types import ToolAnnotations
from pydantic import BaseModel, Field

from schemakg.app.container import Container
from schemakg.app.services.keys import KeyService
from schemakg.generation.answer import AskRequest, RoutedAskResult
from schemakg.generation.llm.base import LLMError
from schemakg.kernel.errors import NotFound, ServiceError
from schemakg.kernel.model import (
    ApiKeyInfo,
    ColumnInfo,
    DatabaseInfo,
    ForeignKeyInfo,
    Page,
    Proposal,
    Question,
    Role,
    SearchHit,
    TableInfo,
)
from schemakg.retrieval.linked_schema import LinkedSchema, Route

# Who is calling: the HTTP transport's authenticated key, or the principal ``schemakg mcp`` was started as.
PrincipalOf = Callable[[Context], ApiKeyInfo]

P = ParamSpec("P")
R = TypeVar("R")

Name = Annotated[str, Field(min_length=1, max_length=200)]
Among = Annotated[
    list[Name] | None, Field(max_length=1000, description="route among these only (default: every registered one)")
]
Evidence = Annotated[str | None, Field(max_length=4000, description="optional hints, e.g. 'rich means salary > 10000'")]

INSTRUCTIONS = """\
SchemaKG is a catalogue of SQL databases: their tables, columns, curated descriptions and join paths.
Start with list_databases. To find where something lives, use search_schema; to read one table, describe_table.
When you do not know which database answers a question, route_question ranks them and says why (their best tables).
To write SQL yourself, call link_question: it returns the small part of the schema a question needs (tables,
columns with descriptions and example values, join conditions, value hints) without calling an LLM.
To get an answer, call ask: the service writes SQL, checks it is read-only and returns the SQL and its rows
(without a database it routes the question first and answers on the best one).
When you learn what a column means, propose_description puts it in the stewards' review queue (steward keys)."""


class Routes(BaseModel):
    routes: list[Route] = Field(description="best first; each with its coverage of the question and its best tables")


class TableDescription(BaseModel):
    table: TableInfo
    columns: Page[ColumnInfo] = Field(description="the table's columns, in their order")
    foreign_keys: list[ForeignKeyInfo] = Field(description="foreign keys from this table or to it")


def _answers(fn: Callable[P, R]) -> Callable[P, R]:
    """A service's refusal (and an unreachable LLM) becomes a tool error carrying its message."""

    @functools.wraps(fn)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except (ServiceError, LLMError) as exc:
            raise ToolError(exc.message) from exc

    return call


@contextmanager
def _resource_errors() -> Iterator[None]:
    try:
        yield
    except NotFound as exc:
        raise ResourceNotFoundError(exc.message) from exc
    except ServiceError as exc:
        raise ResourceError(exc.message) from exc


def describe(app: Container, database: str, table: str) -> TableDescription:
    info = app.browser.table(database, table)
    keys = [fk for fk in app.browser.foreign_keys(database) if info.name in (fk.table, fk.ref_table)]
    return TableDescription(table=info, columns=app.browser.columns(database, info.name, 0, 500), foreign_keys=keys)


def build_server(services: Callable[[], Container], principal_of: PrincipalOf) -> MCPServer:
    """``services`` gives the container when a call arrives (the HTTP app builds its container at start-up);
    every caller is at least an analyst, so only tools that need more check the role."""
    server: MCPServer = MCPServer("schemakg", instructions=INSTRUCTIONS, version="0.1.0", log_level="WARNING")
    read_only = ToolAnnotations(read_only_hint=True, open_world_hint=False)

    @server.tool(annotations=read_only)
    @_answers
    def list_databases(
        offset: Annotated[int, Field(ge=0, le=2**31 - 1)] = 0, limit: Annotated[int, Field(ge=1, le=500)] = 100
    ) -> Page[DatabaseInfo]:
        """The registered databases (name, SQL dialect, description, table count). Call this first: every other
        tool takes one of these names as `database`."""
        return services().databases.list(offset, limit)

    @server.tool(annotations=read_only)
    @_answers
    def search_schema(
        query: Annotated[str, Field(min_length=1, max_length=200, description="words to look for")],
        database: Annotated[str | None, Field(description="only this database (default: all)")] = None,
        kind: Annotated[Literal["table", "column"] | None, Field(description="only tables or only columns")] = None,
        limit: Annotated[int, Field(ge=1, le=200)] = 20,
    ) -> list[SearchHit]:
        """Full-text search over table and column names and descriptions, best first. Use it to find which
        database or table holds something (e.g. 'salary', 'order date'); it does not answer questions."""
        return services().browser.search(query, database, kind, limit)

    @server.tool(annotations=read_only)
    @_answers
    def describe_table(database: Name, table: Name) -> TableDescription:
        """One table: its description, every column (type, key, description, value explanation, synonyms) and the
        foreign keys from or to it. Use it to read a table you found with search_schema or link_question."""
        return describe(services(), database, table)

    @server.tool(annotations=read_only)
    @_answers
    def link_question(database: Name, question: Question, evidence: Evidence = None) -> LinkedSchema:
        """The part of a database's schema a question needs, for writing SQL yourself: the linked tables and
        columns (with descriptions and example values), join conditions and paths between the tables, and value
        hints (question words found in the data). Fast and without an LLM. Prefer it to ask when you will write
        or adapt the SQL; use ask when you want the service to answer."""
        return services().linking.link(database, question, evidence).schema_

    @server.tool(annotations=read_only)
    @_answers
    def route_question(
        question: Question,
        evidence: Evidence = None,
        databases: Among = None,
        top: Annotated[int, Field(ge=1, le=50, description="how many databases to return")] = 3,
    ) -> Routes:
        """The databases best placed to answer a question that names none, best first, each with its best tables
        and their matching columns (why it was chosen). `decided` on the first means it clearly leads; otherwise
        look at the alternatives, or ask the user which was meant. No LLM, fast."""
        return Routes(routes=services().linking.route(question, evidence, databases, top))

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False, idempotent_hint=False))
    @_answers
    def ask(
        question: Question,
        database: Annotated[
            str | None, Field(min_length=1, max_length=200, description="default: routed to the best one")
        ] = None,
        evidence: Evidence = None,
        execute: Annotated[bool, Field(description="run the SQL and return rows (false: the SQL only)")] = True,
        databases: Among = None,
    ) -> RoutedAskResult:
        """Answer a question on one database: the service links the schema, has its LLM write SQL, checks that the
        SQL only reads (anything else is refused, never run) and returns the SQL with its rows (capped; see
        `truncated`). Without a database the question is routed first: `database` says where it was answered and
        `routes` lists the alternatives. Takes seconds. Read `refused` and `error` before trusting `rows`."""
        if database is not None and databases:
            raise ToolError("name a database or route among databases, not both")
        request = AskRequest(question=question, evidence=evidence, execute=execute)
        if database is None:
            return services().answering.ask_catalogue(request, databases)
        answer = services().answering.ask(database, request)
        return RoutedAskResult(**answer.model_dump(), database=database)

    @server.tool(annotations=ToolAnnotations(read_only_hint=False, destructive_hint=False, idempotent_hint=True))
    @_answers
    def propose_description(
        database: Name,
        table: Name,
        column: Name,
        description: Annotated[str, Field(min_length=1, max_length=4000, description="what the column means")],
        ctx: Context,
        question: Annotated[str, Field(max_length=2000, description="the question that taught you this")] = "",
        sql: Annotated[str, Field(max_length=20000, description="the SQL that showed it, if any")] = "",
    ) -> Proposal:
        """Propose a description for a column (e.g. what its codes mean) after you found it out. It is not
        applied: it waits in the stewards' review queue. Needs a steward key, like starting knowledge completion
        over the REST API."""
        principal = principal_of(ctx)
        KeyService.authorize(principal, Role.STEWARD)
        return services().proposals.propose_description(
            database, table, column, description, f"mcp:{principal.name}", question, sql
        )

    @server.resource("schemakg://databases", name="databases", mime_type="application/json")
    def databases_resource() -> str:
        """The registered databases."""
        return services().databases.list(0, 500).model_dump_json()

    @server.resource("schemakg://databases/{database}", name="database tables", mime_type="application/json")
    def tables_resource(database: str) -> str:
        """A database's tables, with their descriptions."""
        with _resource_errors():
            return services().browser.tables(database, 0, 500).model_dump_json()

    @server.resource("schemakg://databases/{database}/tables/{table}", name="table", mime_type="application/json")
    def table_resource(database: str, table: str) -> str:
        """A table with its columns and foreign keys, as describe_table gives it."""
        with _resource_errors():
            return describe(services(), database, table).model_dump_json()

    return server
