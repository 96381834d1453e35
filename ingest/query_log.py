"""Query-log ingestion: historical (question, SQL) pairs become QueryExample nodes that USE columns.

The log is streamed (JSON Lines or CSV) and written in batches, so memory stays bounded on
100k-line logs. A line that cannot be used is reported with its number and reason, and the
rest continues. Keys are content hashes and all writes are MERGEs, so a rerun (a retried or
redelivered job) adds nothing twice. Usage counts and log-derived table relations are
recomputed from the graph at the end rather than incremented.
"""

from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from catalog.clock import now_iso
from catalog.model import column_key, table_key
from catalog.store.base import GraphStore
from catalog.store.catalog_repo import CatalogRepository
from ingest.sql_links import SchemaNames, SqlLinks, SqlParseError, sql_links

LogFormat = Literal["jsonl", "csv"]
BATCH = 500
MAX_REPORTED_ERRORS = 1000
_DIALECTS = {
    "sqlite": "sqlite", "postgres": "postgres", "postgresql": "postgres", "mysql": "mysql", "mariadb": "mysql",
    "tsql": "tsql", "mssql": "tsql", "oracle": "oracle", "snowflake": "snowflake", "bigquery": "bigquery",
    "duckdb": "duckdb", "trino": "trino", "presto": "presto", "spark": "spark", "hive": "hive",
}
_SQL_FIELDS = ("sql", "query", "SQL")


class LogRecord(BaseModel):
    line: int
    question: str
    sql: str
    dialect: str | None = None
    evidence: str | None = None


class LineError(BaseModel):
    line: int
    reason: str


class LogSummary(BaseModel):
    lines: int = 0
    ingested: int = 0
    duplicates: int = 0
    error_count: int = 0
    errors: list[LineError] = []


def sqlglot_dialect(name: str) -> str | None:
    return _DIALECTS.get(name.strip().lower())


def known_dialects() -> list[str]:
    return sorted(_DIALECTS)


