"""Shared fixtures: one real embedded ArcadeDB engine and API for the session, isolated by database name."""

from __future__ import annotations

import itertools
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import torch
from fastapi.testclient import TestClient
from sqlalchemy import text

from schemakg.app.api.app import create_app
from schemakg.app.container import Container
from schemakg.kernel.settings import Settings
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.encoder import DualTowerEncoder, EncoderConfig
from schemakg.retrieval.linker import FOCUS_MIN_TABLES
from tests.servers import SOURCE_USER, Server, load_sqlite, start_mariadb, start_postgres

ADMIN_KEY = "skg_test_admin_key"
SAMPLE_DB = Path(__file__).resolve().parents[1] / "schemakg" / "samples" / "hr_1.sqlite"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_names = itertools.count()

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("SCHEMAKG_LLM_MODEL", "qwen2.5-coder-0.5b")  # the suite's model, here and in subprocesses
torch.set_num_threads(1)


# The GGUF that scripts/setup_llm.sh builds: tests share it rather than rebuild 0.5 GB per data dir.
LOCAL_GGUF = Path(__file__).resolve().parents[1] / ".schemakg" / "models" / "llm" / "qwen2.5-coder-0.5b.gguf"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("schemakg-data"),
        admin_key=ADMIN_KEY,
        llm_model_path=LOCAL_GGUF if LOCAL_GGUF.exists() else None,
        torch_threads=1,  # the suite's setting, which the API's warm-up applies (default: cores - 1)
    )


@pytest.fixture(scope="session")
def container(settings: Settings) -> Iterator[Container]:
    built = Container(settings)
    yield built
    built.close()


@pytest.fixture(scope="session")
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def db_name() -> str:
    return f"db{next(_names)}_{int(time.time() * 1000) % 100000}"


