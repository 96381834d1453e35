"""JSON extraction from the kinds of replies small models give when asked for JSON."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from generation.llm.json_output import JSONOutputError, extract_json, extract_json_as


class ColumnRef(BaseModel):
    table: str
    column: str


def test_plain_object_and_array() -> None:
    assert extract_json('{"a": 1}') == {"a": 1}
    assert extract_json(" [1, 2, 3]\n") == [1, 2, 3]


def test_fenced_block_wins_over_surrounding_prose() -> None:
    reply = 'Sure! Example: {"not": "this"}\n```json\n{"sql": "SELECT count(*) FROM singer"}\n```\nHope it helps.'
    assert extract_json(reply) == {"sql": "SELECT count(*) FROM singer"}


def test_fence_without_language_tag() -> None:
    assert extract_json('```\n[{"c": "x"}]\n```') == [{"c": "x"}]


def test_object_inside_prose() -> None:
    reply = 'Here\'s the mapping you asked for: {"table": "singer", "column": "country"}. Let me know!'
    assert extract_json(reply) == {"table": "singer", "column": "country"}


def test_nested_values_and_brackets_inside_strings() -> None:
    reply = 'Result -> {"cols": [{"name": "a}b", "deps": ["x[0]", "{y}"]}], "n": {"k": [1, [2]]}} done'
    assert extract_json(reply) == {"cols": [{"name": "a}b", "deps": ["x[0]", "{y}"]}], "n": {"k": [1, [2]]}}


def test_first_top_level_value_is_returned() -> None:
    assert extract_json('{"first": 1} and then {"second": 2}') == {"first": 1}


def test_broken_object_is_skipped_whole_not_mined_for_nested_values() -> None:
    assert extract_json('{"a": {"b": 1}, oops} then [1, 2]') == [1, 2]


def test_trailing_commas_are_repaired() -> None:
    assert extract_json('{"a": [1, 2, ], "b": {"c": 3,},}') == {"a": [1, 2], "b": {"c": 3}}


def test_single_quotes_are_repaired_only_where_strings_start() -> None:
    reply = "Here's what I found: {'name': 'O\\'Brien', 'note': 'say \"hi\"', \"kept\": \"don't\"}"
    assert extract_json(reply) == {"name": "O'Brien", "note": 'say "hi"', "kept": "don't"}


def test_escaped_quotes_inside_strings() -> None:
    assert extract_json(r'{"q": "he said \"}\" twice"}') == {"q": 'he said "}" twice'}


def test_no_json_is_a_clear_error() -> None:
    with pytest.raises(JSONOutputError, match="no JSON object or array"):
        extract_json("SELECT count(*) FROM singer WHERE country = 'France'")


def test_scalars_do_not_count() -> None:
    with pytest.raises(JSONOutputError):
        extract_json('"just a string" 42 true')


def test_truncated_reply_says_so() -> None:
    with pytest.raises(JSONOutputError, match="never closes"):
        extract_json('```json\n{"columns": ["singer.name", "singer.coun')


def test_validation_into_a_model() -> None:
    ref = extract_json_as('Answer: {"table": "singer", "column": "country"}', ColumnRef)
    assert ref == ColumnRef(table="singer", column="country")


def test_validation_failure_names_the_field() -> None:
    with pytest.raises(JSONOutputError, match=r"ColumnRef.*column"):
        extract_json_as('{"table": "singer"}', ColumnRef)
