"""Ingestion at scale: a synthetic SQLite schema of 1,000 tables / 10,000 columns with foreign keys and rows.

Prints the time of each phase (introspection, value sampling, graph write) and end to end,
for a first ingestion and for re-ingestions (idempotent MERGEs), plus graph write throughput.
Target: the whole ingestion <= 60 s on a 2-core machine.

    .venv/bin/python bench/ingest_scale.py [--tables 1000] [--columns 10] [--rows 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

from schemakg.app.container import Container
from schemakg.ingest.introspect import introspect
from schemakg.ingest.sampling import SamplingBounds, profile_tables
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import DatabaseInfo
from schemakg.kernel.settings import Settings
from schemakg.kernel.sources import SourceDatabase


def build_database(path: Path, tables: int, columns: int, rows: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    conn = sqlite3.connect(path)
    fk_count = 0
    for t in range(tables):
        cols = ["id INTEGER PRIMARY KEY"]
        refs = []
        if t > 0:
            parent = rng.randrange(t)
            cols.append(f"t{parent}_id INTEGER REFERENCES t{parent}(id)")
            refs.append(parent)
            fk_count += 1
        cols += [f"attr_{c} {'TEXT' if c % 2 else 'INTEGER'}" for c in range(columns - len(cols))]
        conn.execute(f"CREATE TABLE t{t} ({', '.join(cols)})")
        values = []
        for r in range(rows):
            row = [r + 1] + [rng.randrange(1, rows + 1) for _ in refs]
            row += [f"v{rng.randrange(20)}" if c % 2 else rng.randrange(1000) for c in range(columns - len(row))]
            values.append(row)
        conn.executemany(f"INSERT INTO t{t} VALUES ({', '.join('?' * columns)})", values)
    conn.commit()
    conn.close()
    return fk_count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--columns", type=int, default=10)
    parser.add_argument("--rows", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as workdir:
        source_path = Path(workdir) / "synthetic.sqlite"
        started = time.perf_counter()
        fks = build_database(source_path, args.tables, args.columns, args.rows)
        print(
            f"built synthetic database: {args.tables} tables, {args.tables * args.columns} columns, "
            f"{fks} foreign keys, {args.rows} rows/table in {time.perf_counter() - started:.1f}s"
        )

        started = time.perf_counter()
        container = Container(Settings(data_dir=Path(workdir) / "data"))
        print(f"graph engine ready in {time.perf_counter() - started:.1f}s ({container.store.engine})")
        try:
            container.catalog.create_database(
                DatabaseInfo(name="synthetic", dialect="sqlite", url="sqlite:///synthetic", created_at=now_iso())
            )
            rows = []
            for run in range(args.runs):
                t0 = time.perf_counter()
                source = SourceDatabase(f"sqlite:///{source_path}")
                snapshot = introspect(source)
                t1 = time.perf_counter()
                snapshot.warnings += profile_tables(source, snapshot.tables, SamplingBounds())
                t2 = time.perf_counter()
                summary = container.catalog.apply_snapshot("synthetic", snapshot, now_iso())
                t3 = time.perf_counter()
                source.dispose()
                nodes = summary.tables + summary.columns
                rows.append((t1 - t0, t2 - t1, t3 - t2, t3 - t0, nodes / (t3 - t2)))
                label = "first ingestion" if run == 0 else f"re-ingestion {run}"
                print(
                    f"{label:16} introspect {t1 - t0:5.1f}s  sample {t2 - t1:5.1f}s  graph write {t3 - t2:5.1f}s  "
                    f"total {t3 - t0:5.1f}s  ({nodes} nodes + {summary.foreign_keys} FKs, "
                    f"{nodes / (t3 - t2):,.0f} nodes/s)"
                )
            counts = container.store.read("MATCH (c:Column {database: 'synthetic'}) RETURN count(c) AS n")[0]["n"]
            assert counts == args.tables * args.columns, counts
            median = [statistics.median(col) for col in zip(*rows, strict=True)]
            print(
                f"median over {args.runs} runs: introspect {median[0]:.1f}s, sample {median[1]:.1f}s, "
                f"graph write {median[2]:.1f}s, total {median[3]:.1f}s, write throughput {median[4]:,.0f} nodes/s"
            )
        finally:
            container.close()


if __name__ == "__main__":
    main()
