"""Evaluation through the product's own paths: every database an evaluation meets is registered
and ingested into the catalogue (from ``DIR/<db>/<db>.sqlite``, or an empty SQLite database
built from ``tables.json``), then questions go through linking or answering like any request.
Gold links come from the gold SQL with the same resolver the query-log ingestion uses.
"""

from __future__ import annotations

import contextlib
import json
import math
import random
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import Column, ForeignKeyConstraint, Integer, MetaData, Numeric, Table, Text, create_engine, make_url
from sqlalchemy.types import TypeEngine

from schemakg.app.container import Container
from schemakg.generation.answer import AskOptions, AskRequest
from schemakg.generation.candidates import Candidate, choose
from schemakg.generation.example_selection import sql_shape
from schemakg.generation.guard import GuardError, execute
from schemakg.ingest.query_log import LogRecord, QueryLogIngestor, normalise_text
from schemakg.ingest.sampling import SamplingBounds
from schemakg.ingest.schema_ingest import ingest_schema
from schemakg.kernel.model import Provenance, column_ref, valid_name
from schemakg.kernel.progress import Progress
from schemakg.kernel.sources import SourceDatabase
from schemakg.kernel.sql.dialects import sqlglot_dialect
from schemakg.kernel.sql.links import SchemaNames, SqlParseError, sql_links
from schemakg.kernel.sql.results import informative, orders_result, results_match
from schemakg.offline.retriever.linking_eval import column_metrics, latency_metrics, table_metrics
from schemakg.offline.retriever.schema import label_description
from schemakg.retrieval.join_paths import JoinMode


class EvalInputError(ValueError):
    """An evaluation input file that cannot be used as given: the message names the file, the entry and the field,
    so a mistake in one of a thousand entries is found without a traceback."""


class SpiderSchema(BaseModel):
    """One entry of a Spider-format ``tables.json``: what ingesting an empty copy and resolving gold links read."""

    model_config = ConfigDict(extra="allow")

    db_id: str = Field(min_length=1)
    table_names_original: list[str]
    column_names_original: list[tuple[int, str]]
    column_types: list[str]
    primary_keys: list[int | list[int]]
    foreign_keys: list[tuple[int, int]]

    @model_validator(mode="after")
    def _indices_in_range(self) -> SpiderSchema:
        tables, columns = len(self.table_names_original), len(self.column_names_original)
        if any(not -1 <= table < tables for table, _ in self.column_names_original):
            raise ValueError(f"column_names_original names a table index outside 0..{tables - 1}")
        if len(self.column_types) != columns:
            raise ValueError(f"column_types has {len(self.column_types)} entries for {columns} columns")
        keys = [i for key in self.primary_keys for i in (key if isinstance(key, list) else [key])]
        if any(not 0 <= i < columns for i in [*keys, *(i for pair in self.foreign_keys for i in pair)]):
            raise ValueError(f"a primary or foreign key names a column index outside 0..{columns - 1}")
        return self


class SpiderQuestion(BaseModel):
    """One Spider- or BIRD-format question: its gold SQL as ``query`` (Spider) or ``SQL`` (BIRD)."""

    model_config = ConfigDict(extra="allow")

    question: str = Field(min_length=1)
    db_id: str = Field(min_length=1)
    query: str | None = None
    SQL: str | None = None
    evidence: str | None = None


def _read_entries(path: Path, model: type[BaseModel]) -> list[dict[str, Any]]:
    """The JSON list in ``path``, each entry checked against ``model`` and kept as read."""
    try:
        entries = json.loads(Path(path).read_text())
    except OSError as exc:
        raise EvalInputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise EvalInputError(f"{path}: not JSON ({exc})") from None
    if not isinstance(entries, list):
        raise EvalInputError(f"{path}: not a JSON list of entries")
    for index, entry in enumerate(entries):
        try:
            model.model_validate(entry)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"])
            raise EvalInputError(f"{path}: entry {index}{f', {field}' if field else ''}: {error['msg']}") from None
    return entries


