"""Stewards racing on one column, through the repository against the embedded engine.

Each of ``--rounds`` rounds reads a column's revision, then ``--writers`` threads edit that column at once,
all expecting that revision (as PATCH with one ETag does), while ``--noise`` threads keep editing other
columns of the same database without an expected revision (every edit also counts on the database node,
so they meet there). Prints the rounds' wall time (p50/p95/max), how many rounds had other than one
winner, and the noise edits that failed. With ``--without-claim``, the step claim is left out
(``schema_repo.claim_step`` made a no-op): what the engine's own conflict check gives alone.

    .venv/bin/python bench/steward_races.py [--rounds 40] [--writers 20] [--noise 5] [--without-claim]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from schemakg.app.container import Container
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import ColumnSnapshot, DatabaseInfo, Provenance, SchemaSnapshot, TableSnapshot, column_key
from schemakg.kernel.settings import Settings
from schemakg.kernel.store import schema_repo

DATABASE = "races"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--writers", type=int, default=20)
    parser.add_argument("--noise", type=int, default=5)
    parser.add_argument("--without-claim", action="store_true")
    args = parser.parse_args()
    if args.without_claim:
        schema_repo.claim_step = lambda *_: None

    columns = [ColumnSnapshot(name=f"c{i}", data_type="TEXT", ordinal=i) for i in range(args.noise + 1)]
    with tempfile.TemporaryDirectory() as workdir:
        container = Container(Settings(data_dir=Path(workdir) / "data", admin_key="skg_bench_races_key"))
        try:
            repo = container.catalog
            repo.create_database(DatabaseInfo(name=DATABASE, dialect="sqlite", url="sqlite://", created_at=now_iso()))
            repo.apply_snapshot(
                DATABASE,
                SchemaSnapshot(dialect="sqlite", tables=[TableSnapshot(name="t", columns=columns)], foreign_keys=[]),
                now_iso(),
            )
            target, others = column_key(DATABASE, "t", "c0"), [column_key(DATABASE, "t", c.name) for c in columns[1:]]
            stop, noise_failures, noise_edits = threading.Event(), Counter[str](), Counter[str]()

            def noise(key: str) -> None:
                while not stop.is_set():
                    noise_edits[key] += 1
                    try:
                        repo.update_curated(
                            "column",
                            key,
                            {"description": f"n{noise_edits[key]}"},
                            None,
                            "n",
                            Provenance.STEWARD,
                            now_iso(),
                        )
                    except Exception as exc:  # noqa: BLE001 - counted and reported
                        noise_failures[type(exc).__name__] += 1

            def edit(revision: int, round_: int, writer: int) -> str:
                try:
                    repo.update_curated(
                        "column",
                        target,
                        {"description": f"r{round_} w{writer}"},
                        revision,
                        "w",
                        Provenance.STEWARD,
                        now_iso(),
                    )
                    return "won"
                except schema_repo.StaleRevisionError:
                    return "refused"

            walls: list[float] = []
            unsettled: list[dict[str, Any]] = []
            began = time.perf_counter()
            with ThreadPoolExecutor(max_workers=max(args.noise, 1)) as background:
                for key in others:
                    background.submit(noise, key)
                for round_ in range(args.rounds):
                    revision = repo.get_column(DATABASE, "t", "c0").revision  # type: ignore[union-attr]
                    started = time.perf_counter()
                    with ThreadPoolExecutor(max_workers=args.writers) as pool:
                        outcomes = Counter(
                            pool.map(edit, [revision] * args.writers, [round_] * args.writers, range(args.writers))
                        )
                    walls.append(time.perf_counter() - started)
                    if outcomes["won"] != 1:
                        unsettled.append({"round": round_, **outcomes})
                stop.set()
            elapsed = time.perf_counter() - began
            walls.sort()
            print(
                f"{'without' if args.without_claim else 'with'} the step claim: {args.rounds} rounds x "
                f"{args.writers} writers, {args.noise} noise threads"
            )
            print(
                f"round wall: p50 {statistics.median(walls) * 1000:.0f} ms, "
                f"p95 {walls[int(0.95 * (len(walls) - 1))] * 1000:.0f} ms, max {walls[-1] * 1000:.0f} ms"
            )
            print(f"rounds without exactly one winner: {len(unsettled)} {unsettled[:5]}")
            print(
                f"noise edits: {sum(noise_edits.values())} in {elapsed:.1f}s "
                f"({sum(noise_edits.values()) / elapsed:.0f}/s), failed: {dict(noise_failures) or 0}"
            )
        finally:
            container.close()


if __name__ == "__main__":
    main()
