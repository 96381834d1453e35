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
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import column_key, column_ref, table_key
from schemakg.kernel.progress import Progress
from schemakg.kernel.sql.dialects import sqlglot_dialect
from schemakg.kernel.sql.links import SchemaNames, SqlLinks, SqlParseError, columns_by_table, sql_links
from schemakg.kernel.store.examples_repo import QueryExampleRepository
from schemakg.kernel.store.schema_repo import SchemaRepository

LogFormat = Literal["jsonl", "csv"]
BATCH = 500
MAX_REPORTED_ERRORS = 1000
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
    return LogRecord(
        line=line,
        question=question.strip(),
        sql=sql.strip(),
        dialect=dialect,
        evidence=evidence if isinstance(evidence, str) else None,
    )


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


class QueryLogIngestor:
    def __init__(
        self, examples: QueryExampleRepository, catalog: SchemaRepository, database: str, default_dialect: str
    ) -> None:
        self.examples = examples
        self.database = database
        self.default_dialect = sqlglot_dialect(default_dialect) or default_dialect
        columns, _ = catalog.list_columns(database, None, 0, 10**9)
        self.names = SchemaNames(columns_by_table((c.table, c.name) for c in columns), self.default_dialect)
        self._resolved: dict[tuple[str, str], SqlLinks | str] = {}  # logs repeat their queries

    def ingest(
        self,
        records: Iterator[LogRecord | LineError],
        source: str,
        total: int,
        progress: Progress,
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
        self.examples.recompute_usage(self.database)
        progress(summary.lines, max(total, summary.lines), "usage counts updated")
        return summary

    def _links(self, sql: str, dialect: str) -> SqlLinks | str:
        """Resolved links, or the reason the SQL cannot be used; cached per (dialect, SQL)."""
        cache_key = (dialect, normalise_text(sql))
        if cache_key not in self._resolved:
            if len(self._resolved) > 50_000:
                self._resolved.clear()
            try:
                resolved = sql_links(sql, self.names, dialect)
            except SqlParseError as exc:
                links: SqlLinks | str = f"SQL does not parse as {dialect}: {exc}"
            except RecursionError:  # one pathological line is that line's error, never the job's
                links = "the SQL nests too deeply to parse"
            else:
                if resolved.unresolved:
                    links = f"not in the catalogue: {', '.join(resolved.unresolved)}"
                elif not resolved.tables:
                    links = "the SQL reads no table of the catalogue"
                else:
                    links = resolved
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
            "columns": [column_ref(t, c) for t, c in links.columns],
            "joins": [f"{column_ref(*a)} = {column_ref(*b)}" for a, b in links.joins],
            "Table": [table_key(self.database, t) for t in links.tables],
            "Column": [column_key(self.database, t, c) for t, c in links.columns],
        }

    def _flush(self, batch: list[dict[str, Any]], summary: LogSummary) -> None:
        """Write one batch in one transaction; examples already in the graph count as duplicates."""
        added = self.examples.write_batch(self.database, batch, now_iso())
        summary.duplicates += len(batch) - added
        summary.ingested += added