def count_lines(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(1 for line in handle if line.strip())


def _record(line: int, data: Any) -> LogRecord | LineError:
    if not isinstance(data, dict):
        return LineError(line=line, reason="expected an object with 'question' and 'sql'")
    question = data.get("question")
    sql = next((data[f] for f in _SQL_FIELDS if data.get(f)), None)
    if not isinstance(question, str) or not question.strip():
        return LineError(line=line, reason="empty or missing 'question'")
    if not isinstance(sql, str) or not sql.strip():
        return LineError(line=line, reason="empty or missing 'sql'")
    dialect = data.get("dialect") or None
    evidence = data.get("evidence") or None
    if dialect is not None and (not isinstance(dialect, str) or sqlglot_dialect(dialect) is None):
        return LineError(line=line, reason=f"unknown dialect {dialect!r}")
    return LogRecord(line=line, question=question.strip(), sql=sql.strip(), dialect=dialect,
                     evidence=evidence if isinstance(evidence, str) else None)


def read_log(path: Path, fmt: LogFormat) -> Iterator[LogRecord | LineError]:
    """Stream records; malformed lines come out as LineError in place."""
    with open(path, encoding="utf-8", errors="replace", newline="") as handle:
        if fmt == "jsonl":
            for number, text in enumerate(handle, start=1):
                if not text.strip():
                    continue
                try:
                    yield _record(number, json.loads(text))
                except json.JSONDecodeError as exc:
                    yield LineError(line=number, reason=f"not valid JSON ({exc.msg} at column {exc.colno})")
        else:
            reader = csv.DictReader(handle)
            if not reader.fieldnames or "question" not in reader.fieldnames:
                yield LineError(line=1, reason="CSV header must name 'question' and 'sql' columns")
                return
            for row in reader:
                yield _record(reader.line_num, row)


def normalise_text(text: str) -> str:
    """Case and white space folded: how the log tells repeated questions and queries apart."""
    return " ".join(text.split()).lower()


_WRITE_EXAMPLES = """
UNWIND $rows AS r
MERGE (q:QueryExample {key: r.key})
ON CREATE SET q.created_at = $at
SET q.database = $db, q.question = r.question, q.sql = r.sql, q.dialect = r.dialect, q.evidence = r.evidence,
    q.source = r.source, q.line = r.line, q.tables = r.tables, q.columns = r.columns, q.joins = r.joins
"""
_WRITE_USES = """
UNWIND $rows AS r
MATCH (q:QueryExample {{key: r.key}})
UNWIND r.targets AS target
MATCH (n:{label} {{key: target}})
MERGE (q)-[:USES]->(n)
"""


class QueryLogIngestor:
    def __init__(self, store: GraphStore, catalog: CatalogRepository, database: str, default_dialect: str) -> None:
        self.store = store
        self.database = database
        self.default_dialect = sqlglot_dialect(default_dialect) or default_dialect
        columns, _ = catalog.list_columns(database, None, 0, 10**9)
        by_table: dict[str, list[str]] = {}
        for column in columns:
            by_table.setdefault(column.table, []).append(column.name)
        self.names = SchemaNames(by_table)
        self._resolved: dict[tuple[str, str], SqlLinks | str] = {}  # logs repeat their queries

    def ingest(
        self,
        records: Iterator[LogRecord | LineError],
        source: str,
        total: int,
        progress: Callable[[int, int, str], None],
    ) -> LogSummary:
        summary = LogSummary()
        seen: set[str] = set()
        batch: list[dict[str, Any]] = []
        for item in records:
            summary.lines += 1
            row = self._row(item, source) if isinstance(item, LogRecord) else item
            if isinstance(row, LineError):
                summary.error_count += 1
                if len(summary.errors) < MAX_REPORTED_ERRORS:
                    summary.errors.append(row)
            elif row["key"] in seen:
                summary.duplicates += 1
            else:
                seen.add(row["key"])
                batch.append(row)
            if len(batch) >= BATCH:
                self._flush(batch, summary)
                batch = []
                progress(summary.lines, total, f"{summary.ingested} examples, {summary.error_count} bad lines")
        if batch:
            self._flush(batch, summary)
        self._recompute_usage()
        progress(summary.lines, max(total, summary.lines), "usage counts updated")
        return summary

    def _links(self, sql: str, dialect: str) -> SqlLinks | str:
        """Resolved links, or the reason the SQL cannot be used; cached per (dialect, SQL)."""
        cache_key = (dialect, normalise_text(sql))
        if cache_key not in self._resolved:
            if len(self._resolved) > 50_000:
                self._resolved.clear()
            try:
                links: SqlLinks | str = sql_links(sql, self.names, dialect)
            except SqlParseError as exc:
                links = f"SQL does not parse as {dialect}: {exc}"
            else:
                if links.unresolved:
                    links = f"not in the catalogue: {', '.join(links.unresolved)}"
                elif not links.tables:
                    links = "the SQL reads no table of the catalogue"
            self._resolved[cache_key] = links
        return self._resolved[cache_key]

    def _row(self, record: LogRecord, source: str) -> dict[str, Any] | LineError:
        dialect = (sqlglot_dialect(record.dialect) if record.dialect else self.default_dialect) or "sqlite"
        links = self._links(record.sql, dialect)
        if isinstance(links, str):
            return LineError(line=record.line, reason=links)
        digest = hashlib.sha1(
            f"{self.database}\n{normalise_text(record.question)}\n{normalise_text(record.sql)}".encode()
        ).hexdigest()
        return {
            "key": f"{self.database}/q/{digest}",
            "question": record.question,
            "sql": record.sql,
            "dialect": dialect,
            "evidence": record.evidence,
            "source": source,
            "line": record.line,
            "tables": links.tables,
            "columns": [f"{t}.{c}" for t, c in links.columns],
            "joins": [f"{a[0]}.{a[1]} = {b[0]}.{b[1]}" for a, b in links.joins],
            "Table": [table_key(self.database, t) for t in links.tables],
            "Column": [column_key(self.database, t, c) for t, c in links.columns],
        }

    def _flush(self, batch: list[dict[str, Any]], summary: LogSummary) -> None:
        """Write one batch in one transaction; examples already in the graph count as duplicates."""
        keys = [row["key"] for row in batch]
        existing = int(
            self.store.read("MATCH (q:QueryExample) WHERE q.key IN $keys RETURN count(q) AS n", keys=keys)[0]["n"]
        )
        with self.store.transaction() as tx:
            tx.run(_WRITE_EXAMPLES, rows=batch, db=self.database, at=now_iso())
            for label in ("Table", "Column"):
                tx.run(_WRITE_USES.format(label=label), rows=[{"key": r["key"], "targets": r[label]} for r in batch])
        summary.duplicates += existing
        summary.ingested += len(batch) - existing

    def _recompute_usage(self) -> None:
        db = self.database
        with self.store.transaction() as tx:
            for label in ("Column", "Table"):
                tx.run(
                    f"MATCH (n:{label} {{database: $db}}) OPTIONAL MATCH (q:QueryExample)-[:USES]->(n) "
                    "WITH n, count(q) AS uses SET n.usage_count = uses",
                    db=db,
                )
            joins = tx.run(
                "MATCH (q:QueryExample {database: $db}) UNWIND q.joins AS via RETURN via, count(*) AS n", db=db
            )
            rows = []
            for row in joins:
                left, right = row["via"].split(" = ", 1)
                rows.append({
                    "a": table_key(db, left.rsplit(".", 1)[0]), "b": table_key(db, right.rsplit(".", 1)[0]),
                    "via": row["via"], "n": row["n"],
                })
            tx.run(
                "UNWIND $rows AS r MATCH (a:Table {key: r.a}) MATCH (b:Table {key: r.b}) "
                "MERGE (a)-[e:RELATED_TO {source: 'log', via: r.via}]->(b) SET e.count = r.n",
                rows=rows,
            )
