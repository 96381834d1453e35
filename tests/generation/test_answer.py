"""The answerer's cheap complexity estimate, which picks one call or least-to-most decomposition."""

from generation.answer import choose_mode
from retrieval.linked_schema import LinkedColumn, LinkedSchema


def _linked(*tables: str) -> LinkedSchema:
    return LinkedSchema(database="db", dialect="sqlite", tables=list(tables),
                        columns=[LinkedColumn(table=t, name="id") for t in tables])


def test_plain_aggregates_on_one_table_take_one_call() -> None:
    assert choose_mode("Show the average, minimum, and maximum age for each major.", _linked("student")) == "fast"


def test_a_join_found_by_linking_takes_least_to_most() -> None:
    assert choose_mode("Show each student's major name.", _linked("student", "major")) == "full"


def test_compositional_words_take_least_to_most_even_without_linking() -> None:
    assert choose_mode("Which students do not have any allergy?", None) == "full"
    assert choose_mode("Which product sold the most units?", None) == "full"


def test_without_linking_the_table_count_of_the_full_schema_does_not_count() -> None:
    assert choose_mode("What is the maximum and minimum market value of companies?", None) == "fast"
