"""Each rule is called on a parsed tree with the context ``repair`` would build for it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pytest
import sqlglot
from sqlglot import exp

from schemakg.generation.guard.rules.context import RepairContext
from schemakg.kernel.sql.links import ColumnRef, SchemaNames

HR = SchemaNames(
    {
        "employees": ["EMPLOYEE_ID", "FIRST_NAME", "SALARY", "DEPARTMENT_ID"],
        "departments": ["DEPARTMENT_ID", "DEPARTMENT_NAME"],
    }
)
Apply = Callable[[exp.Expression, RepairContext], list[str]]


@pytest.fixture
def run() -> Callable[..., tuple[list[str], str]]:
    def run_rule(
        rule: Apply,
        sql: str,
        dialect: str = "sqlite",
        names: SchemaNames = HR,
        foreign_keys: Sequence[tuple[ColumnRef, ColumnRef]] = (),
        question: str | None = None,
        shown: Sequence[str] = (),
    ) -> tuple[list[str], str]:
        tree = sqlglot.parse_one(sql, read=dialect)
        notes = rule(tree, RepairContext.of(tree, dialect, names, foreign_keys, question=question, shown=shown))
        return notes, tree.sql(dialect=dialect)

    return run_rule
