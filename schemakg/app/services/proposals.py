"""Stewards decide on LLM proposals; approved knowledge lands exactly like a steward edit, with history."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from schemakg.app.job_runner import JobReporter, TaskFailed, TransientTaskError
from schemakg.app.services.curation import CurationService
from schemakg.app.services.jobs import JobService
from schemakg.generation.knowledge import KnowledgeCompleter
from schemakg.generation.llm.base import LLMError
from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import Conflict, InvalidInput, NotFound
from schemakg.kernel.model import (
    JobInfo,
    JobKind,
    Page,
    Proposal,
    ProposalKind,
    ProposalState,
    Provenance,
    column_key,
    column_ref,
    split_column_ref,
)
from schemakg.kernel.store.proposals_repo import ProposalRepository
from schemakg.kernel.store.schema_repo import SchemaRepository


class ProposalService:
    def __init__(
        self,
        proposals: ProposalRepository,
        catalog: SchemaRepository,
        curation: CurationService,
        jobs: JobService,
        completer: Callable[[], KnowledgeCompleter],
        auto_approve: bool = False,
    ) -> None:
        self.proposals = proposals
        self.catalog = catalog
        self.curation = curation
        self.jobs = jobs
        self._completer = completer
        self.auto_approve = auto_approve

    def start_completion(self, database: str, limit: int | None, only_new: bool) -> JobInfo:
        self.catalog.require_database(database)
        if limit is not None and limit < 1:
            raise InvalidInput("limit must be at least 1", {"field": "limit"})
        return self.jobs.start(
            JobKind.COMPLETE_KNOWLEDGE, database, {"database": database, "limit": limit, "only_new": only_new}
        )

    def run_completion(self, reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
        """The ``complete_knowledge`` job: the LLM reads the query log and proposes column knowledge."""
        try:
            summary, created = self._completer().complete(
                payload["database"], payload.get("limit"), payload.get("only_new", True), reporter.progress
            )
        except LLMError as exc:
            if exc.transient:
                raise TransientTaskError(exc.message) from exc
            raise TaskFailed(exc.message) from exc
        if self.auto_approve:
            for proposal in created:
                self.approve(proposal.id, "auto-approve")
        return summary.model_dump()

    def propose_description(
        self, database: str, table: str, column: str, description: str, who: str, question: str = "", sql: str = ""
    ) -> Proposal:
        """A column description put forward by someone who may not edit (an agent over MCP): it waits in the
        queue for a steward, like the LLM's, and is never applied here. Proposing the same text twice is one
        proposal; ``question`` and ``sql`` are what the proposer was working on when it learnt this."""
        text = description.strip()
        if not text:
            raise InvalidInput("the proposed description is empty", {"field": "description"})
        found = self.curation.browser.column(database, table, column)
        ref = column_ref(found.table, found.name)
        content = "\n".join([database, ProposalKind.COLUMN_DESCRIPTION.value, ref, f"description={text}"])
        proposal = Proposal(
            id=hashlib.sha1(content.lower().encode()).hexdigest()[:16],
            database=database,
            kind=ProposalKind.COLUMN_DESCRIPTION,
            column=ref,
            description=text,
            previous=found.description,
            example_question=question,
            example_sql=sql,
            model=who,
            created_at=now_iso(),
        )
        self.proposals.create(proposal)
        return self.get(proposal.id)

    def list_for(self, database: str, state: ProposalState | None, offset: int, limit: int) -> Page[Proposal]:
        self.catalog.require_database(database)
        items, total = self.proposals.list_for(database, state, offset, limit)
        return Page(items=items, total=total, offset=offset, limit=limit)

    def get(self, proposal_id: str) -> Proposal:
        proposal = self.proposals.get(proposal_id)
        if proposal is None:
            raise NotFound(f"proposal {proposal_id!r} not found")
        return proposal

    def approve(self, proposal_id: str, who: str) -> Proposal:
        proposal = self._pending(proposal_id)
        table, column = split_column_ref(proposal.column)
        author = f"{who} (approved {proposal.model} proposal {proposal.id})"
        if proposal.kind == ProposalKind.COLUMN_DESCRIPTION:
            self.curation.edit_column(
                proposal.database,
                table,
                column,
                {"description": proposal.description},
                None,
                author,
                proposal.source or Provenance.LLM,
            )
        else:
            assert proposal.tail is not None and proposal.relation is not None
            tail_table, tail_column = split_column_ref(proposal.tail)
            head = self.curation.browser.column(proposal.database, table, column)
            tail = self.curation.browser.column(proposal.database, tail_table, tail_column)
            head_key = column_key(proposal.database, head.table, head.name)
            self.proposals.add_dependency(
                head_key,
                column_key(proposal.database, tail.table, tail.name),
                proposal.relation,
                proposal.text,
                Provenance.LLM.value,
                proposal.id,
            )
            self.catalog.record_revision(
                head_key,
                "depends_on",
                None,
                {"relation": proposal.relation, "tail": proposal.tail, "text": proposal.text},
                author,
                Provenance.LLM,
                now_iso(),
            )
        return self._decide(proposal, ProposalState.APPROVED, who)

    def reject(self, proposal_id: str, who: str) -> Proposal:
        return self._decide(self._pending(proposal_id), ProposalState.REJECTED, who)

    def _pending(self, proposal_id: str) -> Proposal:
        proposal = self.get(proposal_id)
        if proposal.state != ProposalState.PENDING:
            raise Conflict(f"proposal {proposal_id!r} was already {proposal.state.value}")
        return proposal

    def _decide(self, proposal: Proposal, state: ProposalState, who: str) -> Proposal:
        if not self.proposals.decide(proposal.id, state, who, now_iso()):
            raise Conflict(f"proposal {proposal.id!r} was decided by someone else")
        return self.get(proposal.id)

    def dependencies(self, database: str) -> list[dict[str, str | None]]:
        self.catalog.require_database(database)
        return self.proposals.dependencies(database)
