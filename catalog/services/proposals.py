"""Stewards decide on LLM proposals; approved knowledge lands exactly like a steward edit, with history."""

from __future__ import annotations

from catalog.clock import now_iso
from catalog.errors import Conflict, InvalidInput, NotFound
from catalog.jobs import JobRunner, new_job
from catalog.model import JobInfo, Page, Proposal, ProposalKind, ProposalState, Provenance, column_key
from catalog.services.curation import CurationService
from catalog.store.catalog_repo import CatalogRepository
from catalog.store.jobs_repo import JobRepository
from catalog.store.proposals_repo import ProposalRepository


class ProposalService:
    def __init__(
        self,
        proposals: ProposalRepository,
        catalog: CatalogRepository,
        curation: CurationService,
        jobs: JobRepository,
        runner: JobRunner,
    ) -> None:
        self.proposals = proposals
        self.catalog = catalog
        self.curation = curation
        self.jobs = jobs
        self.runner = runner

    def start_completion(self, database: str, limit: int | None, only_new: bool) -> JobInfo:
        if self.catalog.get_database(database) is None:
            raise NotFound(f"database {database!r} is not registered")
        if limit is not None and limit < 1:
            raise InvalidInput("limit must be at least 1", {"field": "limit"})
        job = new_job(self.jobs, "complete_knowledge", database)
        self.runner.submit(job.id, "complete_knowledge", {"database": database, "limit": limit, "only_new": only_new})
        return job

    def list(self, database: str, state: ProposalState | None, offset: int, limit: int) -> Page:
        if self.catalog.get_database(database) is None:
            raise NotFound(f"database {database!r} is not registered")
        items, total = self.proposals.list(database, state, offset, limit)
        return Page(items=items, total=total, offset=offset, limit=limit)

    def get(self, proposal_id: str) -> Proposal:
        proposal = self.proposals.get(proposal_id)
        if proposal is None:
            raise NotFound(f"proposal {proposal_id!r} not found")
        return proposal

    def approve(self, proposal_id: str, who: str) -> Proposal:
        proposal = self._pending(proposal_id)
        table, column = proposal.column.split(".", 1)
        author = f"{who} (approved {proposal.model} proposal {proposal.id})"
        if proposal.kind == ProposalKind.COLUMN_DESCRIPTION:
            self.curation.edit_column(
                proposal.database, table, column, {"description": proposal.description}, None, author, Provenance.LLM
            )
        else:
            assert proposal.tail is not None and proposal.relation is not None
            tail_table, tail_column = proposal.tail.split(".", 1)
            head_key = column_key(proposal.database, table, column)
            self.proposals.add_dependency(
                head_key, column_key(proposal.database, tail_table, tail_column), proposal.relation, proposal.text,
                Provenance.LLM.value, proposal.id,
            )
            self.catalog.record_revision(
                head_key, "depends_on", None,
                {"relation": proposal.relation, "tail": proposal.tail, "text": proposal.text},
                author, Provenance.LLM, now_iso(),
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
        if self.catalog.get_database(database) is None:
            raise NotFound(f"database {database!r} is not registered")
        return self.proposals.dependencies(database)
