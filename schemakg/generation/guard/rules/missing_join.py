"""Repair rule: a column of a table the query never joins gets that join, when exactly one foreign key links
that table to one the query reads."""

from __future__ import annotations

from sqlglot import exp

from schemakg.generation.guard.rules.context import RepairContext
from schemakg.generation.guard.scopes import columns_with_scope
from schemakg.kernel.sql.links import base_tables, reachable_tables, select_aliases
from schemakg.kernel.sql.names import identifier, split_table_name


def apply(tree: exp.Expression, context: RepairContext) -> list[str]:
    """``SELECT Jan FROM temperature WHERE City = 'Shanghai'`` where only ``city`` has ``City``, and
    one foreign key links ``temperature`` to ``city``: join ``city`` on it and qualify the column.
    Runs only when the catalogue knows foreign keys."""
    if not context.foreign_keys:
        return []
    notes: list[str] = []
    joined: dict[tuple[int, str], str] = {}  # (scope select, table) -> alias of the join added there
    for scope, column in list(columns_with_scope(tree)):
        select = scope.expression
        if not isinstance(select, exp.Select) or not select.args.get("from_"):
            continue
        name, alias = column.name.lower(), column.table.lower()
        reachable = reachable_tables(scope, context.names)
        own = base_tables(scope, context.names)
        if (alias and alias not in own) or (not alias and name in select_aliases(scope)):
            continue
        if any(name in context.names.columns[t.lower()] for t in reachable.values()):
            continue  # placed already, or ambiguous: not a missing join
        holders = {context.names.tables[t] for t, cols in context.names.columns.items() if name in cols} - set(
            reachable.values()
        )
        links = [
            (own_alias, mine, theirs)
            for (a_table, a_col), (b_table, b_col) in context.foreign_keys
            for (mine, theirs) in (((a_table, a_col), (b_table, b_col)), ((b_table, b_col), (a_table, a_col)))
            for own_alias, table in own.items()
            if table.lower() == mine[0].lower() and theirs[0] in holders
        ]
        if len(links) != 1:
            continue
        own_alias, mine, theirs = links[0]
        key = (id(select), theirs[0])
        if key not in joined:
            # A schema-qualified table (``concert.singer``) is called by its bare name, as SQL lets a query do.
            schema, bare = split_table_name(theirs[0], context.names.dialect)
            new_alias = bare if bare.lower() not in reachable else f"{bare}_1"
            table = exp.Table(
                this=identifier(bare, context.dialect), db=identifier(schema, context.dialect) if schema else None
            )
            if new_alias != bare:
                table.set("alias", exp.TableAlias(this=identifier(new_alias, context.dialect)))
            condition = exp.EQ(
                this=exp.column(mine[1], table=context.spelled.get(own_alias, own_alias)),
                expression=exp.column(theirs[1], table=identifier(new_alias, context.dialect)),
            )
            select.join(table, on=condition, copy=False)
            joined[key] = new_alias
            notes.append(f"joined {theirs[0]} on {mine[0]}.{mine[1]} = {theirs[0]}.{theirs[1]} for {column.name}")
        column.set("table", identifier(joined[key], context.dialect))
    return notes