def load_tables(path: Path) -> dict[str, dict[str, Any]]:
    """A Spider-format ``tables.json`` by ``db_id``; a malformed file or entry is an :class:`EvalInputError`."""
    schemas: dict[str, dict[str, Any]] = {}
    for index, entry in enumerate(_read_entries(path, SpiderSchema)):
        if entry["db_id"] in schemas:
            raise EvalInputError(f"{path}: entry {index}: db_id {entry['db_id']!r} is given twice")
        schemas[entry["db_id"]] = entry
    return schemas


def load_questions(
    path: Path, schemas: dict[str, dict[str, Any]] | None = None, need_sql: bool = True
) -> list[dict[str, Any]]:
    """Spider- or BIRD-format questions; with ``schemas``, each must ask about one of them, and with ``need_sql``
    each must carry its gold SQL. A malformed file or entry is an :class:`EvalInputError`."""
    rows = _read_entries(path, SpiderQuestion)
    for index, row in enumerate(rows):
        if schemas is not None and row["db_id"] not in schemas:
            raise EvalInputError(f"{path}: entry {index}: db_id {row['db_id']!r} is not in the tables file")
        if need_sql and not question_sql(row).strip():
            raise EvalInputError(f"{path}: entry {index}: no gold SQL ('query' or 'SQL')")
    return rows


def question_sql(row: dict[str, Any]) -> str:
    return str(row.get("query") or row.get("SQL") or "")


_COLUMN_TYPES: dict[str, type[TypeEngine[Any]]] = {"number": Numeric, "time": Text, "boolean": Integer}


def schema_metadata(raw: dict[str, Any]) -> MetaData:
    """The tables (with keys) of a Spider ``tables.json`` entry, for an empty database to ingest. SQLite's own
    tables (``sqlite_sequence``, listed by some entries) are left out: SQLite refuses to create them."""
    names = raw["table_names_original"]
    columns = raw["column_names_original"]
    primary = {i for pk in raw["primary_keys"] for i in (pk if isinstance(pk, list) else [pk])}
    metadata = MetaData()
    tables = {
        t_index: Table(
            name,
            metadata,
            *(
                Column(
                    column, _COLUMN_TYPES.get(raw["column_types"][i], Text)(), primary_key=i in primary, nullable=True
                )
                for i, (t, column) in enumerate(columns)
                if t == t_index
            ),
        )
        for t_index, name in enumerate(names)
        if not name.lower().startswith("sqlite_")
    }
    for src, dst in raw["foreign_keys"]:
        (src_table, src_column), (dst_table, dst_column) = columns[src], columns[dst]
        if src_table in tables and dst_table in tables:
            tables[src_table].append_constraint(
                ForeignKeyConstraint([tables[src_table].c[src_column]], [tables[dst_table].c[dst_column]])
            )
    return metadata


def schema_names(raw: dict[str, Any], dialect: str = "sqlite") -> SchemaNames:
    tables = raw["table_names_original"]
    by_table: dict[str, list[str]] = {t: [] for t in tables}
    for t_index, name in raw["column_names_original"]:
        if t_index >= 0:
            by_table[tables[t_index]].append(name)
    return SchemaNames(by_table, dialect)


