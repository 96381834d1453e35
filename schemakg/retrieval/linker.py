"""Schema linking: retrieved columns + value matches + join paths -> the linked sub-schema.

The retriever cannot tell filter columns from output columns, so every selected table is
both a source and a destination (the paper's fallback); value-matched tables join the
sources. Join completion then adds the bridging tables and the join keys. Optionally every
linked table also shows its primary key: the retriever, reading only the question, ranks keys
low, yet ``COUNT(t.id)`` and ``GROUP BY t.id`` need them. It raises column recall but did not
help the small local SQL models, so it is off by default (docs/evaluation.md: linking ablation).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Literal, Protocol

import torch
from pydantic import BaseModel, Field

from schemakg.kernel.model import split_column_ref
from schemakg.kernel.sql.links import columns_by_table
from schemakg.retrieval.area_text import COVERAGE_WEIGHT, area_texts, combined
from schemakg.retrieval.column_docs import ColumnDoc, question_text
from schemakg.retrieval.identifiers import named_in, shares, words
from schemakg.retrieval.join_paths import ColumnRef, JoinGraph, JoinMode, namespace
from schemakg.retrieval.linked_schema import ColumnFacts, Dependency, LinkedColumn, LinkedSchema, SubjectArea
from schemakg.retrieval.question_log import LogSimilarity, log_order
from schemakg.retrieval.value_match import (
    ValueIndex,
    ValueMatch,
    judged_literals,
    question_literals,
    sample_completeness,
)

if TYPE_CHECKING:
    from schemakg.retrieval.area_reranker import AreaReranker
    from schemakg.retrieval.index import ColumnScores, ScoredColumn
    from schemakg.retrieval.retriever import ColumnRetriever


# Below this many tables a schema is not split into subject areas: in small databases an isolated table (no foreign
# key) is a region of its own that questions still join by hand, and focusing cost the per-database validation
# 0.015 of table recall (docs/evaluation.md, warehouse). Its best-covering tables are linked (``best_tables``).
FOCUS_MIN_TABLES = 64
# The best-covering subject areas a query log may reorder (``_by_log``): on the validation warehouse the right area
# was among the best 12 by coverage for 0.97 of the Spider questions (among the best 4 for 0.88).
LOG_AREAS = 12


class ContextColumn(ColumnFacts):
    match_values: list[str] = Field(default_factory=list)
    distinct_estimate: int | None = None

    def doc(self, database: str) -> ColumnDoc:
        return ColumnDoc(
            db_id=database,
            table=self.table,
            column=self.name,
            description=self.description or "",
            examples=tuple(self.examples),
            value_explanation=self.value_explanation or "",
            data_type=self.data_type,
        )


class DatabaseContext(BaseModel):
    """What linking needs to know about one database, read from the catalogue."""

    database: str
    dialect: str
    version: str
    columns: list[ContextColumn]
    foreign_keys: list[tuple[ColumnRef, ColumnRef]] = Field(default_factory=list)
    log_joins: list[tuple[ColumnRef, ColumnRef]] = Field(default_factory=list)
    table_descriptions: dict[str, str] = Field(default_factory=dict)
    dependencies: list[Dependency] = Field(default_factory=list)

    def columns_by_table(self) -> dict[str, list[str]]:
        return columns_by_table((c.table, c.name) for c in self.columns)

    def column_types(self) -> dict[tuple[str, str], str]:
        """(table, column), lower-cased -> the catalogue's type (what the guard's repairs compare)."""
        return {(c.table.lower(), c.name.lower()): c.data_type for c in self.columns}


class TablePicker(Protocol):
    """Names source (filter) and destination (output) tables, e.g. with one LLM call."""

    def pick(self, question: str, columns_by_table: dict[str, list[str]]) -> tuple[list[str], list[str]]: ...


class LinkerSettings(BaseModel):
    mode: JoinMode = "force-union"
    join_completion: bool = True  # off: the retrieved tables alone (ablation)
    # Question n-grams against sampled values and column names, and the columns of linked tables that the text
    # names word for word (``identifiers.named_in``).
    value_matching: bool = True
    primary_keys: bool = False  # on: every linked table also shows its primary key
    max_value_matches: int = 10
    # The optional LLM source/destination step: off, merged with the retriever's tables, or replacing them.
    table_picker: Literal["off", "merge", "replace"] = "off"
    # Large schemas: select columns (and keep value matches) only in the subject areas (JoinGraph.areas) whose
    # coverage of the question is within this margin of the best area's (None: no focus). An answer lives
    # within one area.
    region_margin: float | None = 0.06
    # With a query log, the best-covering areas it covers are reordered among their places by coverage plus this
    # times how far the question's best similarity to their logged questions rises above ``question_log.NEAR``
    # (0: the log is not read).
    log_weight: float = Field(default=5.0, ge=0)
    # Each column name of the question or its evidence that only some areas hold (``identifiers``: snake_case or
    # camelCase, written exactly) adds this much to their coverage, shared among them, and its columns within the
    # focus are linked (0: neither).
    identifier_weight: float = Field(default=0.05, ge=0)
    # Routing: each value the question writes as a literal (quoted, or capitalised: ``question_literals``) that only
    # some databases hold among their sampled values adds this much to their coverage, shared among them (0: off).
    # Not to subject areas: on the validation warehouse, whose BIRD areas hold no rows, literals pulled questions
    # into look-alike areas that do (table recall 0.907 -> 0.878, docs/evaluation.md).
    literal_value_weight: float = Field(default=0.1, ge=0)
    # Routing: a database whose sampled values hold none of the question's literals, not even within a longer value,
    # loses this much times its values' completeness (``sample_completeness``): a value missing from a small
    # database's full value lists is missing from the database. One never sampled loses nothing (0: off).
    literal_absence_weight: float = Field(default=0.15, ge=0)
    # With an area reranker: the best-covering areas it rescores (below 2: coverage alone decides), and how far
    # below the best area's final score (area_text.combined) another one may be and still be kept.
    rerank_areas: int = 0
    rerank_margin: float = 5.0
    # Within the kept areas, only the tables that cover the question best (a table as one document): this many
    # of the best area, half as many of each other one (None: every table of the kept areas). Join completion
    # still bridges through any table.
    area_tables: int | None = Field(default=4, ge=1)
    # Of those, and of a smaller schema, only the tables whose coverage is within this margin of the best table's
    # (None: no margin): a table that only the column budget's last picks reach is left out. Then at most
    # ``schema_tables`` of a smaller schema (None: no cap). The own databases' table F6 went from 0.941 to 0.950 at
    # 0.7 fewer tables, the warehouse's from 0.849 to 0.851 (docs/evaluation.md).
    table_margin: float | None = Field(default=0.4, ge=0)
    schema_tables: int | None = Field(default=8, ge=1)
    # More linked tables than this are joined by one Steiner tree, not the union of every pair's paths
    # (None: never). Applies when the request names no join mode.
    steiner_above: int | None = None


class LinkResult(BaseModel):
    schema_: LinkedSchema = Field(alias="schema")
    retrieved: list[str]
    timings_ms: dict[str, float]


class Linker:
    def __init__(
        self,
        retriever: ColumnRetriever,
        settings: LinkerSettings | None = None,
        picker: TablePicker | None = None,
        reranker: AreaReranker | None = None,
    ) -> None:
        self.retriever = retriever
        self.settings = settings or LinkerSettings()
        self.picker = picker
        self.reranker = reranker
        self._prepared: dict[str, tuple[str, JoinGraph, ValueIndex]] = {}
        self._by_ref: dict[str, tuple[str, dict[ColumnRef, ContextColumn]]] = {}

    def prepare(self, context: DatabaseContext) -> tuple[JoinGraph, ValueIndex]:
        """Sync the column index and build the join graph and value index once per catalogue version."""
        cached = self._prepared.get(context.database)
        if cached and cached[0] == context.version:
            return cached[1], cached[2]
        self.retriever.sync(context.database, [c.doc(context.database) for c in context.columns])
        by_table = context.columns_by_table()
        graph = JoinGraph(by_table, context.foreign_keys, context.log_joins, columns=by_table)
        values = ValueIndex(
            ((c.table, c.name, c.match_values) for c in context.columns),
            completeness=sample_completeness((c.match_values, c.distinct_estimate) for c in context.columns),
        )
        self._prepared[context.database] = (context.version, graph, values)
        return graph, values

    def named_shares(
        self, databases: Sequence[str], text: str, literals: Mapping[str, list[ValueMatch]] | None = None
    ) -> dict[str, float]:
        """What routing adds to each prepared database's coverage: ``identifier_weight`` times its share of the
        column names ``text`` spells out (``identifiers``), as focusing adds to a subject area's, plus
        ``literal_value_weight`` times its share of the literal values found in it (``literals``, from
        :meth:`literal_values`). A name or value held by several databases is shared equally among them."""
        prepared = self._prepared_of(databases)
        added = dict.fromkeys(prepared, 0.0)
        if self.settings.identifier_weight:
            named = {database: self._prepared[database][1].identifiers().names(text) for database in prepared}
            for database, share in shares(named).items():
                added[database] += self.settings.identifier_weight * share
        if literals and self.settings.literal_value_weight:
            found = {database: {m.ngram for m in literals[database]} for database in prepared if database in literals}
            for database, share in shares(found).items():
                added[database] += self.settings.literal_value_weight * share
        return added

    def literal_absences(self, text: str, literals: Mapping[str, list[ValueMatch]]) -> dict[str, float]:
        """What routing takes from each database whose sampled values hold none of the literals ``text`` writes
        (``literals``, from :meth:`literal_values`), not even within a longer value ("names containing 'Swift'"):
        ``literal_absence_weight`` times their completeness (``ValueIndex.completeness``). A title missing from a
        small database's full list of films is missing from the database; a large table's names are a sample, a
        database never sampled is not judged, and neither is a literal of two characters (``judged_literals``)."""
        weight = self.settings.literal_absence_weight
        written = judged_literals(text)
        if not (weight and written):
            return {}
        lacking = [
            database
            for database in self._prepared_of(literals)
            if not literals[database] and not self._prepared[database][2].holds_within(written)
        ]
        complete = {database: self._prepared[database][2].completeness for database in lacking}
        return {database: weight * share for database, share in complete.items() if share}

    def literal_values(self, databases: Sequence[str], text: str) -> dict[str, list[ValueMatch]]:
        """Each prepared database's sampled values that ``text`` writes as literals (``ValueIndex.literal_values``):
        for every one that has sampled values (an empty list: it holds none of them), and none when ``text``
        writes no literal. On the validation tuning databases the values found routed 4 more of 475 questions
        right and none wrong ("played by Linda Smith", "the pilot 'Thompson'"), and a small database holding
        none of them yielding to one never sampled 5 more (docs/evaluation.md, routing)."""
        if not (self.settings.literal_value_weight or self.settings.literal_absence_weight):
            return {}
        literals = question_literals(text)
        if not literals:
            return {}
        indexes = {database: self._prepared[database][2] for database in self._prepared_of(databases)}
        return {database: index.literal_values(literals) for database, index in indexes.items() if len(index)}

    def _prepared_of(self, databases: Iterable[str]) -> list[str]:
        return [database for database in databases if database in self._prepared]

    def prepared(self, database: str, version: str) -> bool:
        """Whether :meth:`prepare` has run for ``database`` at this catalogue ``version``."""
        cached = self._prepared.get(database)
        return cached is not None and cached[0] == version

    def link(
        self,
        context: DatabaseContext,
        question: str,
        evidence: str | None = None,
        mode: JoinMode | None = None,
        scores: ColumnScores | None = None,
        log: LogSimilarity | None = None,
    ) -> LinkResult:
        """``scores``: every column's score for this question, when the caller already has them; ``log``: the
        question's similarity to the database's logged questions, which orders a large schema's subject areas."""
        timings: dict[str, float] = {}
        started = time.perf_counter()
        graph, values = self.prepare(context)
        timings["prepare"] = _ms(started)
        text = question_text(question, evidence)

        if scores is None:
            started = time.perf_counter()
            scores = self.retriever.scores(context.database, text)
            timings["retrieve"] = _ms(started)
        started = time.perf_counter()
        areas, focus = self._focus(scores, graph, text, log)
        scored = self.select(scores, graph, focus)
        timings["select"] = _ms(started)

        started = time.perf_counter()
        matches = values.match(text, self.settings.max_value_matches, focus) if self.settings.value_matching else []
        spelled = graph.identifiers().columns(text) if self.settings.identifier_weight else []
        if focus is not None:
            spelled = [ref for ref in spelled if ref[0] in focus]
        timings["value_match"] = _ms(started)

        by_ref = self._columns_by_ref(context)
        chosen: dict[ColumnRef, LinkedColumn] = {}
        for item in scored:
            table, name = split_column_ref(item.key)
            if (table, name) in by_ref:
                chosen[(table, name)] = _linked(by_ref[(table, name)], score=item.normalised)
        hints = []
        for match in matches:
            ref = (match.table, match.column)
            if ref in by_ref:
                column = chosen.setdefault(ref, _linked(by_ref[ref], score=0.0))
                column.value_match = column.value_match or match.value is not None
                if match.value is not None:
                    hints.append(match.hint())
        for ref in spelled:  # a column the question names exactly is linked, as a value match's column is
            if ref in by_ref:
                chosen.setdefault(ref, _linked(by_ref[ref], score=0.0))
        selected = list(dict.fromkeys(t for t, _ in chosen))
        sources = selected + [m.table for m in matches if m.value is not None]
        destinations = list(sources)
        if self.picker is not None and self.settings.table_picker != "off":
            started = time.perf_counter()
            picked_src, picked_dst = self.picker.pick(question, context.columns_by_table())
            timings["table_picker"] = _ms(started)
            if self.settings.table_picker == "replace" and (picked_src or picked_dst):
                sources, destinations = picked_src or picked_dst, picked_dst or picked_src
            else:
                sources, destinations = sources + picked_src, destinations + picked_dst

        if mode is None:
            many = self.settings.steiner_above is not None and len(set(sources)) > self.settings.steiner_above
            mode = "steiner" if many else self.settings.mode
        started = time.perf_counter()
        plan = graph.plan(sources, destinations if self.settings.join_completion else [], mode)
        timings["join_paths"] = _ms(started)
        for ref in plan.join_columns:
            if ref in by_ref:
                chosen.setdefault(ref, _linked(by_ref[ref], score=0.0)).join_key = True
        if areas is None and focus is not None:  # a table of a smaller schema that only join completion brought in
            for item in self.retriever.select(scores):  # shows the columns that selection over every table picks
                table, name = split_column_ref(item.key)
                if table in plan.tables and (table, name) in by_ref:
                    chosen.setdefault((table, name), _linked(by_ref[(table, name)], score=item.normalised))
        if self.settings.value_matching:  # a column of a linked table that the text names word for word
            said = words(text)
            for table in plan.tables:
                for name in graph.columns.get(table, ()):
                    if (table, name) in by_ref and named_in(name, said):
                        chosen.setdefault((table, name), _linked(by_ref[(table, name)], score=0.0))
        if self.settings.primary_keys:
            for ref, candidate in by_ref.items():
                if candidate.is_pk and candidate.table in plan.tables:
                    chosen.setdefault(ref, _linked(candidate, score=0.0))
        order = {t: i for i, t in enumerate(plan.tables)}
        columns = sorted(chosen.values(), key=lambda c: (order.get(c.table, len(order)), -c.score))
        schema = LinkedSchema(
            database=context.database,
            dialect=context.dialect,
            tables=plan.tables,
            table_descriptions={t: d for t, d in context.table_descriptions.items() if t in order},
            columns=[c for c in columns if c.table in order],
            joins=plan.conditions,
            paths=plan.paths,
            value_hints=list(dict.fromkeys(hints)),
            dependencies=[
                d
                for d in context.dependencies
                if split_column_ref(d.head)[0] in order or split_column_ref(d.tail)[0] in order
            ],
            areas=areas or [],
        )
        return LinkResult(schema=schema, retrieved=[s.key for s in scored], timings_ms=timings)

    def select(
        self,
        scores: ColumnScores,
        graph: JoinGraph,
        focus: set[str] | Literal["auto"] | None = "auto",
        question: str | None = None,
    ) -> list[ScoredColumn]:
        """The retriever's selection among the columns of the focused tables (``focus``: from :meth:`focus`
        of ``question`` when "auto"; None: every table). Selecting within the focus, not filtering a selection
        made over the whole schema, keeps the column budget for the subject areas the question is about."""
        kept = self.focus(scores, graph, question) if focus == "auto" else focus
        if kept is not None:
            scores = scores.subset([i for i, key in enumerate(scores.keys) if split_column_ref(key)[0] in kept])
        return self.retriever.select(scores)

    def focus(self, scores: ColumnScores, graph: JoinGraph, question: str | None = None) -> set[str] | None:
        """The tables columns are selected among: those of :meth:`focus_areas` in a large schema, else
        :meth:`best_tables`; None: every table."""
        return self._focus(scores, graph, question)[1]

    def _focus(
        self, scores: ColumnScores, graph: JoinGraph, question: str | None, log: LogSimilarity | None = None
    ) -> tuple[list[SubjectArea] | None, set[str] | None]:
        """The subject areas focused on (None when not focused by area) and :meth:`focus`."""
        areas = self.focus_areas(scores, graph, question, log)
        return areas, _area_tables(areas) if areas is not None else self.best_tables(scores, graph)

    def best_tables(self, scores: ColumnScores, graph: JoinGraph) -> set[str] | None:
        """In a smaller schema (below ``FOCUS_MIN_TABLES``), the tables that cover the question best: within
        ``table_margin`` of the best one, at most ``schema_tables``; None when that is every table."""
        tables = graph.areas()
        if len(tables) >= FOCUS_MIN_TABLES:
            return None
        best = self._ranked_tables(scores, dict.fromkeys(tables, 0), [0])[0][: self.settings.schema_tables]
        return set(best) if len(best) < len(tables) else None

    def area_tables(self, context: DatabaseContext, areas: Sequence[SubjectArea]) -> set[str]:
        """Every table of the subject areas ``areas`` (:meth:`focus_areas`' picks, which name only their best
        tables); empty for none."""
        numbers = self.prepare(context)[0].areas()
        kept = {numbers[table] for area in areas for table in area.tables if table in numbers}
        return {table for table, number in numbers.items() if number in kept}

    def focus_areas(
        self, scores: ColumnScores, graph: JoinGraph, question: str | None = None, log: LogSimilarity | None = None
    ) -> list[SubjectArea] | None:
        """The subject areas (:meth:`JoinGraph.areas`) the question is about, best first, each with its tables
        that cover the question best; None when not focusing. With a reranker (and the question text), the
        best-covering ``rerank_areas`` are rescored (:func:`combined`) and as many are kept as lie within
        ``rerank_margin`` of the best; otherwise as many as cover the question within ``region_margin`` of the best
        area. With a ``log``, the areas it covers are reordered first (:meth:`_by_log`)."""
        margin = self.settings.region_margin
        areas = graph.areas()
        if margin is None or len(areas) < FOCUS_MIN_TABLES or len(set(areas.values())) < 2:
            return None
        count = max(areas.values()) + 1
        groups = torch.tensor([areas.get(split_column_ref(key)[0], count) for key in scores.keys], dtype=torch.long)
        coverage = scores.coverage(groups, count + 1)[:count].tolist()
        if question and self.settings.identifier_weight:
            named = graph.identifiers().areas(question, count)
            coverage = [cover + self.settings.identifier_weight * n for cover, n in zip(coverage, named, strict=True)]
        logged = self._log_similarity(areas, log)
        if self.reranker is not None and question and self.settings.rerank_areas > 1:
            kept = self._rerank(question, scores, areas, coverage, logged)
        else:
            best = max(coverage, default=0.0)
            order = sorted(range(count), key=lambda a: -coverage[a])
            kept = self._by_log(order, coverage.__getitem__, logged)[: sum(c >= best - margin for c in coverage)]
        # An answer reads a few tables of one area: only the best ``area_tables`` of the first area and half as
        # many of each other are kept. Every table of the kept areas gave the warehouse 1.6 more tables a
        # question for 0.011 of table recall (docs/evaluation.md).
        ranked = self._ranked_tables(scores, areas, kept)
        limit = self.settings.area_tables
        return [
            SubjectArea(
                name=_area_name(ranked[area]),
                coverage=round(coverage[area], 4),
                tables=ranked[area] if limit is None else ranked[area][: limit if rank == 0 else max(1, limit // 2)],
                log_similarity=round(logged[area], 4) if area in logged else None,
            )
            for rank, area in enumerate(kept)
        ]

    def _rerank(
        self,
        question: str,
        scores: ColumnScores,
        areas: dict[str, int],
        coverage: list[float],
        logged: dict[int, float],
    ) -> list[int]:
        """The areas the reranker keeps among the best-covering ``rerank_areas``, best first."""
        assert self.reranker is not None
        top = sorted(range(len(coverage)), key=lambda area: -coverage[area])[: self.settings.rerank_areas]
        texts = area_texts(scores, areas, top, self.reranker.config.max_columns)
        logits = self.reranker.score(question, [texts[area] for area in top])
        final = dict(zip(top, combined(logits, [coverage[area] for area in top]), strict=True))
        best = max(final.values())
        order = sorted(top, key=lambda a: -final[a])
        kept = sum(score >= best - self.settings.rerank_margin for score in final.values())
        return self._by_log(order, lambda a: final[a] / COVERAGE_WEIGHT, logged)[:kept]

    def _by_log(self, order: list[int], score: Callable[[int], float], logged: dict[int, float]) -> list[int]:
        """Areas in ``order`` (best first, by ``score`` on coverage's scale), those of the best ``LOG_AREAS`` that
        the log covers (``logged``: their similarity) reordered among their places (``question_log.log_order``). On
        the validation warehouse, with a log of every area, the right area came first for 0.72 of the Spider
        questions instead of 0.67 (replayed offline, docs/evaluation.md)."""
        if not logged:
            return order
        return log_order(order[:LOG_AREAS], score, logged, self.settings.log_weight) + order[LOG_AREAS:]

    def _log_similarity(self, areas: dict[str, int], log: LogSimilarity | None) -> dict[int, float]:
        """The areas a ``log`` covers, with the question's best similarity to their logged questions."""
        if log is None or not self.settings.log_weight:
            return {}
        return log.best_by_group(areas)

    def _ranked_tables(self, scores: ColumnScores, areas: dict[str, int], kept: list[int]) -> dict[int, list[str]]:
        """Each of the ``kept`` areas' tables, those that cover the question best (a table as one document)
        first, without those more than ``table_margin`` below the area's best."""
        kept_areas = set(kept)
        tables = sorted(table for table, area in areas.items() if area in kept_areas)
        number = {table: i for i, table in enumerate(tables)}
        groups = torch.tensor(
            [number.get(split_column_ref(key)[0], len(tables)) for key in scores.keys], dtype=torch.long
        )
        coverage = scores.coverage(groups, len(tables) + 1)[: len(tables)].tolist()
        ranked: dict[int, list[str]] = {area: [] for area in kept}
        margin = self.settings.table_margin
        for table in sorted(tables, key=lambda t: -coverage[number[t]]):
            area = ranked[areas[table]]
            if not area or margin is None or coverage[number[table]] >= coverage[number[area[0]]] - margin:
                area.append(table)
        return ranked

    def _columns_by_ref(self, context: DatabaseContext) -> dict[ColumnRef, ContextColumn]:
        """The context's columns by (table, name), built once per catalogue version, not per question."""
        cached = self._by_ref.get(context.database)
        if cached is None or cached[0] != context.version:
            cached = (context.version, {(c.table, c.name): c for c in context.columns})
            self._by_ref[context.database] = cached
        return cached[1]


def _area_tables(areas: list[SubjectArea] | None) -> set[str] | None:
    return None if areas is None else {table for area in areas for table in area.tables}


def _area_name(tables: list[str]) -> str:
    """An area's namespaces (a schema, or a ``prefix__`` of a flattened warehouse), else its first table."""
    spaces = sorted({space for space in map(namespace, tables) if space is not None})
    return "+".join(spaces) if spaces else tables[0]


def _linked(column: ContextColumn, score: float) -> LinkedColumn:
    return LinkedColumn(**column.model_dump(exclude={"match_values"}), score=score)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 2)
