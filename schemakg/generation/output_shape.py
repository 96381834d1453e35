"""The output-shape check: does the SELECT list return as many columns as the question asks for?

Returning other columns than asked is the most frequent wrong answer that still runs. Of its kinds, one
is cheap to see without an LLM: a question that lists its attributes ("the ids and names of …", "the
name, born state and age of …") answered by fewer columns. The check counts the attributes of the
question's request (the words after "what are", "show", "list" … up to the first "of", "for", "who" …)
and compares them with the outermost SELECT list. It only ever says "too few": more columns than listed
are often right (a join key, "each" adding the grouping column), and counting them would flag good SQL.
On Spider's 8,659 training questions it flags the gold SQL of 13 (0.15 %), most of them gold SQL that
leaves a listed attribute out (docs/evaluation.md).
"""

from __future__ import annotations

import re

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError

# The question's request: the words a wh-question or an imperative asks to see.
_REQUEST = re.compile(
    r"^\s*(?:(?:what|which)\s+(?:is|are|were|was)|(?:show|list|find|give|return|display|report|tell)(?:\s+me)?)"
    r"\s+(?P<request>.+)$",
    re.IGNORECASE | re.DOTALL,
)
# Where the listed attributes end: their owner ("of the students"), a condition or an ordering.
_END = re.compile(
    r"\s(?:of|for|from|in|on|at|by|with|who|whom|whose|that|which|where|when|whether|if|than|"
    r"ordered|sorted|grouped|order|sort|per|among|between|across|during|before|after|to|together|"
    r"featuring|written|directed|produced|made|under)\s|[?.;:(\"'“]",
    re.IGNORECASE,
)
_SEPARATOR = re.compile(r"\s*,\s*(?:and\s+)?|\s+and\s+|\s*&\s*", re.IGNORECASE)
# "the male and female ratio" is one attribute: a comparison of the listed words.
_ONE_MEASURE = re.compile(r"\b(?:ratio|proportion|percentage|difference|rate)$", re.IGNORECASE)
_FILLER = re.compile(r"^(?:all|the|their|its|each|every|also|both|respective|corresponding|\s)+", re.IGNORECASE)


def requested_attributes(question: str) -> list[str] | None:
    """The attributes the question lists for its answer, or None when it lists fewer than two or its
    request is not of a form the check reads ("how many …", "which students …")."""
    match = _REQUEST.match(question)
    if match is None:
        return None
    request = match.group("request")
    end = _END.search(" " + request)
    head = (" " + request)[: end.start()] if end else " " + request
    if _ONE_MEASURE.search(head.strip()):
        return None
    items = [_FILLER.sub("", item).strip() for item in _SEPARATOR.split(head.strip())]
    items = [item for item in items if item]
    return items if len(items) >= 2 else None


def output_width(sql: str, dialect: str) -> int | None:
    """The number of columns the statement returns, or None when it cannot tell (``*``, unparsable)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect)
    except (SqlglotError, RecursionError):
        return None
    while isinstance(tree, exp.SetOperation):  # a UNION returns its first query's columns
        tree = tree.this
    if not isinstance(tree, exp.Select):
        return None
    if any(isinstance(column, exp.Star) or column.is_star for column in tree.expressions):
        return None
    return len(tree.expressions)


def missing_attributes(question: str, sql: str | None, dialect: str) -> tuple[list[str], int] | None:
    """(the attributes the question lists, the columns ``sql`` returns) when it returns fewer, else None."""
    wanted = requested_attributes(question) if sql else None
    width = output_width(sql, dialect) if sql and wanted else None
    return (wanted, width) if wanted is not None and width is not None and width < len(wanted) else None
