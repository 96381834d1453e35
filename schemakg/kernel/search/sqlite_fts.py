"""The search index on SQLite FTS5 (Python's standard library): one file under the data directory.

WAL mode, a connection per thread and SQLite's own locking make it safe for several threads and for
several processes (the API and a Celery worker) at once; this process's writes are serialised by a lock.

Text is tokenised here, not by FTS5: words are split at ``_``, punctuation and camelCase (``singer_id``
and ``SingerId`` both index as ``singer id``; a name also as ``singerid``), case and diacritics are
folded, and FTS5's ``unicode61`` tokenizer only splits the result at spaces. Query words go through the
same tokenizer and reach FTS5 as quoted prefix terms, so no query string is FTS5 syntax.
"""

from __future__ import annotations

import re
import sqlite3
import threading
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from schemakg.kernel.model import SearchHit
from schemakg.kernel.search.base import KINDS, SearchDoc, SearchIndex

FORMAT = "1"  # bump when the tables or the tokenisation change: the index is then rebuilt
MAX_WORDS = 8
MAX_TOKENS = 16
# bm25 weights of the indexed columns: the entity's own name, its table's name (columns only), other text.
WEIGHTS = (10.0, 2.0, 1.0)
# Scores keep the meaning the catalogue search always had: exact name 1.0, name hits 0.5 + 0.4 * share.
TEXT_ONLY_SCORE = 0.3

_CHUNK = re.compile(r"[^\W_]+")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")

_SCHEMA = [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE versions (database TEXT PRIMARY KEY, version TEXT NOT NULL)",
    # col is '' for a table; words is ' ' + the name's tokens (prefix tests with instr); exact is the
    # name's tokens run together (the name ignoring case, '_' and camelCase).
    "CREATE TABLE entries (id INTEGER PRIMARY KEY, database TEXT NOT NULL, kind TEXT NOT NULL, "
    "tbl TEXT NOT NULL, col TEXT NOT NULL, description TEXT, exact TEXT NOT NULL, words TEXT NOT NULL, "
    "UNIQUE (database, kind, tbl, col))",
    "CREATE INDEX entries_exact ON entries (exact)",
    "CREATE VIRTUAL TABLE fts USING fts5(name, context, text, "
    "tokenize = 'unicode61 remove_diacritics 0', prefix = '1 2 3')",
]


def _fold(text: str) -> str:
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def tokens(text: str) -> list[str]:
    """Lower-case word parts of ``text``: split at non-word characters, ``_`` and camelCase."""
    return [
        part for chunk in _CHUNK.findall(text) for piece in _CAMEL.split(chunk) for part in _CHUNK.findall(_fold(piece))
    ]


def _quote(token: str) -> str:
    return '"' + token.replace('"', '""') + '"*'


def _row(doc: SearchDoc) -> tuple[Any, ...]:
    name = doc.table if doc.column is None else doc.column
    parts = tokens(name)
    exact = "".join(parts)
    # The name's parts run together is a token too, so "singerid" finds singer_id and SingerId.
    words = [*parts, exact] if len(parts) > 1 else parts
    context = " ".join(tokens(doc.table)) if doc.column is not None else ""
    texts = [doc.description, doc.comment if doc.comment != doc.description else None, doc.value_explanation]
    text = " ".join(tokens(" ".join([*(t for t in texts if t), *doc.synonyms])))
    return (
        doc.database,
        doc.kind,
        doc.table,
        doc.column or "",
        doc.description,
        exact,
        " " + " ".join(words),
        " ".join(words),
        context,
        text,
    )


