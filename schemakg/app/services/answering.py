"""Analysts' questions: the composition of linking, past examples, the LLM and the guard."""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence

import numpy as np

from schemakg.app.services.linking import LinkingService
from schemakg.app.services.question_logs import QuestionLogs
from schemakg.generation.answer import Answerer, AskOptions, AskRequest, AskResult, PastExample, RoutedAskResult
from schemakg.generation.example_selection import mask_question, name_words
from schemakg.generation.llm.base import ChatModel
from schemakg.generation.llm.factory import backend_for
from schemakg.kernel.errors import NotFound, SourceUnavailable
from schemakg.kernel.secrets import SecretStore
from schemakg.kernel.settings import Settings
from schemakg.kernel.sources import SourceDatabase, SourceError
from schemakg.retrieval.join_paths import JoinCondition
from schemakg.retrieval.linked_schema import LinkedColumn, LinkedSchema
from schemakg.retrieval.linker import DatabaseContext


def full_schema(context: DatabaseContext) -> LinkedSchema:
    """Every table and column, with FK joins: the baseline without linking."""
    tables = list(dict.fromkeys(c.table for c in context.columns))
    return LinkedSchema(
        database=context.database,
        dialect=context.dialect,
        tables=tables,
        table_descriptions=context.table_descriptions,
        columns=[LinkedColumn(**c.model_dump(exclude={"match_values"}), join_key=True) for c in context.columns],
        joins=[JoinCondition(left=a, right=b, source="fk") for a, b in context.foreign_keys],
        dependencies=context.dependencies,
    )


def evidence_by_default(settings: Settings) -> bool:
    """Whether answers generate evidence when the caller gives none (``SCHEMAKG_ASK_EVIDENCE``)."""
    if settings.ask_evidence == "auto":
        return backend_for(settings) == "openai"
    return settings.ask_evidence == "on"


class PastExamples:
    """The logged questions most similar to a new one: by sentence embedding of the question, mixed with
    that of the question with its schema words and values masked (``example_selection``). Each logged
    question is masked with the names its own SQL reads (``QuestionLogs``)."""

    def __init__(self, logs: QuestionLogs, masked_weight: float) -> None:
        self.logs = logs
        self.masked_weight = masked_weight

    def similar(
        self,
        context: DatabaseContext,
        question: str,
        k: int,
        schema_names: Sequence[str],
        focus: Collection[str] = (),
    ) -> list[PastExample]:
        """The ``k`` best, never the question itself; ``schema_names``: the tables and columns linked to it.
        Examples that read only ``focus`` tables (the subject areas linking focused on) come first: on a
        warehouse, another area's example teaches the model another database's names."""
        log = self.logs.get(context.database, context.version) if k > 0 else None
        if log is None:
            return []
        plain, masked = self.logs.embedder.embed([question, mask_question(question, name_words(schema_names))])
        scores = (1 - self.masked_weight) * (log.plain @ plain) + self.masked_weight * (log.masked @ masked)
        order = [int(i) for i in np.argsort(-scores, kind="stable")]
        if focus:
            within = {table.lower() for table in focus}
            order.sort(key=lambda i: not (log.reads.tables[i] and log.reads.tables[i] <= within))
        itself = question.strip().lower()
        return [log.examples[i] for i in order if log.examples[i].question.strip().lower() != itself][:k]


class AskService:
    def __init__(
        self,
        settings: Settings,
        linking: LinkingService,
        secrets: SecretStore,
        logs: QuestionLogs,
        llm: ChatModel,
    ) -> None:
        self.settings = settings
        self.linking = linking
        self.secrets = secrets
        self.past = PastExamples(logs, settings.ask_masked_example_weight)
        self.llm = llm
        self._sources: dict[str, SourceDatabase] = {}
        self._lock = threading.Lock()

    def _source(self, database: str) -> SourceDatabase:
        with self._lock:
            if database not in self._sources:
                url = self.secrets.get(database)
                if url is None:
                    raise NotFound(f"database {database!r} has no stored connection")
                try:
                    self._sources[database] = SourceDatabase.from_settings(url, self.settings)
                except SourceError as exc:
                    raise SourceUnavailable(str(exc)) from exc
            return self._sources[database]

    def ask(self, database: str, request: AskRequest, options: AskOptions | None = None) -> AskResult:
        options = options or AskOptions(
            row_cap=self.settings.ask_row_cap,
            timeout_s=self.settings.ask_timeout_s,
            max_result_bytes=self.settings.ask_max_result_bytes,
            generate_evidence=evidence_by_default(self.settings),
            schema_view=self.settings.ask_schema_view,
            candidates=self.settings.ask_candidates,
            candidate_temperature=self.settings.ask_candidate_temperature,
            rescue_samples=self.settings.ask_rescue_samples,
            shape_check=self.settings.ask_shape_check,
            area_check=self.settings.ask_area_check,
        )
        context = self.linking.context(database)
        link = (
            self.linking.link_context(context, request.question, request.evidence, request.join_mode)
            if options.schema_view != "full"
            else None
        )
        full = full_schema(context)
        shown = link.schema_ if link is not None else full
        focus = (
            self.linking.linker.area_tables(context, link.schema_.areas)
            if link is not None and self.settings.ask_examples_from_focus
            else set()
        )
        past = self.past.similar(
            context, request.question, options.log_examples, shown.tables + [c.name for c in shown.columns], focus
        )
        source = self._source(database) if request.execute else None
        return Answerer(self.llm, options).answer(request, context, link, full, past, source)

    def ask_catalogue(
        self, request: AskRequest, databases: Sequence[str] | None = None, alternatives: int = 3
    ) -> RoutedAskResult:
        """A question that names no database: routed (among ``databases``, or all), then answered on the best."""
        routes = self.linking.route(request.question, request.evidence, databases, alternatives)
        answer = self.ask(routes[0].database, request)
        return RoutedAskResult(**answer.model_dump(), database=routes[0].database, routes=routes)
