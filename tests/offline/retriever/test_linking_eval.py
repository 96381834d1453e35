from __future__ import annotations

import json
from pathlib import Path

from schemakg.offline.retriever.linking_eval import evaluate_linking
from schemakg.offline.retriever.schema import load_schemas
from schemakg.retrieval.artifacts import RetrieverModel
from schemakg.retrieval.encoder import DualTowerEncoder
from schemakg.retrieval.index import ColumnIndex
from schemakg.retrieval.retriever import ColumnRetriever
from schemakg.retrieval.selection import SelectionPolicy

TABLES = [
    {
        "db_id": "concert_singer",
        "table_names_original": ["singer", "stadium"],
        "table_names": ["singer", "stadium"],
        "column_names_original": [
            [-1, "*"],
            [0, "Singer_ID"],
            [0, "Name"],
            [0, "Country"],
            [1, "Stadium_ID"],
            [1, "Capacity"],
        ],
        "column_names": [[-1, "*"], [0, "singer id"], [0, "name"], [0, "country"], [1, "stadium id"], [1, "capacity"]],
        "column_types": ["text", "number", "text", "text", "number", "number"],
        "primary_keys": [1, 4],
        "foreign_keys": [],
    }
]


def test_evaluate_linking_reports_design_keys(tmp_path: Path, encoder: DualTowerEncoder) -> None:
    (tmp_path / "tables.json").write_text(json.dumps(TABLES))
    questions = [
        {
            "db_id": "concert_singer",
            "question": "Names of singers from France",
            "query": 'SELECT name FROM singer WHERE country = "France"',
        },
        {"db_id": "concert_singer", "question": "How many stadiums?", "query": "SELECT count(*) FROM stadium"},
    ]
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=0.0, min_columns=0, max_columns=10))
    retriever = ColumnRetriever(model, ColumnIndex(tmp_path / "index", encoder, "zero-shot"))
    figures = evaluate_linking(
        questions, load_schemas(tmp_path / "tables.json"), retriever, predictions=tmp_path / "p.jsonl"
    )
    assert set(figures) == {
        "n",
        "table_recall",
        "table_precision",
        "table_f1",
        "table_f6",
        "table_emr",
        "column_recall",
        "column_strict_recall",
        "avg_tables",
        "avg_columns",
        "latency_ms_p50",
        "latency_ms_p95",
    }
    assert (
        figures["n"] == 2 and figures["column_recall"] == 1.0 and figures["table_recall"] == 1.0
    )  # threshold 0 keeps all
    lines = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert lines[0]["index"] == 0 and set(lines[0]["tables"]) == {"singer", "stadium"}