@pytest.fixture
def local_model(container: Container) -> str:
    """The packaged local model's name; the test is skipped where llama-cpp or the model files are missing."""
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    from schemakg.generation.llm.model_files import ModelFilesError

    try:
        return container.llm.model_name
    except ModelFilesError as exc:
        pytest.skip(str(exc))


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of the sample database that a test may alter."""
    target = tmp_path / "hr_1.sqlite"
    shutil.copy(SAMPLE_DB, target)
    target.chmod(0o644)
    return target


def wait_for_job(client: TestClient, headers: dict[str, str], job_id: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}", headers=headers).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s}s")


def count_nodes(container: Container, label: str, database: str | None = None) -> int:
    where = "WHERE n.database = $db" if database else ""
    return int(container.store.read(f"MATCH (n:{label}) {where} RETURN count(n) AS n", db=database)[0]["n"])


def _server(start: Callable[[Path], Server]) -> Iterator[Server]:
    """A throwaway server for the session, in a directory of its own under /tmp (PostgreSQL runs as
    its own system user, which cannot enter pytest's private temp tree); missing binaries skip
    locally but fail in CI, whose set-up installs them."""
    try:
        server = start(Path(tempfile.mkdtemp(prefix="schemakg-server-")))
    except FileNotFoundError as exc:
        if os.environ.get("CI"):
            raise
        pytest.skip(str(exc))
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    yield from _server(start_postgres)


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[Server]:
    yield from _server(start_mariadb)


@pytest.fixture(scope="session")
def postgres_hr_url(postgres_server: Server) -> str:
    """The sample database on PostgreSQL, as a role that owns (and could write) its tables."""
    return load_sqlite(postgres_server, SAMPLE_DB, "hr_1")


# A warehouse-like PostgreSQL database with several schemas: same-named tables in two of them, foreign keys
# within a schema and across schemas (both ways with ``public``), names that need quoting, a default-schema
# table whose name holds a dot, and a schema the source role may not use.
SCHEMAS_DDL = [
    "CREATE SCHEMA concert",
    "CREATE SCHEMA hr",
    'CREATE SCHEMA "Box Office"',
    "CREATE SCHEMA secret",
    "CREATE TABLE public.venue (venue_id integer PRIMARY KEY, venue_name text)",
    "CREATE TABLE concert.singer (singer_id integer PRIMARY KEY, name text, country text)",
    "CREATE TABLE concert.concert (concert_id integer PRIMARY KEY, title text, "
    "singer_id integer REFERENCES concert.singer (singer_id), venue_id integer REFERENCES public.venue (venue_id))",
    "CREATE TABLE hr.singer (singer_id integer PRIMARY KEY REFERENCES concert.singer (singer_id), "
    "name text, salary integer)",
    "CREATE TABLE public.award (award_id integer PRIMARY KEY, award_title text, "
    "singer_id integer REFERENCES concert.singer (singer_id))",
    'CREATE TABLE "Box Office"."Ticket Sales" (concert_id integer REFERENCES concert.concert (concert_id), '
    '"Tickets" integer)',
    'CREATE TABLE public."odd.name" (id integer)',
    "CREATE TABLE secret.payroll (id integer, amount integer)",
    "INSERT INTO public.venue VALUES (1, 'Stark Arena'), (2, 'Glasgow Hall')",
    "INSERT INTO concert.singer VALUES (1, 'Joe Sharp', 'Netherlands'), (2, 'Timbaland', 'United States'), "
    "(3, 'Justin Brown', 'France')",
    "INSERT INTO concert.concert VALUES (1, 'Super bootcamp', 1, 1), (2, 'Home Visits', 3, 2), (3, 'Week 1', 3, 1)",
    "INSERT INTO hr.singer VALUES (1, 'Alice Payroll', 5000), (3, 'Bob Ledger', 7000)",
    "INSERT INTO public.award VALUES (1, 'Best Newcomer', 3)",
    'INSERT INTO "Box Office"."Ticket Sales" VALUES (1, 100), (2, 250)',
]
SCHEMA_OWNED = ["concert", "hr", '"Box Office"']  # the source role owns these and their tables (not secret)
# The catalogue names of SCHEMA_TABLES: default-schema tables bare, the rest schema.table (a default-schema
# table whose own name holds a dot stays qualified).
SCHEMA_TABLE_NAMES = sorted(
    ["Box Office.Ticket Sales", "award", "concert.concert", "concert.singer", "hr.singer", "public.odd.name", "venue"]
)
SCHEMA_TABLES = ["public.venue", "concert.singer", "concert.concert", "hr.singer", "public.award"]
SCHEMA_TABLES += ['"Box Office"."Ticket Sales"', 'public."odd.name"']


@pytest.fixture(scope="session")
def postgres_schemas_url(postgres_server: Server, postgres_hr_url: str) -> str:
    """A database of several schemas on PostgreSQL, as the source role (made by ``postgres_hr_url``)."""
    database = "warehouse_schemas"
    with postgres_server.admin_engine("postgres").connect() as conn:
        conn.execute(text(f"CREATE DATABASE {database} OWNER {SOURCE_USER}"))
    engine = postgres_server.admin_engine(database, autocommit=False)
    with engine.begin() as conn:
        for statement in SCHEMAS_DDL:
            conn.execute(text(statement))
        for schema in SCHEMA_OWNED:
            conn.execute(text(f"ALTER SCHEMA {schema} OWNER TO {SOURCE_USER}"))
        for table in SCHEMA_TABLES:
            conn.execute(text(f"ALTER TABLE {table} OWNER TO {SOURCE_USER}"))
    engine.dispose()
    return postgres_server.url(database)


@pytest.fixture(scope="session")
def mariadb_hr_url(mariadb_server: Server) -> str:
    """The sample database on MariaDB, as a user with every privilege on it."""
    return load_sqlite(mariadb_server, SAMPLE_DB, "hr_1")


# The retriever's fixtures: one zero-shot encoder per session (loading MiniLM twice takes ~1 s).
@pytest.fixture(scope="session")
def encoder() -> DualTowerEncoder:
    return DualTowerEncoder.from_base(EncoderConfig(batch_size=4))


@pytest.fixture
def singer_docs() -> list[ColumnDoc]:
    return [
        ColumnDoc(db_id="concert_singer", table="singer", column="Name", examples=("Joe Sharp", "Timbaland")),
        ColumnDoc(db_id="concert_singer", table="singer", column="Country", examples=("Netherlands", "France")),
        ColumnDoc(db_id="concert_singer", table="singer", column="Age", data_type="number"),
        ColumnDoc(db_id="concert_singer", table="concert", column="concert_Name", description="name of the concert"),
        ColumnDoc(db_id="concert_singer", table="stadium", column="Capacity", value_explanation="number of seats"),
    ]


def small_warehouse(path: Path) -> Path:
    """A SQLite warehouse just large enough to be focused (FOCUS_MIN_TABLES): two subject areas (music, payroll)
    among filler areas, tables named ``<area>__<table>``."""
    with sqlite3.connect(path) as connection:
        connection.executescript(
            "CREATE TABLE music__singer (singer_id INTEGER PRIMARY KEY, name TEXT, country TEXT);"
            "CREATE TABLE music__concert (concert_id INTEGER PRIMARY KEY, concert_name TEXT,"
            " singer_id INTEGER REFERENCES music__singer (singer_id));"
            "CREATE TABLE payroll__employee (employee_id INTEGER PRIMARY KEY, name TEXT);"
            "CREATE TABLE payroll__salary (amount REAL,"
            " employee_id INTEGER REFERENCES payroll__employee (employee_id));"
            "INSERT INTO music__singer VALUES (1, 'Joe Sharp', 'France'), (2, 'Tribal King', 'Spain');"
            "INSERT INTO music__concert VALUES (1, 'Super bootcamp', 1), (2, 'Week 1', 1), (3, 'Home Visits', 2);"
            "INSERT INTO payroll__employee VALUES (1, 'France Gall');"
            + "".join(
                f"CREATE TABLE log_{i}__entry (entry_id INTEGER PRIMARY KEY, note TEXT);"
                for i in range(FOCUS_MIN_TABLES)
            )
        )
    return path
