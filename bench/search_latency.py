"""Catalogue search at scale: a synthetic catalogue of 1,000 tables x 30 columns (30,000 columns, with
descriptions) written through the repository, indexed by the search service, then 500 searches of 1-3 words.

Prints the graph write, the index build (graph read + FTS5 write), the freshness check, a steward edit's
index update, and per-search latency (p50/p95/max) for the index alone, for the service path the API
calls (validation, freshness check, search) with and without a database filter, and with 20 threads
searching at once. With --http, also the whole HTTP request (API-key check included) from 20 concurrent
clients against uvicorn. Target: GET /search p95 <= 150 ms with 20 concurrent clients on 2 cores.

Query words are drawn from the catalogue's own text, weighted by how often they occur (common words such
as "id" or "date" come up often, as they do in real searches); 30% are cut to a prefix.

    .venv/bin/python bench/search_latency.py [--tables 1000] [--columns 30] [--queries 500] [--threads 20] [--http]
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

from schemakg.app.container import Container
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import (
    ColumnSnapshot,
    DatabaseInfo,
    ForeignKeySnapshot,
    Provenance,
    SchemaSnapshot,
    TableSnapshot,
)
from schemakg.kernel.search.sqlite_fts import tokens
from schemakg.kernel.settings import Settings

DATABASE = "synthetic"
ADMIN_KEY = "skg_bench_search_admin_key"
_WORDS = """
account address agent amount approval area asset audit balance bank batch benefit bill birth branch brand budget
building campaign card carrier case category channel charge city claim class client code comment company contact
contract cost country coupon course credit currency customer date day deal debit delivery department deposit
description device discount district document driver due duration email employee end entry event expense fee field
file flag flight fund gender goal grade group health hire hotel hour income industry invoice item job journal key
label language ledger lesson level license limit line loan location login manager margin market member message
method model month name note number office order owner package page partner password patient payment period phone
plan policy position post premium price priority product profile profit project promotion purchase quantity quota
rate rating reason receipt record region release rent report request resource result return revenue review reward
risk role room route salary sale schedule school score season segment sequence service session shift shipment size
skill source stage start state station status step stock store student subject subscription supplier survey target
task tax team term territory ticket time title total tracking trade transaction transfer trip type unit update user
value vehicle vendor version visit volume warehouse week weight year zone
"""
VOCABULARY = tuple(_WORDS.split())
FILLER = ("the", "of", "for", "each", "in", "per", "a", "by", "to", "when")


def synthetic_snapshot(tables: int, columns: int, seed: int = 11) -> SchemaSnapshot:
    rng = random.Random(seed)
    names: list[str] = []
    taken: set[str] = set()
    for _ in range(tables):
        name = "_".join(rng.sample(VOCABULARY, rng.choice((1, 2, 2))))
        while name in taken:
            name = f"{name}_{rng.choice(VOCABULARY)}"
        taken.add(name)
        names.append(name)

    def sentence(n: int) -> str:
        words = [rng.choice(VOCABULARY if i % 2 == 0 else FILLER) for i in range(n)]
        return " ".join(words).capitalize()

    snapshot_tables: list[TableSnapshot] = []
    foreign_keys: list[ForeignKeySnapshot] = []
    for t, name in enumerate(names):
        cols = [ColumnSnapshot(name="id", data_type="INTEGER", is_pk=True, nullable=False)]
        seen = {"id"}
        for parent in rng.sample(names[:t], min(t, 2)):
            column = f"{parent}_id"
            if column not in seen:
                seen.add(column)
                cols.append(ColumnSnapshot(name=column, data_type="INTEGER", ordinal=len(cols)))
                foreign_keys.append(
                    ForeignKeySnapshot(table=name, columns=[column], ref_table=parent, ref_columns=["id"])
                )
        while len(cols) < columns:
            words = rng.sample(VOCABULARY, rng.choice((1, 2, 2, 3)))
            style = rng.random()
            if style < 0.7:
                column = "_".join(words)
            elif style < 0.9:
                column = "".join(w.capitalize() for w in words)
            else:
                column = "_".join(words).upper()
            if column.lower() in seen:
                continue
            seen.add(column.lower())
            comment = sentence(rng.randint(4, 9)) if rng.random() < 0.5 else None
            cols.append(ColumnSnapshot(name=column, data_type="TEXT", comment=comment, ordinal=len(cols)))
        comment = sentence(rng.randint(4, 9)) if rng.random() < 0.7 else None
        snapshot_tables.append(TableSnapshot(name=name, comment=comment, columns=cols))
    return SchemaSnapshot(dialect="sqlite", tables=snapshot_tables, foreign_keys=foreign_keys)


def queries(snapshot: SchemaSnapshot, count: int, seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    pool: list[str] = []
    for table in snapshot.tables:
        pool += tokens(table.name) + tokens(table.comment or "")
        for column in table.columns:
            pool += tokens(column.name) + tokens(column.comment or "")
    pool = [w for w in pool if w not in FILLER]
    found: list[str] = []
    for _ in range(count):
        words = [rng.choice(pool) for _ in range(rng.choice((1, 2, 3)))]
        words = [w[: rng.randint(3, len(w))] if len(w) > 3 and rng.random() < 0.3 else w for w in words]
        found.append(" ".join(words))
    return found


def percentiles(samples_ms: list[float]) -> str:
    ordered = sorted(samples_ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"p50 {statistics.median(ordered):6.2f} ms  p95 {p95:6.2f} ms  max {ordered[-1]:6.2f} ms"


def timed(run: Callable[[str], object], qs: list[str]) -> tuple[list[float], int]:
    samples: list[float] = []
    answered = 0
    for q in qs:
        started = time.perf_counter()
        hits = run(q)
        samples.append((time.perf_counter() - started) * 1000)
        answered += bool(hits)
    return samples, answered


def concurrently(run: Callable[[str], object], qs: list[str], threads: int) -> tuple[list[float], float]:
    samples: list[list[float]] = [[] for _ in range(threads)]

    def client(i: int) -> None:
        for q in qs[i::threads]:
            started = time.perf_counter()
            run(q)
            samples[i].append((time.perf_counter() - started) * 1000)

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return [s for part in samples for s in part], time.perf_counter() - started


def over_http(container: Container, qs: list[str], threads: int) -> None:
    """uvicorn serves the container's app here; the clients run in another process (their own interpreter)."""
    import uvicorn

    from schemakg.app.api.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(create_app(container.settings, container), host="127.0.0.1", port=0, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        with tempfile.NamedTemporaryFile("w", suffix=".json") as file:
            json.dump(qs, file)
            file.flush()
            done = subprocess.run(
                [sys.executable, __file__, "--client", f"http://127.0.0.1:{port}", "--queries-file", file.name,
                 "--threads", str(threads)],
                capture_output=True,
                text=True,
                check=True,
            )  # fmt: skip
        print(done.stdout.strip())
    finally:
        server.should_exit = True
        thread.join()


def http_clients(base_url: str, qs: list[str], threads: int) -> None:
    """``threads`` clients, each with its own connection, searching back to back (no think time)."""
    import httpx

    clients = [httpx.Client(base_url=base_url, headers={"X-API-Key": ADMIN_KEY}) for _ in range(threads)]
    by_thread: dict[int, httpx.Client] = {}
    lock = threading.Lock()

    def get(q: str) -> object:
        client = by_thread.get(threading.get_ident())
        if client is None:
            with lock:
                client = by_thread[threading.get_ident()] = clients[len(by_thread) % threads]
        response = client.get("/search", params={"q": q, "limit": 20})
        assert response.status_code == 200, response.text
        return response

    try:
        for client in clients:  # connect, and let the server verify the key once
            assert client.get("/search", params={"q": qs[0]}).status_code == 200
        samples, elapsed = concurrently(get, qs, threads)
        print(
            f"HTTP GET /search, {threads} concurrent clients (another process): {percentiles(samples)}  "
            f"({len(samples) / elapsed:,.0f} requests/s)"
        )
    finally:
        for client in clients:
            client.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=int, default=1000)
    parser.add_argument("--columns", type=int, default=30)
    parser.add_argument("--queries", type=int, default=500)
    parser.add_argument("--threads", type=int, default=20)
    parser.add_argument("--http", action="store_true", help="also time GET /search over HTTP")
    parser.add_argument("--client", help=argparse.SUPPRESS)  # the HTTP clients' process: the server's URL
    parser.add_argument("--queries-file", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.client:
        http_clients(args.client, json.loads(Path(args.queries_file).read_text()), args.threads)
        return

    snapshot = synthetic_snapshot(args.tables, args.columns)
    n_columns = sum(len(t.columns) for t in snapshot.tables)
    qs = queries(snapshot, args.queries)
    with tempfile.TemporaryDirectory() as workdir:
        started = time.perf_counter()
        container = Container(Settings(data_dir=Path(workdir) / "data", admin_key=ADMIN_KEY))
        print(f"graph engine ready in {time.perf_counter() - started:.1f}s ({container.store.engine})")
        try:
            container.catalog.create_database(
                DatabaseInfo(name=DATABASE, dialect="sqlite", url="sqlite:///synthetic", created_at=now_iso())
            )
            started = time.perf_counter()
            container.catalog.apply_snapshot(DATABASE, snapshot, now_iso())
            print(
                f"graph write: {len(snapshot.tables)} tables, {n_columns} columns in "
                f"{time.perf_counter() - started:.1f}s"
            )

            # The index build, as the service runs it for a changed database: read the rows, replace them.
            version = container.catalog.search_versions()[DATABASE]
            started = time.perf_counter()
            docs = container.catalog.searchable_rows(DATABASE)
            read_s = time.perf_counter() - started
            started = time.perf_counter()
            container.search.index.replace_database(DATABASE, docs, version.token)
            write_s = time.perf_counter() - started
            size_mb = (Path(workdir) / "data" / "search.sqlite").stat().st_size / 1e6
            print(
                f"index build: {len(docs)} rows, graph read {read_s:.2f}s + FTS5 write {write_s:.2f}s "
                f"= {read_s + write_s:.2f}s ({size_mb:.1f} MB)"
            )
            checks = []
            for _ in range(20):
                started = time.perf_counter()
                container.search.sync()  # nothing changed: the version check alone
                checks.append((time.perf_counter() - started) * 1000)
            print(f"freshness check (once per second at most): {percentiles(checks)}")
            table = snapshot.tables[1]
            started = time.perf_counter()
            container.curation.edit_column(
                DATABASE, table.name, table.columns[-1].name, {"description": "edited"}, None, "bench"
            )
            edit_ms = (time.perf_counter() - started) * 1000
            container.catalog.update_curated(
                "column",
                container.browser.column(DATABASE, table.name, table.columns[-2].name).key,
                {"description": "edited too"},
                None,
                "bench",
                Provenance.STEWARD,
                now_iso(),
            )
            started = time.perf_counter()
            container.search.sync()  # what the edit hook runs: the version check, then the revised rows only
            hook_ms = (time.perf_counter() - started) * 1000
            print(f"a steward edit: {edit_ms:.0f} ms in all, of which the index update {hook_ms:.0f} ms")

            index = container.search.index
            browser = container.browser
            index.search(["warm"], None, None, 20)
            samples, answered = timed(lambda q: index.search(q.split(), None, None, 20), qs)
            print(f"{len(qs)} searches of 1-3 words, {answered} with hits; limit 20")
            print(f"  index alone:                       {percentiles(samples)}")
            samples, _ = timed(lambda q: browser.search(q, None, None, 20), qs)
            print(f"  service (browser.search):          {percentiles(samples)}")
            samples, _ = timed(lambda q: browser.search(q, DATABASE, "column", 20), qs)
            print(f"  service, database and kind filter: {percentiles(samples)}")
            samples, elapsed = concurrently(lambda q: browser.search(q, None, None, 20), qs, args.threads)
            print(
                f"  service, {args.threads} threads at once:      {percentiles(samples)}  "
                f"({len(samples) / elapsed:,.0f} searches/s)"
            )
            if args.http:
                over_http(container, qs, args.threads)
        finally:
            container.close()


if __name__ == "__main__":
    main()
