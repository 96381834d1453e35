from __future__ import annotations

from collections.abc import Callable

from schemakg.generation.guard.rules import wrong_alias


def test_a_column_moves_to_the_one_alias_whose_table_has_it(run: Callable[..., tuple[list[str], str]]) -> None:
    notes, sql = run(
        wrong_alias.apply,
        "SELECT T2.first_name FROM employees AS T1 JOIN departments AS T2 ON T1.department_id = T2.department_id",
    )
    assert notes == ["T2.first_name -> T1.first_name (departments has no column first_name)"]
    assert sql == (
        "SELECT T1.first_name FROM employees AS T1 JOIN departments AS T2 ON T1.department_id = T2.department_id"
    )


def test_the_alias_keeps_the_spelling_the_query_uses(run: Callable[..., tuple[list[str], str]]) -> None:
    notes, sql = run(wrong_alias.apply, "SELECT Dep.salary FROM Employees AS Emp JOIN departments AS Dep ON 1 = 1")
    assert notes == ["Dep.salary -> Emp.salary (departments has no column salary)"]
    assert sql == "SELECT Emp.salary FROM Employees AS Emp JOIN departments AS Dep ON 1 = 1"


def test_no_move_that_would_compare_a_column_with_itself(run: Callable[..., tuple[list[str], str]]) -> None:
    query = "SELECT e.first_name FROM employees AS e JOIN departments AS d ON e.salary = d.salary"
    assert run(wrong_alias.apply, query) == ([], query)


def test_no_move_when_no_table_in_reach_has_the_column(run: Callable[..., tuple[list[str], str]]) -> None:
    query = "SELECT x.first_name FROM departments AS x"
    assert run(wrong_alias.apply, query) == ([], query)
