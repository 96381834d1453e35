import random

from bench.validation_split import sealed_split


def _rows() -> list[dict]:
    sizes = {"a": 40, "b": 25, "c": 60, "d": 10, "e": 35, "f": 30}
    return [{"db_id": db, "question": f"{db} {i}"} for db, n in sizes.items() for i in range(n)]


def test_the_sealed_split_keeps_databases_apart_and_leaves_out_what_was_read() -> None:
    rows = _rows()
    tuning, test = sealed_split(rows)
    assert not {r["db_id"] for r in tuning} & {r["db_id"] for r in test}
    read = {rows[i]["question"] for i in random.Random(0).sample(range(len(rows)), 100)}
    assert not read & {r["question"] for r in test}
    test_databases = {r["db_id"] for r in test}
    assert sum(r["db_id"] in test_databases for r in rows) >= len(rows) / 2
    read_in_test = read & {r["question"] for r in rows if r["db_id"] in test_databases}
    assert len(tuning) + len(test) + len(read_in_test) == len(rows)
    assert sealed_split(rows) == (tuning, test)  # seeded: the same split every time
