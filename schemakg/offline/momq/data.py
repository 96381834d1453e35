"""Build the multi-dialect instruction set MoMQ is trained on.

Sources (all offline, under the shared data root):

* Spider train (``train_spider.json`` + ``train_others.json``, schemas in ``tables.json``) and
  BIRD train (``train.json`` + ``train_tables.json``, evidence appended; rows listed in
  ``train_schema_mismatch.json`` as naming unknown tables/columns are dropped). Their SQLite
  SQL is transpiled with sqlglot to MySQL and PostgreSQL; a row is kept only if sqlglot
  raises no "unsupported" error and the output parses back in the target dialect.
* text2cypher (neo4j-labs synthetic sets) for Cypher: only rows flagged clean (no syntax
  error, no timeout, no false schema); graphs ``fincen`` and ``movies`` form the test split.
* nGQL: no source is available offline; the stats say so and no rows are written.

The training split is imbalanced as in the paper: one high-resource dialect keeps every row,
the others keep a seeded sample. Train and validation are split by database, so no schema
is seen in both.
"""

from __future__ import annotations

import csv
import json
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlglot
from pydantic import BaseModel, Field
from sqlglot import exp
from sqlglot.errors import ErrorLevel, SqlglotError

from schemakg.generation.momq.prompts import render_prompt
from schemakg.kernel.sql.links import quoted_non_columns_to_literals

SQLGLOT_DIALECTS: dict[str, str] = {"mysql": "mysql", "postgresql": "postgres", "sqlite": "sqlite"}
SQL_DIALECTS = frozenset(SQLGLOT_DIALECTS)
SPLITS = ("train", "validation", "test")
STATS_FILE = "stats.json"

# Spider's coarse types and BIRD's SQLite affinities, as types every target dialect has.
COLUMN_TYPES: dict[str, str] = {
    "text": "TEXT",
    "number": "NUMERIC",
    "integer": "INT",
    "real": "DOUBLE",
    "time": "TIMESTAMP",
    "datetime": "TIMESTAMP",
    "date": "DATE",
    "boolean": "BOOLEAN",
    "blob": "BLOB",
    "others": "TEXT",
}

TEXT2CYPHER_FILES = (
    "synthetic_gpt4turbo_demodbs__text2cypher_gpt4turbo.csv",
    "synthetic_opus_demodbs__text2cypher_claudeopus.csv",
)
TEXT2CYPHER_SCHEMAS = "synthetic_gpt4turbo_demodbs__text2cypher_schemas.csv"
NGQL_NOTE = "no nGQL source is available offline (the MoMQ benchmark is not in the shared data); no rows written"


class DataBuildConfig(BaseModel):
    data_root: Path = Path("../shared/data")
    out_dir: Path
    dialects: list[str] = Field(default_factory=lambda: ["mysql", "postgresql", "cypher", "ngql"])
    high_resource: str = "mysql"
    low_resource_samples: int | None = Field(default=128, ge=1, description="None keeps every training row")
    validation_fraction: float = Field(default=0.1, gt=0, lt=1, description="share of databases held out")
    cypher_test_graphs: list[str] = Field(default_factory=lambda: ["fincen", "movies"])
    include_bird: bool = True
    seed: int = 0


class MoMQExample(BaseModel):
    """One instruction row; ``source_query`` keeps the SQLite original for execution checks."""

    id: str
    dialect: str
    source: str
    db_id: str
    question: str
    evidence: str | None = None
    prompt: str
    query: str
    source_query: str | None = None


class SourceQuestion(BaseModel):
    source: str
    index: int
    db_id: str
    question: str
    sql: str
    evidence: str | None = None


class DialectStats(BaseModel):
    source_rows: int = 0
    kept: int = 0
    dropped: int = 0
    drop_rate: float = 0.0
    drop_reasons: dict[str, int] = Field(default_factory=dict)
    split_rows: dict[str, int] = Field(default_factory=dict)
    train_rows_before_sampling: int = 0
    note: str | None = None


class BuildStats(BaseModel):
    config: dict[str, Any]
    dialects: dict[str, DialectStats]
    skipped_sources: dict[str, int] = Field(default_factory=dict)


