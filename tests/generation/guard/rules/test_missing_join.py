from __future__ import annotations

from collections.abc import Callable

from schemakg.generation.guard.rules import missing_join

FOREIGN_KEYS = [(("employees", "DEPARTMENT_ID"), ("departments", "DEPARTMENT_ID"))]


def test_the_one_table_a_foreign_key_links_is_joined(run: Callable[..., tuple[list[str], str]]) -> None:
    notes, sql = run(
        missing_join.apply,
        "SELECT count(*) FROM employees AS e WHERE department_name = 'Finance'",
        foreign_keys=FOREIGN_KEYS,
    )
    assert notes == ["joined departments on employees.DEPARTMENT_ID = departments.DEPARTMENT_ID for department_name"]
    assert sql == (
        "SELECT COUNT(*) FROM employees AS e JOIN departments ON e.DEPARTMENT_ID = departments.DEPARTMENT_ID "
        "WHERE departments.department_name = 'Finance'"
    )


def test_nothing_is_joined_without_foreign_keys(run: Callable[..., tuple[list[str], str]]) -> None:
    query = "SELECT COUNT(*) FROM employees WHERE department_name = 'Finance'"
    assert run(missing_join.apply, query) == ([], query)


def test_nothing_is_joined_when_two_foreign_keys_could_link(run: Callable[..., tuple[list[str], str]]) -> None:
    two_paths = [*FOREIGN_KEYS, (("employees", "EMPLOYEE_ID"), ("departments", "DEPARTMENT_ID"))]
    query = "SELECT COUNT(*) FROM employees WHERE department_name = 'Finance'"
    assert run(missing_join.apply, query, foreign_keys=two_paths) == ([], query)


def test_a_column_the_query_already_reaches_needs_no_join(run: Callable[..., tuple[list[str], str]]) -> None:
    query = "SELECT first_name FROM employees WHERE salary > 10"
    assert run(missing_join.apply, query, foreign_keys=FOREIGN_KEYS) == ([], query)
