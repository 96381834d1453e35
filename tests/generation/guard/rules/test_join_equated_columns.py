from __future__ import annotations

from collections.abc import Callable

from schemakg.generation.guard.rules import join_equated_columns


def test_a_shared_column_the_join_equates_is_qualified(run: Callable[..., tuple[list[str], str]]) -> None:
    notes, sql = run(
        join_equated_columns.apply,
        "SELECT department_id FROM employees JOIN departments ON employees.department_id = departments.department_id",
    )
    assert notes == ["department_id -> employees.department_id (the join makes every copy equal)"]
    assert sql == (
        "SELECT employees.department_id FROM employees JOIN departments "
        "ON employees.department_id = departments.department_id"
    )


def test_a_shared_column_the_join_does_not_equate_is_left_ambiguous(
    run: Callable[..., tuple[list[str], str]],
) -> None:
    query = "SELECT department_id FROM employees JOIN departments ON employees.salary = departments.department_id"
    assert run(join_equated_columns.apply, query) == ([], query)


def test_a_select_alias_is_not_a_column(run: Callable[..., tuple[list[str], str]]) -> None:
    query = (
        "SELECT COUNT(*) AS department_id FROM employees JOIN departments "
        "ON employees.department_id = departments.department_id ORDER BY department_id"
    )
    assert run(join_equated_columns.apply, query) == ([], query)
