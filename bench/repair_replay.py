"""Replay the guard's repairs, with no LLM, on SQL already written: what a new rule would change.

    .venv/bin/python bench/repair_replay.py --questions ../shared/data/spider-train/train_spider.json
        -> the gold queries the repairs change, and how many of those then return other rows (a rule
           that changes a right query's result breaks it)
    .venv/bin/python bench/repair_replay.py --questions bench/out/validation/spider_tune.json \\
        --predictions RUN/predictions.jsonl
        -> for an `eval sql` run's answers that ran: how many the repairs change, and of those how many
           they turn right (fixed) or wrong (broken) against the gold result

Both run on SQLite (``--db-dir``); the gold query is the reference.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from schemakg.generation.guard import GuardError, execute, repair
from schemakg.kernel.sources import SourceDatabase
from schemakg.kernel.sql.links import SchemaNames, columns_by_table
from schemakg.kernel.sql.results import orders_result, results_match

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "spider-train"


def _names(tables: dict[str, Any]) -> SchemaNames:
    columns = [(tables["table_names_original"][t], c) for t, c in tables["column_names_original"] if t >= 0]
    return SchemaNames(columns_by_table(columns), "sqlite")


def _rows(source: SourceDatabase, sql: str) -> list[list[object]] | None:
    try:
        return execute(source, sql, 30.0, 100_000, 50_000_000).rows
    except GuardError:
        return None


def replay(rows: list[dict[str, Any]], answers: dict[int, str], tables: dict[str, Any], db_dir: Path) -> dict[str, Any]:
    """``answers``: question index -> SQL to replay (the gold query itself in gold mode)."""
    changed, fixed, broken, examples = 0, 0, 0, []
    sources: dict[str, SourceDatabase] = {}
    for index, sql in answers.items():
        row = rows[index]
        db = row["db_id"]
        repaired = repair(sql, "sqlite", _names(tables[db]), question=row["question"])
        if not repaired.notes:
            continue
        changed += 1
        source = sources.setdefault(db, SourceDatabase(f"sqlite:///{db_dir / db / f'{db}.sqlite'}"))
        gold = _rows(source, row["query"])
        before, after = _rows(source, sql), _rows(source, repaired.sql)
        ordered = orders_result(row["query"])
        was = gold is not None and before is not None and results_match(before, gold, ordered)
        now = gold is not None and after is not None and results_match(after, gold, ordered)
        fixed += now and not was
        broken += was and not now
        if was != now:
            examples.append({"index": index, "question": row["question"], "before": sql, "after": repaired.sql})
    for source in sources.values():
        source.dispose()
    return {"replayed": len(answers), "changed": changed, "fixed": fixed, "broken": broken, "examples": examples}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=Path, required=True)
    parser.add_argument("--predictions", type=Path, help="an `eval sql` run on --questions; without it, the gold SQL")
    parser.add_argument("--tables", type=Path, default=DATA / "tables.json")
    parser.add_argument("--db-dir", type=Path, default=DATA / "database")
    args = parser.parse_args()
    rows = json.loads(args.questions.read_text())
    if args.predictions is None:
        answers = {i: row["query"] for i, row in enumerate(rows)}
    else:
        records = [json.loads(line) for line in args.predictions.read_text().splitlines() if line.strip()]
        answers = {r["index"]: r["sql"] for r in records if r["executable"] and r["sql"]}
    tables = {t["db_id"]: t for t in json.loads(args.tables.read_text())}
    print(json.dumps(replay(rows, answers, tables, args.db_dir), indent=1))


if __name__ == "__main__":
    main()
