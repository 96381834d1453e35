"""Repair rule: an inner-joined table that the query reads only in its own join condition, and that the
question never names (by the table's words, or its join columns' own), is dropped.

Small models join a table they were shown but do not need ("first names of the students with major
600" joined to ``SportsInfo``), which repeats each row once per match and drops the rows without one. A
join the question asks for names its table ("students who registered for courses":
``student_course_registrations``), so that one stays. On Spider's 7,000 training questions the rule
changes 21 gold queries (15 results); docs/evaluation.md has the replay on the tuning split."""

from __future__ import annotations

import re

from sqlglot import exp
from sqlglot.optimizer.scope import traverse_scope

from schemakg.generation.guard.rules.context import RepairContext
from schemakg.kernel.sql.links import base_tables

_WORDS = re.compile(r"[a-z0-9]+")
_CAMEL = re.compile(r"([a-z])([A-Z])")
_STEM = 4  # a shared prefix this long ties "registered" to "registrations", "sport" to "SportsInfo"


def _words(name: str) -> set[str]:
    return {w for w in _WORDS.findall(_CAMEL.sub(r"\1 \2", name).lower().replace("_", " ")) if len(w) > 2}


def _named(words: set[str], question: str) -> bool:
    """Whether the question has one of ``words``, or a word sharing its first letters."""
    asked = _WORDS.findall(question.lower())
    return any(w == a or (len(w) >= _STEM and len(a) >= _STEM and w[:_STEM] == a[:_STEM]) for w in words for a in asked)


def _own_words(table: str, on: exp.Expression, alias: str) -> set[str]:
    """The words that name what the join adds: the table's, and its join columns' that the other side's lack
    (``VOTING_RECORD.President_VOTE = STUDENT.StuID``: president, vote; ``student_id = student_id``: none)."""
    mine = [c for c in on.find_all(exp.Column) if c.table.lower() == alias]
    theirs = [c for c in on.find_all(exp.Column) if c.table.lower() != alias]
    other = set().union(*(_words(c.name) for c in theirs))
    return _words(table) | (set().union(*(_words(c.name) for c in mine)) - other)


def _joins_only(on: exp.Expression, alias: str) -> bool:
    """Whether ``on`` is nothing but equalities of this table's columns with other tables' columns."""
    conjuncts = list(on.flatten()) if isinstance(on, exp.And) else [on]
    for condition in conjuncts:
        if not isinstance(condition, exp.EQ):
            return False
        left, right = condition.left, condition.right
        if not (isinstance(left, exp.Column) and isinstance(right, exp.Column)):
            return False
        sides = {left.table.lower(), right.table.lower()}
        if alias not in sides or len(sides) != 2:
            return False
    return True


def apply(tree: exp.Expression, context: RepairContext) -> list[str]:
    if not context.question:
        return []
    notes: list[str] = []
    for scope in traverse_scope(tree):
        select = scope.expression
        joins = select.args.get("joins") if isinstance(select, exp.Select) else None
        if not joins or any(star.find_ancestor(exp.Select) is select for star in select.find_all(exp.Star)):
            continue  # SELECT * and COUNT(*) read every joined table
        tables = base_tables(scope, context.names)
        for join in list(joins):
            table, on = join.this, join.args.get("on")
            if join.side or join.kind not in ("", "INNER") or not isinstance(table, exp.Table) or on is None:
                continue
            alias = table.alias_or_name.lower()
            name = tables.get(alias)
            if name is None or not _joins_only(on, alias):
                continue
            if _named(_own_words(table.name, on, alias), context.question):
                continue
            columns = context.names.columns.get(name.lower(), {})
            used = any(
                (column.table.lower() == alias) if column.table else column.name.lower() in columns
                for column in select.find_all(exp.Column)
                if column.find_ancestor(exp.Join) is not join
            )
            if not used:
                joins.remove(join)
                notes.append(f"dropped the join of {table.name}: the query reads it only to join it")
    return notes
