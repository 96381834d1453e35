"""Write the retriever's by-database validation split as Spider-format question files.

The databases are exactly those held out from retriever training (``schemakg.offline.retriever.data``, seed 13,
15 % of each corpus's databases), so linking and SQL evaluations run on unseen databases.

    .venv/bin/python bench/validation_split.py --out bench/out/validation
    -> spider_val.json (train_spider + train_others rows), bird_val.json (with evidence),
       spider_tune.json and spider_test.json: the Spider rows split again by database into a tuning
       split and a sealed test split (docs/evaluation.md: the protocol)
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path
from typing import Any

from schemakg.offline.retriever.data import builtin_sources, label, split_by_database
from schemakg.retrieval.paths import cache_dir

DEFAULT_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def validation_rows(data: Path, seed: int = 13, val_fraction: float = 0.15) -> dict[str, list[dict[str, Any]]]:
    """The raw training rows of the held-out databases, by corpus (``spider``, ``bird``), in file order.

    The split is computed over the same sources as retriever training (Spider-Syn included), with its
    cached gold labels, so the held-out databases are exactly training's. BIRD rows whose SQL names
    tables or columns absent from the schema are left out."""
    sources = builtin_sources(["spider-train", "bird-train", "spider-syn-train"], data)
    labelled = [q for source in sources for q in label(source, cache_dir())]
    _, validation = split_by_database(labelled, val_fraction, seed)
    held_out = {(q.corpus, q.db_id) for q in validation}
    spider = [
        row
        for name in ("train_spider.json", "train_others.json")
        for row in json.loads((data / "spider-train" / name).read_text())
        if ("spider", row["db_id"]) in held_out
    ]
    mismatched = {r["index"] for r in json.loads((data / "bird-train" / "train_schema_mismatch.json").read_text())}
    bird = [
        row
        for index, row in enumerate(json.loads((data / "bird-train" / "train.json").read_text()))
        if ("bird", row["db_id"]) in held_out and index not in mismatched
    ]
    return {"spider": spider, "bird": bird}


def sealed_split(rows: list[dict[str, Any]], seed: int = 13) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(tuning, test): whole databases in a seeded random order go to the test split until it holds
    half the questions. The questions of the 100-question sample that earlier error analysis read
    (``eval sql --limit 100 --seed 0`` over ``rows``) stay out of the test split, whatever its databases."""
    databases = sorted({row["db_id"] for row in rows})
    random.Random(seed).shuffle(databases)
    test_databases: set[str] = set()
    for db_id in databases:
        if sum(row["db_id"] in test_databases for row in rows) >= len(rows) / 2:
            break
        test_databases.add(db_id)
    read = set(random.Random(0).sample(range(len(rows)), min(100, len(rows))))
    tuning = [row for row in rows if row["db_id"] not in test_databases]
    test = [row for index, row in enumerate(rows) if row["db_id"] in test_databases and index not in read]
    return tuning, test


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=Path("bench/out/validation"))
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--val-fraction", type=float, default=0.15)
    args = parser.parse_args()
    rows = validation_rows(args.data, args.seed, args.val_fraction)
    args.out.mkdir(parents=True, exist_ok=True)
    for corpus, name in (("spider", "spider_val.json"), ("bird", "bird_val.json")):
        (args.out / name).write_text(json.dumps(rows[corpus]))
        print(f"{name}: {len(rows[corpus])} questions over {len({r['db_id'] for r in rows[corpus]})} databases")
    tuning, test = sealed_split(rows["spider"], args.seed)
    for name, split in (("spider_tune.json", tuning), ("spider_test.json", test)):
        (args.out / name).write_text(json.dumps(split))
        print(f"{name}: {len(split)} questions over {len({r['db_id'] for r in split})} databases")


if __name__ == "__main__":
    main()
