"""Answering a question with SQL (pipeline steps 5-6): link, render the KG-based schema, write
evidence, generate SQL least-to-most (or in one call), guard it, run it read-only, and feed
errors back to the LLM a bounded number of times."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING, Literal

import sqlglot
from pydantic import BaseModel, Field, field_validator
from sqlglot.errors import SqlglotError

from generation.guard import GuardError, QueryResult, execute, repair, validate
from generation.llm.base import ChatMessage, ChatModel
from generation.llm.json_output import JSONOutputError, extract_json
from generation.schema_render import fit_to_budget, render
from ingest.query_log import known_dialects, sqlglot_dialect
from ingest.sources import SourceDatabase
from ingest.sql_links import SchemaNames
from retrieval.linked_schema import LinkedSchema

if TYPE_CHECKING:
    from retrieval.linker import DatabaseContext, LinkResult

_TEMPLATES = Path(__file__).parent / "templates"
EVIDENCE = Template((_TEMPLATES / "evidence.txt").read_text())
LEAST_TO_MOST = Template((_TEMPLATES / "sql_least_to_most.txt").read_text())
FAST = Template((_TEMPLATES / "sql_fast.txt").read_text())
FIX = Template((_TEMPLATES / "sql_fix.txt").read_text())
FEW_SHOT = json.loads((_TEMPLATES / "fewshot.json").read_text())

Mode = Literal["auto", "fast", "full"]
# Words of compositional questions (negation, set operations, comparisons): the ones least-to-most
# decomposition helps. Plain aggregates and superlatives are left out: both are one query
# (MAX, or ORDER BY … LIMIT 1), and the small models asked to decompose them split "the average,
# minimum and maximum" into three queries or wrap "the highest salary" in a needless subquery.
_COMPLEX = re.compile(
    r"\b(more than|less than|at least|not|never|both|"
    r"except|ratio|percentage|proportion|compared|than the|top \d+|rank)\b",
    re.IGNORECASE,
)


class AskOptions(BaseModel):
    """Switches for the pipeline's stages (the ablation toggles them; the service uses the defaults)."""

    use_kg_schema: bool = True  # False: the full schema without linking
    generate_evidence: bool = True
    log_examples: int = 3
    max_retries: int = 2
    schema_token_budget: int = 1800
    max_tokens: int = 512
    timeout_s: float = 15.0
    row_cap: int = 200
    max_result_bytes: int = 2_000_000


class AskRequest(BaseModel):
    question: str = Field(min_length=1, max_length=2000)
    evidence: str | None = Field(default=None, max_length=4000)
    dialect: str | None = Field(
        default=None, description="Also return the SQL in this dialect, for export; what runs is always the source's dialect.",
    )
    execute: bool = True
    mode: Mode = "auto"
    join_mode: str | None = None

    @field_validator("dialect")
    @classmethod
    def _known_dialect(cls, value: str | None) -> str | None:
        if value is not None and sqlglot_dialect(value) is None:
            raise ValueError(f"unknown dialect {value!r}; known: {', '.join(known_dialects())}")
        return value


class AskResult(BaseModel):
    sql: str | None
    refused: str | None = None  # the guard's refusal, when the SQL asked for what the service never does
    exported_sql: str | None = None  # ``sql`` in the dialect the request asked for; never executed
    exported_dialect: str | None = None
    error: str | None = None
    evidence: str | None = None
    evidence_source: Literal["user", "generated", "none"] = "none"
    mode: Literal["fast", "full"] | None = None
    linked_tables: list[str] = Field(default_factory=list)
    linked_columns: list[str] = Field(default_factory=list)
    join_paths: list[list[str]] = Field(default_factory=list)
    join_conditions: list[str] = Field(default_factory=list)
    value_hints: list[str] = Field(default_factory=list)
    columns: list[str] | None = None
    rows: list[list[object]] | None = None
    truncated: bool = False
    timings_s: dict[str, float] = Field(default_factory=dict)
    model: str
    retries: int = 0
    repairs: list[str] = Field(default_factory=list)  # fixes the guard made without the LLM


class PastExample(BaseModel):
    question: str
    sql: str


_EXAMPLE_SQL = {" ".join(e["sql"].split()).lower() for e in FEW_SHOT}


def extract_sql(text: str) -> str | None:
    """The query after the last 'Final SQL:' (in a code block or bare), else the last code block, else a
    bare SELECT/WITH. A copied few-shot answer or placeholder counts as no SQL, so the fix loop asks again."""
    final = list(re.finditer(r"final sql:", text, flags=re.IGNORECASE))
    tail = text[final[-1].end():] if final else text
    blocks = re.findall(r"```(?:sql)?\s*(.*?)```", tail, flags=re.DOTALL | re.IGNORECASE)
    if blocks:
        sql = blocks[0 if final else -1]
    else:
        statement = re.search(r"\b(with|select)\b.*", tail, flags=re.IGNORECASE | re.DOTALL)
        sql = statement.group(0).split(";")[0] if statement else ""
    sql = sql.strip().rstrip(";").strip()
    if not re.match(r"(with|select)\b", sql, flags=re.IGNORECASE) or " ".join(sql.split()).lower() in _EXAMPLE_SQL:
        return None
    return sql


def choose_mode(question: str) -> Literal["fast", "full"]:
    """A cheap complexity estimate from the question's words. The linked table count is no guide:
    linking favours recall and keeps about four tables for a one-table question."""
    return "full" if _COMPLEX.search(question) else "fast"


def transpile(sql: str, read: str, write: str) -> str | None:
    """``sql`` in another dialect, or None when sqlglot cannot carry it over."""
    if read == write:
        return sql
    try:
        return sqlglot.transpile(sql, read=read, write=write)[0]
    except (SqlglotError, RecursionError):
        return None


