"""Answering a question with SQL (pipeline steps 5-6): link, render the KG-based schema, write
evidence, generate SQL least-to-most (or in one call), guard it, run it read-only, and feed
errors back to the LLM a bounded number of times."""

from __future__ import annotations

import json
import re
import time
from typing import TYPE_CHECKING, Annotated, Any, Literal

import sqlglot
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator
from sqlglot.errors import SqlglotError

from schemakg.generation.area_mix import mixed_areas
from schemakg.generation.candidates import Candidate, choose
from schemakg.generation.guard import GuardError, QueryResult, execute, repair, validate
from schemakg.generation.llm.base import ChatMessage, ChatModel, StructuredOutputError
from schemakg.generation.output_shape import missing_attributes
from schemakg.generation.prompts import load_examples, render_prompt
from schemakg.generation.schema_render import approx_tokens, fit_to_budget, only_tables, render, union_schema
from schemakg.kernel.model import Question
from schemakg.kernel.settings import SchemaView
from schemakg.kernel.sources import SourceDatabase
from schemakg.kernel.sql.dialects import known_dialects, sqlglot_dialect
from schemakg.kernel.sql.links import SchemaNames, SqlParseError, sql_links
from schemakg.kernel.sql.results import informative, result_signature
from schemakg.retrieval.join_paths import JoinMode, namespace
from schemakg.retrieval.linked_schema import LinkedSchema, Route, SubjectArea

if TYPE_CHECKING:
    from schemakg.retrieval.linker import DatabaseContext, LinkResult

FEW_SHOT = load_examples("sql_fewshot.json")

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

    schema_view: SchemaView = "linked"
    generate_evidence: bool = True
    log_examples: int = 3
    max_retries: int = 2
    schema_token_budget: int = 1800
    max_tokens: int = 512
    timeout_s: float = 15.0
    row_cap: int = 200
    max_result_bytes: int = 2_000_000
    candidates: int = Field(default=1, ge=1, le=8)  # >1: the greedy SQL plus samples, chosen by execution
    candidate_temperature: float = Field(default=0.7, gt=0, le=2)
    # When no candidate ran after the retries (and not for a refusal or a deadline), or the answer said nothing
    # (no rows, or only NULL, 0 or '') from tables that hold rows: up to this many more samples of the same
    # prompt, stopping at the first that runs and says something.
    rescue_samples: int = Field(default=4, ge=0, le=8)
    # An answer that runs but returns fewer columns than the attributes the question lists is asked for again
    # once (output_shape.py), and replaced when the new query runs and returns enough.
    shape_check: bool = True
    # An answer that reads tables of several subject areas which nothing relates (area_mix.py) is asked for again
    # once within one of them, and replaced when the new query runs and reads one area.
    area_check: bool = True


class AskRequest(BaseModel):
    question: Question
    evidence: str | None = Field(default=None, max_length=4000)
    dialect: str | None = Field(
        default=None,
        description="Also return the SQL in this dialect, for export; what runs is always the source's dialect.",
    )
    execute: bool = True
    mode: Mode = "auto"
    join_mode: JoinMode | None = None

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
    subject_areas: list[SubjectArea] = Field(
        default_factory=list,
        description="A large schema's subject areas that linking focused on, best first, with their coverage of the "
        "question and best tables: why these tables (empty for a smaller schema, which is not split into areas).",
    )
    columns: list[str] | None = None
    rows: list[list[object]] | None = None
    truncated: bool = False
    timings_s: dict[str, float] = Field(default_factory=dict)
    model: str
    retries: int = 0
    repairs: list[str] = Field(default_factory=list)  # fixes the guard made without the LLM
    candidates: list[Candidate] = Field(
        default_factory=list, description="With several candidates: each one's outcome, the greedy one first."
    )
    shape_check: str | None = Field(
        default=None,
        description="What the output-shape check did when the SQL returned fewer columns than the question lists.",
    )
    shape_replaced_sql: str | None = Field(default=None, description="The SQL the output-shape check replaced.")
    area_check: str | None = Field(
        default=None,
        description="What the one-area check did when the SQL read tables of databases that nothing relates.",
    )
    area_replaced_sql: str | None = Field(default=None, description="The SQL the one-area check replaced.")


class RoutedAskResult(AskResult):
    """An answer to a question asked of the catalogue (or of one database through a face that allows both)."""

    database: str = Field(description="the database the question was answered on: the one named, or the best route")
    routes: list[Route] = Field(
        default_factory=list,
        description="if the question named no database: the best ones for it, best first, with their tables",
    )