# ---------------------------------------------------------------- schemas and transpilation


def render_sql_schema(table_schema: dict[str, Any], dialect: str) -> str:
    """Spider-format schema as CREATE TABLE statements written by sqlglot in ``dialect``."""
    write = SQLGLOT_DIALECTS[dialect]
    tables: list[str] = table_schema["table_names_original"]
    columns: list[tuple[int, str]] = table_schema["column_names_original"]
    types: list[str] = table_schema["column_types"]
    primary = _flatten_keys(table_schema.get("primary_keys", []))
    statements = []
    for table_index, table in enumerate(tables):
        parts = []
        for column_index, (owner, name) in enumerate(columns):
            if owner != table_index:
                continue
            kind = exp.DataType.build(COLUMN_TYPES.get(types[column_index], "TEXT"))
            parts.append(exp.ColumnDef(this=exp.to_identifier(name), kind=kind).sql(dialect=write))
        keys = [exp.to_identifier(columns[index][1]) for index in primary if columns[index][0] == table_index]
        if keys:
            parts.append(exp.PrimaryKey(expressions=keys).sql(dialect=write))
        for source_index, target_index in table_schema.get("foreign_keys", []):
            if columns[source_index][0] != table_index:
                continue
            target_table, target_column = tables[columns[target_index][0]], columns[target_index][1]
            reference = exp.Reference(
                this=exp.Schema(this=exp.to_table(target_table), expressions=[exp.to_identifier(target_column)])
            )
            foreign = exp.ForeignKey(expressions=[exp.to_identifier(columns[source_index][1])], reference=reference)
            parts.append(foreign.sql(dialect=write))
        name = exp.to_identifier(table).sql(dialect=write)
        statements.append(f"CREATE TABLE {name} (\n  " + ",\n  ".join(parts) + "\n);")
    return "\n".join(statements)


def _flatten_keys(keys: Iterable[int | list[int]]) -> list[int]:
    """Spider lists composite primary keys as nested lists."""
    flat: list[int] = []
    for key in keys:
        flat.extend(key if isinstance(key, list) else [key])
    return flat


def schema_names(table_schema: dict[str, Any]) -> set[str]:
    """Lower-cased table and column names, to tell identifiers from SQLite string literals."""
    names = {name.lower() for name in table_schema["table_names_original"]}
    names.update(name.lower() for _, name in table_schema["column_names_original"])
    return names


def transpile_from_sqlite(sql: str, dialect: str, known_names: set[str]) -> str:
    """SQLite SQL in ``dialect``; raises SqlglotError when sqlglot cannot express it faithfully."""
    parsed = sqlglot.parse_one(sql, read="sqlite")
    assert isinstance(parsed, exp.Expression)
    tree = quoted_non_columns_to_literals(parsed, known_names)
    written = tree.sql(dialect=SQLGLOT_DIALECTS[dialect], unsupported_level=ErrorLevel.RAISE)
    sqlglot.parse_one(written, read=SQLGLOT_DIALECTS[dialect])
    return written


# ---------------------------------------------------------------- sources


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text())


def load_sql_sources(config: DataBuildConfig) -> tuple[list[SourceQuestion], dict[str, dict[str, Any]], Counter[str]]:
    """Spider and BIRD questions, schemas keyed ``source/db_id``, and counts of rows skipped."""
    skipped: Counter[str] = Counter()
    schemas: dict[str, dict[str, Any]] = {}
    questions: list[SourceQuestion] = []
    spider = config.data_root / "spider-train"
    for entry in _read_json(spider / "tables.json"):
        schemas[f"spider/{entry['db_id']}"] = entry
    for file in ("train_spider.json", "train_others.json"):
        for row in _read_json(spider / file):
            questions.append(
                SourceQuestion(
                    source="spider",
                    index=len(questions),
                    db_id=row["db_id"],
                    question=row["question"],
                    sql=row["query"],
                )
            )
    if config.include_bird:
        bird = config.data_root / "bird-train"
        for entry in _read_json(bird / "train_tables.json"):
            schemas[f"bird/{entry['db_id']}"] = entry
        mismatched = {
            row["index"]
            for row in _read_json(bird / "train_schema_mismatch.json")
            if any(row["unknown_vs_train_tables"].values())
        }
        for index, row in enumerate(_read_json(bird / "train.json")):
            if index in mismatched:
                skipped["bird_schema_mismatch"] += 1
                continue
            questions.append(
                SourceQuestion(
                    source="bird",
                    index=index,
                    db_id=row["db_id"],
                    question=row["question"],
                    sql=row["SQL"],
                    evidence=row.get("evidence") or None,
                )
            )
    kept = [question for question in questions if f"{question.source}/{question.db_id}" in schemas]
    skipped["sql_without_schema"] += len(questions) - len(kept)
    return kept, schemas, skipped


