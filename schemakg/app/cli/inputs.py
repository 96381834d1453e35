"""Input files of the evaluation and training commands, checked before any database is ingested or model loaded:
a malformed file or entry is named in one line with exit code 2, never a traceback minutes into a run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

console = Console()


def eval_inputs(
    tables: Path, questions: Path, history: Path | None, need_sql: bool
) -> tuple[dict[str, dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]] | None]:
    """An evaluation's tables, questions and ``--history``, each checked before any database is ingested: a
    malformed file or entry is named in one line, with exit code 2."""
    from schemakg.app.evaluation import EvalInputError, load_questions, load_tables

    try:
        schemas = load_tables(tables)
        rows = load_questions(questions, schemas, need_sql)
        logged = load_questions(history, need_sql=False) if history is not None else None
    except EvalInputError as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}")
        raise typer.Exit(2) from None
    return schemas, rows, logged


def training_sources(names: list[str], corpus_dir: Path) -> list[str]:
    """The named benchmark sources, each one known and with every file it reads under ``corpus_dir``."""
    from schemakg.offline.retriever.data import BUILTIN_SOURCES, builtin_sources

    unknown = sorted(set(names) - set(BUILTIN_SOURCES))
    if unknown or not names:
        known = ", ".join(sorted(BUILTIN_SOURCES))
        raise typer.BadParameter(
            f"unknown {', '.join(unknown) or '(none given)'}; known: {known}", param_hint="--sources"
        )
    inputs = dict.fromkeys(path for source in builtin_sources(names, corpus_dir) for path in source.inputs())
    missing = [str(path) for path in inputs if not path.is_file()]  # a file two sources read is named once
    if missing:
        raise typer.BadParameter(f"missing {', '.join(missing)}", param_hint="--corpus-dir")
    return names
