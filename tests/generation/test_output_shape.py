"""The output-shape check reads the attributes a question lists and the columns a query returns; it only
ever says "too few"."""

from __future__ import annotations

import pytest

from schemakg.generation.output_shape import missing_attributes, output_width, requested_attributes


@pytest.mark.parametrize(
    ("question", "attributes"),
    [
        ("What are the ids and names of the companies that operated more than one flight?", ["ids", "names"]),
        ("Show the names and total passengers for all train stations not in London.", ["names", "total passengers"]),
        ("List the name, born state and age of the heads of departments.", ["name", "born state", "age"]),
        ("What is the average, minimum, and maximum age of all singers?", ["average", "minimum", "maximum age"]),
        ("Find the first name and last name of the students who live in Dallas.", ["first name", "last name"]),
        ("Give me the name and the number of employees of each department", ["name", "number"]),
    ],
)
def test_the_listed_attributes_are_read(question: str, attributes: list[str]) -> None:
    assert requested_attributes(question) == attributes


@pytest.mark.parametrize(
    "question",
    [
        "How many singers and concerts are there?",  # not a request the check reads
        "Which countries have both a singer and a concert?",
        "What are the names of the students who live in Dallas and Austin?",  # one attribute: "and" is later
        "What is the male and female ratio among the professors?",  # one measure of two words
        'Find all movies featuring " Woody Strode " and " Jason Robards "',  # the values are not attributes
        "What are the Department ids under the Sales and Marketing Group?",
        "Show the name of each stadium.",
    ],
)
def test_a_question_listing_fewer_than_two_attributes_is_left_alone(question: str) -> None:
    assert requested_attributes(question) is None


def test_the_outermost_select_list_is_counted() -> None:
    assert output_width("SELECT a, b FROM t WHERE c IN (SELECT c FROM u)", "sqlite") == 2
    assert output_width("SELECT a FROM t UNION SELECT b FROM u", "sqlite") == 1
    assert output_width("WITH x AS (SELECT a, b FROM t) SELECT a FROM x", "sqlite") == 1
    assert output_width("SELECT * FROM t", "sqlite") is None
    assert output_width("SELECT t.* FROM t", "sqlite") is None
    assert output_width("SELECT FROM WHERE", "sqlite") is None


def test_only_too_few_columns_are_flagged() -> None:
    question = "What are the ids and names of the companies?"
    assert missing_attributes(question, "SELECT id FROM company", "sqlite") == (["ids", "names"], 1)
    assert missing_attributes(question, "SELECT id, name FROM company", "sqlite") is None
    assert missing_attributes(question, "SELECT id, name, country FROM company", "sqlite") is None
    assert missing_attributes("How many companies are there?", "SELECT COUNT(*) FROM company", "sqlite") is None
    assert missing_attributes(question, None, "sqlite") is None
