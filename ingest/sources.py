"""Source databases: validated URLs, masked for display, opened read-only with per-query timeouts.

Every engine to a user's database is made here, so read-only mode and timeouts hold
everywhere (ingestion now, query execution later).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError


class SourceError(ValueError):
    """A source database URL that cannot be used; the message never contains the password."""


def parse_url(raw: str) -> URL:
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError) as exc:
        raise SourceError("malformed database URL: expected dialect+driver://user:password@host/db") from exc
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            raise SourceError("a SQLite URL must name a database file")
        path = Path(url.database)
        if not path.is_file():
            raise SourceError(f"SQLite database file not found: {url.database}")
    return url


def mask_url(raw: str | URL) -> str:
    url = raw if isinstance(raw, URL) else make_url(raw)
    return url.render_as_string(hide_password=True)


def redact(message: str, url: URL) -> str:
    """Remove the password from any text (driver errors sometimes echo connection strings)."""
    if url.password:
        message = message.replace(str(url.password), "***")
    return message


class SourceDatabase:
    """A read-only handle on one source database."""

    def __init__(self, raw_url: str, query_timeout_s: float = 10.0, connect_timeout_s: float = 5.0) -> None:
        self.url = parse_url(raw_url)
        self.query_timeout_s = query_timeout_s
        self.connect_timeout_s = connect_timeout_s
        self.dialect = self.url.get_backend_name()
        self.engine = self._create_engine()

    def _create_engine(self) -> Engine:
        try:
            if self.dialect == "sqlite":
                path = Path(str(self.url.database)).resolve()

                def connect_read_only() -> sqlite3.Connection:
                    conn = sqlite3.connect(
                        f"{path.as_uri()}?mode=ro", uri=True, timeout=self.connect_timeout_s, check_same_thread=False
                    )
                    conn.execute("PRAGMA query_only = ON")  # a second fence behind mode=ro
                    return conn

                return create_engine("sqlite://", creator=connect_read_only)
            if self.dialect == "postgresql":
                timeout_ms = int(self.query_timeout_s * 1000)
                return create_engine(
                    self.url,
                    connect_args={
                        "connect_timeout": int(self.connect_timeout_s),
                        "options": f"-c default_transaction_read_only=on -c statement_timeout={timeout_ms}",
                    },
                    pool_pre_ping=True,
                )
            if self.dialect in {"mysql", "mariadb"}:
                engine = create_engine(
                    self.url, connect_args={"connect_timeout": int(self.connect_timeout_s)}, pool_pre_ping=True
                )
                timeout_ms = int(self.query_timeout_s * 1000)

                @event.listens_for(engine, "connect")
                def _read_only(dbapi_connection: Any, _record: Any) -> None:
                    cursor = dbapi_connection.cursor()
                    cursor.execute("SET SESSION TRANSACTION READ ONLY")
                    cursor.execute(f"SET SESSION MAX_EXECUTION_TIME={timeout_ms}")
                    cursor.close()

                return engine
            return create_engine(self.url, pool_pre_ping=True)
        except (NoSuchModuleError, ModuleNotFoundError, ImportError) as exc:
            raise SourceError(f"no driver installed for dialect {self.dialect!r}") from exc
        except ArgumentError as exc:
            raise SourceError(redact(f"invalid database URL: {exc}", self.url)) from exc

    def check(self) -> None:
        """Connect once and run a trivial query; raises SourceError with a redacted message."""
        try:
            with self.connect() as conn:
                conn.execute(text("SELECT 1"))
        except SourceError:
            raise
        except Exception as exc:  # noqa: BLE001 - any driver failure becomes one clear message
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
        limit = time.monotonic() + (seconds if seconds is not None else self.query_timeout_s)
        raw.set_progress_handler(lambda: int(time.monotonic() > limit), 10_000)
        try:
            yield
        finally:
            raw.set_progress_handler(None, 0)

    def dispose(self) -> None:
        self.engine.dispose()
