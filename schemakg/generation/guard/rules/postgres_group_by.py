"""Repair rule: on PostgreSQL, a selected column that is neither grouped nor aggregated is aggregated.

SQLite and MariaDB accept ``SELECT T1.name, COUNT(*) … GROUP BY T2.id`` and take the column from any row of the
group; PostgreSQL refuses it (``column "t1.name" must appear in the GROUP BY clause``) unless the grouping holds
its table's primary key. The small models learnt the first habit. The column is wrapped in ``MIN()``: for a
column the group key determines (the usual case: a name grouped by its id, or by the id it joins) every row of
the group holds the same value, so the answer is SQLite's. Left alone: queries with ``MIN``/``MAX`` in the same
SELECT, where SQLite takes the bare column from the row holding the extreme value, which ``MIN()`` would not."""

from __future__ import annotations

from sqlglot import exp

from schemakg.generation.guard.rules.context import RepairContext

_EXTREMES = (exp.Min, exp.Max)


def _key(column: exp.Column) -> tuple[str, str]:
    return column.table.lower(), column.name.lower()


def _is_grouped(column: exp.Column, grouped: set[tuple[str, str]]) -> bool:
    table, name = _key(column)
    return any(name == g_name and (not table or not g_table or table == g_table) for g_table, g_name in grouped)


def _bare_columns(select: exp.Select, node: exp.Expression) -> list[exp.Column]:
    """Columns of ``select``'s own scope in ``node`` that no aggregate or window function encloses."""
    bare = []
    for column in node.find_all(exp.Column):
        ancestor = column.parent
        while ancestor is not None and ancestor is not select:
            if isinstance(ancestor, (exp.AggFunc, exp.Window, exp.Select)):
                break
            ancestor = ancestor.parent
        else:
            bare.append(column)
    return bare


def apply(tree: exp.Expression, context: RepairContext) -> list[str]:
    """``SELECT T1.name, COUNT(*) … GROUP BY T2.id`` -> ``SELECT MIN(T1.name) AS name, COUNT(*) … GROUP BY T2.id``."""
    if context.dialect != "postgres":
        return []
    notes: list[str] = []
    for select in list(tree.find_all(exp.Select)):
        group = select.args.get("group")
        if group is None or not group.expressions or not all(isinstance(g, exp.Column) for g in group.expressions):
            continue  # no grouping, or one by position or expression: left to the engine
        aliases = {e.alias.lower() for e in select.expressions if isinstance(e, exp.Alias)}
        grouped = {_key(g) for g in group.expressions}
        if any(not table and name in aliases for table, name in grouped):
            continue  # grouped by an output alias
        if any(_owner(node) is select for node in select.find_all(*_EXTREMES)):
            continue
        for projection in list(select.expressions):
            notes += _aggregate_bare(select, projection, grouped, aliases)
        aliases = {e.alias_or_name.lower() for e in select.expressions}
        for part in (select.args.get("having"), select.args.get("order")):
            if part is not None:
                notes += _aggregate_bare(select, part, grouped, aliases)
    return notes


def _aggregate_bare(
    select: exp.Select, part: exp.Expression, grouped: set[tuple[str, str]], aliases: set[str]
) -> list[str]:
    notes = []
    for column in _bare_columns(select, part):
        if _is_grouped(column, grouped) or (not column.table and column.name.lower() in aliases):
            continue
        wrapped: exp.Expr = exp.Min(this=column.copy())
        if column.parent is select:  # a projection keeps its output name
            wrapped = exp.alias_(wrapped, column.name)
        column.replace(wrapped)
        notes.append(f"took MIN({column.sql(dialect='postgres')}), as PostgreSQL groups strictly")
    return notes


def _owner(node: exp.Expr) -> exp.Select | None:
    """The innermost SELECT holding ``node``."""
    parent = node.parent
    while parent is not None and not isinstance(parent, exp.Select):
        parent = parent.parent
    return parent
