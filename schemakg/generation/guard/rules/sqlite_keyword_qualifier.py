"""Repair rule: an unquoted keyword used as a qualifier is quoted, for SQLite only."""

from __future__ import annotations

import re
import sqlite3
from contextlib import closing
from functools import lru_cache

from sqlglot import exp

from schemakg.generation.guard.rules.context import RepairContext


def apply(tree: exp.Expression, context: RepairContext) -> list[str]:
    """SQLite rejects ``cast.aid`` but reads ``"cast".aid``; which names it rejects is asked of SQLite
    itself. Other dialects are left alone."""
    if context.dialect != "sqlite":
        return []
    notes: list[str] = []
    for column in tree.find_all(exp.Column):
        qualifier = column.args.get("table")
        if isinstance(qualifier, exp.Identifier) and not qualifier.quoted and _sqlite_rejects_qualifier(qualifier.name):
            qualifier.set("quoted", True)
            notes.append(f"quoted the keyword {qualifier.name} used as a qualifier")
    return notes


@lru_cache(maxsize=1024)
def _sqlite_rejects_qualifier(name: str) -> bool:
    """Ask SQLite itself whether ``name.x`` parses: its keyword list is the engine's, not sqlglot's."""
    if not re.fullmatch(r"\w+", name):
        return False
    with closing(sqlite3.connect(":memory:")) as probe:
        try:
            probe.execute(f'SELECT {name}.x FROM (SELECT 1 AS x) AS "{name}"')
        except sqlite3.Error:
            return True
    return False
