"""The composition root: builds the store, repositories, services, job runner and job executor from settings."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from schemakg.app.job_runner import JobExecutor, JobRunner
from schemakg.app.services.browse import CatalogBrowser
from schemakg.app.services.catalog_transfer import CatalogTransferService
from schemakg.app.services.curation import CurationService
from schemakg.app.services.databases import DatabaseService
from schemakg.app.services.dbt_import import DbtImportService
from schemakg.app.services.jobs import JobService
from schemakg.app.services.keys import KeyService
from schemakg.app.services.linking import LinkingService
from schemakg.app.services.proposals import ProposalService
from schemakg.app.services.query_logs import QueryLogService
from schemakg.app.services.question_logs import QuestionLogs
from schemakg.app.services.search import CatalogSearch
from schemakg.generation.knowledge import KnowledgeCompleter
from schemakg.kernel.model import JobKind
from schemakg.kernel.search.sqlite_fts import SqliteFtsIndex
from schemakg.kernel.secrets import SecretStore
from schemakg.kernel.settings import Settings
from schemakg.kernel.store.dbt_repo import DbtRepository
from schemakg.kernel.store.examples_repo import QueryExampleRepository
from schemakg.kernel.store.factory import open_graph_store
from schemakg.kernel.store.jobs_repo import JobRepository
from schemakg.kernel.store.keys_repo import ApiKeyRepository
from schemakg.kernel.store.proposals_repo import ProposalRepository
from schemakg.kernel.store.schema_repo import SchemaRepository
from schemakg.kernel.store.transfer_repo import TransferRepository

if TYPE_CHECKING:
    from schemakg.app.services.answering import AskService
    from schemakg.generation.llm.base import ChatModel
    from schemakg.retrieval.sentence import SentenceEmbedder


class Container:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._opened = open_graph_store(settings)
        self.store = self._opened.store
        self.catalog = SchemaRepository(self.store)
        self.catalog.upgrade_keys()  # catalogues written by an older release keep their curation
        self.catalog.upgrade_counts()  # and their catalogue versions
        self.examples = QueryExampleRepository(self.store)
        self.jobs_repo = JobRepository(self.store)
        self.proposals_repo = ProposalRepository(self.store)
        self.secrets = SecretStore(settings.secrets_dir)
        self.runner = self._make_runner()
        self.jobs = JobService(self.jobs_repo, self.runner, settings.job_lease_s)
        self.jobs.settle_all()  # what a killed predecessor left queued or running
        self.query_logs = QueryLogService(settings, self.catalog, self.examples, self.jobs)
        self.search = CatalogSearch(self.catalog, SqliteFtsIndex(settings.data_dir / "search.sqlite"))
        self.search.catalog_changed()  # builds the index, or catches up with what changed while it was down
        self.browser = CatalogBrowser(self.catalog, self.search)
        self.curation = CurationService(self.catalog, self.browser, on_change=self.search.catalog_changed)
        self.catalog_transfer = CatalogTransferService(
            self.catalog, TransferRepository(self.store), self.proposals_repo, on_change=self.search.catalog_changed
        )
        self.dbt_import = DbtImportService(
            settings,
            self.catalog,
            TransferRepository(self.store),
            DbtRepository(self.store),
            CurationService(self.catalog, self.browser),  # the search index syncs once, after the import
            self.proposals_repo,
            self.jobs,
            on_change=self.search.catalog_changed,
        )
        self.keys = KeyService(ApiKeyRepository(self.store), cache_s=settings.api_key_cache_s)
        self.proposals = ProposalService(
            self.proposals_repo,
            self.catalog,
            self.curation,
            self.jobs,
            self.knowledge_completer,
            auto_approve=settings.knowledge_auto_approve,
        )
        self._embedder: SentenceEmbedder | None = None
        self.question_logs = QuestionLogs(self.examples, lambda: self.embedder)
        self.linking = LinkingService(
            settings, self.catalog, self.proposals_repo, self.examples, self.question_logs, self.jobs, lambda: self.llm
        )
        self.databases = DatabaseService(
            settings, self.catalog, self.secrets, self.jobs, self.linking.forget, on_change=self.search.catalog_changed
        )
        self.executor = JobExecutor(
            self.jobs_repo,
            {
                JobKind.INGEST_SCHEMA: self.databases.run_ingestion,
                JobKind.INGEST_QUERY_LOG: self.query_logs.run_ingestion,
                JobKind.COMPLETE_KNOWLEDGE: self.proposals.run_completion,
                JobKind.ACTIVATE_RETRIEVER: self.linking.run_activation,
                JobKind.IMPORT_DBT: self.dbt_import.run_import,
            },
            max_retries=settings.job_max_retries,
            backoff_s=settings.job_retry_backoff_s,
            lease_s=settings.job_lease_s,
        )
        self._llm: ChatModel | None = None
        self._llm_lock = threading.Lock()  # the warm-up and a first request may both ask for it
        self._answering: AskService | None = None

    @property
    def llm(self) -> ChatModel:
        """The configured LLM, built on first use (loading a local model takes seconds; the API's warm-up does
        it at start-up)."""
        with self._llm_lock:
            if self._llm is None:
                from schemakg.generation.llm.factory import make_chat_model

                self._llm = make_chat_model(self.settings)
            return self._llm

    @property
    def answering(self) -> AskService:
        if self._answering is None:
            from schemakg.app.services.answering import AskService

            self._answering = AskService(self.settings, self.linking, self.secrets, self.question_logs, self.llm)
        return self._answering

    @property
    def embedder(self) -> SentenceEmbedder:
        if self._embedder is None:
            from schemakg.retrieval.sentence import SentenceEmbedder

            self._embedder = SentenceEmbedder()
        return self._embedder

    def knowledge_completer(self) -> KnowledgeCompleter:
        return KnowledgeCompleter(
            self.examples,
            self.catalog,
            self.proposals_repo,
            self.llm,
            self.embedder,
            redundant_at=self.settings.knowledge_redundant_similarity,
        )

    def _make_runner(self) -> JobRunner:
        if self.settings.redis_url:
            from schemakg.app.worker.celery_runner import CeleryJobRunner

            return CeleryJobRunner(self.settings)
        from schemakg.app.worker.inprocess import InProcessJobRunner

        return InProcessJobRunner(self._execute)

    def _execute(self, kind: JobKind, job_id: str, payload: dict[str, Any]) -> None:
        """The embedded runner's entry; the executor is built after the runner, so it is looked up per job."""
        self.executor.run(kind, job_id, payload)

    def close(self) -> None:
        self.runner.shutdown()
        self.linking.close()
        with self._llm_lock:
            if self._llm is not None:
                self._llm.close()
        self.search.close()
        self._opened.close()
