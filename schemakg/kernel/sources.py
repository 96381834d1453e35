"""Source databases: validated URLs, masked for display, opened read-only with per-query timeouts.

Every connection to a user's database is made here. ``SourceDatabase.read`` is the execution
layer for untrusted SQL: it protects the database on its own, whatever SQL it is given (one
statement per driver call, a read-only connection or transaction the statement cannot end, a
fresh connection closed afterwards, a deadline, a row cap and a size cap). ``connect`` serves
ingestion (introspection and sampling), read-only too.
"""

from __future__ import annotations

import datetime
import decimal
import re
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pymysql.cursors
from psycopg.types.string import TextLoader
from pydantic import BaseModel
from pymysql.constants import CLIENT
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from schemakg.kernel.sql.functions import SQLITE_ENGINE_FUNCTIONS

if TYPE_CHECKING:
    from schemakg.kernel.settings import Settings

# Maintained drivers for URLs that name none (SQLAlchemy's own defaults are not installed).
_DEFAULT_DRIVERS = {
    "postgresql": "postgresql+psycopg",
    "postgres": "postgresql+psycopg",
    "mysql": "mysql+pymysql",
    "mariadb": "mariadb+pymysql",
}
_SECRET_PARAMETER = re.compile(r"pass|secret|token|key|auth|cred", re.IGNORECASE)
_SQLITE_HEADER = b"SQLite format 3\x00"
_SQLITE_MAX_VALUE_BYTES = 10_000_000  # randomblob(4e8) fails at once instead of allocating 400 MB
_MASK = "***"
# Date and time values come back as PostgreSQL writes them (ISO): Python's types cannot hold
# 'infinity' or year 0, and the response carries text anyway.
_PG_TEXT_TYPES = ("date", "time", "timetz", "timestamp", "timestamptz", "interval")


class SourceError(ValueError):
    """A source database URL that cannot be used; the message never contains the password."""


class SourceQueryError(ValueError):
    """A query the source refused or could not finish; the message is redacted and safe to show."""

    def __init__(self, message: str, deadline: bool = False) -> None:
        super().__init__(message)
        self.deadline = deadline  # it ran out of time


class ReadResult(BaseModel):
    columns: list[str]
    rows: list[list[object]]
    truncated: bool


def parse_url(raw: str, sqlite_roots: Sequence[Path] | None = None) -> URL:
    """The URL with a maintained driver filled in; a SQLite URL must name a SQLite database file
    (inside ``sqlite_roots`` when those are set)."""
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise SourceError("malformed database URL: expected dialect+driver://user:password@host/db") from exc
    if url.drivername in _DEFAULT_DRIVERS:
        url = url.set(drivername=_DEFAULT_DRIVERS[url.drivername])
    if url.get_backend_name() == "sqlite":
        _check_sqlite_file(url, sqlite_roots)
    return url


def _check_sqlite_file(url: URL, roots: Sequence[Path] | None) -> None:
    if not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        raise SourceError("a SQLite URL must name a database file")
    path = Path(url.database).resolve()
    if roots and not any(path.is_relative_to(Path(root).resolve()) for root in roots):
        raise SourceError(f"SQLite files may only come from {', '.join(str(r) for r in roots)} (SCHEMAKG_SQLITE_ROOTS)")
    if not path.is_file():
        raise SourceError(f"SQLite database file not found: {url.database}")
    try:
        with open(path, "rb") as handle:
            header = handle.read(len(_SQLITE_HEADER))
    except OSError as exc:
        raise SourceError(f"SQLite database file cannot be read: {url.database}") from exc
    if header != _SQLITE_HEADER:
        raise SourceError(f"not a SQLite database: {url.database}")


def _secret_values(url: URL) -> list[str]:
    values = [str(url.password)] if url.password else []
    for name, value in url.query.items():
        if _SECRET_PARAMETER.search(name):
            values += [value] if isinstance(value, str) else list(value)
    return [v for v in values if v]


def mask_url(raw: str | URL) -> str:
    """The URL for display: the password and every secret-bearing query parameter masked."""
    url = raw if isinstance(raw, URL) else make_url(raw)
    query = {name: (_MASK if _SECRET_PARAMETER.search(name) else value) for name, value in url.query.items()}
    rendered = url.set(query=query).render_as_string(hide_password=True)
    return rendered.replace("%2A%2A%2A", _MASK)


def redact(message: str, url: URL) -> str:
    """Remove every secret of the URL from any text (driver errors sometimes echo connection strings)."""
    for secret in sorted(_secret_values(url), key=len, reverse=True):
        message = message.replace(secret, _MASK)
    return message


