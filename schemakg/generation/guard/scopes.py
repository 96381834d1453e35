"""Walking a query's scopes: the helpers the schema check and the repair rules share."""

from __future__ import annotations

from collections.abc import Iterator

from sqlglot import exp
from sqlglot.optimizer.scope import Scope, traverse_scope


def columns_with_scope(tree: exp.Expression) -> Iterator[tuple[Scope, exp.Column]]:
    """Each non-star column once, with the innermost scope it is written in. sqlglot also lists an
    unqualified column of a subquery among the enclosing scope's columns (it might be correlated);
    scopes come innermost first, so the first one seen is where it is written."""
    seen: set[int] = set()
    for scope in traverse_scope(tree):
        for column in scope.columns:
            if id(column) not in seen and not isinstance(column.this, exp.Star):
                seen.add(id(column))
                yield scope, column


def compared_with_itself(column: exp.Column, new_alias: str) -> bool:
    """Moving ``c.did`` in ``d.did = c.did`` to ``d`` would make a join condition always true."""
    parent = column.parent
    if not isinstance(parent, exp.Binary):
        return False
    other = parent.right if parent.left is column else parent.left
    return (
        isinstance(other, exp.Column) and other.table.lower() == new_alias and other.name.lower() == column.name.lower()
    )
