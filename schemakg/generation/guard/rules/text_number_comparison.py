"""Repair rule: on PostgreSQL, a text column compared with a number, as SQLite would compare them.

SQLite compares a text column with anything, and the small models learnt their SQL there; PostgreSQL refuses
(``operator does not exist: bigint = text``). Undocumented schemas do this all the time: an id kept as text in
one table and as an integer in the table it joins, an ``age`` kept as text. The comparison is rewritten with
SQLite's meaning: a number literal against a text column becomes a text literal (SQLite gives the literal the
column's text affinity), and a join of a text column with a number column compares both as text (equality
only: an order between them would need the text read as a number, which may fail)."""

from __future__ import annotations

from sqlglot import exp

from schemakg.generation.guard.rules.context import RepairContext
from schemakg.generation.guard.scopes import columns_with_scope
from schemakg.kernel.sql.links import base_tables
from schemakg.kernel.sql.types import type_family

_ORDERED = (exp.GT, exp.GTE, exp.LT, exp.LTE)


def _column_families(tree: exp.Expression, context: RepairContext) -> dict[int, str]:
    """id(column node) -> the type family of the catalogue column it reads, where that is known."""
    families: dict[int, str] = {}
    for scope, column in columns_with_scope(tree):
        tables = base_tables(scope, context.names)
        name = column.name.lower()
        if column.table:
            holders = [tables[column.table.lower()]] if column.table.lower() in tables else []
        else:
            holders = [t for t in tables.values() if name in context.names.columns[t.lower()]]
        if len(holders) == 1 and (family := type_family(context.types.get((holders[0].lower(), name), ""))):
            families[id(column)] = family
    return families


def _number_literal(node: exp.Expr) -> bool:
    return isinstance(node, exp.Literal) and not node.is_string


def _as_text(node: exp.Expr) -> exp.Expr:
    return exp.Literal.string(node.name) if _number_literal(node) else exp.cast(node.copy(), "TEXT")


def apply(tree: exp.Expression, context: RepairContext) -> list[str]:
    """``age = 30`` / ``age IN (30, 40)`` with a text ``age`` -> ``age = '30'`` / ``age IN ('30', '40')``;
    ``budget.school_id = school.school_id`` or ``school.school_id IN (SELECT school_id FROM budget)`` with one
    text and one bigint -> the bigint cast to text."""
    if context.dialect != "postgres" or not context.types:
        return []
    families = _column_families(tree, context)

    def family(node: exp.Expr) -> str | None:
        return "number" if _number_literal(node) else families.get(id(node))

    notes: list[str] = []
    for comparison in list(tree.find_all(exp.EQ, exp.NEQ, *_ORDERED)):
        left, right = comparison.left, comparison.right
        sides = {family(left), family(right)}
        if sides != {"number", "text"}:
            continue
        number = left if family(left) == "number" else right
        if not _number_literal(number) and isinstance(comparison, _ORDERED):
            continue
        number.replace(_as_text(number))
        notes.append(f"compared {comparison.sql(dialect='postgres')} as text, as SQLite does")
    for member in list(tree.find_all(exp.In)):
        if families.get(id(member.this)) == "text" and any(_number_literal(e) for e in member.expressions):
            member.set("expressions", [_as_text(e) if _number_literal(e) else e for e in member.expressions])
            notes.append(f"compared {member.sql(dialect='postgres')} as text, as SQLite does")
        elif (inner := _single_column(member.args.get("query"))) is not None:
            pair = (families.get(id(member.this)), families.get(id(inner)))
            if set(pair) == {"number", "text"}:
                number = member.this if pair[0] == "number" else inner
                number.replace(_as_text(number))
                notes.append(f"compared {member.sql(dialect='postgres')} as text, as SQLite does")
    return notes


def _single_column(query: exp.Expr | None) -> exp.Column | None:
    """The column ``x IN (SELECT column FROM …)`` compares ``x`` with, if the subquery selects one."""
    select = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(select, exp.Select) or len(select.expressions) != 1:
        return None
    projection = select.expressions[0]
    projection = projection.this if isinstance(projection, exp.Alias) else projection
    return projection if isinstance(projection, exp.Column) else None
