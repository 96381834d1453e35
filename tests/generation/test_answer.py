"""The answerer's cheap complexity estimate, which picks one call or least-to-most decomposition."""

from schemakg.generation.answer import choose_mode


def test_plain_aggregates_and_superlatives_take_one_call() -> None:
    assert choose_mode("Show the average, minimum, and maximum age for each major.") == "fast"
    assert choose_mode("What is the maximum and minimum market value of companies?") == "fast"
    assert choose_mode("What is the highest salary of any employee?") == "fast"
    assert choose_mode("Which product sold the most units?") == "fast"


def test_compositional_questions_take_least_to_most() -> None:
    assert choose_mode("Which students do not have any allergy?") == "full"
    assert choose_mode("List the cities with more than 3 stores.") == "full"
    assert choose_mode("Which products were ordered by both Alice and Bob?") == "full"
