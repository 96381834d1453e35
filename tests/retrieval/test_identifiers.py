"""Which column names a question spells out, and which subject areas hold them (pure parsing logic)."""

from __future__ import annotations

import pytest

from schemakg.retrieval.identifiers import Identifiers, is_identifier, named_in, shares, words


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("shippedDate", True),
        ("unit_price", True),
        ("priceEach", True),
        ("ORDER_ID", True),
        ("name", False),
        ("Year", False),
        ("_id", False),  # one word behind an underscore
        ("URL", False),
        ("id2", False),
    ],
)
def test_only_names_that_cannot_be_ordinary_words_count(name: str, expected: bool) -> None:
    assert is_identifier(name) is expected


def test_a_spelled_name_gives_its_columns_and_counts_for_the_areas_that_hold_it_shared_among_them() -> None:
    areas = {"sales__orders": 0, "sales__items": 0, "hr__staff": 1, "crm__orders": 2}
    columns = [
        ("sales__orders", "shippedDate"),
        ("sales__orders", "order_id"),
        ("sales__items", "priceEach"),
        ("sales__items", "order_id"),
        ("crm__orders", "order_id"),
        ("hr__staff", "name"),
        ("unknown__table", "shippedDate"),  # not in any area: ignored
    ]
    index = Identifiers(columns, areas)
    text = "When was the product with the highest unit price shipped? Highest refers to MAX(PRICEEACH); shippedDate."
    assert index.areas(text, 3) == [2.0, 0.0, 0.0]  # two names, each held by sales alone; case does not matter
    assert index.areas("Count the orders by order_id, order_id twice", 3) == [0.5, 0.0, 0.5]  # once, shared
    assert index.areas("What is the name of each staff member?", 3) == [0.0, 0.0, 0.0]  # "name" is a word
    assert index.columns(text) == [("sales__items", "priceEach"), ("sales__orders", "shippedDate")]
    assert index.columns("by ORDER_ID") == [
        ("sales__orders", "order_id"),
        ("sales__items", "order_id"),
        ("crm__orders", "order_id"),
    ]
    assert index.columns("What is the name of each staff member?") == []


def test_a_name_held_by_several_databases_is_shared_among_them() -> None:
    named = {"sales": ["order_id", "shippeddate"], "crm": ["order_id"], "hr": []}
    assert shares(named) == {"sales": 1.5, "crm": 0.5, "hr": 0.0}


def test_a_name_the_source_folded_to_lower_case_counts_when_the_question_writes_it_as_an_identifier() -> None:
    index = Identifiers([("sales.orders", "shippeddate"), ("sales.orders", "name")], {"sales.orders": 0})
    assert index.columns("when shipped refers to shippedDate") == [("sales.orders", "shippeddate")]
    assert index.columns("when shipped refers to shippeddate") == []  # neither side writes it as an identifier
    assert index.columns("the Name of each order") == []


def test_words_split_camel_and_snake_case_and_drop_digits() -> None:
    assert words("playerID, addressLine1 and PostSHO; Date received") == {
        "player",
        "id",
        "address",
        "line",
        "and",
        "post",
        "sho",
        "date",
        "received",
    }


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("first", True),
        ("W", True),  # "wins refers to W"
        ("Date received", True),
        ("birth_date", True),
        ("nameGiven", False),  # "given" is not said
        ("to", False),  # function words only: any question says them
        ("L", False),
    ],
)
def test_a_column_is_named_when_the_text_says_every_word_of_its_name(name: str, expected: bool) -> None:
    said = words("Full name refers to first, middle, last; wins refers to W; the birth date when it was received")
    assert named_in(name, said) is expected


def test_a_person_s_name_is_its_first_and_last_name_columns() -> None:
    for asked in ("Who is the tallest goalie?", "List the names of the goalies."):
        assert named_in("firstName", words(asked)) and named_in("last_name", words(asked))
        assert not named_in("nameGiven", words(asked)) and not named_in("first_season", words(asked))
    assert not named_in("firstName", words("How tall is the tallest goalie?"))


def test_a_name_that_runs_words_together_is_split_into_the_words_the_text_says() -> None:
    said = words("Who shipped the order, and on which date? Tell us as a list")
    assert named_in("shippeddate", said) and named_in("firstname", said)  # PostgreSQL folded ``shippedDate``
    assert not named_in("shippingdate", said) and not named_in("namegiven", said)
    assert not named_in("usa", said)  # not from one-letter words ("a")
