"""Knowledge completion from query history (Li, Wu et al., ISWC 2024, second stage).

For each logged (question, SQL), the LLM extracts column knowledge ``cd = {c, d}`` and
dependencies ``cr = {c_h, r, c_t}``. Before anything is proposed, relevance to what the
column already says is checked with sentence embeddings: near-duplicates are dropped, and
so is one that repeats a pending proposal. A new description for an undocumented column is kept.
In between, the LLM decides whether
the update adds anything. Kept knowledge becomes a Proposal with its provenance (the log
line and the model); proposal ids are content hashes, so a rerun adds nothing twice.
"""

from __future__ import annotations

import hashlib
from typing import Any, TypeVar

from pydantic import BaseModel, Field

from schemakg.generation.llm.base import ChatMessage, ChatModel, LLMError
from schemakg.generation.prompts import render_prompt
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import Proposal, ProposalKind, split_column_ref
from schemakg.kernel.progress import Progress
from schemakg.kernel.store.examples_repo import QueryExampleRepository
from schemakg.kernel.store.proposals_repo import ProposalRepository
from schemakg.kernel.store.schema_repo import SchemaRepository
from schemakg.retrieval.sentence import SentenceEmbedder

T = TypeVar("T", bound=BaseModel)


class ColumnKnowledge(BaseModel):
    column: str
    description: str


class DependencyKnowledge(BaseModel):
    head: str
    relation: str
    tail: str
    text: str | None = None


class ExtractedKnowledge(BaseModel):
    columns: list[ColumnKnowledge] = Field(default_factory=list)
    dependencies: list[DependencyKnowledge] = Field(default_factory=list)


class UpdateDecision(BaseModel):
    update: bool
    description: str | None = None


class CompletionSummary(BaseModel):
    examples: int = 0
    proposals: int = 0
    redundant: int = 0
    declined: int = 0
    invalid: int = 0
    llm_failures: int = 0
    error_count: int = 0
    errors: list[dict[str, Any]] = Field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0


class KnowledgeCompleter:
    def __init__(
        self,
        examples: QueryExampleRepository,
        catalog: SchemaRepository,
        proposals: ProposalRepository,
        llm: ChatModel,
        embedder: SentenceEmbedder,
        redundant_at: float = 0.85,
        max_tokens: int = 320,
    ) -> None:
        self.examples = examples
        self.catalog = catalog
        self.proposals = proposals
        self.llm = llm
        self.embedder = embedder
        self.redundant_at = redundant_at
        self.max_tokens = max_tokens

    def complete(
        self, database: str, limit: int | None, only_new: bool, progress: Progress
    ) -> tuple[CompletionSummary, list[Proposal]]:
        examples = self.examples.for_knowledge(database, only_new, limit)
        summary = CompletionSummary()
        created: list[Proposal] = []
        usage_before = self.llm.usage
        for index, example in enumerate(examples):
            try:
                created += self._complete_one(database, example, summary)
            except LLMError as exc:
                summary.llm_failures += 1
                summary.error_count += 1
                summary.errors.append({"line": example["line"], "source": example["source"], "reason": exc.message})
                if exc.transient and summary.llm_failures >= 3 and not created:
                    raise  # the endpoint is down: let the job runner retry with backoff
            summary.examples += 1
            self.examples.mark_knowledge_read(example["key"], now_iso(), self.llm.model_name)
            progress(index + 1, len(examples), f"{len(created)} proposals")
        usage = self.llm.usage
        summary.proposals = len(created)
        summary.prompt_tokens = usage.prompt_tokens - usage_before.prompt_tokens
        summary.completion_tokens = usage.completion_tokens - usage_before.completion_tokens
        return summary, created

    def _current(self, database: str, columns: list[str]) -> dict[str, str | None]:
        return self.catalog.column_descriptions(database, columns)

    def _ask(self, prompt: str, model: type[T], max_tokens: int) -> T:
        return self.llm.chat_as([ChatMessage(role="user", content=prompt)], model, max_tokens=max_tokens)

    def _complete_one(self, database: str, example: dict[str, Any], summary: CompletionSummary) -> list[Proposal]:
        current = self._current(database, example["columns"])
        # The model reads and writes a column as SQL spells it (``concert.singer.name``); the catalogue's
        # reference escapes a table name's dot (``concert\\.singer.name``). Either finds the column.
        spelled = {name: ".".join(split_column_ref(name)) for name in current}
        by_lower = {text.lower(): name for name, text in spelled.items()} | {name.lower(): name for name in current}
        prompt = render_prompt(
            "knowledge_extract.j2",
            question=example["question"],
            evidence=f"Evidence: {example['evidence']}" if example.get("evidence") else "",
            sql=example["sql"],
            columns="\n".join(f"- {spelled[name]}: {desc or '(no description)'}" for name, desc in current.items()),
        )
        knowledge = self._ask(prompt, ExtractedKnowledge, self.max_tokens)
        proposals: list[Proposal] = []
        for item in knowledge.columns:
            column = by_lower.get(item.column.strip().lower())
            description = item.description.strip()
            if column is None or not description:
                summary.invalid += 1
                continue
            proposal = self._column_proposal(database, example, column, description, current[column], summary)
            if proposal and self.proposals.create(proposal):
                proposals.append(proposal)
        for dep in knowledge.dependencies:
            head, tail = by_lower.get(dep.head.strip().lower()), by_lower.get(dep.tail.strip().lower())
            if head is None or tail is None or head == tail or not dep.relation.strip():
                summary.invalid += 1
                continue
            proposal = self._proposal(
                database,
                example,
                ProposalKind.DEPENDENCY,
                head,
                relation=dep.relation.strip(),
                tail=tail,
                text=(dep.text or "").strip() or None,
            )
            if self.proposals.create(proposal):
                proposals.append(proposal)
        return proposals

    def _column_proposal(
        self,
        database: str,
        example: dict[str, Any],
        column: str,
        description: str,
        existing: str | None,
        summary: CompletionSummary,
    ) -> Proposal | None:
        known = ([existing] if existing else []) + self.proposals.pending_descriptions(database, column)
        similarity = max((self.embedder.similarity(text, description) for text in known), default=0.0)
        if similarity >= self.redundant_at:
            summary.redundant += 1  # says what the column or a pending proposal already says
            return None
        if not existing:
            return self._proposal(database, example, ProposalKind.COLUMN_DESCRIPTION, column, description=description)
        decision = self._ask(
            render_prompt("knowledge_decide.j2", column=column, current=existing, proposed=description),
            UpdateDecision,
            128,
        )
        if not decision.update:
            summary.declined += 1
            return None
        return self._proposal(
            database,
            example,
            ProposalKind.COLUMN_DESCRIPTION,
            column,
            description=(decision.description or description).strip(),
            previous=existing,
            similarity=round(similarity, 4),
        )

    def _proposal(
        self, database: str, example: dict[str, Any], kind: ProposalKind, column: str, **fields: Any
    ) -> Proposal:
        content = "\n".join(
            [database, kind.value, column]
            + [f"{k}={fields.get(k)}" for k in ("description", "relation", "tail", "text")]
        )
        return Proposal(
            id=hashlib.sha1(content.lower().encode()).hexdigest()[:16],
            database=database,
            kind=kind,
            column=column,
            example_question=example["question"],
            example_sql=example["sql"],
            example_source=example.get("source"),
            example_line=example.get("line"),
            model=self.llm.model_name,
            created_at=now_iso(),
            **fields,
        )
