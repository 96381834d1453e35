"""Linking at warehouse scale: index build time, memory and linking latency at 4,000, 10,000 and 50,000 columns.

The schema is the validation warehouse's (``bench/warehouse.py``: 7,597 real columns of Spider and BIRD
training databases, tables ``<db>__<table>``, their foreign keys). 4,000 columns are whole databases taken
in name order; past the warehouse's size, further copies of it under new namespaces (``c2_<db>__<table>``)
fill up the count, so the subject areas multiply as in a real catalogue. Each size runs in a fresh process
with the active retriever: it encodes every column into the index (build time, index size on disk), then
links ``--questions`` of the warehouse's questions through the product's :class:`Linker` (question
encoding, scoring every column, subject-area focus, selection, join completion; no value sampling, so no
value matching) and reports the median and p95 latency and the process's peak memory.

    .venv/bin/python bench/warehouse.py --out bench/out/warehouse     # once
    .venv/bin/python bench/warehouse_scale.py [--sizes 4000,10000,50000] [--questions 100] [--json OUT]

Targets (issue #16): linking p50 <= 100 ms at 4,000 columns and <= 150 ms at 10,000, on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

from schemakg.retrieval.artifacts import load_model
from schemakg.retrieval.column_docs import question_text
from schemakg.retrieval.index import ColumnIndex
from schemakg.retrieval.linker import ContextColumn, DatabaseContext, Linker, LinkerSettings
from schemakg.retrieval.retriever import ColumnRetriever

WAREHOUSE = Path(__file__).resolve().parent / "out" / "warehouse"
_TYPES = {"number": "NUMERIC", "time": "DATETIME", "boolean": "BOOLEAN", "text": "TEXT"}


def warehouse_columns(raw: dict[str, Any]) -> tuple[list[ContextColumn], list[tuple[tuple[str, str], tuple[str, str]]]]:
    tables = raw["table_names_original"]
    names = raw["column_names_original"]
    keys = {i for pk in raw["primary_keys"] for i in (pk if isinstance(pk, list) else [pk])}
    columns = [
        ContextColumn(table=tables[t], name=name, data_type=_TYPES.get(raw["column_types"][i], "TEXT"), is_pk=i in keys)
        for i, (t, name) in enumerate(names)
        if t >= 0
    ]
    foreign_keys = [
        ((tables[names[a][0]], names[a][1]), (tables[names[b][0]], names[b][1])) for a, b in raw["foreign_keys"]
    ]
    return columns, foreign_keys


def scaled(size: int, raw: dict[str, Any]) -> DatabaseContext:
    """Whole databases of the warehouse (copies under new namespaces past its size) up to ``size`` columns."""
    columns, foreign_keys = warehouse_columns(raw)
    by_namespace: dict[str, list[ContextColumn]] = {}
    for column in columns:
        by_namespace.setdefault(column.table.split("__", 1)[0], []).append(column)
    picked: list[ContextColumn] = []
    picked_fks: list[tuple[tuple[str, str], tuple[str, str]]] = []
    copy = 1
    while len(picked) < size:
        prefix = "" if copy == 1 else f"c{copy}_"
        for space in sorted(by_namespace):
            if len(picked) >= size:
                break
            tables = {c.table for c in by_namespace[space]}
            picked += [c.model_copy(update={"table": prefix + c.table}) for c in by_namespace[space]]
            picked_fks += [((prefix + a[0], a[1]), (prefix + b[0], b[1])) for a, b in foreign_keys if a[0] in tables]
        copy += 1
    return DatabaseContext(
        database="warehouse", dialect="sqlite", version=str(size), columns=picked, foreign_keys=picked_fks
    )


def measure(size: int, questions: int, threads: int, cache_mb: int) -> dict[str, Any]:
    torch.set_num_threads(threads)
    raw = json.loads((WAREHOUSE / "tables.json").read_text())[0]
    context = scaled(size, raw)
    tables = {c.table for c in context.columns}
    rows = [
        r
        for r in json.loads((WAREHOUSE / "questions.json").read_text())
        if any(t.lower() in r["query"].lower() for t in tables)
    ]
    sample = random.Random(7).sample(rows, min(questions, len(rows)))
    model = load_model()
    with tempfile.TemporaryDirectory() as workdir:
        index = ColumnIndex(Path(workdir), model.encoder, model.version, cache_bytes=cache_mb * 2**20)
        linker = Linker(ColumnRetriever(model, index), LinkerSettings())
        started = time.perf_counter()
        linker.prepare(context)
        build_s = time.perf_counter() - started
        disk_mb = sum(p.stat().st_size for p in Path(workdir).rglob("*")) / 2**20
        linker.link(context, sample[0]["question"])  # loads the blocks
        latencies, tables_linked = [], []
        for row in sample:
            started = time.perf_counter()
            result = linker.link(context, question_text(row["question"], row.get("evidence")))
            latencies.append((time.perf_counter() - started) * 1000)
            tables_linked.append(len(result.schema_.tables))
    return {
        "columns": len(context.columns),
        "tables": len(tables),
        "questions": len(sample),
        "build_s": round(build_s, 1),
        "index_mib_on_disk": round(disk_mb),
        "link_ms_p50": round(statistics.median(latencies), 1),
        "link_ms_p95": round(statistics.quantiles(latencies, n=20)[-1], 1),
        "tables_linked_mean": round(statistics.fmean(tables_linked), 1),
        "peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="4000,10000,50000")
    parser.add_argument("--questions", type=int, default=100)
    parser.add_argument("--threads", type=int, default=1, help="torch threads (the service uses 1)")
    parser.add_argument("--cache-mb", type=int, default=4096, help="index memory budget: the whole index fits")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not (WAREHOUSE / "tables.json").exists():
        sys.exit(f"no warehouse at {WAREHOUSE}: run bench/warehouse.py --out {WAREHOUSE} first")
    if args.one:
        print(json.dumps(measure(args.one, args.questions, args.threads, args.cache_mb)))
        return
    figures = []
    for size in (int(s) for s in args.sizes.split(",")):
        # A fresh process per size: peak memory is that size's, not the largest so far.
        command = [sys.executable, __file__, "--one", str(size), "--questions", str(args.questions)]
        command += ["--threads", str(args.threads), "--cache-mb", str(args.cache_mb)]
        output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
        figures.append(json.loads(output.strip().splitlines()[-1]))
        print(json.dumps(figures[-1]), flush=True)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
