"""Column names that a question or its evidence spells out exactly (``shippedDate``, ``unit_price``): evidence of
which subject area of a large schema it is about, and columns to link.

Evidence often names the columns it means ("when shipped refers to shippedDate"), and so do users who know their
warehouse. The retriever reads such a name as word pieces, like any other word; an exact match says more. Only
names that cannot be ordinary words count (snake_case or camelCase): "name" or "year" are in every area. A name
held by several areas is shared among them, and every column of that name within the focus is linked. On the
validation warehouse this put the right area first for 0.834 of the BIRD questions (whose evidence names columns)
instead of 0.788, and changed no Spider question (docs/evaluation.md).

Within the tables already linked, any column the text names word for word is linked too (``first``, ``middle``,
``last`` for "full name refers to first, middle, last"; hockey's ``W`` for "wins refers to W"): there a plain word
no longer has every area to choose from. So are the first and last name columns where the text asks for a name or
who: a person's name is both.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from typing import TypeVar

from schemakg.retrieval.question_words import FUNCTION_WORDS

K = TypeVar("K")
WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CAMEL = re.compile(r"[a-z][A-Z]")
_CAMEL_BOUNDARY = re.compile(r"([a-z])([A-Z])")
_LETTERS = re.compile(r"[a-z]+")
_ASKS_FOR_NAME = frozenset({"name", "names", "who"})
_NAME_PARTS = frozenset({"first", "last"})
_NAME_WORDS = _NAME_PARTS | {"name"}


def is_identifier(name: str) -> bool:
    """A name no one writes as an ordinary word: snake_case (``order_id``) or camelCase (``shippedDate``)."""
    return "_" in name.strip("_") or _CAMEL.search(name) is not None


def words(text: str) -> set[str]:
    """The lower-cased words of a text or a name, camelCase and snake_case split (``shippedDate``: shipped, date),
    digits dropped (``addressLine1``: address, line)."""
    return set(_LETTERS.findall(_CAMEL_BOUNDARY.sub(r"\1 \2", text).lower()))


def named_in(name: str, said: set[str]) -> bool:
    """Whether a text whose ``words`` are ``said`` names the column ``name``: word for word (a name of function words
    only, ``to``, ``no``, is said by any question), or as a part of a person's name where the text asks for a name or
    who (``firstName``, ``last_name``: the answer is both)."""
    own = words(name)
    if not own or own <= FUNCTION_WORDS:
        return False
    if _split(own, said) <= said:
        return True
    parts = _split(own, _NAME_WORDS)
    return bool(said & _ASKS_FOR_NAME) and len(parts) == 2 and bool(parts & _NAME_PARTS) and "name" in parts


def _split(own: set[str], vocabulary: Collection[str]) -> set[str]:
    """``own``, each word that runs several words of ``vocabulary`` together split into them: PostgreSQL folds
    ``shippedDate`` to ``shippeddate``, and many schemas write ``firstname``."""
    split: set[str] = set()
    for word in own:
        if word in vocabulary:
            split.add(word)
            continue
        # ways[i]: words of vocabulary, two letters or more, that spell word[:i], if any do
        ways: list[list[str] | None] = [[]] + [None] * len(word)
        for end in range(2, len(word) + 1):
            for start in range(end - 2, -1, -1):
                done = ways[start]
                if done is not None and word[start:end] in vocabulary:
                    ways[end] = [*done, word[start:end]]
                    break
        split |= set(ways[-1]) if ways[-1] is not None else {word}
    return split


class Identifiers:
    """A schema's identifier-like column names: the columns so named, and the subject areas holding them."""

    def __init__(self, columns: Iterable[tuple[str, str]], areas: Mapping[str, int]) -> None:
        named: dict[str, list[tuple[str, str]]] = {}
        for table, name in columns:
            if table in areas and WORD.fullmatch(name):
                named.setdefault(name.lower(), []).append((table, name))
        self._columns = named
        # Whether a name is identifier-like as the schema spells it. PostgreSQL folds unquoted names to lower case
        # (``shippeddate``), so the question's spelling (``shippedDate``) counts as well.
        self._spelled_as_identifier = {word for word, refs in named.items() if any(is_identifier(n) for _, n in refs)}
        self._areas = {word: {areas[table] for table, _ in refs} for word, refs in named.items()}

    def names(self, text: str) -> list[str]:
        """The column names (lower-cased) that ``text`` spells out, where the text or the schema writes them as
        identifiers."""
        return sorted(
            {
                word.lower()
                for word in WORD.findall(text)
                if word.lower() in self._columns
                and (is_identifier(word) or word.lower() in self._spelled_as_identifier)
            }
        )

    def columns(self, text: str) -> list[tuple[str, str]]:
        """The columns whose names ``text`` spells out."""
        return [ref for word in self.names(text) for ref in self._columns[word]]

    def areas(self, text: str, count: int) -> list[float]:
        """For each of ``count`` areas, how many names of ``text`` it holds a column of, each name shared equally
        among the areas that hold one."""
        held: dict[int, list[str]] = {}
        for word in self.names(text):
            for area in self._areas[word]:
                held.setdefault(area, []).append(word)
        found = [0.0] * count
        for area, share in shares(held).items():
            found[area] = share
        return found


def shares(named: Mapping[K, Collection[str]]) -> dict[K, float]:
    """For each group (an area, a database), how many of the names it holds, each name shared equally among the
    groups that hold it."""
    holders: dict[str, int] = {}
    for names in named.values():
        for name in names:
            holders[name] = holders.get(name, 0) + 1
    return {group: sum(1.0 / holders[name] for name in names) for group, names in named.items()}
