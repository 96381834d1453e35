"""Repair rule: a column put on an alias whose table lacks it moves to the one table in reach that has it."""

from __future__ import annotations

from sqlglot import exp

from schemakg.generation.guard.rules.context import RepairContext
from schemakg.generation.guard.scopes import columns_with_scope, compared_with_itself
from schemakg.kernel.sql.links import base_tables, reachable_tables


def apply(tree: exp.Expression, context: RepairContext) -> list[str]:
    """``SELECT T2.first_name FROM employees AS T1 JOIN departments AS T2 …``: only ``employees`` has
    ``first_name``, so it becomes ``T1.first_name``. With two candidates, or when the move would compare a
    column with itself, the rule leaves the query alone."""
    notes: list[str] = []
    for scope, column in columns_with_scope(tree):
        own, reachable = base_tables(scope, context.names), reachable_tables(scope, context.names)
        alias, name = column.table.lower(), column.name.lower()
        if alias not in own or name in context.names.columns[own[alias].lower()]:
            continue
        holders = [a for a, table in reachable.items() if name in context.names.columns[table.lower()]]
        if len(holders) != 1 or compared_with_itself(column, holders[0]):
            continue
        new_alias = context.spelled.get(holders[0], holders[0])
        notes.append(
            f"{column.table}.{column.name} -> {new_alias}.{column.name} ({own[alias]} has no column {column.name})"
        )
        column.set("table", exp.to_identifier(new_alias))
    return notes
