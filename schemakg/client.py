"""The Python client of the SchemaKG HTTP API: ``from schemakg import Client``.

Typed methods over httpx that send and read the API's own pydantic models; an error answer raises
:class:`ApiError` with its status and message. The API key travels in the ``Authorization`` header only.
"""

from __future__ import annotations

import os
import time
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BaseModel, TypeAdapter

from schemakg.app.api.schemas import (
    CatalogueRetrieveRequest,
    ColumnEdit,
    DatabaseCreate,
    RetrieveRequest,
    RetrieveResponse,
    RoutedRetrieveResponse,
    TableEdit,
)
from schemakg.kernel.model import (
    ColumnInfo,
    DatabaseInfo,
    JobInfo,
    JobState,
    Page,
    Proposal,
    ProposalState,
    SearchHit,
    TableInfo,
)

if TYPE_CHECKING:
    from schemakg.generation.answer import AskResult, RoutedAskResult

M = TypeVar("M", bound=BaseModel)
_ENDED = frozenset(JobState) - {JobState.QUEUED, JobState.RUNNING}


class ApiError(Exception):
    """The service answered with an error: ``status`` (404, 412, …), ``code`` (``not_found``, …), ``message``
    and ``details`` from its JSON body."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


def _path(*segments: str) -> str:
    """Names may hold ``/``, ``%`` or spaces: each segment travels percent-encoded, as the API expects."""
    return "/" + "/".join(quote(segment, safe="") for segment in segments)


def _if_match(revision: int | None) -> dict[str, str]:
    """The precondition of an edit: the revision read (the API's ETag is ``"r<revision>"``)."""
    return {} if revision is None else {"If-Match": f'"r{revision}"'}


class Client:
    """A connection to a SchemaKG service. ``api_key`` defaults to ``$SCHEMAKG_API_KEY``.

    >>> with Client("http://127.0.0.1:8000", api_key="skg_...") as kg:
    ...     kg.ask("hr", "How many employees are there?").rows
    """

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        api_key: str | None = None,
        *,
        timeout: float = 300.0,
    ) -> None:
        key = api_key or os.environ.get("SCHEMAKG_API_KEY")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(base_url=base_url, headers=headers, timeout=timeout)

    def __repr__(self) -> str:
        return f"Client({str(self._http.base_url)!r})"

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._http.request(method, path, **kwargs)
        if response.is_success:
            return response
        try:
            error = response.json()["error"]
            raise ApiError(response.status_code, error["code"], error["message"], error.get("details"))
        except (ValueError, KeyError, TypeError):  # not the API's error body (a proxy's page, say)
            raise ApiError(response.status_code, "http_error", response.reason_phrase) from None

    def _get(self, model: type[M], path: str, **params: Any) -> M:
        query = {k: v for k, v in params.items() if v is not None}
        return model.model_validate(self._call("GET", path, params=query).json())

    def _post(self, model: type[M], path: str, body: BaseModel | dict[str, Any] | None = None) -> M:
        payload = body.model_dump(mode="json", exclude_unset=True) if isinstance(body, BaseModel) else body
        return model.model_validate(self._call("POST", path, json=payload).json())

    # Databases
    def databases(self, offset: int = 0, limit: int = 50) -> Page[DatabaseInfo]:
        return self._get(Page[DatabaseInfo], "/databases", offset=offset, limit=limit)

    def database(self, name: str) -> DatabaseInfo:
        return self._get(DatabaseInfo, _path("databases", name))

    def register_database(self, name: str, url: str, description: str | None = None) -> DatabaseInfo:
        """Admin. The URL is kept as a secret; the answer shows it with the password masked."""
        return self._post(DatabaseInfo, "/databases", DatabaseCreate(name=name, url=url, description=description))

    def delete_database(self, name: str) -> None:
        self._call("DELETE", _path("databases", name))

    def ingest(self, database: str) -> JobInfo:
        """Steward. Reads the source's schema as a job; :meth:`wait_for_job` waits for it."""
        return self._post(JobInfo, _path("databases", database, "ingest"))

    # The catalogue
    def tables(self, database: str, offset: int = 0, limit: int = 50) -> Page[TableInfo]:
        return self._get(Page[TableInfo], _path("databases", database, "tables"), offset=offset, limit=limit)

    def table(self, database: str, table: str) -> TableInfo:
        return self._get(TableInfo, _path("databases", database, "tables", table))

    def columns(self, database: str, table: str, offset: int = 0, limit: int = 100) -> Page[ColumnInfo]:
        path = _path("databases", database, "tables", table, "columns")
        return self._get(Page[ColumnInfo], path, offset=offset, limit=limit)

    def column(self, database: str, table: str, column: str) -> ColumnInfo:
        return self._get(ColumnInfo, _path("databases", database, "tables", table, "columns", column))

    def search(
        self, query: str, database: str | None = None, kind: Literal["table", "column"] | None = None, limit: int = 20
    ) -> list[SearchHit]:
        params = {"q": query, "database": database, "kind": kind, "limit": limit}
        response = self._call("GET", "/search", params={k: v for k, v in params.items() if v is not None})
        return TypeAdapter(list[SearchHit]).validate_python(response.json())

    def edit_table(self, database: str, table: str, *, revision: int | None = None, **fields: Any) -> TableInfo:
        """Steward. ``revision``: the one you read (``table(...).revision``); someone else's edit since then is
        an :class:`ApiError` 412 rather than a lost update. Fields: ``description``."""
        body = TableEdit(**fields).model_dump(exclude_unset=True)
        path = _path("databases", database, "tables", table)
        return TableInfo.model_validate(self._call("PATCH", path, json=body, headers=_if_match(revision)).json())

    def edit_column(
        self, database: str, table: str, column: str, *, revision: int | None = None, **fields: Any
    ) -> ColumnInfo:
        """Steward; ``revision`` as for :meth:`edit_table`. Fields: ``description``, ``value_explanation``,
        ``synonyms``."""
        body = ColumnEdit(**fields).model_dump(exclude_unset=True)
        path = _path("databases", database, "tables", table, "columns", column)
        return ColumnInfo.model_validate(self._call("PATCH", path, json=body, headers=_if_match(revision)).json())

    # Linking and answering
    def retrieve(
        self, database: str, question: str, evidence: str | None = None, top: int = 30, mode: str | None = None
    ) -> RetrieveResponse:
        """The ranked columns, the selected ones and the linked sub-schema; no LLM."""
        body = RetrieveRequest(question=question, evidence=evidence, top=top, mode=mode)
        return self._post(RetrieveResponse, _path("databases", database, "retrieve"), body)

    def retrieve_catalogue(
        self,
        question: str,
        evidence: str | None = None,
        databases: list[str] | None = None,
        routes: int = 3,
        top: int = 30,
        mode: str | None = None,
    ) -> RoutedRetrieveResponse:
        """A question that names no database: the best ``routes`` databases (among ``databases``, or all) with
        their best tables, and :meth:`retrieve` in the first."""
        body = CatalogueRetrieveRequest(
            question=question, evidence=evidence, databases=databases, routes=routes, top=top, mode=mode
        )
        return self._post(RoutedRetrieveResponse, "/retrieve", body)

    def ask(self, database: str, question: str, evidence: str | None = None, execute: bool = True) -> AskResult:
        """SQL for the question, checked read-only, with its rows (``execute=False``: the SQL only)."""
        from schemakg.generation.answer import AskRequest, AskResult  # sqlglot loads for the methods that ask

        body = AskRequest(question=question, evidence=evidence, execute=execute)
        return self._post(AskResult, _path("databases", database, "ask"), body)

    def ask_catalogue(
        self, question: str, evidence: str | None = None, execute: bool = True, databases: list[str] | None = None
    ) -> RoutedAskResult:
        """A question that names no database: routed (among ``databases``, or all) and answered on the best one;
        ``database`` says which, ``routes`` the alternatives."""
        from schemakg.generation.answer import AskRequest, RoutedAskResult

        body = AskRequest(question=question, evidence=evidence, execute=execute).model_dump(mode="json")
        return self._post(RoutedAskResult, "/ask", {**body, "databases": databases})

    # Knowledge proposals (stewards)
    def start_completion(self, database: str, limit: int | None = None, only_new: bool = True) -> JobInfo:
        """LLM proposals from the database's query log, as a job."""
        body = {"limit": limit, "only_new": only_new}
        return self._post(JobInfo, _path("databases", database, "knowledge-completion"), body)

    def proposals(
        self, database: str, state: ProposalState | None = None, offset: int = 0, limit: int = 50
    ) -> Page[Proposal]:
        path = _path("databases", database, "proposals")
        return self._get(Page[Proposal], path, state=state.value if state else None, offset=offset, limit=limit)

    def approve(self, proposal_id: str) -> Proposal:
        return self._post(Proposal, _path("proposals", proposal_id, "approve"))

    def reject(self, proposal_id: str) -> Proposal:
        return self._post(Proposal, _path("proposals", proposal_id, "reject"))

    # Jobs
    def jobs(self, database: str | None = None, offset: int = 0, limit: int = 50) -> Page[JobInfo]:
        return self._get(Page[JobInfo], "/jobs", database=database, offset=offset, limit=limit)

    def job(self, job_id: str) -> JobInfo:
        return self._get(JobInfo, _path("jobs", job_id))

    def wait_for_job(self, job: JobInfo | str, timeout_s: float = 600.0, poll_s: float = 0.5) -> JobInfo:
        """The job once it has ended (succeeded, with errors, or failed: read ``state``); ``TimeoutError`` if it
        is still queued or running after ``timeout_s``."""
        job_id = job.id if isinstance(job, JobInfo) else job
        deadline = time.monotonic() + timeout_s
        while True:
            info = self.job(job_id)
            if info.state in _ENDED:
                return info
            if time.monotonic() >= deadline:
                raise TimeoutError(f"job {job_id} is still {info.state.value} after {timeout_s:g} s")
            time.sleep(poll_s)
