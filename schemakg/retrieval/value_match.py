"""Schema-linking relations between question n-grams and the catalogue (Graphix-T5's exact,
partial and value matches).

Values come from the catalogue's sampled distinct text values (bounded per column at
ingestion). They are indexed by character trigrams, so fuzzy matching costs one lookup per
trigram of the n-gram, not a scan. Trigrams shared by very many values are skipped, which
keeps the cost bounded on columns with many distinct values.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Collection, Iterable, Iterator, Sequence
from itertools import chain
from typing import Literal

from pydantic import BaseModel

MatchKind = Literal["exact_value", "partial_value", "exact_name", "partial_name"]
_KIND_RANK = {"exact_value": 0, "exact_name": 1, "partial_value": 2, "partial_name": 3}
_WORD = re.compile(r"[\w'\-\.]+|\"[^\"]+\"", re.UNICODE)
# A literal: a double-quoted string, a single-quoted one (not an apostrophe), or a capitalised word; a sentence
# ends at . ? ! and its first word is capitalised anyway.
_QUOTED = re.compile(r"\"([^\"]+)\"|(?<!\w)'([^']+)'(?!\w)")
_LITERAL_TOKEN = re.compile(r"[\w'\-]+|[.?!]|\x00", re.UNICODE)  # \x00: where a quoted string was
# The longest span of a capitalised run looked up: a run's spans grow with its square (an all-caps question).
_LITERAL_WORDS = 6
# Lowercase words that a name keeps between capitalised ones ("Call of Destiny", "Rio de Janeiro").
_CONNECTORS = frozenset(
    ["of", "the", "de", "la", "le", "du", "del", "des", "da", "di", "von", "van", "der", "den", "y"]
)
_STOPWORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "do",
        "does",
        "did",
        "for",
        "from",
        "has",
        "have",
        "how",
        "in",
        "is",
        "it",
        "its",
        "many",
        "much",
        "of",
        "on",
        "or",
        "that",
        "the",
        "their",
        "there",
        "these",
        "this",
        "those",
        "to",
        "was",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "why",
        "with",
        "all",
        "any",
        "each",
        "list",
        "show",
        "give",
        "find",
        "number",
        "count",
        "name",
        "names",
    ]
)


class ValueMatch(BaseModel):
    table: str
    column: str
    ngram: str
    kind: MatchKind
    score: float
    value: str | None = None

    def hint(self) -> str:
        if self.value is None:
            return f"'{self.ngram}' names {self.table}.{self.column}"
        return f"'{self.value}' is a value of {self.table}.{self.column}"


def _normal(text: str) -> str:
    return " ".join(re.sub(r"[_\s]+", " ", text.strip().lower()).split())


def _trigrams(text: str) -> set[str]:
    padded = f"  {text} "
    return {padded[i : i + 3] for i in range(len(padded) - 2)}


def question_ngrams(question: str, max_n: int = 4) -> list[tuple[int, int, str]]:
    """(start, end, text) for every word n-gram; quoted strings count as one word."""
    words = [w.strip("\"'.").lower() for w in _WORD.findall(question)]
    words = [w for w in words if w]
    out = []
    for n in range(1, max_n + 1):
        for start in range(len(words) - n + 1):
            gram = words[start : start + n]
            if gram[0] in _STOPWORDS or gram[-1] in _STOPWORDS:
                continue
            out.append((start, start + n, " ".join(gram)))
    return out


def question_literals(question: str) -> list[str]:
    """What the question writes as a literal, normalised, longest first: its quoted strings, and each run of
    capitalised words that does not open a sentence with its spans of up to ``_LITERAL_WORDS`` words ("played by
    Linda Smith": ``linda smith``, ``linda``, ``smith``). A run keeps the connectors of a name ("Call of Destiny"),
    but no span opens or closes on one. A value the question quotes or names this way is evidence of where it
    lives; a word that merely matches some value ("city", "2010") is not."""
    literals = {_normal(a or b) for a, b in _QUOTED.findall(question)}
    unquoted = _QUOTED.sub(" \x00 ", question)
    run: list[tuple[str, bool]] = []  # (word, capitalised)
    joining: list[tuple[str, bool]] = []  # connectors after the run, kept if a capitalised word follows
    opening = True
    for token in [*_LITERAL_TOKEN.findall(unquoted), "."]:
        if token[0].isupper() and not opening:
            run += [*joining, (token.lower(), True)]
            joining = []
        elif run and token in _CONNECTORS:
            joining.append((token, False))
        else:
            literals.update(_spans(run))
            run, joining = [], []
        opening = token in ".?!"
    return sorted((literal for literal in literals if len(literal) >= 2), key=lambda literal: (-len(literal), literal))


def _spans(run: Sequence[tuple[str, bool]]) -> Iterator[str]:
    for start in range(len(run)):
        for end in range(start + 1, min(len(run), start + _LITERAL_WORDS) + 1):
            if run[start][1] and run[end - 1][1]:
                yield " ".join(word for word, _ in run[start:end])


def outermost(literals: Sequence[str]) -> list[str]:
    """``literals`` (longest first) less those within a longer one: what the question wrote, not its spans."""
    kept: list[str] = []
    for literal in literals:
        if not _inside(literal, kept):
            kept.append(literal)
    return kept


def judged_literals(question: str) -> list[str]:
    """The literals ``question`` wrote (:func:`outermost`) that a value list can be said to lack: those of three
    characters or more, since two ('en') are within nearly any list's values."""
    return [literal for literal in outermost(question_literals(question)) if len(literal) >= 3]


def _inside(literal: str, longer: Iterable[str]) -> bool:
    return any(f" {literal} " in f" {other} " for other in longer)


def sample_completeness(columns: Iterable[tuple[Sequence[str], int | None]]) -> float:
    """Of the columns with sampled text values (``(values, distinct estimate)``), the share whose values are all
    of the column's distinct values: a small table's names, a code list. A large table's names are a sample."""
    counted = [(values, distinct) for values, distinct in columns if values]
    complete = sum(1 for values, distinct in counted if distinct is not None and len(values) >= distinct)
    return complete / len(counted) if counted else 0.0


class ValueIndex:
    def __init__(
        self,
        columns: Iterable[tuple[str, str, Sequence[str]]],
        min_similarity: float = 0.72,
        max_postings: int = 2_000,
        completeness: float = 0.0,
    ) -> None:
        """``columns``: (table, column, sampled text values). ``completeness``: the share of those columns whose
        sample holds every distinct value (:func:`sample_completeness`), so how sure a value this index lacks is
        one the database lacks."""
        self.min_similarity = min_similarity
        self.completeness = completeness
        self.max_postings = max_postings
        self._values: list[tuple[str, str, str, str, set[str]]] = []  # table, column, value, normal, trigrams
        self._by_normal: dict[str, list[int]] = defaultdict(list)
        self._postings: dict[str, list[int]] = defaultdict(list)
        self._names: dict[str, list[tuple[str, str]]] = defaultdict(list)
        self._names_with_word: dict[str, set[str]] = defaultdict(set)
        for table, column, values in columns:
            name = _normal(column)
            self._names[name].append((table, column))
            for word in name.split():
                self._names_with_word[word].add(name)
            for value in dict.fromkeys(values):
                normal = _normal(value)
                if len(normal) < 2:
                    continue
                grams = _trigrams(normal)
                index = len(self._values)
                self._values.append((table, column, value, normal, grams))
                self._by_normal[normal].append(index)
                for gram in grams:
                    self._postings[gram].append(index)
        self._name_rank = {name: rank for rank, name in enumerate(self._names)}

    def __len__(self) -> int:
        return len(self._values)

    def match(self, question: str, max_matches: int = 20, within: Collection[str] | None = None) -> list[ValueMatch]:
        """The best ``max_matches`` matches, in the tables ``within`` only when given: the linker's focus (a large
        schema's subject areas, where the same words match hundreds of columns elsewhere; a smaller one's best
        tables)."""
        found: dict[tuple[str, str, str | None], ValueMatch] = {}
        covered: list[tuple[int, int]] = []
        grams = sorted(question_ngrams(question), key=lambda g: g[0] - g[1])  # longest first
        for start, end, text in grams:
            inside_exact = any(s <= start and end <= e for s, e in covered)
            matches = [m for m in self._exact(text) if within is None or m.table in within]
            if matches:
                covered.append((start, end))
            elif not inside_exact and len(text) >= 4:
                matches = [m for m in self._partial(text) if within is None or m.table in within]
            for match in matches:
                key = (match.table, match.column, match.value)
                if key not in found or match.score > found[key].score:
                    found[key] = match
        ranked = sorted(found.values(), key=lambda m: (_KIND_RANK[m.kind], -m.score, -len(m.ngram)))
        return ranked[:max_matches]

    def literal_values(self, literals: Sequence[str]) -> list[ValueMatch]:
        """The sampled values that are exactly one of the question's ``literals`` (:func:`question_literals`,
        longest first); a literal within a longer one already found is not looked up ("Linda Smith" found: not
        ``smith`` too)."""
        found: list[ValueMatch] = []
        matched: list[str] = []
        for literal in literals:
            if _inside(literal, matched):
                continue
            values = [self._values[i] for i in self._by_normal.get(literal, ())]
            if values:
                matched.append(literal)
                found += [
                    ValueMatch(table=t, column=c, ngram=literal, kind="exact_value", score=1.0, value=v)
                    for t, c, v, _, _ in values
                ]
        return found

    def holds_within(self, literals: Iterable[str]) -> bool:
        """Whether a sampled value contains one of ``literals`` of three characters or more ("names containing
        'Swift'": ``Taylor Swift``). Only the values holding the literal's rarest trigram are read, and a trigram
        no value holds ends the look-up."""
        for literal in literals:
            rarest: list[int] | None = None
            for start in range(len(literal) - 2):
                postings = self._postings.get(literal[start : start + 3])
                if not postings:
                    break
                if rarest is None or len(postings) < len(rarest):
                    rarest = postings
            else:
                if rarest is not None and any(literal in self._values[i][3] for i in rarest):
                    return True
        return False

    def _exact(self, text: str) -> list[ValueMatch]:
        matches = [
            ValueMatch(table=t, column=c, ngram=text, kind="exact_value", score=1.0, value=v)
            for t, c, v, _, _ in (self._values[i] for i in self._by_normal.get(text, ()))
        ]
        matches += [
            ValueMatch(table=t, column=c, ngram=text, kind="exact_name", score=1.0)
            for t, c in self._names.get(text, ())
        ]
        return matches

    def _partial(self, text: str) -> list[ValueMatch]:
        """Values sharing enough trigrams with ``text`` (Dice), and column names holding all its words.
        Runs for every n-gram of every question, so the counting is left to C (``Counter``)."""
        grams = _trigrams(text)
        shared = Counter(
            chain.from_iterable(
                postings
                for postings in (self._postings.get(gram, ()) for gram in grams)
                if len(postings) <= self.max_postings  # a gram too common to discriminate; skipping bounds the cost
            )
        )
        # Dice = 2c / (|grams| + |value grams|) >= min_similarity needs c >= min_similarity * |grams| / 2.
        fewest = self.min_similarity * len(grams) / 2
        matches = []
        for index, count in shared.items():
            if count < fewest:
                continue
            table, column, value, _, value_grams = self._values[index]
            similarity = 2 * count / (len(grams) + len(value_grams))
            if similarity >= self.min_similarity:
                matches.append(
                    ValueMatch(
                        table=table,
                        column=column,
                        ngram=text,
                        kind="partial_value",
                        score=round(similarity, 3),
                        value=value,
                    )
                )
        words = set(text.split())
        if len(words) > 1:
            names = set.intersection(*(self._names_with_word.get(word, set()) for word in words))
            for name in sorted(names, key=self._name_rank.__getitem__):  # the catalogue's order, as before
                refs = self._names[name]
                matches += [ValueMatch(table=t, column=c, ngram=text, kind="partial_name", score=0.8) for t, c in refs]
        return matches
