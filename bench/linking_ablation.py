"""Linking ablation on the by-database validation split (unseen databases), no LLM call.

Rows: retriever top-k alone; retriever + join paths in each mode; force-union with value
matching (the default); and that plus the primary key of every linked table. Databases are
ingested into a scratch catalogue once; the served (newest activated) retriever from
SCHEMAKG_DATA_DIR links every question.

    .venv/bin/python bench/validation_split.py --out bench/out/validation
    .venv/bin/python bench/linking_ablation.py --split bench/out/validation --limit 300
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path

from schemakg.app.container import Container
from schemakg.app.evaluation import EvalDatabases, evaluate_linking, load_questions, load_tables, sample_indices
from schemakg.kernel.settings import Settings
from schemakg.retrieval.join_paths import JOIN_MODES

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
CORPORA = {
    "Spider": ("spider_val.json", DATA / "spider-train" / "tables.json", DATA / "spider-train" / "database"),
    "BIRD": ("bird_val.json", DATA / "bird-train" / "train_tables.json", None),
}
KEYS = (
    "table_recall",
    "table_precision",
    "table_f1",
    "table_f6",
    "table_emr",
    "avg_tables",
    "column_recall",
    "column_strict_recall",
    "avg_columns",
    "latency_ms_p50",
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--split", type=Path, default=Path("bench/out/validation"))
    parser.add_argument("--limit", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--models", type=Path, default=Path(".schemakg"), help="data dir holding the trained retriever")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as workdir:
        data_dir = Path(workdir) / "data"
        shutil.copytree(args.models / "models" / "retriever", data_dir / "models" / "retriever")
        container = Container(Settings(data_dir=data_dir))
        try:
            linker = container.linking.linker
            bare = {"join_completion": False, "value_matching": False, "primary_keys": False}
            configs = [("retriever top-k alone", bare)]
            configs += [(f"+ paths, {mode}", {**bare, "mode": mode, "join_completion": True}) for mode in JOIN_MODES]
            configs += [
                (
                    "+ paths, force-union + value matching (default)",
                    {**bare, "mode": "force-union", "join_completion": True, "value_matching": True},
                ),
                (
                    "+ primary keys of linked tables",
                    {"mode": "force-union", "join_completion": True, "value_matching": True, "primary_keys": True},
                ),
            ]
            print("| corpus | configuration | " + " | ".join(KEYS) + " |")
            print("|" + "---|" * (len(KEYS) + 2))
            for corpus, (questions_file, tables, db_dir) in CORPORA.items():
                schemas = load_tables(tables)
                rows = load_questions(args.split / questions_file, schemas)
                rows = [rows[i] for i in sample_indices(len(rows), args.limit, args.seed)]
                catalogue = EvalDatabases(container, schemas, db_dir)
                for name, overrides in configs:
                    linker.settings = linker.settings.model_copy(update=overrides)
                    report = evaluate_linking(container, rows, catalogue, None, None, lambda *_: None)
                    print(
                        f"| {corpus} (n={report['n']}) | {name} | "
                        + " | ".join(f"{report[k]:.3f}" if k != "latency_ms_p50" else f"{report[k]:.0f}" for k in KEYS)
                        + " |",
                        flush=True,
                    )
        finally:
            container.close()
    print(json.dumps({"limit": args.limit, "seed": args.seed}))


if __name__ == "__main__":
    main()
