"""Linking questions to the catalogue: builds each database's linking context from the graph,
keeps the retriever's column index in step with the catalogue, and serves retrieval."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from schemakg.app.job_runner import JobReporter, TaskFailed
from schemakg.app.services.jobs import JobService
from schemakg.app.services.question_logs import QuestionLogs
from schemakg.generation.llm.base import ChatModel
from schemakg.generation.table_picker import LLMTablePicker
from schemakg.kernel.errors import InvalidInput, NotFound
from schemakg.kernel.model import JobInfo, JobKind, RetrieverInfo, split_column_ref
from schemakg.kernel.progress import Progress
from schemakg.kernel.settings import Settings
from schemakg.kernel.store.examples_repo import QueryExampleRepository
from schemakg.kernel.store.proposals_repo import ProposalRepository
from schemakg.kernel.store.schema_repo import SchemaRepository
from schemakg.retrieval.column_docs import question_text
from schemakg.retrieval.join_paths import JOIN_MODES, ColumnRef, JoinMode
from schemakg.retrieval.linked_schema import Dependency, RankedColumn, Route
from schemakg.retrieval.linker import (
    FOCUS_MIN_TABLES,
    ContextColumn,
    DatabaseContext,
    Linker,
    LinkerSettings,
    LinkResult,
)
from schemakg.retrieval.routing import route
from schemakg.retrieval.value_match import judged_literals

if TYPE_CHECKING:
    from schemakg.retrieval.area_reranker import AreaReranker
    from schemakg.retrieval.index import ScoredColumn
    from schemakg.retrieval.question_log import LogSimilarity

# A route shows at most this many of the literal values that the question names and its database holds.
ROUTE_VALUES = 5


@dataclass(frozen=True)
class Retrieval:
    """One question's ranked columns (the best ``top``), the selected ones and the linked sub-schema."""

    ranked: list[RankedColumn]
    selected: list[str]
    link: LinkResult


def _ref(text: str) -> ColumnRef:
    return split_column_ref(text.strip())


