"""Column references (``table.column``): one injective form, unchanged for tables without ``.`` or ``\\``; and the
bounds every entry point puts on a question."""

from __future__ import annotations

import itertools

import pytest
from pydantic import TypeAdapter, ValidationError

from schemakg.kernel.model import Question, column_ref, split_column_ref

AWKWARD = ["a", "a.b", "a\\", "a.\\", ".", "..", "\\", "\\.", "a\\.b", "x y", "日本.語", ""]


def test_tables_without_dots_or_backslashes_read_as_before() -> None:
    assert column_ref("singer", "Name") == "singer.Name"
    assert column_ref("t", "x.y") == "t.x.y"  # the column part is never escaped
    assert column_ref("a/b", "c\\d") == "a/b.c\\d"
    assert split_column_ref("singer.Name") == ("singer", "Name")
    assert split_column_ref("t.x.y") == ("t", "x.y")  # the first dot, as ``split(".", 1)`` read it
    assert split_column_ref("a/b.c\\d") == ("a/b", "c\\d")


def test_a_schema_qualified_table_keeps_its_dot_escaped() -> None:
    assert column_ref("concert.singer", "name") == "concert\\.singer.name"
    assert split_column_ref("concert\\.singer.name") == ("concert.singer", "name")
    assert column_ref("back\\slash", "c.d") == "back\\\\slash.c.d"
    assert split_column_ref("back\\\\slash.c.d") == ("back\\slash", "c.d")


def test_every_pair_round_trips_and_no_two_pairs_share_a_reference() -> None:
    pairs = [(t, c) for t, c in itertools.product(AWKWARD, AWKWARD) if t]
    refs = {column_ref(t, c): (t, c) for t, c in pairs}
    assert len(refs) == len(pairs)
    for ref, pair in refs.items():
        assert split_column_ref(ref) == pair, ref


@pytest.mark.parametrize("ref", ["singer", "", "a\\.b", "\\"])
def test_a_reference_without_a_separator_is_refused(ref: str) -> None:
    with pytest.raises(ValueError, match=r"table\.column"):
        split_column_ref(ref)


@pytest.mark.parametrize("text", ["", " ", "\n\t ", "x" * 2001])
def test_a_question_needs_words_and_a_bound(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(Question).validate_python(text)


def test_a_question_is_kept_as_written() -> None:
    assert TypeAdapter(Question).validate_python("  How many? ") == "  How many? "
