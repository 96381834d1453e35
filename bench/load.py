"""Load test of the running service: 20 concurrent clients on a 30,000-column catalogue.

Builds (once, cached under ``--data-dir``) SQLite source databases of ``--databases`` x ``--tables`` x
``--columns`` (default 10 x 100 x 30 = 30,000 columns, a few rows each, foreign keys to earlier tables),
registers and ingests them through the API, and lets a first start-up build the column index. Then,
for each of ``--runs`` runs, it starts the real service as a subprocess (uvicorn, one process, no
access log), polls ``/health/ready`` until 200, times the very first ``POST /retrieve``, and drives
``--clients`` closed-loop clients (each sends its next request when the last one answers) for
``--duration`` seconds each against:

  /search      GET /search?q=<two catalogue words>&limit=20            (whole catalogue)
  /retrieve    POST /databases/<random db>/retrieve {"question": ...}
  /tables      GET /databases/<random db>/tables?offset=<page>&limit=50

It prints throughput and p50/p95/p99 latency per endpoint for every run, then the median of each
figure over the runs. Targets (issue #17): /search p95 <= 150 ms; /retrieve >= 20 req/s and
p99 <= 2 s; the first /retrieve after ready <= 1 s; /tables >= 100 req/s.

    .venv/bin/python bench/load.py [--runs 3] [--duration 20] [--clients 20] [--data-dir .bench-load]
                                   [--databases 10 --tables 100 --columns 30] [--json OUT]

The client runs on the same 2 cores as the service and takes a share of them. Extra service settings
can be passed as environment variables (they reach the subprocess); the script sets
SCHEMAKG_INDEX_CACHE_MB to 2048 unless it is set, so the whole catalogue's index fits in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx

ROOT = Path(__file__).resolve().parents[1]
ADMIN_KEY = "skg_bench_load_admin_key"
HEADERS = {"Authorization": f"Bearer {ADMIN_KEY}"}
SUBJECTS = [
    "customer",
    "order",
    "invoice",
    "payment",
    "product",
    "supplier",
    "employee",
    "department",
    "shipment",
    "warehouse",
    "account",
    "contract",
    "campaign",
    "ticket",
    "vehicle",
    "patient",
    "doctor",
    "student",
    "course",
    "branch",
    "region",
    "store",
    "loan",
    "policy",
    "claim",
]
ATTRIBUTES = [
    "name",
    "code",
    "status",
    "amount",
    "price",
    "quantity",
    "date",
    "city",
    "country",
    "email",
    "phone",
    "rating",
    "score",
    "balance",
    "total",
    "discount",
    "weight",
    "category",
    "level",
    "type",
    "description",
    "title",
    "salary",
    "budget",
    "revenue",
    "cost",
    "age",
    "year",
    "month",
]
VALUES = [
    "north",
    "south",
    "east",
    "west",
    "active",
    "closed",
    "pending",
    "gold",
    "silver",
    "bronze",
    "small",
    "medium",
    "large",
    "red",
    "blue",
]
QUESTIONS = (
    "What is the {a} of each {s}?",
    "How many {s} records have {a} above the average?",
    "List the {a} and {b} of every {s} in {v} status.",
    "Which {s} has the highest {a}?",
    "Show the total {a} per {s} {b}.",
)


# --- the catalogue -----------------------------------------------------------------------------


def build_source(path: Path, tables: int, columns: int, rows: int, seed: int) -> list[str]:
    """One SQLite database; returns its table names."""
    rng = random.Random(seed)
    path.unlink(missing_ok=True)
    conn = sqlite3.connect(path)
    names: list[str] = []
    for t in range(tables):
        name = f"{rng.choice(SUBJECTS)}_{rng.choice(ATTRIBUTES)}_{t}"
        cols = ["id INTEGER PRIMARY KEY"]
        if names:
            parent = rng.choice(names)
            cols.append(f"{parent}_id INTEGER REFERENCES {parent}(id)")
        seen = {"id"}
        while len(cols) < columns:
            col = f"{rng.choice(SUBJECTS)}_{rng.choice(ATTRIBUTES)}"
            col = col if col not in seen else f"{col}_{len(cols)}"
            seen.add(col)
            cols.append(f"{col} {'TEXT' if rng.random() < 0.5 else 'INTEGER'}")
        conn.execute(f"CREATE TABLE {name} ({', '.join(cols)})")
        values = []
        for r in range(rows):
            row: list[object] = [r + 1]
            for col in cols[1:]:
                row.append(rng.choice(VALUES) if col.endswith("TEXT") else rng.randrange(1, rows + 1))
            values.append(row)
        conn.executemany(f"INSERT INTO {name} VALUES ({', '.join('?' * len(cols))})", values)
        names.append(name)
    conn.commit()
    conn.close()
    return names


def ensure_catalogue(args: argparse.Namespace) -> dict[str, Any]:
    """Sources built, registered and ingested, and the column index built: done once per data dir."""
    marker = args.data_dir / "catalogue.json"
    shape = {"databases": args.databases, "tables": args.tables, "columns": args.columns, "rows": args.rows}
    if marker.exists():
        catalogue = json.loads(marker.read_text())
        if catalogue["shape"] == shape and catalogue.get("indexed"):
            return dict(catalogue)
        if catalogue["shape"] != shape:
            raise SystemExit(f"{args.data_dir} holds another catalogue ({catalogue['shape']}); use another --data-dir")
    sources = args.data_dir / "sources"
    sources.mkdir(parents=True, exist_ok=True)
    catalogue = {"shape": shape, "databases": {}, "indexed": False}
    print(f"building the catalogue: {args.databases} x {args.tables} tables x {args.columns} columns", flush=True)
    started = time.perf_counter()
    with service(args) as (url, _):
        client = httpx.Client(base_url=url, headers=HEADERS, timeout=600)
        for d in range(args.databases):
            name = f"load{d:02d}"
            path = sources / f"{name}.sqlite"
            catalogue["databases"][name] = build_source(path, args.tables, args.columns, args.rows, seed=d)
            if client.get(f"/databases/{name}").status_code == 404:
                client.post("/databases", json={"name": name, "url": f"sqlite:///{path}"}).raise_for_status()
            job = client.post(f"/databases/{name}/ingest").json()
            while job["state"] in ("queued", "running"):
                time.sleep(0.5)
                job = client.get(f"/jobs/{job['id']}").json()
            if job["state"] != "succeeded":
                raise SystemExit(f"ingestion of {name} ended {job['state']}: {job.get('error')}")
            print(f"  {name}: ingested ({time.perf_counter() - started:.0f} s)", flush=True)
    marker.write_text(json.dumps(catalogue))
    # The next start-up's warm-up encodes every column into the index; wait for it once here.
    with service(args) as (url, spawned):
        ready_s = wait_ready(url, spawned, timeout_s=3600)
        print(f"  column index built at start-up: ready after {ready_s:.0f} s", flush=True)
    catalogue["indexed"] = True
    marker.write_text(json.dumps(catalogue))
    print(f"catalogue ready in {time.perf_counter() - started:.0f} s", flush=True)
    return catalogue


# --- the service -------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def service(args: argparse.Namespace) -> Iterator[tuple[str, float]]:
    """The real service in a subprocess (started now, stopped on exit), once it answers /health (liveness);
    yields its base URL and the perf_counter() time it was spawned at."""
    port = _free_port()
    env = {
        **os.environ,
        "SCHEMAKG_DATA_DIR": str(args.data_dir / "service"),
        "SCHEMAKG_ADMIN_KEY": ADMIN_KEY,
        "HF_HUB_OFFLINE": "1",
    }
    env.setdefault("SCHEMAKG_INDEX_CACHE_MB", "2048")
    command = [sys.executable, "-m", "uvicorn", "--factory", "schemakg.app.api.app:create_app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--no-access-log", "--log-level", "warning"]
    log = open(args.data_dir / "service.log", "ab")  # noqa: SIM115 - closed below
    spawned = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        while True:
            if process.poll() is not None or time.perf_counter() - spawned > 300:
                raise SystemExit(f"the service did not come up; see {args.data_dir / 'service.log'}")
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        yield url, spawned
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def wait_ready(url: str, spawned: float, timeout_s: float) -> float:
    """Seconds from the process's start until /health/ready answers 200."""
    deadline = time.perf_counter() + timeout_s
    last: object = None
    while time.perf_counter() < deadline:
        try:
            response = httpx.get(f"{url}/health/ready", timeout=5)
            if response.status_code == 200:
                return time.perf_counter() - spawned
            last = response.json()
            if last.get("status") == "failed":  # type: ignore[union-attr]
                raise SystemExit(f"the warm-up failed: {last}")
        except httpx.TransportError:
            pass  # not listening yet
        time.sleep(0.1)
    raise SystemExit(f"the service was not ready within {timeout_s:.0f} s: {last}")


