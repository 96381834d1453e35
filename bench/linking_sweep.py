"""Linker settings compared on one catalogue, each question encoded once (no LLM call).

`schemakg eval linking` encodes every question again for each setting tried: about 4 minutes for the 2,133
validation-warehouse questions. Here each question is scored once and then linked under every setting given
(``Linker.link`` with those scores), so a setting costs only the linking steps: about 25 s on the warehouse.
The default row reproduces `eval linking`'s figures on the same catalogue.

Each setting is ``field=value[,field=value]`` of ``LinkerSettings`` (``default``: as served). With ``--tune``,
each row is also split into the questions of that file's databases (where settings are chosen) and the rest
(where they are checked), so a setting is not chosen on the questions it is reported on.

    SCHEMAKG_DATA_DIR=... .venv/bin/python bench/linking_sweep.py \\
        --tables bench/out/warehouse/tables.json --questions bench/out/warehouse/questions.json \\
        --db-dir bench/out/warehouse --tune bench/out/validation/spider_tune.json \\
        default region_margin=0.05 region_margin=0.07 table_margin=0.3,area_tables=5
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from schemakg.app.container import Container
from schemakg.app.evaluation import EvalDatabases, load_questions, load_tables, sample_indices
from schemakg.app.services.warmup import set_torch_threads
from schemakg.kernel.settings import Settings
from schemakg.offline.retriever.linking_eval import column_metrics, table_metrics
from schemakg.retrieval.column_docs import question_text
from schemakg.retrieval.linker import Linker, LinkerSettings

KEYS = {
    "table_recall": "table recall",
    "avg_tables": "tables",
    "table_f6": "table F6",
    "column_recall": "column recall",
    "column_strict_recall": "strict",
    "avg_columns": "columns",
}
Links = tuple[set[str], set[str]]  # tables, columns


def parse_setting(text: str, served: LinkerSettings) -> LinkerSettings:
    """``default``, or ``field=value`` pairs over the served settings (``none`` for an unset value)."""
    if text == "default":
        return served
    update: dict[str, Any] = {}
    for pair in text.split(","):
        field, _, value = pair.partition("=")
        if field not in LinkerSettings.model_fields or not value:
            raise SystemExit(f"not a linker setting: {pair!r} (fields: {', '.join(LinkerSettings.model_fields)})")
        update[field] = None if value.lower() == "none" else value
    try:
        return LinkerSettings.model_validate({**served.model_dump(), **update})
    except ValidationError as exc:
        raise SystemExit(f"not a valid setting: {text!r}: {exc.errors()[0]['msg']}") from exc


def source_database(row: dict[str, Any]) -> str:
    """The database a question was written for: a warehouse question names it in ``source_db``."""
    return str(row.get("source_db") or row["db_id"])


def question_parts(rows: Sequence[dict[str, Any]], tuning: set[str] | None) -> dict[str, list[int]]:
    """The questions each row of figures counts: all; with ``tuning`` (the databases settings are chosen on), those
    and the rest, the rest by corpus too when it holds several (a warehouse's Spider and BIRD questions)."""
    parts = {"all": list(range(len(rows)))}
    if tuning is None:
        return parts
    parts["tuning databases"] = [i for i, row in enumerate(rows) if source_database(row) in tuning]
    rest = parts["the rest"] = [i for i, row in enumerate(rows) if source_database(row) not in tuning]
    corpora = sorted({str(rows[i]["corpus"]) for i in rest if rows[i].get("corpus")})
    for corpus in corpora if len(corpora) > 1 else []:
        parts[f"the rest, {corpus}"] = [i for i in rest if rows[i].get("corpus") == corpus]
    return parts


def sweep(
    container: Container,
    rows: Sequence[dict[str, Any]],
    catalogue: EvalDatabases,
    variants: Sequence[LinkerSettings],
    advance: Callable[[], None] = lambda: None,
) -> tuple[list[list[Links]], list[Links]]:
    """Each variant's links for every question (``[variant][question]``) and the gold links, each question
    encoded once by the served retriever."""
    served = container.linking.linker
    reranker = served.reranker
    if reranker is None and any(variant.rerank_areas > 1 for variant in variants):
        reranker = container.linking.area_reranker()  # not loaded where the served setting leaves it off
    linkers = [Linker(served.retriever, variant, served.picker, reranker) for variant in variants]
    links: list[list[Links]] = [[] for _ in linkers]
    gold: list[Links] = []
    for row in rows:
        context = container.linking.context(catalogue.ensure(row["db_id"]))
        served.prepare(context)  # the index must hold the database's columns before they are scored
        evidence = row.get("evidence") or None
        scores = served.retriever.scores(context.database, question_text(row["question"], evidence))
        for k, linker in enumerate(linkers):
            schema = linker.link(context, row["question"], evidence, scores=scores).schema_
            links[k].append((set(schema.tables), set(schema.column_refs())))
        gold.append(catalogue.gold(row))
        advance()
    return links, gold


def figures(links: Sequence[Links], gold: Sequence[Links], indices: Sequence[int]) -> dict[str, float]:
    """``eval linking``'s table and column figures over the questions at ``indices``."""
    return {
        **table_metrics([links[i][0] for i in indices], [gold[i][0] for i in indices]),
        **column_metrics([links[i][1] for i in indices], [gold[i][1] for i in indices]),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tables", type=Path, required=True)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--db-dir", type=Path, default=None)
    parser.add_argument("--engine-url", default=None, help="a PostgreSQL or MariaDB server holding the databases")
    parser.add_argument("--tune", type=Path, default=None, help="questions whose databases form the tuning part")
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("settings", nargs="+", help="default, or field=value[,field=value] of LinkerSettings")
    args = parser.parse_args()

    schemas = load_tables(args.tables)
    rows = load_questions(args.questions, schemas)
    rows = [rows[i] for i in sample_indices(len(rows), args.limit, args.seed)]
    tuning = {source_database(row) for row in load_questions(args.tune, need_sql=False)} if args.tune else None
    parts = question_parts(rows, tuning)

    settings = Settings()
    set_torch_threads(settings)
    container = Container(settings)
    console = Console(width=140)
    try:
        variants = [parse_setting(text, container.linking.linker.settings) for text in args.settings]
        catalogue = EvalDatabases(container, schemas, args.db_dir, args.engine_url)
        started = time.perf_counter()
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("linking", total=len(rows))
            links, gold = sweep(container, rows, catalogue, variants, lambda: progress.advance(task))
        report = Table(title=f"{len(rows)} questions, {len(variants)} settings, {time.perf_counter() - started:.0f} s")
        for header in ("setting", "part", "n", *KEYS.values()):
            report.add_column(header, no_wrap=header == "setting")
        results = []
        for text, variant_links in zip(args.settings, links, strict=True):
            for part, indices in parts.items():
                metrics = figures(variant_links, gold, indices)
                report.add_row(text, part, str(len(indices)), *(f"{metrics[key]:.3f}" for key in KEYS))
                results.append({"setting": text, "part": part, "n": len(indices), **{k: metrics[k] for k in KEYS}})
        console.print(report)
        print(json.dumps(results))
    finally:
        container.close()


if __name__ == "__main__":
    main()