def build_sql_dialect(
    dialect: str, questions: list[SourceQuestion], schemas: dict[str, dict[str, Any]]
) -> tuple[list[MoMQExample], DialectStats]:
    stats = DialectStats(source_rows=len(questions))
    reasons: Counter[str] = Counter()
    rendered: dict[str, str] = {}
    names: dict[str, set[str]] = {}
    examples = []
    for question in questions:
        key = f"{question.source}/{question.db_id}"
        if key not in rendered:
            rendered[key] = render_sql_schema(schemas[key], dialect)
            names[key] = schema_names(schemas[key])
        try:
            query = question.sql if dialect == "sqlite" else transpile_from_sqlite(question.sql, dialect, names[key])
        except SqlglotError as error:
            reasons[type(error).__name__] += 1
            continue
        examples.append(
            MoMQExample(
                id=f"{dialect}/{question.source}/{question.index}",
                dialect=dialect,
                source=question.source,
                db_id=question.db_id,
                question=question.question,
                evidence=question.evidence,
                prompt=render_prompt(dialect, rendered[key], question.question, question.evidence),
                query=query,
                source_query=question.sql,
            )
        )
    return examples, _finish(stats, len(examples), reasons)


def _finish(stats: DialectStats, kept: int, reasons: Counter[str]) -> DialectStats:
    stats.kept = kept
    stats.dropped = stats.source_rows - kept
    stats.drop_rate = round(stats.dropped / stats.source_rows, 4) if stats.source_rows else 0.0
    stats.drop_reasons = dict(reasons.most_common())
    return stats


def _cypher_drop_reason(row: dict[str, str]) -> str | None:
    """Why a text2cypher row is unusable, or None when Neo4j ran it cleanly."""
    if row["syntax_error"] != "False":
        return "syntax_error"
    if row["timeout"] != "False":
        return "timeout"
    if row["false_schema"].strip():
        return "false_schema"
    return None


def build_cypher(config: DataBuildConfig) -> tuple[list[MoMQExample], DialectStats]:
    root = config.data_root / "text2cypher"
    with (root / TEXT2CYPHER_SCHEMAS).open(newline="") as handle:
        graph_schemas = {row["database"]: row["schema"] for row in csv.DictReader(handle)}
    stats = DialectStats()
    reasons: Counter[str] = Counter()
    seen: set[tuple[str, str]] = set()
    examples = []
    for file in TEXT2CYPHER_FILES:
        with (root / file).open(newline="") as handle:
            for index, row in enumerate(csv.DictReader(handle)):
                stats.source_rows += 1
                graph, question = row["database"], row["question"].strip()
                reason = _cypher_drop_reason(row)
                if reason is None and graph not in graph_schemas:
                    reason = "graph_without_schema"
                if reason is None and (graph, question.lower()) in seen:
                    reason = "duplicate_question"
                if reason:
                    reasons[reason] += 1
                    continue
                seen.add((graph, question.lower()))
                examples.append(
                    MoMQExample(
                        id=f"cypher/{file.split('__')[0]}/{index}",
                        dialect="cypher",
                        source="text2cypher",
                        db_id=graph,
                        question=question,
                        prompt=render_prompt("cypher", graph_schemas[graph].strip(), question),
                        query=row["cypher"].strip(),
                    )
                )
    return examples, _finish(stats, len(examples), reasons)