class PastExample(BaseModel):
    question: str
    sql: str
    dialect: str | None = None  # sqlglot's name of the dialect it was logged in; None: the source's own


def says_nothing(
    sql: str, rows: list[list[object]], names: SchemaNames, dialect: str, context: DatabaseContext
) -> bool:
    """Whether a result holds nothing but NULL, 0 or '' (or no rows) although every table the SQL reads holds
    rows (the catalogue sampled values from it): then a filter, a join or the tables themselves were likely
    wrong, as when a warehouse's same-topic database lacks the value the question names. From tables with no
    rows every query says nothing, so no other sample would do better."""
    if informative(rows):
        return False
    try:
        tables = sql_links(sql, names, dialect).tables
    except SqlParseError:
        return False
    holding_rows = {column.table.lower() for column in context.columns if column.examples}
    return bool(tables) and all(table.lower() in holding_rows for table in tables)


def _take(result: AskResult, sql: str, rows: QueryResult, notes: list[str]) -> str | None:
    """Make a check's new query the answer; returns the SQL it replaced."""
    replaced, result.sql, result.repairs = result.sql, sql, result.repairs + notes
    result.columns, result.rows, result.truncated = rows.columns, rows.rows, rows.truncated
    return replaced


def _listed(value: Any) -> list[Any]:
    return [] if value is None else value if isinstance(value, list) else [value]


def _texts(value: Any) -> list[str]:
    return [item if isinstance(item, str) else json.dumps(item, default=str) for item in _listed(value)]


def _objects(value: Any) -> list[dict[str, Any]]:
    return [item if isinstance(item, dict) else {"text": item} for item in _listed(value)]


# What evidence.j2 asks for. The schema (sent to the model, so no docstring) constrains the backends
# that can; a model that ignores it may send terms as objects, mapping items as strings or a lone
# value. Only ``evidence`` is read, so the rest is taken in any shape rather than failing the reply;
# an evidence that is not a string counts as none.
class EvidenceReply(BaseModel):
    model_config = ConfigDict(extra="ignore")

    terms: Annotated[list[str], BeforeValidator(_texts)] = []
    mapping: Annotated[list[dict[str, Any]], BeforeValidator(_objects)] = []
    evidence: Annotated[str, BeforeValidator(lambda value: value if isinstance(value, str) else "")] = ""


_EXAMPLE_SQL = {" ".join(e["sql"].split()).lower() for e in FEW_SHOT}


def extract_sql(text: str) -> str | None:
    """The query after the last 'Final SQL:' (in a code block or bare), else the last code block, else a
    bare SELECT/WITH. A copied few-shot answer or placeholder counts as no SQL, so the fix loop asks again."""
    final = list(re.finditer(r"final sql:", text, flags=re.IGNORECASE))
    tail = text[final[-1].end() :] if final else text
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


def view_schema(view: SchemaView, linked: LinkedSchema | None, full: LinkedSchema, budget: int) -> LinkedSchema:
    """The schema the prompt shows (``SchemaView``); the full one when nothing was linked."""
    if linked is None or view == "full" or (view == "auto" and approx_tokens(render(full)) <= budget):
        return full
    return union_schema(linked, full) if view == "union" else linked


def transpile(sql: str, read: str, write: str) -> str | None:
    """``sql`` in another dialect, or None when sqlglot cannot carry it over."""
    if read == write:
        return sql
    try:
        return sqlglot.transpile(sql, read=read, write=write)[0]
    except (SqlglotError, RecursionError):
        return None


# What a model trained mostly on SQLite-style SQL gets wrong on these engines (seen on the Spider copies,
# docs/engines.md); SQLite's prompts carry no note.
DIALECT_NOTES = {
    "postgres": "PostgreSQL is strict: every selected column that is not aggregated must be in the GROUP BY; "
    "= and LIKE tell upper from lower case (ILIKE does not); text is not compared with numbers without a cast.",
    "mysql": "MariaDB tells upper from lower case in table names and aliases: spell them as the schema does.",
}


def render_examples(mode: Literal["fast", "full"], dialect: str, past: list[PastExample]) -> str:
    """The few-shot block: the worked examples (written for SQLite) then ``past`` (each logged in its own dialect),
    all carried over to ``dialect``: a PostgreSQL source logged with SQLite's SQL must not be shown SQLite-isms."""

    def carried(sql: str) -> str:
        return transpile(sql, "sqlite", dialect) or sql

    examples = [
        {**example, "sql": carried(example["sql"]), "steps": [(q, carried(s)) for q, s in example["steps"]]}
        for example in FEW_SHOT
    ]
    past = [
        p.model_copy(update={"sql": transpile(p.sql, p.dialect, dialect) or p.sql}) if p.dialect else p for p in past
    ]
    return render_prompt("sql_examples.j2", examples=examples, full=mode == "full", past=past)


