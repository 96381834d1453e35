"""Prompt (prefill) and decode speed of the embedded llama.cpp models by thread count, with the machine
idle and with one core kept busy by another process (a Python busy loop), for the thread-count default.

    .venv/bin/python bench/llm_threads.py [--models qwen2.5-coder-0.5b,qwen2.5-coder-1.5b] [--threads 1,2,1+2]
        [--prompt-tokens 256] [--decode-tokens 32] [--reps 3] [--json bench/out/llm_threads.json]

A thread setting is ``N`` (N threads for decoding and for the prompt) or ``D+P`` (D decoding, P for the
prompt: llama.cpp's ``n_threads`` and ``n_threads_batch``). Each cell loads the model with
``LlamaChatModel`` as the service does, warms it up with a short prompt, then per repetition clears the
KV cache, evaluates a fixed prompt in one batch (prefill tokens/s) and decodes greedily token by token
(decode tokens/s). Medians over the repetitions. The default (``Settings().llm_threads`` and
``llm_batch_threads`` without their environment variables: cores - 1 and every core) is always measured.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from schemakg.generation.llm.llama_backend import LlamaChatModel
from schemakg.generation.llm.model_files import ensure_gguf
from schemakg.kernel.settings import Settings, default_threads, usable_cpus

# A schema and question like the ones SQL generation sends; repeated until it is long enough.
PROMPT = """### SQLite tables, with their columns:
# employees(employee_id, first_name, last_name, email, phone_number, hire_date, job_id, salary,
#   commission_pct, manager_id, department_id)
# departments(department_id, department_name, manager_id, location_id)
# jobs(job_id, job_title, min_salary, max_salary)
# locations(location_id, street_address, postal_code, city, state_province, country_id)
# Foreign keys: employees.department_id = departments.department_id, employees.job_id = jobs.job_id,
#   departments.location_id = locations.location_id
### Question: Which departments in Seattle pay an average salary above 8000, and how many employees do they have?
### SQL:
"""


def busy_core() -> subprocess.Popen[bytes]:
    """Another process keeping one core busy (at the default priority) until it is killed."""
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def measure(model: LlamaChatModel, prompt: list[int], decode_tokens: int) -> tuple[float, float]:
    """(prefill tokens/s, decode tokens/s) for one pass over a cleared KV cache."""
    llama = model._llama
    llama.reset()
    started = time.perf_counter()
    llama.eval(prompt)
    prefill_s = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(decode_tokens):
        token = llama.sample(temp=0.0)
        llama.eval([token])
    decode_s = time.perf_counter() - started
    return len(prompt) / prefill_s, decode_tokens / decode_s


def parse_threads(setting: str) -> tuple[int, int]:
    """``N`` or ``D+P`` as (decoding threads, prompt threads)."""
    decode, _, prompt = setting.partition("+")
    return int(decode), int(prompt or decode)


def label(threads: tuple[int, int]) -> str:
    return str(threads[0]) if threads[0] == threads[1] else f"{threads[0]}+{threads[1]}"


def run_cell(path: Path, threads: tuple[int, int], args: argparse.Namespace) -> dict[str, Any]:
    model = LlamaChatModel(path, n_threads=threads[0], n_threads_batch=threads[1], n_ctx=4096, seed=0)
    try:
        llama = model._llama
        text = PROMPT
        while len(llama.tokenize(text.encode())) < args.prompt_tokens:
            text += PROMPT
        prompt = llama.tokenize(text.encode())[: args.prompt_tokens]
        measure(model, prompt[:16], 2)  # first-call set-up (buffers, kernels)
        runs = [measure(model, prompt, args.decode_tokens) for _ in range(args.reps)]
    finally:
        model.close()
    return {
        "prefill_tok_s": round(statistics.median(r[0] for r in runs), 1),
        "decode_tok_s": round(statistics.median(r[1] for r in runs), 1),
        "runs": [[round(p, 1), round(d, 1)] for p, d in runs],
        "load_s": round(model.load_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default="qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    parser.add_argument("--threads", default="1,2", help="thread settings besides the default: N or D+P")
    parser.add_argument("--prompt-tokens", type=int, default=256)
    parser.add_argument("--decode-tokens", type=int, default=32)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--json", type=Path, default=Path("bench/out/llm_threads.json"))
    args = parser.parse_args()
    default = (default_threads(), usable_cpus())
    thread_counts = sorted({parse_threads(t) for t in args.threads.split(",")} | {default})
    settings = Settings()
    results: list[dict[str, Any]] = []
    for name in args.models.split(","):
        path = ensure_gguf(name, settings.llm_models_dir)
        for load in ("idle", "one core busy"):
            for threads in thread_counts:
                busy = busy_core() if load == "one core busy" else None
                try:
                    time.sleep(0.5 if busy else 0)  # let the busy loop get going
                    cell = run_cell(path, threads, args)
                finally:
                    if busy is not None:
                        busy.kill()
                        busy.wait()
                results.append({"model": name, "load": load, "threads": label(threads), **cell})
                print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    report = {
        "cores": usable_cpus(),
        "default_threads": label(default),
        "prompt_tokens": args.prompt_tokens,
        "decode_tokens": args.decode_tokens,
        "reps": args.reps,
        "cpu": os.uname().machine,
        "results": results,
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    print(f"{usable_cpus()} usable cores, default {label(default)} thread(s); medians of {args.reps} runs, tokens/s\n")
    print("| model | threads | prefill idle | prefill, one core busy | decode idle | decode, one core busy |")
    print("|---|---|---|---|---|---|")
    by_key = {(r["model"], r["load"], r["threads"]): r for r in results}
    for name in args.models.split(","):
        for threads in thread_counts:
            idle, shared = (by_key[(name, load, label(threads))] for load in ("idle", "one core busy"))
            mark = " (default)" if threads == default else ""
            print(
                f"| {name} | {label(threads)}{mark} | {idle['prefill_tok_s']} | {shared['prefill_tok_s']} "
                f"| {idle['decode_tok_s']} | {shared['decode_tok_s']} |"
            )


if __name__ == "__main__":
    main()