class EvalDatabases:
    """Registers and ingests (once) each evaluation database under the name ``eval-<db_id>``: from its SQLite
    file, or with ``engine_url`` (a PostgreSQL or MariaDB server) from that server's database named ``db_id``
    (``bench/engine_copies.py`` and ``bench/warehouse.py --postgres`` build them). The gold SQL always runs on the
    SQLite file; gold links read it in the engine's dialect, against the tables file's names, so a tables file
    naming the engine's tables (``tables_pg.json``: ``spider_concert_singer.singer``) and questions written for
    it (``questions_pg.json``) give the links of schema-qualified names."""

    def __init__(
        self,
        container: Container,
        tables: dict[str, dict[str, Any]],
        db_dir: Path | None,
        engine_url: str | None = None,
    ) -> None:
        self.container = container
        self.tables = tables
        self.db_dir = db_dir
        self.engine_url = engine_url
        self.dialect = sqlglot_dialect(make_url(engine_url).get_backend_name()) if engine_url else None
        self._names: dict[str, SchemaNames] = {}
        self._documented: set[str] = set()

    def sqlite_path(self, db_id: str) -> Path:
        if self.db_dir is not None:
            path = self.db_dir / db_id / f"{db_id}.sqlite"
            if path.exists():
                return path
        path = self.container.settings.data_dir / "eval" / "empty" / f"{db_id}.sqlite"
        if not path.exists():  # built aside and moved into place, so a failed build leaves nothing behind
            path.parent.mkdir(parents=True, exist_ok=True)
            building = path.with_suffix(".building")
            building.unlink(missing_ok=True)
            engine = create_engine(f"sqlite:///{building}")
            try:
                schema_metadata(self.tables[db_id]).create_all(engine)
            finally:
                engine.dispose()
            building.replace(path)
        return path

    def source_url(self, db_id: str) -> str:
        """Where questions on ``db_id`` are answered: the engine's database of that name, else the SQLite file."""
        if self.engine_url is None:
            return f"sqlite:///{self.sqlite_path(db_id)}"
        return make_url(self.engine_url).set(database=db_id).render_as_string(hide_password=False)

    def ensure(self, db_id: str) -> str:
        name = f"eval-{db_id}"[:64]
        if not valid_name(name):
            raise ValueError(f"database id {db_id!r} cannot be a catalogue name")
        if self.container.catalog.get_database(name) is None:
            url = self.source_url(db_id)
            self.container.databases.register(name, url)
            source = SourceDatabase(url)
            try:
                ingest_schema(self.container.catalog, source, name, SamplingBounds(row_budget=2000))
            finally:
                source.dispose()
        if name not in self._documented and db_id in self.tables:
            self._document(name, self.tables[db_id])
            self._documented.add(name)
        return name

    def _document(self, name: str, raw: dict[str, Any]) -> None:
        """Spider-format labels that say more than a column's name (``PostGA``: "Postseason Goals against")
        become its description where it has none: the documentation the benchmark ships with its schema,
        and the column text the retriever was trained with."""
        tables = raw["table_names_original"]
        for (t_index, column), (_, label) in zip(
            raw["column_names_original"], raw.get("column_names") or [], strict=False
        ):
            description = label_description(column, label)
            table = self.container.catalog.get_table(name, tables[t_index]) if t_index >= 0 else None
            if table is None or not description:  # an engine copy may spell the table otherwise (PostgreSQL's)
                continue
            info = self.container.catalog.get_column(name, table.name, column)
            if info is not None and not info.description:
                self.container.curation.edit_column(
                    name,
                    table.name,
                    info.name,
                    {"description": description},
                    None,
                    "tables.json",
                    Provenance.INGESTED,
                )

    def names(self, db_id: str) -> SchemaNames:
        if db_id not in self._names:
            self._names[db_id] = schema_names(self.tables[db_id], self.dialect or "sqlite")
        return self._names[db_id]

    def gold(self, row: dict[str, Any]) -> tuple[set[str], set[str]]:
        try:
            links = sql_links(question_sql(row), self.names(row["db_id"]), self.dialect or "sqlite")
        except SqlParseError:
            return set(), set()
        return set(links.tables), {column_ref(t, c) for t, c in links.columns}


