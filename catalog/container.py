"""The composition root: builds the store, repositories, services and job runner from settings."""

from __future__ import annotations

from typing import TYPE_CHECKING

from catalog.jobs import JobRunner
from catalog.secrets import SecretStore
from catalog.services.browse import CatalogBrowser
from catalog.services.curation import CurationService
from catalog.services.databases import DatabaseService
from catalog.services.jobs import JobService
from catalog.services.keys import KeyService
from catalog.services.linking import LinkingService
from catalog.services.proposals import ProposalService
from catalog.services.query_logs import QueryLogService
from catalog.settings import Settings
from catalog.store.catalog_repo import CatalogRepository
from catalog.store.factory import open_graph_store
from catalog.store.jobs_repo import JobRepository
from catalog.store.keys_repo import ApiKeyRepository
from catalog.store.proposals_repo import ProposalRepository


if TYPE_CHECKING:
    from catalog.services.answering import AskService
    from generation.llm.base import ChatModel
    from retrieval.sentence import SentenceEmbedder


class Container:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._opened = open_graph_store(settings)
        self.store = self._opened.store
        self.catalog = CatalogRepository(self.store)
        self.jobs_repo = JobRepository(self.store)
        self.secrets = SecretStore(settings.secrets_dir)
        self.runner = self._make_runner()
        self.databases = DatabaseService(settings, self.catalog, self.jobs_repo, self.secrets, self.runner)
        self.query_logs = QueryLogService(settings, self.catalog, self.jobs_repo, self.runner)
        self.browser = CatalogBrowser(self.catalog)
        self.curation = CurationService(self.catalog, self.browser)
        self.jobs = JobService(self.jobs_repo)
        self.keys = KeyService(ApiKeyRepository(self.store))
        self.proposals_repo = ProposalRepository(self.store)
        self.proposals = ProposalService(self.proposals_repo, self.catalog, self.curation, self.jobs_repo, self.runner)
        self.linking = LinkingService(
            settings, self.catalog, self.proposals_repo, self.jobs_repo, self.runner, lambda: self.llm
        )
        self._llm: ChatModel | None = None
        self._embedder: SentenceEmbedder | None = None
        self._answering: AskService | None = None

    @property
    def llm(self) -> ChatModel:
        """The configured LLM, built on first use (loading a local model takes seconds)."""
        if self._llm is None:
            from generation.llm.factory import make_chat_model

            self._llm = make_chat_model(self.settings)
        return self._llm

    @property
    def answering(self) -> AskService:
        if self._answering is None:
            from catalog.services.answering import AskService

            self._answering = AskService(self.settings, self.linking, self.secrets, self.store, self.llm, self.embedder)
        return self._answering

    @property
    def embedder(self) -> SentenceEmbedder:
        if self._embedder is None:
            from retrieval.sentence import SentenceEmbedder

            self._embedder = SentenceEmbedder()
        return self._embedder

    def _make_runner(self) -> JobRunner:
        if self.settings.redis_url:
            from worker.celery_runner import CeleryJobRunner

            return CeleryJobRunner(self.settings)
        from worker.inprocess import InProcessJobRunner

        return InProcessJobRunner(self)

    def close(self) -> None:
        self.runner.shutdown()
        if self._llm is not None:
            self._llm.close()
        self._opened.close()