class Answerer:
    """One question to SQL (and rows). Stateless apart from its collaborators."""

    def __init__(self, llm: ChatModel, options: AskOptions | None = None) -> None:
        self.llm = llm
        self.options = options or AskOptions()

    def _chat(self, prompt: str, max_tokens: int) -> str:
        result = self.llm.chat([ChatMessage(role="user", content=prompt)], max_tokens=max_tokens, temperature=0.0)
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
        """``link`` is the linking result (None for the ``full`` schema view)."""
        options = self.options
        timings: dict[str, float] = {}
        result = AskResult(sql=None, model=self.llm.model_name)
        dialect = sqlglot_dialect(context.dialect)  # the source's: the only one its SQL is parsed in
        if dialect is None:
            result.error = f"the source's dialect {context.dialect!r} is not supported"
            return result
        schema = fit_to_budget(
            view_schema(options.schema_view, link.schema_ if link else None, full_schema, options.schema_token_budget),
            options.schema_token_budget,
        )
        if link is not None:
            timings.update({f"link_{k}": round(v / 1000, 4) for k, v in link.timings_ms.items()})
        result.linked_tables, result.linked_columns = schema.tables, schema.column_refs()
        result.join_paths, result.join_conditions = schema.paths, [j.sql() for j in schema.joins]
        result.value_hints = schema.value_hints
        result.subject_areas = link.schema_.areas if link is not None else []
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
        prompt = render_prompt(
            "sql_least_to_most.j2" if mode == "full" else "sql_fast.j2",
            dialect=dialect,
            notes=DIALECT_NOTES.get(dialect, ""),
            examples=render_examples(mode, dialect, past[: options.log_examples]),
            schema=schema_text,
            evidence=result.evidence or "none",
            question=request.question,
        )
        started = time.perf_counter()
        sql = extract_sql(self._chat(prompt, options.max_tokens))
        timings["generate"] = round(time.perf_counter() - started, 3)

        names = SchemaNames(context.columns_by_table(), dialect)
        types, question = context.column_types(), request.question
        started = time.perf_counter()
        failure: GuardError | None = None
        for attempt in range(options.max_retries + 1):
            result.sql, result.retries = sql, attempt
            try:
                if sql is None:
                    raise GuardError("the model wrote no SQL statement", "parse")
                repaired = repair(sql, dialect, names, context.foreign_keys, types, question, schema.tables)
                sql, result.sql = repaired.sql, repaired.sql
                result.repairs += repaired.notes
                validated = validate(sql, dialect, names)
                sql, result.sql = validated.sql, validated.sql
                if request.execute and source is not None:
                    rows: QueryResult = execute(
                        source, sql, options.timeout_s, options.row_cap, options.max_result_bytes
                    )
                    result.columns, result.rows, result.truncated = rows.columns, rows.rows, rows.truncated
                result.error, failure = None, None
                break
            except GuardError as exc:
                result.error, failure = str(exc), exc
                if exc.refusal:
                    result.refused = f"refused: {exc}. This service only reads data."
                if exc.final or attempt == options.max_retries:
                    break
                fix = render_prompt(
                    "sql_fix.j2",
                    sql=sql or "",
                    error=str(exc),
                    schema=schema_text,
                    question=request.question,
                    dialect=dialect,
                    notes=DIALECT_NOTES.get(dialect, ""),
                )
                sql = extract_sql(self._chat(fix, options.max_tokens))
        timings["guard_execute_retry"] = round(time.perf_counter() - started, 3)
        said_nothing = (
            failure is None
            and result.rows is not None
            and result.sql is not None
            and says_nothing(result.sql, result.rows, names, dialect, context)
        )
        rescue = options.rescue_samples > 0 and ((failure is not None and not failure.final) or said_nothing)
        if (options.candidates > 1 or rescue) and request.execute and source is not None and result.refused is None:
            started = time.perf_counter()
            self._choose_by_execution(result, prompt, question, dialect, names, context, source, rescue)
            timings["candidates"] = round(time.perf_counter() - started, 3)
        if options.area_check and result.error is None and result.rows is not None and source is not None:
            started = time.perf_counter()
            self._fix_areas(result, (schema, full_schema), question, dialect, names, context, source)
            timings["area_check"] = round(time.perf_counter() - started, 3)
        if options.shape_check and result.error is None and result.rows is not None and source is not None:
            started = time.perf_counter()
            self._fix_shape(result, schema_text, question, dialect, names, context, source)
            timings["shape_check"] = round(time.perf_counter() - started, 3)
        if request.dialect and result.sql and result.error is None:
            result.exported_dialect = sqlglot_dialect(request.dialect)
            result.exported_sql = transpile(result.sql, dialect, str(result.exported_dialect))
        result.timings_s = timings
        return result

    def _choose_by_execution(
        self,
        result: AskResult,
        prompt: str,
        question: str,
        dialect: str,
        names: SchemaNames,
        context: DatabaseContext,
        source: SourceDatabase,
        rescue: bool,
    ) -> None:
        """Sample more candidates of the same prompt (its prefill is cached), run each through the guard
        once, and keep the answer most of them agree on (``candidates.choose``). With ``rescue`` (the answer
        failed, but not by a deadline, or it said nothing), go on while none has run and said something, up to
        ``rescue_samples`` more, stopping at the first that does or one that times out: a sample costs one
        decode, and an answer that does not run, or says nothing where there are rows, answers nothing."""
        options = self.options
        greedy_ran = result.error is None and result.rows is not None
        candidates = [
            Candidate(
                sql=result.sql,
                greedy=True,
                error=result.error,
                signature=result_signature(result.rows or []) if greedy_ran else None,
                row_count=len(result.rows or []) if greedy_ran else None,
                too_few_columns=missing_attributes(question, result.sql, dialect) is not None,
                says_nothing=greedy_ran
                and result.sql is not None
                and says_nothing(result.sql, result.rows or [], names, dialect, context),
            )
        ]
        outcomes: list[tuple[QueryResult, list[str]] | None] = [None]
        number = 1
        while number < options.candidates or (
            rescue
            and number < options.candidates + options.rescue_samples
            and all(c.signature is None or c.says_nothing for c in candidates)
        ):
            started = time.perf_counter()
            reply = self.llm.chat(
                [ChatMessage(role="user", content=prompt)],
                max_tokens=options.max_tokens,
                temperature=options.candidate_temperature,
                seed=number,
            )
            sql = extract_sql(reply.text)
            candidate = Candidate(sql=sql)
            outcome = None
            try:
                candidate.sql, rows, notes = self._run_once(
                    sql, question, dialect, names, context, source, result.linked_tables
                )
                candidate.signature, candidate.row_count = result_signature(rows.rows), len(rows.rows)
                candidate.too_few_columns = missing_attributes(question, candidate.sql, dialect) is not None
                candidate.says_nothing = says_nothing(candidate.sql, rows.rows, names, dialect, context)
                outcome = (rows, notes)
            except GuardError as exc:
                candidate.error = str(exc)
                rescue = rescue and not exc.final
            candidate.latency_s = round(time.perf_counter() - started, 3)
            candidates.append(candidate)
            outcomes.append(outcome)
            number += 1
        chosen = choose(candidates)
        result.candidates = candidates
        if chosen is None or chosen == 0:
            return
        outcome = outcomes[chosen]
        assert outcome is not None  # a candidate that ran has its outcome
        rows, notes = outcome
        result.sql, result.error, result.repairs = candidates[chosen].sql, None, notes
        result.columns, result.rows, result.truncated = rows.columns, rows.rows, rows.truncated

    def _fix_shape(
        self,
        result: AskResult,
        schema_text: str,
        question: str,
        dialect: str,
        names: SchemaNames,
        context: DatabaseContext,
        source: SourceDatabase,
    ) -> None:
        """Ask once more when the answer returns fewer columns than the attributes the question lists, naming
        them; keep the new query only if it runs and returns enough, so a working answer is never lost."""
        missing = missing_attributes(question, result.sql, dialect)
        if missing is None:
            return
        attributes, width = missing
        prompt = render_prompt(
            "sql_shape_fix.j2",
            sql=result.sql,
            width=width,
            attributes=attributes,
            schema=schema_text,
            question=question,
            dialect=dialect,
            notes=DIALECT_NOTES.get(dialect, ""),
        )
        asked = f"returned {width} of the {len(attributes)} attributes the question lists ({', '.join(attributes)})"
        answer = self._ask_again(prompt, question, dialect, names, context, source, result.linked_tables)
        if isinstance(answer, GuardError):
            result.shape_check = f"{asked}; asked again, kept the first query: the new one failed: {answer}"
            return
        if missing_attributes(question, answer[0], dialect) is not None:
            result.shape_check = f"{asked}; asked again, kept the first query: the new one returns too few as well"
            return
        result.shape_check = f"{asked}; asked again and replaced it"
        result.shape_replaced_sql = _take(result, *answer)

    def _fix_areas(
        self,
        result: AskResult,
        shown: tuple[LinkedSchema, LinkedSchema],
        question: str,
        dialect: str,
        names: SchemaNames,
        context: DatabaseContext,
        source: SourceDatabase,
    ) -> None:
        """Ask once more when the answer mixes subject areas, showing only the area that linking ranked first among
        those it read (``shown``: the schema the prompt showed, and the full one), whole: its linked columns
        first, then its other tables, since linking may have left out its copy of a table the query took from
        another. Keep the new query only if it runs and reads one area, so a working answer is never lost."""
        assert result.sql is not None
        mixed = mixed_areas(result.sql, names, dialect, context)
        if mixed is None:
            return
        linked, full = shown
        rank = {table: i for i, table in enumerate(linked.tables)}
        area = min(mixed.tables, key=lambda tables: min(rank.get(t, len(rank)) for t in tables))
        database = namespace(area[0])
        whole = only_tables(full, area)
        keys = {ref for join in whole.joins for ref in (join.left, join.right)}
        # Its unlinked columns go first when the prompt is over budget: they are there for their tables.
        columns = [c.model_copy(update={"join_key": (c.table, c.name) in keys}) for c in whole.columns]
        schema = fit_to_budget(
            union_schema(only_tables(linked, area), whole.model_copy(update={"columns": columns})),
            self.options.schema_token_budget,
        )
        prompt = render_prompt(
            "sql_area_fix.j2",
            sql=result.sql,
            areas=mixed.read,
            database=database,
            schema=render(schema),
            question=question,
            dialect=dialect,
            notes=DIALECT_NOTES.get(dialect, ""),
        )
        asked = f"read {len(mixed.read)} subject areas that nothing relates ({'; '.join(mixed.read)}); asked again"
        answer = self._ask_again(prompt, question, dialect, names, context, source, schema.tables)
        if isinstance(answer, GuardError):
            result.area_check = f"{asked} within {database}, kept the first query: the new one failed: {answer}"
            return
        if mixed_areas(answer[0], names, dialect, context) is not None:
            result.area_check = f"{asked} within {database}, kept the first query: the new one mixes areas as well"
            return
        result.area_check = f"{asked} within {database} and replaced it"
        result.area_replaced_sql = _take(result, *answer)

    def _ask_again(
        self,
        prompt: str,
        question: str,
        dialect: str,
        names: SchemaNames,
        context: DatabaseContext,
        source: SourceDatabase,
        shown: list[str],
    ) -> tuple[str, QueryResult, list[str]] | GuardError:
        """One more answer to a check's ``prompt``, through the guard once: what ``_run_once`` returns, or why
        it failed (the check then keeps the first answer)."""
        sql = extract_sql(self._chat(prompt, self.options.max_tokens))
        try:
            return self._run_once(sql, question, dialect, names, context, source, shown)
        except GuardError as exc:
            return exc

    def _run_once(
        self,
        sql: str | None,
        question: str,
        dialect: str,
        names: SchemaNames,
        context: DatabaseContext,
        source: SourceDatabase,
        shown: list[str],
    ) -> tuple[str, QueryResult, list[str]]:
        """One extra query through the guard (repair, validate, run) with no retry: the SQL that ran, its
        result and the repairs made (``shown``: the tables its prompt showed). Raises ``GuardError``."""
        if sql is None:
            raise GuardError("the model wrote no SQL statement", "parse")
        repaired = repair(sql, dialect, names, context.foreign_keys, context.column_types(), question, shown)
        checked = validate(repaired.sql, dialect, names).sql
        options = self.options
        rows = execute(source, checked, options.timeout_s, options.row_cap, options.max_result_bytes)
        return checked, rows, repaired.notes

    def _evidence(self, schema_text: str, question: str) -> str | None:
        prompt = render_prompt("evidence.j2", schema=schema_text, question=question)
        try:
            reply = self.llm.chat_as([ChatMessage(role="user", content=prompt)], EvidenceReply, max_tokens=320)
        except StructuredOutputError:
            return None
        return reply.evidence.strip() or None