def evaluate_linking(
    container: Container,
    questions: list[dict[str, Any]],
    catalogue: EvalDatabases,
    mode: JoinMode | None,
    predictions: Path | None,
    progress: Progress,
) -> dict[str, Any]:
    predicted_tables, predicted_columns, gold_tables, gold_columns, latencies = [], [], [], [], []
    lines = []
    warmed: set[str] = set()
    for index, row in enumerate(questions):
        name = catalogue.ensure(row["db_id"])
        if name not in warmed:  # index, join graph and query log ready: a database's first question times as any
            container.linking.warm(name)
            warmed.add(name)
        context = container.linking.context(name)
        started = time.perf_counter()
        result = container.linking.link_context(context, row["question"], row.get("evidence") or None, mode)
        latencies.append((time.perf_counter() - started) * 1000)
        tables, columns = set(result.schema_.tables), set(result.schema_.column_refs())
        gold_t, gold_c = catalogue.gold(row)
        predicted_tables.append(tables)
        predicted_columns.append(columns)
        gold_tables.append(gold_t)
        gold_columns.append(gold_c)
        lines.append(
            {
                "index": index,
                "db_id": row["db_id"],
                "tables": result.schema_.tables,
                "columns": result.schema_.column_refs(),
            }
        )
        progress(index + 1, len(questions), "")
    if predictions is not None:
        predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return {
        "n": len(questions),
        **table_metrics(predicted_tables, gold_tables),
        **column_metrics(predicted_columns, gold_columns),
        **latency_metrics(latencies),
    }


def evaluate_routing(
    container: Container,
    questions: list[dict[str, Any]],
    catalogue: EvalDatabases,
    predictions: Path | None,
    progress: Progress,
) -> dict[str, Any]:
    """Registers and ingests every database of the tables file, then routes each question without its
    ``db_id``: recall@1 and @3 of the right database, the routing latency, and how often the first route
    was ``decided`` (coverage alone chose it) with recall@1 on those and on the rest: how far a caller may trust
    the flag."""
    databases = sorted(catalogue.tables)
    names = {}
    for done, db_id in enumerate(databases, 1):
        names[catalogue.ensure(db_id)] = db_id
        progress(done, len(databases) + len(questions), f"ingested {db_id}")
    candidates = list(names)
    container.linking.route("warm-up", None, candidates, 1)  # indexes every database before the clock starts
    hits_1 = hits_3 = 0
    decided = Counter[bool]()
    decided_hits = Counter[bool]()
    latencies, lines = [], []
    for index, row in enumerate(questions):
        started = time.perf_counter()
        routes = container.linking.route(row["question"], row.get("evidence") or None, candidates, len(candidates))
        latencies.append((time.perf_counter() - started) * 1000)
        ranked = [names[r.database] for r in routes]
        first_right = ranked[:1] == [row["db_id"]]
        hits_1 += first_right
        hits_3 += row["db_id"] in ranked[:3]
        flag = bool(routes) and routes[0].decided
        decided[flag] += 1
        decided_hits[flag] += first_right
        lines.append({"index": index, "db_id": row["db_id"], "ranked": ranked, "decided": flag})
        progress(len(databases) + index + 1, len(databases) + len(questions), "")
    if predictions is not None:
        predictions.write_text("".join(json.dumps(line) + "\n" for line in lines))
    n = len(questions)
    return {
        "n": n,
        "databases": len(candidates),
        "recall_at_1": hits_1 / n if n else 0.0,
        "recall_at_3": hits_3 / n if n else 0.0,
        "decided": decided[True] / n if n else 0.0,
        "recall_at_1_decided": decided_hits[True] / decided[True] if decided[True] else None,
        "recall_at_1_undecided": decided_hits[False] / decided[False] if decided[False] else None,
        **latency_metrics(latencies),
    }


def sample_indices(total: int, limit: int | None, seed: int) -> list[int]:
    if not limit or limit >= total:
        return list(range(total))
    return sorted(random.Random(seed).sample(range(total), limit))


