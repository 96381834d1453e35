"""Reflection matches what SQLite itself reports, on real Spider databases."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from schemakg.ingest.introspect import introspect
from schemakg.kernel.sources import SourceDatabase
from tests.conftest import SAMPLE_DB, SHARED_DATA


def _databases() -> list[Path]:
    extra = SHARED_DATA / "spider-train" / "database"
    names = ["cre_Drama_Workshop_Groups", "hospital_1", "academic"]
    return [SAMPLE_DB] + [extra / n / f"{n}.sqlite" for n in names if (extra / n / f"{n}.sqlite").exists()]


@pytest.mark.parametrize("path", _databases(), ids=lambda p: p.stem)
def test_introspection_matches_pragma(path: Path) -> None:
    snapshot = introspect(SourceDatabase(f"sqlite:///{path}"))
    conn = sqlite3.connect(path)
    tables = {
        r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'")
    }
    assert {t.name for t in snapshot.tables} == tables
    for table in snapshot.tables:
        info = list(conn.execute(f'PRAGMA table_info("{table.name}")'))
        assert [c.name for c in table.columns] == [r[1] for r in info]
        assert {c.name for c in table.columns if c.is_pk} == {r[1] for r in info if r[5]}
    declared = sum(1 for t in tables for _ in conn.execute(f'PRAGMA foreign_key_list("{t}")'))
    resolved = sum(len(fk.columns) for fk in snapshot.foreign_keys)
    assert resolved + len(snapshot.warnings) >= declared > 0 or declared == 0
    conn.close()
