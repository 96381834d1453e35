"""Repair rule: a table written without its schema, or with another schema, in a catalogue of several schemas."""

from __future__ import annotations

from sqlglot import exp

from schemakg.generation.guard.rules.context import RepairContext
from schemakg.kernel.sql.names import identifier, split_table_name


def apply(tree: exp.Expression, context: RepairContext) -> list[str]:
    """Give a table that resolves to nothing (``student``, or ``bird_soccer_2016.match_season``) the schema of
    the one table of that name the query can mean: the one in a schema the query reads, else the one the prompt
    showed, else the catalogue's only one. Small models drop or mix up the schema that the prompt's
    ``CREATE TABLE spider_college_3.student`` wrote (the validation warehouse's PostgreSQL copy), and PostgreSQL
    would look for ``public.student``. A name that stays ambiguous is left for the guard to refuse."""
    names, dialect = context.names, context.dialect
    if not names.qualified:
        return []
    tables = [t for t in tree.find_all(exp.Table) if isinstance(t.this, exp.Identifier)]
    resolved = {id(t): real for t in tables if (real := names.table_of(t)) is not None}
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    lost = [t for t in tables if id(t) not in resolved and not (not t.db and t.name.lower() in ctes)]
    if not lost:
        return []
    read_schemas = {split_table_name(real, dialect)[0] for real in resolved.values()}
    notes: list[str] = []
    while lost:  # a table placed by this rule tells the schema of the others (``concert`` and then ``singer``)
        placed = {id(table) for table in lost if _place(table, context, read_schemas, notes)}
        if not placed:
            break
        lost = [table for table in lost if id(table) not in placed]  # by identity: equal nodes can recur
    return notes


def _place(table: exp.Table, context: RepairContext, read_schemas: set[str | None], notes: list[str]) -> bool:
    """Qualify ``table`` when one table of its name is left after narrowing; its schema joins ``read_schemas``."""
    dialect = context.dialect
    candidates = context.names.same_named(table.name)
    for narrowed in (
        [c for c in candidates if split_table_name(c, dialect)[0] in read_schemas],
        [c for c in candidates if c in context.shown],
        candidates,
    ):
        if len(narrowed) == 1:
            schema, name = split_table_name(narrowed[0], dialect)
            written = ".".join(part.name for part in table.parts)
            table.set("db", None if schema is None else identifier(schema, dialect))  # None: the default's
            table.set("this", identifier(name, dialect))
            notes.append(f"wrote table {written} with its schema: {narrowed[0]}")
            read_schemas.add(schema)
            return True
    return False
