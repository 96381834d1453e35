"""Path search cost on a synthetic 1,000-table schema (target: <= 15 ms p95 per question).

The schema is a random FK forest with extra cross links (about 1.5 FKs per table). Each
"question" selects 2-4 random tables; the default force-union mode plans their joins.

    .venv/bin/python bench/join_paths.py [--tables 1000] [--questions 1000] [--mode force-union]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from schemakg.retrieval.join_paths import JOIN_MODES, JoinGraph


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--questions", type=int, default=1000)
    parser.add_argument("--mode", choices=JOIN_MODES, default="force-union")
    args = parser.parse_args()
    rng = random.Random(11)
    tables = [f"t{i}" for i in range(args.tables)]
    fks = [((f"t{i}", f"t{p}_id"), (f"t{p}", "id")) for i in range(1, args.tables) for p in [rng.randrange(i)]]
    fks += [
        ((f"t{a}", f"t{b}_ref"), (f"t{b}", "id"))
        for a, b in (rng.sample(range(args.tables), 2) for _ in range(args.tables // 2))
    ]
    started = time.perf_counter()
    graph = JoinGraph(tables, fks)
    print(
        f"graph: {graph.graph.number_of_nodes()} tables, {graph.graph.number_of_edges()} edges, "
        f"built in {(time.perf_counter() - started) * 1000:.1f} ms"
    )
    timings, sizes = [], []
    for _ in range(args.questions):
        chosen = rng.sample(tables, rng.randint(2, 4))
        t0 = time.perf_counter()
        plan = graph.plan(chosen, chosen, mode=args.mode)
        timings.append((time.perf_counter() - t0) * 1000)
        sizes.append(len(plan.tables))
    q = statistics.quantiles(timings, n=100)
    print(
        f"{args.mode}: p50 {statistics.median(timings):.2f} ms, p95 {q[94]:.2f} ms, max {max(timings):.2f} ms; "
        f"tables per plan median {statistics.median(sizes):.0f}"
    )


if __name__ == "__main__":
    main()