def render_examples(mode: Literal["fast", "full"], dialect: str, past: list[PastExample]) -> str:
    parts = []
    for number, example in enumerate(FEW_SHOT, start=1):
        lines = [f"### Example {number}", f"Schema:\n{example['schema']}", f"Evidence: {example['evidence']}",
                 f"Question: {example['question']}"]
        if mode == "full":
            for index, (sub_question, sub_sql) in enumerate(example["steps"], start=1):
                lines += [f"Sub-question {index}: {sub_question}", f"SQL: {transpile(sub_sql, 'sqlite', dialect) or sub_sql}"]
            lines.append("Final SQL:")
        lines.append(f"```sql\n{transpile(example['sql'], 'sqlite', dialect) or example['sql']}\n```")
        parts.append("\n".join(lines))
    if past:
        parts.append("### Similar questions asked before on this database\n" + "\n".join(
            f"Question: {p.question}\nSQL: {p.sql}" for p in past
        ))
    return "\n\n".join(parts)


class Answerer:
    """One question to SQL (and rows). Stateless apart from its collaborators."""

    def __init__(self, llm: ChatModel, options: AskOptions | None = None) -> None:
        self.llm = llm
        self.options = options or AskOptions()

    def _chat(self, prompt: str, max_tokens: int, json_mode: bool = False) -> str:
        result = self.llm.chat([ChatMessage(role="user", content=prompt)], max_tokens=max_tokens, temperature=0.0,
                               json_mode=json_mode)
        return result.text

    def answer(
        self,
        request: AskRequest,
        context: DatabaseContext,
        link: LinkResult | None,
        full_schema: LinkedSchema,
        past: list[PastExample],
        source: SourceDatabase | None,
    ) -> AskResult:
        """``link`` is the linking result (None when the KG schema is switched off: ``full_schema`` is used)."""
        options = self.options
        timings: dict[str, float] = {}
        result = AskResult(sql=None, model=self.llm.model_name)
        dialect = sqlglot_dialect(context.dialect)  # the source's: the only one its SQL is parsed in
        if dialect is None:
            result.error = f"the source's dialect {context.dialect!r} is not supported"
            return result
        schema = link.schema_ if (link is not None and options.use_kg_schema) else full_schema
        schema = fit_to_budget(schema, options.schema_token_budget)
        if link is not None:
            timings.update({f"link_{k}": round(v / 1000, 4) for k, v in link.timings_ms.items()})
        result.linked_tables, result.linked_columns = schema.tables, schema.column_refs()
        result.join_paths, result.join_conditions = schema.paths, [j.sql() for j in schema.joins]
        result.value_hints = schema.value_hints
        schema_text = render(schema)

        started = time.perf_counter()
        if request.evidence:
            result.evidence, result.evidence_source = request.evidence, "user"
        elif options.generate_evidence:
            result.evidence = self._evidence(schema_text, request.question)
            result.evidence_source = "generated" if result.evidence else "none"
        timings["evidence"] = round(time.perf_counter() - started, 3)

        mode = choose_mode(request.question) if request.mode == "auto" else request.mode
        result.mode = mode
        template = LEAST_TO_MOST if mode == "full" else FAST
        prompt = template.substitute(
            dialect=dialect, examples=render_examples(mode, dialect, past[: options.log_examples]),
            schema=schema_text, evidence=result.evidence or "none", question=request.question,
        )
        started = time.perf_counter()
        sql = extract_sql(self._chat(prompt, options.max_tokens))
        timings["generate"] = round(time.perf_counter() - started, 3)

        names = SchemaNames(_columns_by_table(context))
        started = time.perf_counter()
        for attempt in range(options.max_retries + 1):
            result.sql, result.retries = sql, attempt
            try:
                if sql is None:
                    raise GuardError("the model wrote no SQL statement", "parse")
                repaired = repair(sql, dialect, names, context.foreign_keys)
                sql, result.sql = repaired.sql, repaired.sql
                result.repairs += repaired.notes
                validated = validate(sql, dialect, names)
                sql, result.sql = validated.sql, validated.sql
                if request.execute and source is not None:
                    rows: QueryResult = execute(
                        source, sql, options.timeout_s, options.row_cap, options.max_result_bytes
                    )
                    result.columns, result.rows, result.truncated = rows.columns, rows.rows, rows.truncated
                result.error = None
                break
            except GuardError as exc:
                result.error = str(exc)
                if exc.refusal:
                    result.refused = f"refused: {exc}. This service only reads data."
                if exc.final or attempt == options.max_retries:
                    break
                fix = FIX.substitute(sql=sql or "", error=str(exc), schema=schema_text,
                                     question=request.question, dialect=dialect)
                sql = extract_sql(self._chat(fix, options.max_tokens))
        timings["guard_execute_retry"] = round(time.perf_counter() - started, 3)
        if request.dialect and result.sql and result.error is None:
            result.exported_dialect = sqlglot_dialect(request.dialect)
            result.exported_sql = transpile(result.sql, dialect, str(result.exported_dialect))
        result.timings_s = timings
        return result

    def _evidence(self, schema_text: str, question: str) -> str | None:
        text = self._chat(EVIDENCE.substitute(schema=schema_text, question=question), 320, json_mode=True)
        try:
            parsed = extract_json(text)
        except JSONOutputError:
            return None
        evidence = parsed.get("evidence") if isinstance(parsed, dict) else None
        return evidence.strip() if isinstance(evidence, str) and evidence.strip() else None


def _columns_by_table(context: DatabaseContext) -> dict[str, list[str]]:
    by_table: dict[str, list[str]] = {}
    for column in context.columns:
        by_table.setdefault(column.table, []).append(column.name)
    return by_table
