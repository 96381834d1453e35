"""Retrieval latency per question with the served retriever (question encoding + index search +
selection), after load: (a) a Spider-sized database, (b) a synthetic 10,000-column catalogue.

Targets on 2 cores: p50 <= 50 ms for (a) and <= 150 ms for (b). Also prints index build time,
index size on disk and peak memory.

    .venv/bin/python bench/retrieval_latency.py [--columns 10000] [--questions 50] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import tempfile
import time
from pathlib import Path

import torch

from schemakg.offline.retriever.schema import docs_for, load_schemas
from schemakg.retrieval.artifacts import load_model
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.index import ColumnIndex
from schemakg.retrieval.retriever import ColumnRetriever

SPIDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "spider-train"
WORDS = [
    "customer",
    "order",
    "invoice",
    "amount",
    "date",
    "status",
    "region",
    "product",
    "price",
    "quantity",
    "employee",
    "salary",
    "department",
    "name",
    "code",
    "type",
    "total",
    "rate",
    "score",
    "city",
    "country",
    "year",
    "month",
    "created",
    "updated",
    "owner",
    "account",
    "balance",
]


def _measure(retriever: ColumnRetriever, db_id: str, questions: list[str]) -> tuple[float, float]:
    retriever.retrieve(db_id, questions[0])  # warm caches
    latencies = []
    for question in questions:
        started = time.perf_counter()
        retriever.retrieve(db_id, question)
        latencies.append((time.perf_counter() - started) * 1000)
    return statistics.median(latencies), statistics.quantiles(latencies, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--columns", type=int, default=10_000)
    parser.add_argument("--questions", type=int, default=50)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--spider-db", default="college_2")
    parser.add_argument("--cache-mb", type=int, default=768, help="index memory budget (the service default)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    rng = random.Random(5)
    model = load_model()
    print(f"model {model.version}, {args.threads} thread(s), index cache {args.cache_mb} MiB")
    with tempfile.TemporaryDirectory() as workdir:
        retriever = ColumnRetriever(
            model, ColumnIndex(Path(workdir), model.encoder, model.version, cache_bytes=args.cache_mb * 2**20)
        )

        schema = load_schemas(SPIDER / "tables.json")[args.spider_db]
        docs = docs_for(schema, SPIDER / "database")
        retriever.sync(args.spider_db, docs)
        rows = [
            r["question"]
            for r in json.loads((SPIDER / "train_spider.json").read_text())
            if r["db_id"] == args.spider_db
        ]
        p50, p95 = _measure(retriever, args.spider_db, rows[: args.questions])
        print(f"(a) Spider {args.spider_db} ({len(docs)} columns): p50 {p50:.1f} ms, p95 {p95:.1f} ms")

        synthetic = [
            ColumnDoc(
                db_id="big",
                table=f"{rng.choice(WORDS)}_{t}",
                column=f"{rng.choice(WORDS)}_{rng.choice(WORDS)}_{c}",
                examples=tuple(f"{rng.choice(WORDS)}{rng.randrange(100)}" for _ in range(3)),
            )
            for t in range(args.columns // 20)
            for c in range(20)
        ]
        started = time.perf_counter()
        retriever.sync("big", synthetic)
        build_s = time.perf_counter() - started
        disk_mb = sum(p.stat().st_size for p in Path(workdir).rglob("*")) / 2**20
        questions = [
            f"what is the {rng.choice(WORDS)} {rng.choice(WORDS)} of each {rng.choice(WORDS)}?"
            for _ in range(args.questions)
        ]
        p50, p95 = _measure(retriever, "big", questions)
        print(
            f"(b) synthetic ({len(synthetic)} columns): p50 {p50:.1f} ms, p95 {p95:.1f} ms; "
            f"index built in {build_s:.0f} s, {disk_mb:.0f} MiB on disk"
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
