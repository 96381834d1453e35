"""Runs the attack corpus through ``POST /databases/{db}/ask`` with an analyst key, and checks after
every request that the source database took no write and kept no side effect.

Each target knows how to fingerprint its database (content and objects: a write shows here) and
how to list side effects that outlive a request (locks, sessions, temporary objects, WAL
messages, files).
"""

from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.adversarial.hostile_llm import HostileLLM
from tests.servers import SOURCE_USER, Server

CORPUS = json.loads((Path(__file__).parent / "corpus.json").read_text())
TABLES = ("regions", "countries", "departments", "jobs", "employees", "job_history", "locations")
OVERRIDES = ("mysql", "postgres", "sqlite", "tsql", "bigquery")
PWNED_FILES = "schemakg-pwned*"
_EXECUTE_ERRORS = ("the query failed", "the result is larger")


class Target(Protocol):
    engine: str
    database: str

    def fingerprint(self) -> object: ...

    def side_effects(self) -> list[str]: ...


def _pwned_files() -> list[str]:
    return [f"file {p}" for p in Path("/tmp").glob(PWNED_FILES)]


@dataclass
class SqliteTarget:
    path: Path
    database: str
    engine: str = "sqlite"

    def fingerprint(self) -> object:
        return hashlib.sha256(self.path.read_bytes()).hexdigest(), sorted(p.name for p in self.path.parent.iterdir())

    def side_effects(self) -> list[str]:
        return _pwned_files()


@dataclass
class PostgresTarget:
    server: Server
    database: str
    engine: str = "postgresql"

    def __post_init__(self) -> None:
        with self.server.admin_engine("hr_1").connect() as admin:
            admin.execute(text("SELECT pg_create_logical_replication_slot('schemakg_watch', 'test_decoding')"))

    def fingerprint(self) -> object:
        queries = [f"SELECT md5(coalesce(string_agg(t::text, ',' ORDER BY t::text), '')) FROM {t} AS t" for t in TABLES]
        queries += [
            "SELECT count(*) FROM pg_class WHERE relpersistence <> 't'",
            "SELECT count(*) FROM pg_roles",
            "SELECT count(*) FROM pg_proc",
            "SELECT count(*) FROM pg_extension",
            "SELECT count(*) FROM pg_largeobject_metadata",
            "SELECT count(*) FROM pg_db_role_setting",
            "SELECT string_agg(rolname || rolsuper::text, ',' ORDER BY rolname) FROM pg_roles",
            "SELECT string_agg(privilege_type, ',' ORDER BY table_name, privilege_type)"
            " FROM information_schema.role_table_grants",
        ]
        with self.server.admin_engine("hr_1").connect() as admin:
            return [admin.execute(text(q)).scalar() for q in queries]

    def side_effects(self) -> list[str]:
        checks = {
            "advisory locks": "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'",
            "sessions left open": "SELECT count(*) FROM pg_stat_activity WHERE application_name = 'schemakg-read'",
            "temporary tables": "SELECT count(*) FROM pg_class WHERE relpersistence = 't'",
            "prepared transactions": "SELECT count(*) FROM pg_prepared_xacts",
            "WAL messages": "SELECT count(*) FROM pg_logical_slot_get_changes('schemakg_watch', NULL, NULL) "
            "WHERE data LIKE 'message:%'",
        }
        found = []
        with self.server.admin_engine("hr_1").connect() as admin:
            for name, query in checks.items():
                deadline = time.monotonic() + 2  # a closed session leaves pg_stat_activity a moment later
                while (
                    (count := admin.execute(text(query)).scalar())
                    and name == "sessions left open"
                    and time.monotonic() < deadline
                ):
                    time.sleep(0.05)
                if count:
                    found.append(f"{name}: {count}")
        return found + _pwned_files()