# --- the load ----------------------------------------------------------------------------------


def _question(rng: random.Random) -> str:
    a, b = rng.sample(ATTRIBUTES, 2)
    return rng.choice(QUESTIONS).format(s=rng.choice(SUBJECTS), a=a, b=b, v=rng.choice(VALUES))


Call = tuple[str, str, dict[str, Any]]  # method, path, keyword arguments of the HTTP client's request()


def make_requests(catalogue: dict[str, Any]) -> dict[str, Callable[[random.Random], Call]]:
    names = sorted(catalogue["databases"])
    pages = max(1, catalogue["shape"]["tables"] // 50)

    def search(rng: random.Random) -> Call:
        return "GET", "/search", {"params": {"q": f"{rng.choice(SUBJECTS)} {rng.choice(ATTRIBUTES)}", "limit": 20}}

    def retrieve(rng: random.Random) -> Call:
        return "POST", f"/databases/{rng.choice(names)}/retrieve", {"json": {"question": _question(rng)}}

    def tables(rng: random.Random) -> Call:
        return "GET", f"/databases/{rng.choice(names)}/tables", {"params": {"offset": 50 * rng.randrange(pages)}}

    return {"search": search, "retrieve": retrieve, "tables": tables}


async def drive(url: str, make: Callable[[random.Random], Call], clients: int, duration: float) -> dict[str, Any]:
    """``clients`` closed-loop clients for ``duration`` seconds; latency of every answered request."""
    latencies: list[float] = []
    errors: dict[str, int] = {}
    # aiohttp: the load generator shares the two cores with the service, and it costs a third of httpx's CPU.
    connector = aiohttp.TCPConnector(limit=clients)
    timeout = aiohttp.ClientTimeout(total=60)
    async with aiohttp.ClientSession(url, headers=HEADERS, connector=connector, timeout=timeout) as client:
        started = time.perf_counter()
        deadline = started + duration

        async def one_client(index: int) -> None:
            rng = random.Random(index)
            while time.perf_counter() < deadline:
                method, path, kwargs = make(rng)
                sent = time.perf_counter()
                try:
                    async with client.request(method, path, **kwargs) as response:
                        await response.read()
                        status = str(response.status)
                except (aiohttp.ClientError, TimeoutError) as exc:
                    status = type(exc).__name__
                if status == "200":
                    latencies.append(time.perf_counter() - sent)
                else:
                    errors[status] = errors.get(status, 0) + 1

        await asyncio.gather(*(one_client(i) for i in range(clients)))
        elapsed = time.perf_counter() - started
    return {"requests": len(latencies), "rps": len(latencies) / elapsed, **percentiles(latencies), "errors": errors}


def percentiles(latencies: list[float]) -> dict[str, float]:
    if len(latencies) < 2:
        value = latencies[0] * 1000 if latencies else float("nan")
        return {"p50_ms": value, "p95_ms": value, "p99_ms": value}
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return {"p50_ms": cuts[49] * 1000, "p95_ms": cuts[94] * 1000, "p99_ms": cuts[98] * 1000}


def one_run(args: argparse.Namespace, catalogue: dict[str, Any], index: int) -> dict[str, Any]:
    requests = make_requests(catalogue)
    with service(args) as (url, spawned):
        ready_s = wait_ready(url, spawned, timeout_s=1800)
        method, path, kwargs = requests["retrieve"](random.Random(1000 + index))
        with httpx.Client(base_url=url, headers=HEADERS, timeout=60) as client:
            started = time.perf_counter()
            first = client.request(method, path, **kwargs)
            first_ms = (time.perf_counter() - started) * 1000
        first.raise_for_status()
        result: dict[str, Any] = {"ready_s": ready_s, "first_retrieve_ms": first_ms}
        for endpoint in args.endpoints:
            result[endpoint] = asyncio.run(drive(url, requests[endpoint], args.clients, args.duration))
    return result


def show(label: str, result: dict[str, Any], endpoints: list[str]) -> None:
    print(f"{label}: ready after {result['ready_s']:.1f} s, first /retrieve {result['first_retrieve_ms']:.0f} ms")
    for endpoint in endpoints:
        r = result[endpoint]
        errors = f", errors {r['errors']}" if r.get("errors") else ""
        print(
            f"  /{endpoint:<9} {r['rps']:7.1f} req/s   p50 {r['p50_ms']:7.1f} ms   p95 {r['p95_ms']:7.1f} ms"
            f"   p99 {r['p99_ms']:7.1f} ms   ({r['requests']} requests{errors})"
        )


def median_of(runs: list[dict[str, Any]], endpoints: list[str]) -> dict[str, Any]:
    med: dict[str, Any] = {
        "ready_s": statistics.median(r["ready_s"] for r in runs),
        "first_retrieve_ms": statistics.median(r["first_retrieve_ms"] for r in runs),
    }
    for endpoint in endpoints:
        med[endpoint] = {
            key: statistics.median(r[endpoint][key] for r in runs)
            for key in ("requests", "rps", "p50_ms", "p95_ms", "p99_ms")
        }
        med[endpoint]["errors"] = {}
    return med


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=ROOT / ".bench-load", help="catalogue and service data")
    parser.add_argument("--databases", type=int, default=10)
    parser.add_argument("--tables", type=int, default=100, help="tables per database")
    parser.add_argument("--columns", type=int, default=30, help="columns per table")
    parser.add_argument("--rows", type=int, default=5, help="rows per table")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of load per endpoint")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--endpoints", default="search,retrieve,tables", help="comma-separated subset")
    parser.add_argument("--json", type=Path, help="write every run and the medians here")
    args = parser.parse_args()
    args.data_dir = args.data_dir.resolve()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    args.endpoints = [e.strip() for e in args.endpoints.split(",") if e.strip()]

    catalogue = ensure_catalogue(args)
    columns = args.databases * args.tables * args.columns
    print(
        f"catalogue: {args.databases} databases, {args.databases * args.tables} tables, {columns} columns; "
        f"{args.clients} clients, {args.duration:.0f} s per endpoint, {args.runs} run(s)",
        flush=True,
    )
    runs = []
    for index in range(args.runs):
        runs.append(one_run(args, catalogue, index))
        show(f"run {index + 1}", runs[-1], args.endpoints)
    median = median_of(runs, args.endpoints)
    if args.runs > 1:
        show(f"median of {args.runs} runs", median, args.endpoints)
    if args.json:
        args.json.write_text(json.dumps({"shape": catalogue["shape"], "runs": runs, "median": median}, indent=2))


if __name__ == "__main__":
    main()
