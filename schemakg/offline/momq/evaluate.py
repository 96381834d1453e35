"""Per-dialect evaluation of a MoMQ adapter with greedy decoding.

What each dialect can be checked against offline:

* SQLite: execution accuracy on the Spider databases (result multisets equal; order counts
  only when the gold query has ORDER BY) and executable rate (the query runs).
* MySQL / PostgreSQL: no server here, so the executable rate is a sqlglot parse in the target
  dialect. For rows transpiled from Spider, the prediction is transpiled back to SQLite and
  executed against the gold SQLite query: ``execution_accuracy_via_sqlite``, an approximation.
* Cypher: executable rate is a parse with the openCypher ANTLR grammar (``antlr4-cypher``);
  that grammar lacks some Neo4j 5 syntax (``CALL { }`` subqueries), so ``gold_parse_rate``
  reports how often the gold queries themselves parse. No Neo4j server: no execution accuracy.
* nGQL: no parser or server offline; only exact match.

The base model is a local directory; :mod:`schemakg.generation.momq.base` says how to obtain
Qwen2.5-Coder-0.5B offline from the packaged GGUF.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import sqlglot
from antlr4 import CommonTokenStream, InputStream
from antlr4.error.ErrorListener import ErrorListener
from antlr4_cypher import CypherLexer, CypherParser
from pydantic import BaseModel, Field
from sqlglot import exp
from sqlglot.errors import SqlglotError
from tqdm import tqdm

from schemakg.generation.momq.inference import MoMQGenerator
from schemakg.generation.momq.prompts import extract_query
from schemakg.offline.momq.data import SQLGLOT_DIALECTS, MoMQExample, read_examples

QUERY_TIMEOUT_S = 10.0


class EvalConfig(BaseModel):
    base_model: Path
    adapter: Path
    data_file: Path
    db_dir: Path = Path("../shared/data/spider-train/database")
    dialects: list[str] | None = None
    limit: int | None = Field(default=None, ge=1, description="seeded sample of at most this many rows per dialect")
    seed: int = 0
    batch_size: int = Field(default=8, ge=1)
    max_new_tokens: int = Field(default=256, ge=1)
    route_by_label: bool = Field(default=True, description="force each row's dialect group; False: learned routing")
    device: str = "auto"
    dtype: str = "auto"


class Prediction(BaseModel):
    id: str
    dialect: str
    db_id: str
    query: str
    prediction: str
    executable: bool | None
    correct: bool | None
    correct_via_sqlite: bool | None
    exact_match: bool


class DialectReport(BaseModel):
    n: int
    exact_match: float
    executable_rate: float | None
    execution_accuracy: float | None
    execution_accuracy_via_sqlite: float | None = None
    gold_parse_rate: float | None = None


# ---------------------------------------------------------------- checks


class _RaiseOnSyntaxError(ErrorListener):
    def syntaxError(self, recognizer: Any, offendingSymbol: Any, line: int, column: int, msg: str, e: Any) -> None:
        raise ValueError(f"line {line}:{column} {msg}")


def cypher_parses(query: str) -> bool:
    lexer = CypherLexer(InputStream(query))
    parser = CypherParser(CommonTokenStream(lexer))
    for recognizer in (lexer, parser):
        recognizer.removeErrorListeners()
        recognizer.addErrorListener(_RaiseOnSyntaxError())
    try:
        parser.script()
    except ValueError:
        return False
    return True


def sql_parses(query: str, dialect: str) -> bool:
    """A statement sqlglot reads in ``dialect`` as a query (plain prose parses as a column)."""
    try:
        tree = sqlglot.parse_one(query, read=SQLGLOT_DIALECTS[dialect])
    except SqlglotError:
        return False
    return isinstance(tree, exp.Query)


def run_sqlite(database: Path, query: str, timeout_s: float = QUERY_TIMEOUT_S) -> list[tuple[Any, ...]]:
    """Rows of a read-only query; raises sqlite3.Error on failure or timeout."""
    connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    deadline = time.monotonic() + timeout_s
    connection.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
    connection.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
    try:
        return [tuple(row) for row in connection.execute(query).fetchall()]
    finally:
        connection.close()


def results_match(gold_sql: str, gold: list[tuple[Any, ...]], predicted: list[tuple[Any, ...]]) -> bool:
    """Multiset equality; order matters only when the gold query orders its result."""
    if "order by" in gold_sql.lower():
        return gold == predicted
    return Counter(gold) == Counter(predicted)


def execution_correct(database: Path, gold_sql: str, predicted_sql: str) -> tuple[bool, bool]:
    """(executable, correct) of a SQLite prediction against the gold query."""
    try:
        predicted = run_sqlite(database, predicted_sql)
    except (sqlite3.Error, sqlite3.Warning):
        return False, False
    try:
        gold = run_sqlite(database, gold_sql)
    except (sqlite3.Error, sqlite3.Warning):
        return True, False
    return True, results_match(gold_sql, gold, predicted)


def _normalised(query: str) -> str:
    return " ".join(query.lower().rstrip(";").split())


def check(example: MoMQExample, predicted: str, db_dir: Path) -> tuple[bool | None, bool | None, bool | None]:
    """(executable, correct, correct via SQLite) for one prediction; None where no check exists."""
    database = db_dir / example.db_id / f"{example.db_id}.sqlite"
    has_database = example.source == "spider" and database.exists()
    if example.dialect == "sqlite":
        if not has_database:
            return sql_parses(predicted, "sqlite"), None, None
        executable, correct = execution_correct(database, example.query, predicted)
        return executable, correct, None
    if example.dialect in SQLGLOT_DIALECTS:
        executable = sql_parses(predicted, example.dialect)
        if not (has_database and example.source_query):
            return executable, None, None
        if not executable:
            return False, None, False
        back = sqlglot.transpile(predicted, read=SQLGLOT_DIALECTS[example.dialect], write="sqlite")[0]
        return True, None, execution_correct(database, example.source_query, back)[1]
    if example.dialect == "cypher":
        return cypher_parses(predicted), None, None
    return None, None, None


# ---------------------------------------------------------------- run


def select_examples(config: EvalConfig) -> list[MoMQExample]:
    examples = read_examples(config.data_file)
    by_dialect: dict[str, list[MoMQExample]] = defaultdict(list)
    for example in examples:
        if config.dialects is None or example.dialect in config.dialects:
            by_dialect[example.dialect].append(example)
    rng = random.Random(config.seed)
    chosen = []
    for dialect in sorted(by_dialect):
        rows = by_dialect[dialect]
        if config.limit is not None and len(rows) > config.limit:
            rows = rng.sample(rows, config.limit)
        chosen.extend(rows)
    return chosen


def _rate(values: list[bool | None]) -> float | None:
    known = [value for value in values if value is not None]
    return round(sum(known) / len(known), 4) if known else None


def summarise(predictions: list[Prediction]) -> dict[str, DialectReport]:
    by_dialect: dict[str, list[Prediction]] = defaultdict(list)
    for prediction in predictions:
        by_dialect[prediction.dialect].append(prediction)
    reports = {}
    for dialect, rows in sorted(by_dialect.items()):
        reports[dialect] = DialectReport(
            n=len(rows),
            exact_match=round(sum(row.exact_match for row in rows) / len(rows), 4),
            executable_rate=_rate([row.executable for row in rows]),
            execution_accuracy=_rate([row.correct for row in rows]),
            execution_accuracy_via_sqlite=_rate([row.correct_via_sqlite for row in rows]),
            gold_parse_rate=(_rate([cypher_parses(row.query) for row in rows]) if dialect == "cypher" else None),
        )
    return reports


def evaluate(config: EvalConfig, generator: MoMQGenerator, predictions_out: Path | None = None) -> dict[str, Any]:
    """Generate for every selected row and score it; returns ``{"n", "by_dialect": {...}}``."""
    examples = select_examples(config)
    unknown = {example.dialect for example in examples} - set(generator.dialects)
    if unknown:
        raise ValueError(f"the adapter has no expert group for {sorted(unknown)}")
    predictions: list[Prediction] = []
    for start in tqdm(range(0, len(examples), config.batch_size), desc="momq eval", unit="batch"):
        batch = examples[start : start + config.batch_size]
        completions = generator.generate(
            [[{"role": "user", "content": example.prompt}] for example in batch],
            [example.dialect if config.route_by_label else None for example in batch],
            max_new_tokens=config.max_new_tokens,
        )
        for example, completion in zip(batch, completions, strict=True):
            predicted = extract_query(completion.text)
            executable, correct, correct_via_sqlite = check(example, predicted, config.db_dir)
            predictions.append(
                Prediction(
                    id=example.id,
                    dialect=example.dialect,
                    db_id=example.db_id,
                    query=example.query,
                    prediction=predicted,
                    executable=executable,
                    correct=correct,
                    correct_via_sqlite=correct_via_sqlite,
                    exact_match=_normalised(predicted) == _normalised(example.query),
                )
            )
    if predictions_out is not None:
        predictions_out.parent.mkdir(parents=True, exist_ok=True)
        predictions_out.write_text("".join(prediction.model_dump_json() + "\n" for prediction in predictions))
    reports = summarise(predictions)
    return {"n": len(predictions), "by_dialect": {dialect: report.model_dump() for dialect, report in reports.items()}}


def write_report(report: dict[str, Any], path: Path | None) -> str:
    text = json.dumps(report, indent=2)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text + "\n")
    return text
