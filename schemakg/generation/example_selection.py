"""Which logged examples to show the model: by the question, and by the question with its schema
mentions and values masked (DAIL-SQL's masked question similarity).

Two questions about the same tables look alike to a sentence embedding even when one counts and the
other lists; two questions of the same shape ("How many <mask> are older than <value>?") look alike
only once their schema words and values are masked. The first kind of example shows the model the
tables' joins and names, the second the query's shape, so the score mixes both."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

import sqlglot
from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlglot.tokens import Tokenizer, TokenType

MASK = "<mask>"
VALUE = "<value>"

_NAME_PARTS = re.compile(r"[_\s.]+")
_TOKENS = re.compile(r"\"[^\"]*\"|'[^']*'|\w+|[^\w\s]")
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_SENTENCE_END = {".", "?", "!"}


def name_words(names: Iterable[str]) -> frozenset[str]:
    """The words of table and column names (``home_team`` -> home, team), with their plurals: how a
    question mentions them."""
    words: set[str] = set()
    for name in names:
        for part in _NAME_PARTS.split(name.lower()):
            if len(part) > 1:
                words |= {part, part + "s", part + "es"}
    return frozenset(words)


class SqlReads(NamedTuple):
    """What a logged query reads, from one parse: the names of its tables and columns (to mask its question)
    and its tables, lower-cased and schema-qualified as it writes them, less its own CTEs (to tell which subject
    area it is about)."""

    names: list[str]
    tables: frozenset[str]


def sql_reads(sql: str, dialect: str | None = None) -> SqlReads:
    """What ``sql`` reads (nothing for SQL that does not parse)."""
    try:
        tree = sqlglot.parse_one(sql, read=dialect or "sqlite")
    except SqlglotError:
        return SqlReads([], frozenset())
    ctes = {cte.alias_or_name.lower() for cte in tree.find_all(exp.CTE)}
    tables = {".".join(part for part in (table.db, table.name) if part).lower() for table in tree.find_all(exp.Table)}
    return SqlReads(
        [node.name for node in tree.find_all(exp.Table, exp.Column) if node.name],
        frozenset(name for name in tables if name and name not in ctes),
    )


def mask_question(question: str, schema_words: frozenset[str]) -> str:
    """``question`` with schema words as ``<mask>`` and values (numbers, quoted text, capitalised words
    inside a sentence) as ``<value>``."""
    tokens = _TOKENS.findall(question)
    masked = []
    for position, token in enumerate(tokens):
        if token[0] in "\"'" or _NUMBER.fullmatch(token):
            masked.append(VALUE)
        elif token.lower() in schema_words:
            masked.append(MASK)
        elif position > 0 and token[0].isupper() and tokens[position - 1] not in _SENTENCE_END:
            masked.append(VALUE)
        else:
            masked.append(token)
    return " ".join(masked)


def sql_shape(sql: str) -> str:
    """``sql`` with its values masked and its case and spacing folded: two queries with the same shape
    differ only in their literals (a near-duplicate, for evaluation's held-out examples)."""
    try:
        tokens = Tokenizer().tokenize(sql)
    except SqlglotError:
        return " ".join(sql.split()).lower()
    return " ".join(
        VALUE if token.token_type in (TokenType.STRING, TokenType.NUMBER) else token.text.lower() for token in tokens
    )