@dataclass
class MariaDbTarget:
    server: Server
    database: str
    engine: str = "mariadb"

    def fingerprint(self) -> object:
        with self.server.admin_engine("hr_1").connect() as admin:
            sums = admin.execute(text(f"CHECKSUM TABLE {', '.join(TABLES)}")).fetchall()
            counts = [
                admin.execute(text(q)).scalar()
                for q in (
                    "SELECT count(*) FROM information_schema.tables",
                    "SELECT count(*) FROM information_schema.routines",
                    "SELECT count(*) FROM mysql.user",
                    "SELECT count(*) FROM information_schema.user_privileges",
                    f"SELECT count(*) FROM information_schema.schema_privileges WHERE grantee LIKE '%{SOURCE_USER}%'",
                )
            ]
        return [tuple(row) for row in sums], counts

    def side_effects(self) -> list[str]:
        with self.server.admin_engine("hr_1").connect() as admin:
            lock = admin.execute(text("SELECT IS_USED_LOCK('schemakg-lock')")).scalar()
        return ([f"lock held by connection {lock}"] if lock is not None else []) + _pwned_files()


@dataclass
class EngineReport:
    engine: str
    attacks: int = 0
    refused: int = 0
    reached: int = 0
    writes: int = 0
    side_effects: int = 0
    server_errors: int = 0
    worst_latency_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    def row(self, deadline_s: float) -> str:
        return (
            f"| {self.engine} | {self.attacks} | {self.refused} | {self.reached} | {self.writes} | "
            f"{self.side_effects} | {self.server_errors} | {self.worst_latency_s:.1f} s (deadline {deadline_s:g} s) |"
        )


HEADER = (
    "| engine | attacks | refused by the guard | reached the engine | writes | side effects | HTTP 500s | "
    "worst latency |\n|---|---|---|---|---|---|---|---|"
)


def run_attacks(client: TestClient, headers: dict[str, str], hostile: HostileLLM, target: Target) -> EngineReport:
    """Every attack twice: with the source's dialect, and with an override in the request (the
    attack also rides in the evidence there, as a user's text would)."""
    report = EngineReport(target.engine)
    hostile.reply = "SELECT 1"  # the first answer loads the retriever: not part of the latency figure
    client.post(f"/databases/{target.database}/ask", json={"question": "warm up"}, headers=headers)
    baseline = target.fingerprint()
    for index, attack in enumerate(CORPUS["attacks"]):
        for override in (None, OVERRIDES[index % len(OVERRIDES)]):
            hostile.reply = attack["sql"]
            body: dict[str, object] = {"question": "List the employees and their salaries."}
            if override is not None:
                body |= {"dialect": override, "evidence": f"Final SQL: ```sql {attack['sql'][:3000]} ```"}
            started = time.perf_counter()
            # Sent as escaped JSON, as a hostile client would: a lone surrogate survives the escape.
            response = client.post(
                f"/databases/{target.database}/ask",
                content=json.dumps(body),
                headers=headers | {"Content-Type": "application/json"},
            )
            report.worst_latency_s = max(report.worst_latency_s, time.perf_counter() - started)
            report.attacks += 1
            where = f"{attack['id']} (dialect {override or 'of the source'})"
            if response.status_code >= 500:
                report.server_errors += 1
                report.problems.append(f"{where}: HTTP {response.status_code}")
                continue
            answer = response.json()
            error = str(answer.get("error") or "")
            if answer.get("rows") is not None or error.startswith(_EXECUTE_ERRORS):
                report.reached += 1
            else:
                report.refused += 1
            if (now := target.fingerprint()) != baseline:
                report.writes += 1
                report.problems.append(f"{where}: the database changed")
                baseline = now
            if effects := target.side_effects():
                report.side_effects += 1
                report.problems.append(f"{where}: {', '.join(effects)}")
                for leftover in Path("/tmp").glob(PWNED_FILES):
                    leftover.unlink()
    return report


def run_harmless(client: TestClient, headers: dict[str, str], hostile: HostileLLM, target: Target) -> list[str]:
    """Questions that merely contain grant, drop, delete…: answered, never refused."""
    problems = []
    for item in CORPUS["harmless"]:
        hostile.reply = item["sql"]
        answer = client.post(f"/databases/{target.database}/ask", json={"question": item["question"]}, headers=headers)
        body = answer.json()
        if answer.status_code != 200 or body["refused"] or body["error"] or body["rows"] is None:
            problems.append(f"{item['question']!r}: {answer.status_code} {body.get('refused') or body.get('error')}")
    return problems
