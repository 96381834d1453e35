"""How fast the guard refuses hostile SQL, and how long it spends on the largest query it accepts.

Target: refusing a 200 KB query and a 1,000-deep nesting takes <= 100 ms each (they are refused
before parsing). Prints the median and worst of repeated runs per case.

    .venv/bin/python bench/guard_limits.py [--repeats 20]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from schemakg.generation.guard import MAX_SQL_CHARS, GuardError, validate
from schemakg.kernel.sql.links import SchemaNames

NAMES = SchemaNames(
    {
        "employees": ["employee_id", "first_name", "salary", "department_id"],
        "departments": ["department_id", "department_name"],
    }
)


def _largest_accepted() -> str:
    """A join-and-subquery-heavy query just under the length limit: the guard's worst accepted input."""
    part = (
        "SELECT e.first_name FROM employees AS e JOIN departments AS d ON e.department_id = d.department_id "
        "WHERE e.salary > (SELECT avg(salary) FROM employees)"
    )
    parts = [part]
    while len(" UNION ".join([*parts, part])) < MAX_SQL_CHARS:
        parts.append(part)
    return " UNION ".join(parts)


CASES: dict[str, str] = {
    "200 KB query (refused)": "SELECT first_name FROM employees WHERE first_name = '" + "x" * 200_000 + "'",
    "1,000-deep nesting (refused)": "SELECT " + "(" * 1000 + "1" + ")" * 1000,
    "1,400 NOTs (refused)": "SELECT " + "NOT " * 1400 + "1",
    f"largest accepted ({MAX_SQL_CHARS} chars, unions of joins and subqueries)": _largest_accepted(),
    "a typical query": "SELECT d.department_name, count(*) FROM employees AS e JOIN departments AS d "
    "ON e.department_id = d.department_id GROUP BY d.department_name",
}


def _time(run: Callable[[], object], repeats: int) -> list[float]:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _check(sql: str) -> str:
    try:
        validate(sql, "sqlite", NAMES)
    except GuardError as exc:
        return f"refused ({exc.stage})"
    return "accepted"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=20)
    args = parser.parse_args()
    print("| case | outcome | median ms | worst ms |\n|---|---|---|---|")
    for name, sql in CASES.items():
        timings = _time(lambda sql=sql: _check(sql), args.repeats)
        print(f"| {name} | {_check(sql)} | {statistics.median(timings):.2f} | {max(timings):.2f} |")


if __name__ == "__main__":
    main()