def _json_value(value: object) -> object:
    """Driver values as JSON can carry them: bytes and invalid UTF-8 never break a response."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return bytes(value).decode("utf-8", errors="replace")
    if isinstance(value, str):
        return value.encode("utf-8", errors="replace").decode("utf-8")
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (datetime.timedelta, uuid.UUID)):
        return str(value)
    return value


def _sqlite_authorizer(action: int, arg1: str | None, arg2: str | None, _db: str | None, _trigger: str | None) -> int:
    """Reads and allowlisted functions only: no write, PRAGMA, ATTACH, transaction or extension."""
    if action in (sqlite3.SQLITE_SELECT, sqlite3.SQLITE_READ, sqlite3.SQLITE_RECURSIVE):
        return sqlite3.SQLITE_OK
    if action == sqlite3.SQLITE_FUNCTION and (arg2 or "").lower() in SQLITE_ENGINE_FUNCTIONS:
        return sqlite3.SQLITE_OK
    return sqlite3.SQLITE_DENY


class SourceDatabase:
    """A read-only handle on one source database."""

    def __init__(
        self,
        raw_url: str,
        query_timeout_s: float = 10.0,
        connect_timeout_s: float = 5.0,
        sqlite_roots: Sequence[Path] | None = None,
    ) -> None:
        self.url = parse_url(raw_url, sqlite_roots)
        self.query_timeout_s = query_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.dialect = self.url.get_backend_name()
        self.engine = self._create_engine()

    @classmethod
    def from_settings(cls, raw_url: str, settings: Settings) -> SourceDatabase:
        """A user's source under the service's timeouts and SQLite roots."""
        return cls(raw_url, settings.source_query_timeout_s, settings.source_connect_timeout_s, settings.sqlite_roots)

    @property
    def sqlglot_dialect(self) -> str:
        return {"postgresql": "postgres", "mariadb": "mysql"}.get(self.dialect, self.dialect)

    @property
    def _sqlite_path(self) -> Path:
        return Path(str(self.url.database)).resolve()

    def _open_sqlite(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            f"{self._sqlite_path.as_uri()}?mode=ro", uri=True, timeout=self.connect_timeout_s, check_same_thread=False
        )
        conn.execute("PRAGMA query_only = ON")  # a second fence behind mode=ro
        conn.text_factory = lambda raw: raw.decode("utf-8", errors="replace")
        conn.setlimit(sqlite3.SQLITE_LIMIT_LENGTH, _SQLITE_MAX_VALUE_BYTES)
        conn.setlimit(sqlite3.SQLITE_LIMIT_ATTACHED, 0)
        return conn

    def _create_engine(self) -> Engine:
        try:
            if self.dialect == "sqlite":
                return create_engine("sqlite://", creator=self._open_sqlite)
            engine = create_engine(self.url, connect_args=self._connect_args(), pool_pre_ping=True)
            if self.dialect in {"mysql", "mariadb"}:

                @event.listens_for(engine, "connect")
                def _read_only(dbapi_connection: Any, _record: Any) -> None:
                    self._mysql_session(dbapi_connection, self.query_timeout_s)

            return engine
        except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
            raise SourceError(f"no driver installed for dialect {self.dialect!r}") from exc
        except ArgumentError as exc:
            raise SourceError(redact(f"invalid database URL: {exc}", self.url)) from exc

    def _connect_args(self, timeout_s: float | None = None) -> dict[str, Any]:
        timeout_ms = int((timeout_s or self.query_timeout_s) * 1000)
        if self.dialect == "postgresql":
            return {
                "connect_timeout": max(1, int(self.connect_timeout_s)),
                "application_name": "schemakg",
                "options": f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms} "
                f"-c lock_timeout={timeout_ms} -c idle_in_transaction_session_timeout={timeout_ms + 5000}",
            }
        if self.dialect in {"mysql", "mariadb"}:
            return {
                "connect_timeout": max(1, int(self.connect_timeout_s)),
                "read_timeout": int(timeout_ms / 1000) + 5,
                "local_infile": False,
            }
        return {}

    @staticmethod
    def _mysql_session(dbapi_connection: Any, timeout_s: float) -> None:
        """MariaDB names its statement deadline max_statement_time (seconds); MySQL MAX_EXECUTION_TIME (ms)."""
        with closing(dbapi_connection.cursor()) as cursor:
            cursor.execute("SET SESSION TRANSACTION READ ONLY")
            if "mariadb" in str(dbapi_connection.get_server_info()).lower():
                cursor.execute(f"SET SESSION max_statement_time={float(timeout_s):.3f}")
            else:
                cursor.execute(f"SET SESSION MAX_EXECUTION_TIME={int(timeout_s * 1000)}")

    def check(self) -> None:
        """Connect once and read the catalogue; raises SourceError with a redacted message."""
        probe = "SELECT count(*) FROM sqlite_master" if self.dialect == "sqlite" else "SELECT 1"
        try:
            with self.connect() as conn:
                conn.execute(text(probe))
        except SourceError:
            raise
        except Exception as exc:
            detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
            raise SourceError(redact(f"cannot connect to the database: {detail}", self.url)) from exc

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def deadline(self, conn: Connection, seconds: float | None = None) -> Iterator[None]:
        """Abort a SQLite statement that runs past its time; server engines use statement_timeout."""
        if self.dialect != "sqlite":
            yield
            return
        raw = conn.connection.driver_connection
        assert isinstance(raw, sqlite3.Connection)
        with self._sqlite_deadline(raw, seconds if seconds is not None else self.query_timeout_s):
            yield

    @staticmethod
    @contextmanager
    def _sqlite_deadline(raw: sqlite3.Connection, seconds: float) -> Iterator[None]:
        limit = time.monotonic() + seconds
        raw.set_progress_handler(lambda: int(time.monotonic() > limit), 10_000)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)

    def read(self, sql: str, *, timeout_s: float, row_cap: int, max_bytes: int) -> ReadResult:
        """Run one untrusted statement read-only on a fresh connection, closed afterwards."""
        try:
            if self.dialect == "sqlite":
                return self._read_sqlite(sql, timeout_s, row_cap, max_bytes)
            if self.dialect == "postgresql":
                return self._read_postgres(sql, timeout_s, row_cap, max_bytes)
            if self.dialect in {"mysql", "mariadb"}:
                return self._read_mysql(sql, timeout_s, row_cap, max_bytes)
        except SourceQueryError:
            raise
        except Exception as exc:
            message = self._describe(exc, timeout_s)
            raise SourceQueryError(message, deadline="time limit" in message) from exc
        raise SourceQueryError(f"queries on {self.dialect} sources are not supported")

    def _describe(self, exc: BaseException, timeout_s: float) -> str:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        if re.search(
            r"interrupted|statement timeout|max_statement_time|maximum statement execution time|"
            r"timed out",
            detail,
            re.IGNORECASE,
        ):
            detail = f"the query ran past its {timeout_s:g}s time limit"
        return redact(f"the query failed: {detail}", self.url)

    def _raw_connection(self, timeout_s: float) -> Any:
        """A driver connection outside the pool, so nothing it did can reach a later caller."""
        cargs, cparams = self.engine.dialect.create_connect_args(self.url)
        cparams.update(self._connect_args(timeout_s))
        if self.dialect == "postgresql":
            cparams["application_name"] = "schemakg-read"
        if self.dialect in {"mysql", "mariadb"}:
            cparams["client_flag"] = int(cparams.get("client_flag", 0)) & ~CLIENT.MULTI_STATEMENTS
        return self.engine.dialect.loaded_dbapi.connect(*cargs, **cparams)

    def _read_sqlite(self, sql: str, timeout_s: float, row_cap: int, max_bytes: int) -> ReadResult:
        with closing(self._open_sqlite()) as conn:
            conn.set_authorizer(_sqlite_authorizer)
            with self._sqlite_deadline(conn, timeout_s):
                cursor = conn.execute(sql)  # the sqlite3 module runs one statement per call
                return _collect(cursor, row_cap, max_bytes)

    def _read_postgres(self, sql: str, timeout_s: float, row_cap: int, max_bytes: int) -> ReadResult:
        with closing(self._raw_connection(timeout_s)) as conn:
            for name in _PG_TEXT_TYPES:
                conn.adapters.register_loader(name, TextLoader)
            with closing(conn.cursor()) as setup:
                setup.execute("SET TRANSACTION READ ONLY")
            # A named cursor runs through the extended protocol (one statement only) and fetches
            # rows on demand, so the row cap bounds memory and time.
            with closing(conn.cursor(name="schemakg_read")) as cursor:
                cursor.execute(sql)
                result = _collect(cursor, row_cap, max_bytes)
            conn.rollback()
            return result

    def _read_mysql(self, sql: str, timeout_s: float, row_cap: int, max_bytes: int) -> ReadResult:
        with closing(self._raw_connection(timeout_s)) as conn:
            self._mysql_session(conn, timeout_s)
            with closing(conn.cursor(pymysql.cursors.SSCursor)) as cursor:
                cursor.execute("START TRANSACTION READ ONLY")
                cursor.execute(sql)  # no arguments: pymysql does not interpolate
                return _collect(cursor, row_cap, max_bytes)

    def dispose(self) -> None:
        self.engine.dispose()


def _collect(cursor: Any, row_cap: int, max_bytes: int) -> ReadResult:
    columns = [str(d[0]) for d in cursor.description or []]
    rows, size = [], 0
    for raw in cursor.fetchmany(row_cap + 1):
        row = [_json_value(value) for value in raw]
        size += sum(len(str(value)) for value in row)
        if size > max_bytes:
            raise SourceQueryError(f"the result is larger than {max_bytes} bytes; select fewer columns or rows")
        rows.append(row)
    return ReadResult(columns=columns, rows=rows[:row_cap], truncated=len(rows) > row_cap)