def read_predictions(path: Path) -> list[dict[str, Any]]:
    """The per-question records of an ``eval sql`` predictions file."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _done(predictions: Path | None) -> dict[int, dict[str, Any]]:
    if predictions is None or not predictions.exists():
        return {}
    return {int(record["index"]): record for record in read_predictions(predictions)}


def ingest_history(
    container: Container,
    catalogue: EvalDatabases,
    history: list[dict[str, Any]],
    evaluated: list[dict[str, Any]],
    databases: Iterable[str] | None = None,
) -> dict[str, int]:
    """Give each evaluated database (or each of ``databases``) a query log: its questions in ``history``, less
    every question under evaluation and every entry whose SQL is a near-duplicate of an evaluated question's gold
    SQL (the same but for its values), so a few-shot example can never be the answer itself. The gold SQL is
    taken both as the questions file and as the history writes it: a history written for an engine's copy
    (``questions_pg.json``'s schema-qualified names) spells the same query otherwise. Returns the examples
    logged per database."""
    held_out: dict[str, set[str]] = defaultdict(set)
    for row in evaluated:
        held_out[row["db_id"]] |= {normalise_text(row["question"]), sql_shape(question_sql(row))}
    for row in history:
        if normalise_text(row["question"]) in held_out.get(row["db_id"], set()) and question_sql(row):
            held_out[row["db_id"]].add(sql_shape(question_sql(row)))
    logged = {}
    for db_id in sorted(held_out if databases is None else set(databases)):
        records = [
            LogRecord(line=number, question=row["question"], sql=question_sql(row), dialect="sqlite")
            for number, row in enumerate(history, start=1)
            if row["db_id"] == db_id
            and question_sql(row)
            and not {normalise_text(row["question"]), sql_shape(question_sql(row))} & held_out[db_id]
        ]
        name = catalogue.ensure(db_id)
        database = container.catalog.get_database(name)
        assert database is not None  # ensure() registered it
        # Names resolve as the source spells them (schema-qualified on PostgreSQL); the SQL is read as SQLite's.
        ingestor = QueryLogIngestor(container.examples, container.catalog, name, database.dialect)
        summary = ingestor.ingest(iter(records), "evaluation history", len(records), lambda *_: None)
        logged[db_id] = summary.ingested + summary.duplicates
    return logged


def evaluate_sql(
    container: Container,
    questions: list[dict[str, Any]],
    catalogue: EvalDatabases,
    indices: Iterable[int],
    options: AskOptions,
    predictions: Path | None,
    progress: Progress,
) -> dict[str, Any]:
    """Execution accuracy; results are appended per question, so a rerun skips what is done.

    Decoding is greedy, so a question answered without a retry got the same SQL the pipeline
    without retries would give, and one that needed a retry failed there: the ``first_attempt``
    figures are that pipeline's, measured in the same run."""
    indices = list(indices)
    done = _done(predictions)
    with contextlib.ExitStack() as stack:
        handle = stack.enter_context(open(predictions, "a")) if predictions is not None else None
        for count, index in enumerate(indices, start=1):
            if index not in done:
                done[index] = _judge(container, questions[index], index, catalogue, options)
                if handle is not None:
                    handle.write(json.dumps(done[index]) + "\n")
                    handle.flush()
            progress(count, len(indices), "")
    return summarise([done[i] for i in indices], [str(questions[i].get("difficulty") or "unknown") for i in indices])


def bootstrap_ci(values: list[bool], resamples: int = 2000, seed: int = 0) -> list[float]:
    """The 95 % percentile-bootstrap interval of the mean of ``values`` (fixed seed: reports reproduce)."""
    if not values:
        return [0.0, 0.0]
    samples = np.asarray(values, dtype=float)
    draws = np.random.default_rng(seed).integers(0, len(samples), size=(resamples, len(samples)))
    low, high = np.quantile(samples[draws].mean(axis=1), [0.025, 0.975])
    return [round(float(low), 3), round(float(high), 3)]


def paired_comparison(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> dict[str, Any]:
    """Two configurations' predictions on the same questions: how many each alone got right, and the
    exact two-sided sign test on those discordant questions (McNemar's exact test)."""
    a = {int(r["index"]): bool(r["correct"]) for r in first}
    b = {int(r["index"]): bool(r["correct"]) for r in second}
    shared = sorted(a.keys() & b.keys())
    only_first = sum(a[i] and not b[i] for i in shared)
    only_second = sum(b[i] and not a[i] for i in shared)
    discordant = only_first + only_second
    tail = sum(math.comb(discordant, k) for k in range(min(only_first, only_second) + 1)) / 2**discordant
    return {
        "n": len(shared),
        "first": sum(a[i] for i in shared) / len(shared) if shared else 0.0,
        "second": sum(b[i] for i in shared) / len(shared) if shared else 0.0,
        "only_first": only_first,
        "only_second": only_second,
        "p_value": round(min(1.0, 2 * tail), 4),
    }


def candidate_curve(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Accuracy and latency had the run stopped after its first k candidates, for each k: the same choice
    rule as the service (``candidates.choose``) over the recorded candidates, less the later ones' time.
    Rescue samples (only where the answer failed or said nothing) are recorded too, so a run with one
    candidate and N rescue samples gives the figures for 0 to N of them."""
    most = max((len(r.get("candidates") or []) for r in records), default=0)
    curve: dict[str, dict[str, Any]] = {}
    for k in range(1, most + 1):
        correct, executable, latency = [], [], []
        for record in records:
            recorded = record.get("candidates") or []
            if not recorded:  # not sampled (one candidate that ran, or refused): the greedy answer alone
                correct.append(bool(record["correct"]))
                executable.append(bool(record["executable"]))
                latency.append(record["latency_s"])
                continue
            kept = recorded[:k]
            chosen = choose(
                [
                    Candidate(
                        sql=None,
                        greedy=c["greedy"],
                        signature=c["signature"],
                        too_few_columns=c.get("too_few_columns", False),
                        says_nothing=c.get("says_nothing", False),
                    )
                    for c in kept
                ]
            )
            correct.append(chosen is not None and bool(kept[chosen]["correct"]))
            executable.append(chosen is not None)
            latency.append(record["latency_s"] - sum(c["latency_s"] for c in recorded[k:]))
        curve[str(k)] = {
            "execution_accuracy": float(np.mean(correct)),
            "execution_accuracy_ci95": bootstrap_ci(correct),
            "executable_rate": float(np.mean(executable)),
            "latency_s_p50": float(np.median(latency)),
        }
    return curve


def _share(records: list[dict[str, Any]]) -> dict[str, Any]:
    """How many questions, and how many of them were answered right and ran."""
    return {
        "n": len(records),
        "execution_accuracy": float(np.mean([r["correct"] for r in records])) if records else 0.0,
        "executable_rate": float(np.mean([r["executable"] for r in records])) if records else 0.0,
    }


def summarise(records: list[dict[str, Any]], difficulties: list[str]) -> dict[str, Any]:
    """The report of ``evaluate_sql`` from its per-question records."""
    by_difficulty: dict[str, list[bool]] = defaultdict(list)
    for difficulty, record in zip(difficulties, records, strict=True):
        by_difficulty[difficulty].append(bool(record["correct"]))
    first = [r for r in records if not r["retries"]]
    report = {
        **_share(records),
        "execution_accuracy_ci95": bootstrap_ci([bool(r["correct"]) for r in records]),
        "first_attempt": {
            "execution_accuracy": sum(bool(r["correct"]) for r in first) / len(records) if records else 0.0,
            "executable_rate": sum(bool(r["executable"]) for r in first) / len(records) if records else 0.0,
        },
        "by_difficulty": {
            k: {"n": len(v), "execution_accuracy": float(np.mean(v))} for k, v in sorted(by_difficulty.items())
        },
        "latency_s_p50": float(np.median([r["latency_s"] for r in records])) if records else 0.0,
    }
    judged = [r for r in records if "gold_informative" in r]
    if judged:
        report["by_gold_result"] = {
            "informative": _share([r for r in judged if r["gold_informative"]]),
            "uninformative": _share([r for r in judged if not r["gold_informative"]]),
        }
    curve = candidate_curve(records)
    if curve:
        report["by_candidates"] = curve
    for check in ("shape_check", "area_check"):
        asked = [r for r in records if r.get(check)]
        if asked:
            replaced = [r for r in asked if f"correct_before_{check}" in r]
            report[check] = {
                "asked": len(asked),
                "replaced": len(replaced),
                "replaced_right_before": sum(bool(r[f"correct_before_{check}"]) for r in replaced),
                "replaced_right_after": sum(bool(r["correct"]) for r in replaced),
                "execution_accuracy_without": float(
                    np.mean([r.get(f"correct_before_{check}", r["correct"]) for r in records])
                ),
            }
    return report


def _judge(
    container: Container, row: dict[str, Any], index: int, catalogue: EvalDatabases, options: AskOptions
) -> dict[str, Any]:
    name = catalogue.ensure(row["db_id"])
    started = time.perf_counter()
    result = container.answering.ask(
        name, AskRequest(question=row["question"], evidence=row.get("evidence") or None, execute=True), options
    )
    latency = time.perf_counter() - started
    executable = result.sql is not None and result.error is None and result.rows is not None
    correct = False
    gold: list[list[object]] | None = None
    replaced_correct: dict[str, bool] = {}
    candidates = []
    source = SourceDatabase(catalogue.source_url(row["db_id"]))
    gold_source = SourceDatabase(f"sqlite:///{catalogue.sqlite_path(row['db_id'])}")
    try:
        gold_sql = question_sql(row)
        try:
            gold = execute(gold_source, gold_sql, options.timeout_s, options.row_cap, options.max_result_bytes).rows
        except GuardError:
            gold = None

        def matches(rows: list[list[object]] | None, sql: str | None) -> bool:
            if gold is None or sql is None:
                return False
            if rows is None:
                try:
                    rows = execute(source, sql, options.timeout_s, options.row_cap, options.max_result_bytes).rows
                except GuardError:
                    return False
            return results_match(rows, gold, orders_result(gold_sql))

        correct = executable and matches(result.rows, result.sql)
        replaced_by_check = {"shape_check": result.shape_replaced_sql, "area_check": result.area_replaced_sql}
        for check, replaced_sql in replaced_by_check.items():
            if replaced_sql:
                replaced_correct[check] = matches(None, replaced_sql)
        candidates = [
            {
                "greedy": c.greedy,
                "signature": c.signature,
                "row_count": c.row_count,
                "latency_s": c.latency_s,
                "correct": c.signature is not None and matches(None, c.sql),
                "too_few_columns": c.too_few_columns,
                "says_nothing": c.says_nothing,
            }
            for c in result.candidates
        ]
    finally:
        source.dispose()
        gold_source.dispose()
    record = {
        "index": index,
        "db_id": row["db_id"],
        "sql": result.sql,
        "correct": correct,
        "executable": executable,
        "latency_s": round(latency, 3),
        "retries": result.retries,
        "error": result.error,
    }
    if gold is not None:
        # Over a database with no rows (Spider's imdb and yelp) any query that runs matches an uninformative gold
        # result, even one that reads another database's tables, so the report counts those apart.
        record["gold_informative"] = informative(gold)
    if candidates:
        record["candidates"] = candidates
    for check, outcome in (("shape_check", result.shape_check), ("area_check", result.area_check)):
        if outcome:
            record[check] = outcome
        if check in replaced_correct:
            record[f"correct_before_{check}"] = replaced_correct[check]
    return record
