"""The per-engine answer table (docs/engines.md): the same validation questions answered on SQLite, on the
PostgreSQL copy and on the MariaDB copy, with each packaged model.

    .venv/bin/python -m bench.engine_eval [--models qwen2.5-coder-1.5b,qwen2.5-coder-0.5b] [--limit 100] \\
        [--out bench/out/engines/eval]

It starts throwaway servers (tests/servers.py), loads the copies (``engine_copies``), and runs ``schemakg
eval sql`` once per model and engine, each in a fresh data directory that shares this checkout's built GGUF
files: the same sample (``--limit``, ``--seed``), the same query log (``--history``, the validation questions
less the evaluated ones), the shipped answer settings. The gold SQL always runs on the SQLite file, so an
engine is judged on what the benchmark means (the agreement table bounds what that costs). OUT gets each
run's report and predictions (``<model>_<engine>/``; a rerun resumes from them) and ``table.md``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.engine_copies import DEFAULT_DATA, load_mariadb, load_postgres, sources, throwaway_servers

ENGINES = ("sqlite", "postgres", "mariadb")


def eval_command(data: Path, questions: Path, limit: int, seed: int, out: Path, url: str | None) -> list[str]:
    command = [
        *(sys.executable, "-m", "schemakg.app.cli.main", "eval", "sql"),
        *("--tables", str(data / "spider-train/tables.json"), "--questions", str(questions)),
        *("--db-dir", str(data / "spider-train/database"), "--history", str(questions)),
        *("--limit", str(limit), "--seed", str(seed)),
        *("--predictions", str(out / "predictions.jsonl"), "--json", str(out / "report.json")),
    ]
    return command + (["--engine-url", url] if url else [])


def table(reports: dict[tuple[str, str], dict]) -> str:
    """Markdown: one row per model and engine, with the gap to SQLite's EX on the same questions."""
    lines = [
        "| model | engine | n | EX (95 % CI) | executable | gap to SQLite | p50 |",
        "|---|---|---|---|---|---|---|",
    ]
    for (model, engine), report in reports.items():
        sqlite = reports.get((model, "sqlite"))
        gap = f"{report['execution_accuracy'] - sqlite['execution_accuracy']:+.2f}" if sqlite else "—"
        low, high = report["execution_accuracy_ci95"]
        lines.append(
            f"| {model} | {engine} | {report['n']} | {report['execution_accuracy']:.2f} ({low:.2f}–{high:.2f}) | "
            f"{report['executable_rate']:.2f} | {gap} | {report['latency_s_p50']:.1f} s |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--questions", type=Path, default=Path("bench/out/validation/spider_val.json"))
    parser.add_argument("--models", default="qwen2.5-coder-1.5b,qwen2.5-coder-0.5b")
    parser.add_argument("--engines", default=",".join(ENGINES))
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--llm-dir", type=Path, default=Path(".schemakg/models/llm"), help="the built GGUF files")
    parser.add_argument("--out", type=Path, default=Path("bench/out/engines/eval"))
    args = parser.parse_args()
    if not (args.data / "spider-train").is_dir():
        print(f"skipped: no spider-train under {args.data}")
        return
    questions = json.loads(args.questions.read_text())
    dbs = sources(args.data, sorted({q["db_id"] for q in questions}))
    reports: dict[tuple[str, str], dict] = {}
    with throwaway_servers() as admin:
        postgres = admin["postgres"].replace("postgresql://", "postgresql+psycopg://")
        urls = {"sqlite": None, "postgres": postgres, "mariadb": admin["mariadb"]}
        load_postgres(postgres, dbs)
        load_mariadb(admin["mariadb"], dbs, "utf8mb4_unicode_ci")
        for model in args.models.split(","):
            for engine in args.engines.split(","):
                out = args.out / f"{model}_{engine}"
                out.mkdir(parents=True, exist_ok=True)
                data_dir = Path(tempfile.mkdtemp(prefix="schemakg-engine-eval-"))
                (data_dir / "models").mkdir()
                (data_dir / "models" / "llm").symlink_to(args.llm_dir.resolve())
                env = {**os.environ, "SCHEMAKG_DATA_DIR": str(data_dir), "SCHEMAKG_LLM_MODEL": model}
                command = eval_command(
                    args.data.resolve(), args.questions.resolve(), args.limit, args.seed, out, urls[engine]
                )
                started = time.perf_counter()
                with (out / "log").open("a") as log:
                    subprocess.run(command, env=env, check=False, stdout=log, stderr=subprocess.STDOUT)
                if not (out / "report.json").exists():
                    print(f"{model} on {engine}: no report, see {out / 'log'}")
                    continue
                reports[model, engine] = json.loads((out / "report.json").read_text())
                print(f"{model} on {engine}: {time.perf_counter() - started:.0f} s", flush=True)
    (args.out / "table.md").write_text(table(reports) + "\n")
    print(table(reports))


if __name__ == "__main__":
    main()
