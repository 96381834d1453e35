"""Schema-linking metrics with the DESIGN.md ``eval linking`` JSON keys, over Spider-format files.

Per-question (macro) averages. Column metrics count only questions whose gold SQL uses at
least one column (``SELECT count(*) FROM t`` has nothing to recall); table metrics count
questions with at least one gold table. Selected tables are the tables of the selected
columns (join-path completion is a later step).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from schemakg.kernel.model import column_ref, split_column_ref
from schemakg.kernel.sql.links import SqlParseError
from schemakg.offline.retriever.gold import gold_links
from schemakg.offline.retriever.schema import DbSchema, docs_for
from schemakg.retrieval.column_docs import question_text
from schemakg.retrieval.retriever import ColumnRetriever


def column_metrics(predicted: Sequence[set[str]], gold: Sequence[set[str]]) -> dict[str, float]:
    """Non-strict recall (mean share of gold columns kept), strict recall (share with all kept), avg kept."""
    pairs = [(p, g) for p, g in zip(predicted, gold, strict=True) if g]
    if not pairs:
        return {"column_recall": 0.0, "column_strict_recall": 0.0, "avg_columns": 0.0}
    return {
        "column_recall": float(np.mean([len(p & g) / len(g) for p, g in pairs])),
        "column_strict_recall": float(np.mean([g <= p for p, g in pairs])),
        "avg_columns": float(np.mean([len(p) for p in predicted])),
    }


def f_beta(predicted: set[str], gold: set[str], beta: float) -> float:
    """``(1+β²)|P∩G| / (β²|G| + |P|)`` as DESIGN.md defines it."""
    denominator = beta * beta * len(gold) + len(predicted)
    return (1 + beta * beta) * len(predicted & gold) / denominator if denominator else 0.0


def table_metrics(predicted: Sequence[set[str]], gold: Sequence[set[str]]) -> dict[str, float]:
    """Table recall, precision, F1, F6, exact match rate and average count."""
    pairs = [(p, g) for p, g in zip(predicted, gold, strict=True) if g]
    if not pairs:
        return {k: 0.0 for k in ("table_recall", "table_precision", "table_f1", "table_f6", "table_emr", "avg_tables")}
    return {
        "table_recall": float(np.mean([len(p & g) / len(g) for p, g in pairs])),
        "table_precision": float(np.mean([len(p & g) / len(p) if p else 0.0 for p, g in pairs])),
        "table_f1": float(np.mean([f_beta(p, g, 1.0) for p, g in pairs])),
        "table_f6": float(np.mean([f_beta(p, g, 6.0) for p, g in pairs])),
        "table_emr": float(np.mean([p == g for p, g in pairs])),
        "avg_tables": float(np.mean([len(p) for p in predicted])),
    }


def latency_metrics(latencies_ms: Sequence[float]) -> dict[str, float]:
    if not latencies_ms:
        return {"latency_ms_p50": 0.0, "latency_ms_p95": 0.0}
    return {
        "latency_ms_p50": float(np.percentile(latencies_ms, 50)),
        "latency_ms_p95": float(np.percentile(latencies_ms, 95)),
    }


def evaluate_linking(
    questions: Sequence[Mapping[str, Any]],
    tables: Mapping[str, DbSchema],
    retriever: ColumnRetriever,
    db_dir: Path | None = None,
    predictions: Path | None = None,
) -> dict[str, float | int]:
    """Index the questions' databases, retrieve per question, score against gold links from the SQL.

    Latency covers what a live request pays: question encoding, index search and selection.
    """
    for db_id in sorted({q["db_id"] for q in questions}):
        retriever.sync(db_id, docs_for(tables[db_id], db_dir))
    kept_columns: list[set[str]] = []
    kept_tables: list[set[str]] = []
    gold_columns: list[set[str]] = []
    gold_tables: list[set[str]] = []
    latencies: list[float] = []
    rows: list[dict[str, Any]] = []
    for i, q in enumerate(questions):
        text = question_text(q["question"], q.get("evidence"))
        start = time.perf_counter()
        selected = retriever.retrieve(q["db_id"], text)
        latencies.append((time.perf_counter() - start) * 1000)
        columns = {s.key for s in selected}
        table_set = {split_column_ref(k)[0] for k in columns}
        kept_columns.append(columns)
        kept_tables.append(table_set)
        try:
            links = gold_links(q.get("query") or q["SQL"], tables[q["db_id"]])
            gold_columns.append({column_ref(t, c) for t, c in links.columns})
            gold_tables.append(set(links.tables))
        except SqlParseError:
            gold_columns.append(set())
            gold_tables.append(set())
        rows.append(
            {"index": i, "db_id": q["db_id"], "tables": sorted(table_set), "columns": [s.key for s in selected]}
        )
    if predictions is not None:
        predictions.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return {
        "n": len(questions),
        **table_metrics(kept_tables, gold_tables),
        **column_metrics(kept_columns, gold_columns),
        **latency_metrics(latencies),
    }
