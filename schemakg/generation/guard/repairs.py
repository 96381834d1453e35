"""Repairs made without asking the LLM again: the slips small models make most and rarely repair
themselves. Each rule is a module in ``rules/``; ``RULES`` applies them in order to one parsed tree,
as sqlglot's optimizer applies its rules."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import sqlglot
from pydantic import BaseModel
from sqlglot import exp
from sqlglot.errors import SqlglotError

from schemakg.generation.guard.checks import GuardError, check_limits
from schemakg.generation.guard.rules import (
    join_equated_columns,
    missing_join,
    name_case,
    postgres_group_by,
    postgres_reserved_names,
    sqlite_keyword_qualifier,
    table_schema,
    text_number_comparison,
    unused_join,
    wrong_alias,
)
from schemakg.generation.guard.rules.context import RepairContext
from schemakg.kernel.sql.links import ColumnRef, SchemaNames

Rule = Callable[[exp.Expression, RepairContext], list[str]]
RULES: tuple[Rule, ...] = (
    table_schema.apply,
    wrong_alias.apply,
    join_equated_columns.apply,
    missing_join.apply,
    unused_join.apply,
    sqlite_keyword_qualifier.apply,
    name_case.apply,
    postgres_reserved_names.apply,
    text_number_comparison.apply,
    postgres_group_by.apply,
)


class Repaired(BaseModel):
    sql: str
    notes: list[str]


def repair(
    sql: str,
    dialect: str,
    names: SchemaNames,
    foreign_keys: Sequence[tuple[ColumnRef, ColumnRef]] = (),
    types: Mapping[tuple[str, str], str] | None = None,
    question: str | None = None,
    shown: Sequence[str] = (),
) -> Repaired:
    """Fix, without asking the LLM again, the slips small models make most and rarely repair
    themselves: a column put on the wrong alias when exactly one other table in reach has it; an
    unqualified column that joined tables share and the join equates; a column of a table the
    query never joins, when exactly one foreign key links that table to one the query reads (the
    join is added); an unquoted keyword used as a qualifier (SQLite rejects ``cast.aid``); and a table or
    qualifier spelt in a case a case-sensitive engine would not find (MariaDB's ``Allergy_type``); on PostgreSQL,
    a table or column named by a reserved word (``cast``), and, given the columns' ``types`` ((table, column)
    lower-cased), a text column compared with a number. Given the ``question``, an inner join the query reads only
    in its own condition, of a table the question does not name, is dropped. In a catalogue of several schemas, a
    bare table name the default schema lacks gets the schema of the one table it can mean (``shown``: the
    catalogue tables the prompt showed).
    SQL that does not parse, or needs no fix, comes back unchanged."""
    try:
        check_limits(sql)
        tree = sqlglot.parse_one(sql, read=dialect)
        if not isinstance(tree, exp.Expression):  # typing only: every tree the parser returns is one
            return Repaired(sql=sql, notes=[])
        context = RepairContext.of(tree, dialect, names, foreign_keys, types, question, shown)
        notes = [note for rule in RULES for note in rule(tree, context)]
        return Repaired(sql=tree.sql(dialect=dialect) if notes else sql, notes=notes)
    except (SqlglotError, GuardError, RecursionError):
        return Repaired(sql=sql, notes=[])
