"""Which question words coverage reads."""

from __future__ import annotations

import pytest

from schemakg.retrieval.question_words import is_content


@pytest.mark.parametrize("word", ["singers", "France", "2010", "salary", "first", "name", "top"])
def test_words_that_can_name_data_count(word: str) -> None:
    assert is_content(word)


@pytest.mark.parametrize("word", ["What", "the", "are", "of", "How", "many", "?", ",", "'"])
def test_function_words_and_punctuation_do_not(word: str) -> None:
    assert not is_content(word)
