"""Repair rule: an unqualified column that joined tables share and the join equates is qualified with the
first table."""

from __future__ import annotations

from sqlglot import exp

from schemakg.generation.guard.rules.context import RepairContext
from schemakg.generation.guard.scopes import columns_with_scope
from schemakg.kernel.sql.links import base_tables, select_aliases


def apply(tree: exp.Expression, context: RepairContext) -> list[str]:
    """An unqualified ``business_id`` in ``business JOIN category ON business.business_id =
    category.business_id`` is ambiguous to the database, but the join makes every copy equal:
    qualify it with the first table."""
    notes: list[str] = []
    for scope, column in list(columns_with_scope(tree)):
        name = column.name.lower()
        if column.table or name in select_aliases(scope):
            continue
        holders = [
            a for a, table in base_tables(scope, context.names).items() if name in context.names.columns[table.lower()]
        ]
        if len(holders) < 2:
            continue
        equated = {
            frozenset((eq.left.table.lower(), eq.right.table.lower()))
            for eq in scope.expression.find_all(exp.EQ)
            if isinstance(eq.left, exp.Column)
            and isinstance(eq.right, exp.Column)
            and eq.left.name.lower() == name
            and eq.right.name.lower() == name
        }
        if all(frozenset((holders[0], other)) in equated for other in holders[1:]):
            first = context.spelled.get(holders[0], holders[0])
            notes.append(f"{column.name} -> {first}.{column.name} (the join makes every copy equal)")
            column.set("table", exp.to_identifier(first))
    return notes
