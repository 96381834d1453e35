"""Value sampling stays within its bounds on big tables and reports what it saw."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from schemakg.ingest.introspect import introspect
from schemakg.ingest.sampling import SamplingBounds, gee_distinct_estimate, profile_table
from schemakg.kernel.sources import SourceDatabase, SourceError, mask_url


def test_gee_estimate() -> None:
    counts = Counter({"a": 1, "b": 1, "c": 1, "d": 5})
    assert gee_distinct_estimate(counts, sample_rows=8, table_rows=8) == 4  # full table: exact
    # sqrt(800/8) * 3 singletons + 1 repeated value = 31
    assert gee_distinct_estimate(counts, sample_rows=8, table_rows=800) == 31
    assert gee_distinct_estimate(Counter(), sample_rows=0, table_rows=None) == 0


@pytest.fixture(scope="module")
def big_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "big.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, kind TEXT, payload BLOB, user_id INTEGER)")
    conn.executemany(
        "INSERT INTO events (kind, payload, user_id) VALUES (?, ?, ?)",
        ((["click", "view", "buy"][i % 3], b"\x00\x01", i % 5000 if i % 10 else None) for i in range(200_000)),
    )
    conn.commit()
    conn.close()
    return path


def test_big_table_is_sampled_within_budget(big_db: Path) -> None:
    source = SourceDatabase(f"sqlite:///{big_db}")
    snapshot = introspect(source)
    events = snapshot.tables[0]
    assert profile_table(source, events, SamplingBounds(row_budget=1000, top_values=3, examples=2)) == []
    assert events.row_estimate == 200_000
    by_name = {c.name: c for c in events.columns}
    kind = by_name["kind"].profile
    assert kind is not None and kind.sampled_rows == 1000 and not kind.exact
    assert sorted(kind.top_values) == ["buy", "click", "view"] and len(kind.examples) == 2
    assert by_name["payload"].profile is None  # binary columns are not sampled
    user = by_name["user_id"].profile
    assert user is not None and user.null_fraction == pytest.approx(0.1, abs=0.01)
    assert user.distinct_estimate is not None and user.distinct_estimate > 900


def test_deadline_interrupts_a_slow_query(big_db: Path) -> None:
    source = SourceDatabase(f"sqlite:///{big_db}", query_timeout_s=0.05)
    events = introspect(source).tables[0]
    slow = SamplingBounds(row_budget=10_000_000, query_timeout_s=0.001)
    warnings = profile_table(source, events, slow)
    assert warnings and "interrupted" in warnings[0]


def test_sources_are_read_only(sample_copy: Path) -> None:
    source = SourceDatabase(f"sqlite:///{sample_copy}")
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError

    with source.connect() as conn, pytest.raises(OperationalError, match="readonly"):
        conn.execute(text("DELETE FROM employees"))


def test_url_validation_and_masking() -> None:
    with pytest.raises(SourceError, match="malformed"):
        SourceDatabase("::::")
    with pytest.raises(SourceError, match="not found"):
        SourceDatabase("sqlite:////definitely/missing.db")
    assert mask_url("postgresql://u:hunter2@h/db") == "postgresql://u:***@h/db"
