"""Query-log ingestion throughput (no LLM), with Spider's training questions as the log.

Each Spider training database is ingested (schema + values), then its questions are ingested
as that database's log. Prints lines/s end to end (parse + resolve + graph writes + usage
recompute), per database and overall. Target: >= 500 lines/s on 2 cores.

    .venv/bin/python bench/query_log_throughput.py [--spider ../shared/data/spider-train] [--max-dbs N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from schemakg.app.container import Container
from schemakg.ingest.introspect import introspect
from schemakg.ingest.query_log import QueryLogIngestor, count_lines, read_log
from schemakg.ingest.sampling import SamplingBounds, profile_tables
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import DatabaseInfo
from schemakg.kernel.settings import Settings
from schemakg.kernel.sources import SourceDatabase

DEFAULT_SPIDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "spider-train"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--spider", type=Path, default=DEFAULT_SPIDER)
    parser.add_argument("--max-dbs", type=int, default=0, help="0 = every database with a SQLite file")
    args = parser.parse_args()

    by_db: dict[str, list[dict]] = defaultdict(list)
    for row in json.loads((args.spider / "train_spider.json").read_text()):
        by_db[row["db_id"]].append({"question": row["question"], "sql": row["query"]})
    databases = sorted(d for d in by_db if (args.spider / "database" / d / f"{d}.sqlite").exists())
    if args.max_dbs:
        databases = databases[: args.max_dbs]

    with tempfile.TemporaryDirectory() as workdir:
        container = Container(Settings(data_dir=Path(workdir) / "data"))
        try:
            started = time.perf_counter()
            for name in databases:
                source = SourceDatabase(f"sqlite:///{args.spider / 'database' / name / f'{name}.sqlite'}")
                snapshot = introspect(source)
                profile_tables(source, snapshot.tables, SamplingBounds(row_budget=1000))
                container.catalog.create_database(
                    DatabaseInfo(name=name, dialect="sqlite", url=str(source.url), created_at=now_iso())
                )
                container.catalog.apply_snapshot(name, snapshot, now_iso())
                source.dispose()
            print(f"ingested {len(databases)} Spider schemas in {time.perf_counter() - started:.1f}s")

            rates, total_lines, total_time, total_errors = [], 0, 0.0, 0
            for name in databases:
                path = Path(workdir) / f"{name}.jsonl"
                path.write_text("\n".join(json.dumps(r) for r in by_db[name]) + "\n")
                t0 = time.perf_counter()
                ingestor = QueryLogIngestor(container.examples, container.catalog, name, "sqlite")
                summary = ingestor.ingest(read_log(path, "jsonl"), path.name, count_lines(path), lambda *_: None)
                elapsed = time.perf_counter() - t0
                rates.append(summary.lines / elapsed)
                total_lines += summary.lines
                total_time += elapsed
                total_errors += summary.error_count
            print(f"log lines: {total_lines} over {len(databases)} databases, {total_errors} reported as bad lines")
            print(
                f"overall: {total_lines / total_time:,.0f} lines/s ({total_time:.1f}s); "
                f"per-database median {statistics.median(rates):,.0f} lines/s "
                f"(p10 {statistics.quantiles(rates, n=10)[0]:,.0f}, p90 {statistics.quantiles(rates, n=10)[-1]:,.0f})"
            )
        finally:
            container.close()


if __name__ == "__main__":
    main()
