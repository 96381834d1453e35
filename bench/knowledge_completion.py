"""Knowledge completion throughput with the local model (lines/min), on Spider's hr_1 questions
as the query log of the bundled sample database.

    .venv/bin/python bench/knowledge_completion.py [--lines 20] [--model qwen2.5-coder-0.5b]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from schemakg.app.cli.main import sample_database_path
from schemakg.app.container import Container
from schemakg.ingest.query_log import QueryLogIngestor, count_lines, read_log
from schemakg.kernel.settings import Settings

SPIDER = Path(__file__).resolve().parents[2] / "shared" / "data" / "spider-train" / "train_spider.json"
LOCAL_GGUF = Path(__file__).resolve().parents[1] / ".schemakg" / "models" / "llm"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=20)
    parser.add_argument("--model", default="qwen2.5-coder-0.5b")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    rows = [r for r in json.loads(SPIDER.read_text()) if r["db_id"] == "hr_1"][: args.lines]
    with tempfile.TemporaryDirectory() as workdir:
        log = Path(workdir) / "hr.jsonl"
        log.write_text("".join(json.dumps({"question": r["question"], "sql": r["query"]}) + "\n" for r in rows))
        gguf = LOCAL_GGUF / f"{args.model}.gguf"
        settings = Settings(
            data_dir=Path(workdir) / "data",
            llm_model=args.model,
            llm_threads=args.threads,
            llm_model_path=gguf if gguf.exists() else None,
        )
        container = Container(settings)
        try:
            container.databases.register("hr", f"sqlite:///{sample_database_path()}")
            job = container.databases.start_ingestion("hr")
            container.runner.shutdown()  # wait for the in-process ingestion job
            assert container.jobs.get(job.id).state.value == "succeeded"
            QueryLogIngestor(container.examples, container.catalog, "hr", "sqlite").ingest(
                read_log(log, "jsonl"), log.name, count_lines(log), lambda *_: None
            )
            completer = container.knowledge_completer()
            container.embedder.embed(["warm up"])
            started = time.perf_counter()
            summary, proposals = completer.complete("hr", None, True, lambda *_: None)
            elapsed = time.perf_counter() - started
            print(
                f"{container.llm.model_name}: {summary.examples} log lines in {elapsed:.0f}s = "
                f"{summary.examples / elapsed * 60:.1f} lines/min; {summary.proposals} proposals "
                f"({summary.redundant} redundant, {summary.declined} declined, {summary.invalid} invalid, "
                f"{summary.llm_failures} LLM failures); {summary.completion_tokens} completion tokens "
                f"({summary.completion_tokens / elapsed:.1f} tok/s)"
            )
            for proposal in proposals[:5]:
                print(
                    f"  {proposal.kind.value}: {proposal.column} -> {proposal.description or proposal.relation} "
                    f"{proposal.tail or ''}"
                )
        finally:
            container.close()


if __name__ == "__main__":
    main()