class SqliteFtsIndex(SearchIndex):
    def __init__(self, path: Path, busy_timeout_s: float = 30.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_s
        path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        self._connections: list[sqlite3.Connection] = []
        self._guard = threading.Lock()  # the list of connections
        self._write_lock = threading.Lock()  # this process's writers, one at a time
        self._closed = False
        self._set_up()

    # --- connections ---------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            conn.execute("PRAGMA synchronous = NORMAL")
            with self._guard:
                if self._closed:
                    conn.close()
                    raise sqlite3.ProgrammingError("the search index is closed")
                self._connections.append(conn)
            self._local.conn = conn
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        conn = self._connection()
        with self._write_lock:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def _set_up(self) -> None:
        conn = self._connection()
        conn.execute("PRAGMA journal_mode = WAL")
        with self._transaction() as tx:
            names = {row[0] for row in tx.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")}
            if "meta" in names:
                found = tx.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
                if found and found[0] == FORMAT:
                    return
            for name in ("fts", "entries", "versions", "meta"):
                tx.execute(f"DROP TABLE IF EXISTS {name}")
            for statement in _SCHEMA:
                tx.execute(statement)
            tx.execute("INSERT INTO meta (key, value) VALUES ('format', ?)", (FORMAT,))

    def close(self) -> None:
        with self._guard:
            self._closed = True
            connections, self._connections = self._connections, []
        for conn in connections:
            conn.close()

    # --- writing -------------------------------------------------------------------------

    def versions(self) -> dict[str, str]:
        return dict(self._connection().execute("SELECT database, version FROM versions").fetchall())

    def replace_database(self, database: str, docs: Iterable[SearchDoc], version: str) -> None:
        rows = [_row(doc) for doc in docs if doc.database == database]
        with self._transaction() as tx:
            self._delete(tx, "database = ?", (database,))
            self._insert(tx, rows)
            self._set_version(tx, database, version)

    def upsert(self, database: str, docs: Iterable[SearchDoc], version: str) -> None:
        rows = [_row(doc) for doc in docs if doc.database == database]
        with self._transaction() as tx:
            for row in rows:
                self._delete(tx, "database = ? AND kind = ? AND tbl = ? AND col = ?", row[:4])
            self._insert(tx, rows)
            self._set_version(tx, database, version)

    def drop_database(self, database: str) -> None:
        with self._transaction() as tx:
            self._delete(tx, "database = ?", (database,))
            tx.execute("DELETE FROM versions WHERE database = ?", (database,))

    @staticmethod
    def _delete(tx: sqlite3.Connection, where: str, params: Sequence[Any]) -> None:
        tx.execute(f"DELETE FROM fts WHERE rowid IN (SELECT id FROM entries WHERE {where})", params)
        tx.execute(f"DELETE FROM entries WHERE {where}", params)

    @staticmethod
    def _insert(tx: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> None:
        start = tx.execute("SELECT coalesce(max(id), 0) FROM entries").fetchone()[0] + 1
        tx.executemany(
            "INSERT INTO entries (id, database, kind, tbl, col, description, exact, words) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(start + i, *row[:7]) for i, row in enumerate(rows)],
        )
        tx.executemany(
            "INSERT INTO fts (rowid, name, context, text) VALUES (?, ?, ?, ?)",
            [(start + i, *row[7:]) for i, row in enumerate(rows)],
        )

    @staticmethod
    def _set_version(tx: sqlite3.Connection, database: str, version: str) -> None:
        tx.execute(
            "INSERT INTO versions (database, version) VALUES (?, ?) "
            "ON CONFLICT (database) DO UPDATE SET version = excluded.version",
            (database, version),
        )

    # --- searching -----------------------------------------------------------------------

    def search(self, words: Sequence[str], database: str | None, kind: str | None, limit: int) -> list[SearchHit]:
        groups: list[list[str]] = []
        budget = MAX_TOKENS
        for word in words[:MAX_WORDS]:
            parts = list(dict.fromkeys(tokens(word)))[:budget]
            if parts:
                groups.append(parts)
                budget -= len(parts)
            if budget <= 0:
                break
        if not groups or limit <= 0 or kind not in (None, *KINDS):
            return []
        terms = " AND ".join(_quote(p) for p in dict.fromkeys(p for g in groups for p in g))
        exact = "".join(p for g in groups for p in g)
        # Names that hold every word rank first; when they fill the page, the wider query is not needed.
        hits = self._in_names(f"{{name}} : ({terms})", exact, len(groups), database, kind, limit)
        if len(hits) < limit:
            hits = self._anywhere(terms, exact, groups, database, kind, limit)
        return hits

    def _in_names(
        self, expression: str, exact: str, n_words: int, database: str | None, kind: str | None, limit: int
    ) -> list[SearchHit]:
        """Rows whose names hold every word: the exact name first, then by bm25. Unfiltered, the page is
        ranked inside FTS5 and only its rows are joined to their entries."""
        if database is None and kind is None:
            sql = (
                "SELECT e.kind, e.database, e.tbl, e.col, e.description, top.exact FROM ("
                "SELECT rowid AS id, rowid IN (SELECT id FROM entries WHERE exact = ?) AS exact, "
                f"{_BM25} AS rank FROM fts WHERE fts MATCH ? ORDER BY exact DESC, rank, rowid LIMIT ?) AS top "
                "JOIN entries AS e ON e.id = top.id ORDER BY top.exact DESC, top.rank, top.id"
            )
            params: list[Any] = [exact, expression, limit]
        else:
            where, filters = _filters(database, kind)
            sql = (
                f"SELECT e.kind, e.database, e.tbl, e.col, e.description, e.exact = ? AS exact, {_BM25} AS rank "
                f"FROM fts JOIN entries AS e ON e.id = fts.rowid WHERE fts MATCH ?{where} "
                "ORDER BY exact DESC, rank, e.id LIMIT ?"
            )
            params = [exact, expression, *filters, limit]
        rows = self._connection().execute(sql, params).fetchall()
        return [_hit(row, bool(row[5]), n_words, n_words) for row in rows]

    def _anywhere(
        self, expression: str, exact: str, groups: list[list[str]], database: str | None, kind: str | None, limit: int
    ) -> list[SearchHit]:
        """Rows that match every word anywhere: the exact name first, then names that hold more of the
        words, then by bm25."""
        name_hits = " + ".join("(" + " AND ".join("instr(e.words, ?) > 0" for _ in g) + ")" for g in groups)
        where, filters = _filters(database, kind)
        rows = (
            self._connection()
            .execute(
                "SELECT e.kind, e.database, e.tbl, e.col, e.description, e.exact = ? AS exact, "
                f"{name_hits} AS hits, {_BM25} AS rank FROM fts JOIN entries AS e ON e.id = fts.rowid "
                f"WHERE fts MATCH ?{where} ORDER BY exact DESC, hits DESC, rank, e.id LIMIT ?",
                (exact, *(" " + p for g in groups for p in g), expression, *filters, limit),
            )
            .fetchall()
        )
        return [_hit(row, bool(row[5]), row[6], len(groups)) for row in rows]


_BM25 = f"bm25(fts, {', '.join(map(str, WEIGHTS))})"


def _filters(database: str | None, kind: str | None) -> tuple[str, list[str]]:
    where, params = "", []
    if database is not None:
        where, params = " AND e.database = ?", [database]
    if kind is not None:
        where, params = f"{where} AND e.kind = ?", [*params, kind]
    return where, params


def _hit(row: tuple[Any, ...], exact: bool, name_hits: int, n_words: int) -> SearchHit:
    kind, database, table, column, description = row[:5]
    if exact:
        score = 1.0
    elif name_hits:
        score = round(0.5 + 0.4 * name_hits / n_words, 3)
    else:
        score = TEXT_ONLY_SCORE
    return SearchHit(
        kind=kind, database=database, table=table, column=column or None, description=description, score=score
    )