# ---------------------------------------------------------------- splitting and sampling


def assign_splits(examples: list[MoMQExample], config: DataBuildConfig) -> dict[str, list[MoMQExample]]:
    """Test = held-out Cypher graphs; validation = a seeded share of the remaining databases."""
    databases = sorted({(example.source, example.db_id) for example in examples})
    rng = random.Random(config.seed)
    validation: set[tuple[str, str]] = set()
    for source in sorted({source for source, _ in databases}):
        candidates = [
            db
            for db in databases
            if db[0] == source and not (source == "text2cypher" and db[1] in config.cypher_test_graphs)
        ]
        count = max(1, round(len(candidates) * config.validation_fraction)) if len(candidates) > 1 else 0
        validation.update(rng.sample(candidates, count))
    splits: dict[str, list[MoMQExample]] = {split: [] for split in SPLITS}
    for example in examples:
        if example.source == "text2cypher" and example.db_id in config.cypher_test_graphs:
            splits["test"].append(example)
        elif (example.source, example.db_id) in validation:
            splits["validation"].append(example)
        else:
            splits["train"].append(example)
    return splits


def imbalance_train(train: list[MoMQExample], config: DataBuildConfig) -> list[MoMQExample]:
    """Keep the high-resource dialect whole and a seeded sample of each other dialect."""
    if config.low_resource_samples is None:
        return train
    by_dialect: dict[str, list[MoMQExample]] = defaultdict(list)
    for example in train:
        by_dialect[example.dialect].append(example)
    rng = random.Random(config.seed)
    kept: list[MoMQExample] = []
    for dialect in sorted(by_dialect):
        rows = by_dialect[dialect]
        if dialect != config.high_resource and len(rows) > config.low_resource_samples:
            rows = rng.sample(rows, config.low_resource_samples)
        kept.extend(rows)
    rng.shuffle(kept)
    return kept


# ---------------------------------------------------------------- entry point


def build_dataset(config: DataBuildConfig) -> BuildStats:
    """Write ``train/validation/test.jsonl`` and ``stats.json`` into ``config.out_dir``."""
    unknown = set(config.dialects) - SQL_DIALECTS - {"cypher", "ngql"}
    if unknown:
        raise ValueError(f"no data source for dialects {sorted(unknown)}")
    examples: list[MoMQExample] = []
    dialect_stats: dict[str, DialectStats] = {}
    skipped: Counter[str] = Counter()
    sql_dialects = [dialect for dialect in config.dialects if dialect in SQL_DIALECTS]
    if sql_dialects:
        questions, schemas, skipped = load_sql_sources(config)
        for dialect in sql_dialects:
            rows, dialect_stats[dialect] = build_sql_dialect(dialect, questions, schemas)
            examples.extend(rows)
    if "cypher" in config.dialects:
        rows, dialect_stats["cypher"] = build_cypher(config)
        examples.extend(rows)
    if "ngql" in config.dialects:
        dialect_stats["ngql"] = DialectStats(note=NGQL_NOTE)

    splits = assign_splits(examples, config)
    train_before = Counter(example.dialect for example in splits["train"])
    splits["train"] = imbalance_train(splits["train"], config)
    config.out_dir.mkdir(parents=True, exist_ok=True)
    for split, rows in splits.items():
        with (config.out_dir / f"{split}.jsonl").open("w") as handle:
            for row in rows:
                handle.write(row.model_dump_json() + "\n")
    for dialect, counts in dialect_stats.items():
        counts.train_rows_before_sampling = train_before.get(dialect, 0)
        counts.split_rows = {split: sum(row.dialect == dialect for row in rows) for split, rows in splits.items()}
    stats = BuildStats(config=config.model_dump(mode="json"), dialects=dialect_stats, skipped_sources=dict(skipped))
    (config.out_dir / STATS_FILE).write_text(stats.model_dump_json(indent=2))
    return stats


def read_examples(path: Path) -> list[MoMQExample]:
    with path.open() as handle:
        return [MoMQExample.model_validate_json(line) for line in handle if line.strip()]
