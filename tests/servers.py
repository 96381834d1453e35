"""Throwaway PostgreSQL and MariaDB servers for the test suite, each on a free port on 127.0.0.1,
with the sample database loaded into it faithfully (types, keys, data).

The sources' role owns its tables and could write them: the realistic misconfiguration, so the
tests show the execution layer holding on its own. An admin URL lets tests inspect side effects.
"""

from __future__ import annotations

import os
import shutil
import socket
import sqlite3
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import sqlglot
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlglot import exp

PG_BIN = Path("/usr/lib/postgresql")
SOURCE_USER, SOURCE_PASSWORD = "analyst_owner", "S3cret-owner"


@dataclass
class Server:
    """A running server: the admin URL for inspection and a way to stop it."""

    kind: str
    port: int
    admin_url: str
    process: subprocess.Popen[bytes]
    directory: Path

    def url(self, database: str, user: str = SOURCE_USER, password: str = SOURCE_PASSWORD) -> str:
        scheme = "postgresql" if self.kind == "postgresql" else "mysql"
        return f"{scheme}://{user}:{password}@127.0.0.1:{self.port}/{database}"

    def admin_engine(self, database: str, autocommit: bool = True) -> Engine:
        base = self.admin_url.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        return create_engine(f"{base}/{database}", **({"isolation_level": "AUTOCOMMIT"} if autocommit else {}))

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        shutil.rmtree(self.directory, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_for(url: str, timeout_s: float = 30) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            with create_engine(url).connect() as conn:
                conn.execute(text("SELECT 1"))
            return
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def postgres_bin() -> Path | None:
    versions = sorted(PG_BIN.glob("*/bin/initdb"))
    return versions[-1].parent if versions else None


def start_postgres(directory: Path) -> Server:
    """initdb and postgres as the ``postgres`` system user (the server refuses to run as root)."""
    binaries = postgres_bin()
    if binaries is None:
        raise FileNotFoundError("PostgreSQL server binaries are missing (apt-get install postgresql)")
    directory.mkdir(parents=True, exist_ok=True)
    data = directory / "data"
    as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if as_postgres:
        shutil.chown(directory, "postgres")
    password_file = directory / "pw"
    password_file.write_text("admin-pw\n")
    if as_postgres:
        shutil.chown(password_file, "postgres")
    subprocess.run(
        [
            *as_postgres,
            str(binaries / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=scram-sha-256",
            f"--pwfile={password_file}",
            "-E",
            "UTF8",
            "--locale=C",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            *as_postgres,
            str(binaries / "postgres"),
            "-D",
            str(data),
            "-p",
            str(port),
            "-c",
            "listen_addresses=127.0.0.1",
            "-c",
            f"unix_socket_directories={directory}",
            "-c",
            "fsync=off",
            "-c",
            "wal_level=logical",
            "-c",
            "max_connections=60",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server("postgresql", port, f"postgresql://postgres:admin-pw@127.0.0.1:{port}/postgres", process, directory)
    _wait_for(server.admin_url)
    return server


def start_mariadb(directory: Path) -> Server:
    install = shutil.which("mariadb-install-db") or shutil.which("mysql_install_db")
    daemon = shutil.which("mariadbd") or shutil.which("mysqld") or "/usr/sbin/mariadbd"
    if install is None or not Path(daemon).exists():
        raise FileNotFoundError("MariaDB server binaries are missing (apt-get install mariadb-server)")
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            install,
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    process = subprocess.Popen(
        [
            daemon,
            "--no-defaults",
            f"--datadir={data}",
            "--user=root",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            f"--socket={directory / 'mysqld.sock'}",
            f"--pid-file={directory / 'mysqld.pid'}",
            "--skip-name-resolve",
            "--innodb-buffer-pool-size=32M",
            "--log-error=" + str(directory / "error.log"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = Server("mariadb", port, f"mysql+pymysql://root@127.0.0.1:{port}/mysql", process, directory)
    _wait_for(server.admin_url)  # root has no password: the server listens on loopback only, briefly
    return server


def load_sqlite(server: Server, sqlite_path: Path, database: str) -> str:
    """Copy a SQLite database's tables, keys and rows into ``database`` on the server, owned by
    the source role; returns that role's (driver-less) URL."""
    with server.admin_engine(server.admin_url.rsplit("/", 1)[1]).connect() as conn:
        if server.kind == "postgresql":
            conn.execute(text(f"CREATE ROLE {SOURCE_USER} LOGIN PASSWORD '{SOURCE_PASSWORD}'"))
            conn.execute(text(f"CREATE DATABASE {database} OWNER {SOURCE_USER}"))
        else:
            conn.execute(text(f"CREATE DATABASE {database}"))
            conn.execute(text(f"CREATE USER '{SOURCE_USER}'@'%' IDENTIFIED BY '{SOURCE_PASSWORD}'"))
            conn.execute(text(f"GRANT ALL ON {database}.* TO '{SOURCE_USER}'@'%'"))
    target = server.admin_engine(database, autocommit=False)
    dialect = "postgres" if server.kind == "postgresql" else "mysql"
    with sqlite3.connect(sqlite_path) as read, target.begin() as write:
        # Loaded by the admin with foreign-key checks off (SQLite never enforced them), then
        # handed to the source role. Names are lower-cased, as PostgreSQL schemas usually are.
        write.execute(
            text(
                "SET session_replication_role = replica"
                if server.kind == "postgresql"
                else "SET FOREIGN_KEY_CHECKS = 0"
            )
        )
        tables = read.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid").fetchall()
        for _name, ddl in tables:
            tree = sqlglot.parse_one(ddl, read="sqlite")
            for identifier in tree.find_all(exp.Identifier):
                identifier.set("this", identifier.name.lower())
                identifier.set("quoted", False)
            write.execute(text(tree.sql(dialect)))
        for name, _ in tables:
            cursor = read.execute(f'SELECT * FROM "{name}"')
            columns = [c[0].lower() for c in cursor.description]
            insert = text(
                f"INSERT INTO {name.lower()} ({', '.join(columns)}) VALUES ({', '.join(':' + c for c in columns)})"
            )
            rows = (
                [dict(zip(columns, map(zero_date, row), strict=True)) for row in cursor]
                if server.kind == "postgresql"
                else [dict(zip(columns, row, strict=True)) for row in cursor]
            )
            if rows:
                write.execute(insert, rows)
            if server.kind == "postgresql":
                write.execute(text(f"ALTER TABLE {name.lower()} OWNER TO {SOURCE_USER}"))
    target.dispose()
    return server.url(database)


def zero_date(value: object) -> object:
    """MySQL's zero date (the sample has one) has no PostgreSQL equivalent; -infinity sorts the same."""
    return "-infinity" if value == "0000-00-00" else value
