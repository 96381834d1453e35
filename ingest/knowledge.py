"""Knowledge completion from query history (Li, Wu et al., ISWC 2024, second stage).

For each logged (question, SQL), the LLM extracts column knowledge ``cd = {c, d}`` and
dependencies ``cr = {c_h, r, c_t}``. Before anything is proposed, relevance to what the
column already says is checked with sentence embeddings: near-duplicates are dropped, and
so is one that repeats a pending proposal. A new description for an undocumented column is kept. In between, the LLM decides whether
the update adds anything. Kept knowledge becomes a Proposal with its provenance (the log
line and the model); proposal ids are content hashes, so a rerun adds nothing twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from string import Template
from typing import Any

from pydantic import BaseModel, Field

from catalog.clock import now_iso
from catalog.model import Proposal, ProposalKind
from catalog.store.base import GraphStore
from catalog.store.proposals_repo import ProposalRepository
from generation.llm.base import ChatMessage, ChatModel, LLMError
from generation.llm.json_output import extract_json_as
from retrieval.sentence import SentenceEmbedder

_TEMPLATES = Path(__file__).parent / "templates"
EXTRACT = Template((_TEMPLATES / "extract_knowledge.txt").read_text())
DECIDE = Template((_TEMPLATES / "decide_update.txt").read_text())


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
        store: GraphStore,
        proposals: ProposalRepository,
        llm: ChatModel,
        embedder: SentenceEmbedder,
        redundant_at: float = 0.85,
        max_tokens: int = 320,
    ) -> None:
        self.store = store
        self.proposals = proposals
        self.llm = llm
        self.embedder = embedder
        self.redundant_at = redundant_at
        self.max_tokens = max_tokens

    def complete(
        self, database: str, limit: int | None, only_new: bool, progress: Callable[[int, int, str], None]
    ) -> tuple[CompletionSummary, list[Proposal]]:
        examples = self.store.read(
            "MATCH (q:QueryExample {database: $db}) WHERE NOT $only_new OR q.knowledge_at IS NULL "
            "RETURN q.key AS key, q.question AS question, q.sql AS sql, q.evidence AS evidence, "
            "q.columns AS columns, q.source AS source, q.line AS line ORDER BY q.source, q.line "
            + ("LIMIT $limit" if limit else ""),
            db=database,
            only_new=only_new,
            limit=limit,
        )
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
            self.store.write(
                "MATCH (q:QueryExample {key: $key}) SET q.knowledge_at = $at, q.knowledge_model = $model",
                key=example["key"], at=now_iso(), model=self.llm.model_name,
            )
            progress(index + 1, len(examples), f"{len(created)} proposals")
        usage = self.llm.usage
        summary.proposals = len(created)
        summary.prompt_tokens = usage.prompt_tokens - usage_before.prompt_tokens
        summary.completion_tokens = usage.completion_tokens - usage_before.completion_tokens
        return summary, created

    def _current(self, database: str, columns: list[str]) -> dict[str, str | None]:
        rows = self.store.read(
            "MATCH (c:Column {database: $db}) WHERE c.table + '.' + c.name IN $names "
            "RETURN c.table + '.' + c.name AS name, c.description AS description",
            db=database,
            names=columns,
        )
        return {row["name"]: row["description"] for row in rows}

    def _ask(self, prompt: str, model: type[BaseModel], max_tokens: int) -> Any:
        result = self.llm.chat(
            [ChatMessage(role="user", content=prompt)], max_tokens=max_tokens, temperature=0.0, json_mode=True
        )
        return extract_json_as(result.text, model)

    def _complete_one(self, database: str, example: dict[str, Any], summary: CompletionSummary) -> list[Proposal]:
        current = self._current(database, example["columns"])
        by_lower = {name.lower(): name for name in current}
        prompt = EXTRACT.substitute(
            question=example["question"],
            evidence=f"Evidence: {example['evidence']}" if example.get("evidence") else "",
            sql=example["sql"],
            columns="\n".join(f"- {name}: {desc or '(no description)'}" for name, desc in current.items()),
        )
        knowledge: ExtractedKnowledge = self._ask(prompt, ExtractedKnowledge, self.max_tokens)
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
                database, example, ProposalKind.DEPENDENCY, head,
                relation=dep.relation.strip(), tail=tail, text=(dep.text or "").strip() or None,
            )
            if self.proposals.create(proposal):
                proposals.append(proposal)
        return proposals

    def _column_proposal(
        self, database: str, example: dict[str, Any], column: str, description: str, existing: str | None,
        summary: CompletionSummary,
    ) -> Proposal | None:
        known = ([existing] if existing else []) + self.proposals.pending_descriptions(database, column)
        similarity = max((self.embedder.similarity(text, description) for text in known), default=0.0)
        if similarity >= self.redundant_at:
            summary.redundant += 1  # says what the column or a pending proposal already says
            return None
        if not existing:
            return self._proposal(database, example, ProposalKind.COLUMN_DESCRIPTION, column, description=description)
        decision: UpdateDecision = self._ask(
            DECIDE.substitute(column=column, current=existing, proposed=description), UpdateDecision, 128
        )
        if not decision.update:
            summary.declined += 1
            return None
        return self._proposal(
            database, example, ProposalKind.COLUMN_DESCRIPTION, column,
            description=(decision.description or description).strip(), previous=existing,
            similarity=round(similarity, 4),
        )

    def _proposal(self, database: str, example: dict[str, Any], kind: ProposalKind, column: str, **fields: Any) -> Proposal:
        content = "\n".join([database, kind.value, column] + [f"{k}={fields.get(k)}" for k in ("description", "relation", "tail", "text")])
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