class LinkingService:
    def __init__(
        self,
        settings: Settings,
        catalog: SchemaRepository,
        proposals: ProposalRepository,
        examples: QueryExampleRepository,
        logs: QuestionLogs,
        jobs: JobService,
        llm: Callable[[], ChatModel],
    ) -> None:
        self._llm = llm
        self.settings = settings
        self.catalog = catalog
        self.proposals = proposals
        self.examples = examples
        self.logs = logs
        self.jobs = jobs
        self._linker: Linker | None = None
        self._version: str | None = None
        self._contexts: dict[str, DatabaseContext] = {}
        self._lock = threading.Lock()
        self._reranker: AreaReranker | None = None
        self._reranker_lock = threading.Lock()

    @property
    def linker(self) -> Linker:
        """The newest activated retriever (or the zero-shot one); a model activated by any process is picked up."""
        from schemakg.retrieval.artifacts import active_version  # torch loads here, not at import
        from schemakg.retrieval.retriever import ColumnRetriever

        with self._lock:
            version = active_version(self.settings.data_dir)
            if self._linker is None or version != self._version:
                if self._linker is not None:
                    self._linker.retriever.close()
                retriever = ColumnRetriever.open(
                    self.settings.data_dir,
                    cache_mb=self.settings.index_cache_mb,
                    max_batch=self.settings.retrieval_max_batch,
                    batch_wait_ms=self.settings.retrieval_batch_wait_ms,
                    scoring_threads=self.settings.retrieval_scoring_threads,
                )
                picker = LLMTablePicker(self._llm()) if self.settings.linking_table_picker != "off" else None
                self._linker = Linker(
                    retriever,
                    LinkerSettings(
                        value_matching=self.settings.value_matching,
                        primary_keys=self.settings.linking_primary_keys,
                        table_picker=self.settings.linking_table_picker,
                        region_margin=self.settings.linking_region_margin,
                        steiner_above=self.settings.linking_steiner_above,
                        rerank_areas=self.settings.linking_rerank_areas,
                        rerank_margin=self.settings.linking_rerank_margin,
                        area_tables=self.settings.linking_area_tables,
                        table_margin=self.settings.linking_table_margin,
                        schema_tables=self.settings.linking_schema_tables,
                        identifier_weight=self.settings.linking_identifier_weight,
                        literal_value_weight=self.settings.routing_literal_value_weight,
                        literal_absence_weight=self.settings.routing_literal_absence_weight,
                        log_weight=self.settings.linking_log_weight,
                    ),
                    picker,
                    self.area_reranker() if self.settings.linking_rerank_areas > 1 else None,
                )
                self._version = version
            return self._linker

    def area_reranker(self) -> AreaReranker:
        """The shipped area reranker, loaded on first use (routing, or focusing when that is on), so that
        questions to one database never pay for it."""
        from schemakg.retrieval.area_reranker import AreaReranker

        with self._reranker_lock:
            if self._reranker is None:
                self._reranker = AreaReranker.load()
            return self._reranker

    def close(self) -> None:
        """Stop the retriever's batching worker."""
        with self._lock:
            if self._linker is not None:
                self._linker.retriever.close()

    def warm(self, database: str) -> int:
        """Bring one database's linking state up to date and into memory: its context, its column index
        (encoding what changed), join graph and value index, its cached index blocks; then link one
        question end to end, so the first real one pays for nothing. Returns the number of columns."""
        context = self.context(database)
        linker = self.linker
        linker.prepare(context)
        linker.retriever.index.warm(database)
        if self.settings.linking_log_weight:
            self.logs.get(database, context.version)  # its query log embedded, if it has one
        self.retrieve(database, "Which rows have the largest value, and what are their names?")
        return len(context.columns)

    def forget(self, database: str) -> None:
        """Drop everything linking keeps for a deleted database: its cached context and its column vectors."""
        from schemakg.retrieval.paths import drop_database

        with self._lock:
            self._contexts.pop(database, None)
            if self._linker is not None:
                self._linker.retriever.index.drop(database)
        drop_database(database, self.settings.data_dir)

    def retriever_info(self) -> RetrieverInfo:
        from schemakg.retrieval.artifacts import describe

        return describe(self.settings.data_dir)

    def start_activation(self, version: str) -> JobInfo:
        """Activate a trained retriever version and rebuild the column index with it, as a job."""
        if version not in self.retriever_info().available:
            raise NotFound(f"no retriever version {version!r}; GET /retriever lists the available ones")
        return self.jobs.start(JobKind.ACTIVATE_RETRIEVER, None, {"version": version})

    def run_activation(self, reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
        """The ``activate_retriever`` job."""
        from schemakg.retrieval.artifacts import activate

        try:
            activate(payload["version"], self.settings.data_dir)
        except FileNotFoundError as exc:
            raise TaskFailed(str(exc)) from exc
        encoded = self.rebuild_index(reporter.progress)
        return {"version": payload["version"], "databases": len(encoded), "columns_encoded": sum(encoded.values())}

    def rebuild_index(self, progress: Progress) -> dict[str, int]:
        """Encode every database's columns with the active model (after an activation)."""
        names = self.catalog.database_names()
        encoded = {}
        for index, name in enumerate(names):
            context = self.context(name)
            encoded[name] = self.linker.retriever.sync(name, [c.doc(name) for c in context.columns])
            progress(index + 1, len(names), f"indexed {name}")
        return encoded

    def context(self, database: str, version: str | None = None) -> DatabaseContext:
        """``version``: the catalogue version just read, when the caller has it (routing reads them all at once)."""
        token = version or self.catalog.version(database)  # NotFound for an unregistered database
        cached = self._contexts.get(database)
        if cached is not None and cached.version == token:
            return cached  # unchanged catalogue: skip re-reading every column
        info = self.catalog.require_database(database)
        columns, _ = self.catalog.list_columns(database, None, 0, 10**9)
        tables, _ = self.catalog.list_tables(database, 0, 10**9)
        context = DatabaseContext(
            database=database,
            dialect=info.dialect,
            version=token,
            columns=[
                ContextColumn(
                    table=c.table,
                    name=c.name,
                    data_type=c.data_type,
                    description=c.description,
                    value_explanation=c.value_explanation,
                    examples=c.examples,
                    match_values=c.match_values,
                    distinct_estimate=c.distinct_estimate,
                    is_pk=c.is_pk,
                )
                for c in columns
            ],
            foreign_keys=[
                ((f.table, f.column), (f.ref_table, f.ref_column)) for f in self.catalog.foreign_keys(database)
            ],
            log_joins=[tuple(_ref(side) for side in via.split(" = ", 1)) for via in self.examples.log_joins(database)],
            table_descriptions={t.name: t.description for t in tables if t.description},
            dependencies=[
                Dependency(**{k: v for k, v in d.items() if k != "source"})
                for d in self.proposals.dependencies(database)
            ],
        )
        self._contexts[database] = context
        return context

    def link(self, database: str, question: str, evidence: str | None = None, mode: str | None = None) -> LinkResult:
        if mode is not None and mode not in JOIN_MODES:
            raise InvalidInput(f"mode must be one of {', '.join(JOIN_MODES)}", {"field": "mode"})
        return self.link_context(self.context(database), question, evidence, mode)

    def link_context(
        self, context: DatabaseContext, question: str, evidence: str | None = None, mode: JoinMode | None = None
    ) -> LinkResult:
        """:meth:`link` for a context the caller already holds."""
        return self.linker.link(context, question, evidence, mode, log=self.question_log(context, question))

    def question_log(self, context: DatabaseContext, question: str) -> LogSimilarity | None:
        """The question's similarity to the database's logged questions where it orders subject areas: a large
        schema with a log, and the log's weight not 0."""
        if not self.settings.linking_log_weight or len(self.linker.prepare(context)[0].areas()) < FOCUS_MIN_TABLES:
            return None
        return self.logs.similarity({context.database: context.version}, question).get(context.database)

    def route(
        self, question: str, evidence: str | None = None, databases: Sequence[str] | None = None, top: int = 5
    ) -> list[Route]:
        """The registered databases (or those of ``databases``) best placed to answer ``question``, best first.

        A database not prepared at its current catalogue version (new to this process, or ingested, curated or
        logged since) is prepared first, its index brought up to date: one read checks every version."""
        names = list(dict.fromkeys(databases)) if databases else self.catalog.database_names()
        if not names:
            raise NotFound("no database is registered, so there is nothing to route the question to")
        versions = self.catalog.versions(names)
        unknown = [name for name in names if name not in versions]
        if unknown:
            raise NotFound(f"database {unknown[0]!r} is not registered")
        linker = self.linker
        for name in names:
            if not linker.prepared(name, versions[name]):
                linker.prepare(self.context(name, versions[name]))
        text = question_text(question, evidence)
        scores = linker.retriever.scores_many(names, text)
        rerank = self.settings.routing_rerank_databases
        reranker = self.area_reranker() if rerank > 1 else None
        literals = linker.literal_values(names, text)
        named = linker.named_shares(names, text, literals)
        absent = linker.literal_absences(text, literals)

        def logged(databases: list[str]) -> dict[str, float]:
            """The question's best similarity to each of ``databases``' logs, for those a log speaks for."""
            similarity = self.logs.similarity({name: versions[name] for name in databases}, question)
            return {name: best for name, log in similarity.items() if (best := log.best()) is not None}

        weight = self.settings.linking_log_weight
        if weight:
            self.logs.get_many(versions)  # every candidate's log up to date, as its index is: no read when unchanged
        routes = route(
            dict(zip(names, scores, strict=True)),
            top,
            text,
            reranker,
            rerank,
            named,
            logged if weight else None,
            weight,
            absent,
        )
        if not routes:
            raise NotFound("no registered database has an indexed column to route the question to (ingest one)")
        written = ", ".join(map(repr, judged_literals(text)[:ROUTE_VALUES])) if absent else ""
        for r in routes:
            r.values = [m.hint() for m in literals.get(r.database, [])[:ROUTE_VALUES]]
            if r.database in absent:
                r.lacks = f"none of {written} is among its sampled values (-{absent[r.database]:.2f})"
        return routes

    def retrieve_catalogue(
        self,
        question: str,
        evidence: str | None = None,
        databases: Sequence[str] | None = None,
        routes: int = 3,
        mode: str | None = None,
        top: int = 30,
    ) -> tuple[list[Route], Retrieval]:
        """A question that names no database: routed (among ``databases``, or all), then retrieved in the best."""
        ranked = self.route(question, evidence, databases, routes)
        return ranked, self.retrieve(ranked[0].database, question, evidence, mode, top)

    def retrieve(
        self, database: str, question: str, evidence: str | None = None, mode: str | None = None, top: int = 30
    ) -> Retrieval:
        """Ranking, selection and linking of one question, from one encoding and one pass over the index."""
        if mode is not None and mode not in JOIN_MODES:
            raise InvalidInput(f"mode must be one of {', '.join(JOIN_MODES)}", {"field": "mode"})
        context = self.context(database)
        linker = self.linker
        linker.prepare(context)
        started = time.perf_counter()
        scores = linker.retriever.scores(database, question_text(question, evidence))
        retrieve_ms = round((time.perf_counter() - started) * 1000, 2)
        result = linker.link(context, question, evidence, mode, scores=scores, log=self.question_log(context, question))
        result.timings_ms = {"prepare": result.timings_ms.pop("prepare"), "retrieve": retrieve_ms, **result.timings_ms}
        return Retrieval(ranked=_ranked(scores.ranked(top), result.retrieved), selected=result.retrieved, link=result)


def _ranked(ranked: list[ScoredColumn], selected: list[str]) -> list[RankedColumn]:
    keys = set(selected)
    return [RankedColumn(column=s.key, score=s.score, normalised=s.normalised, selected=s.key in keys) for s in ranked]
