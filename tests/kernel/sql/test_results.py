from schemakg.kernel.sql.results import informative, orders_result, result_signature, results_match


def test_multiset_equality_without_order_by() -> None:
    assert results_match([(1, "a"), (2, "b")], [(2, "b"), (1, "a")], ordered=False)
    assert not results_match([(1, "a")], [(1, "a"), (1, "a")], ordered=False)  # multiplicity counts
    assert results_match([(2.0,)], [(2,)], ordered=False)
    assert results_match([(0.1 + 0.2,)], [(0.3,)], ordered=False)


def test_order_counts_only_when_gold_orders() -> None:
    assert not results_match([(1,), (2,)], [(2,), (1,)], ordered=True)
    assert orders_result("SELECT name FROM t ORDER BY age DESC")
    assert not orders_result("SELECT name FROM (SELECT name FROM t ORDER BY age) AS s")
    assert not orders_result("SELECT count(*) FROM t")


def test_result_signature_ignores_row_order_and_float_noise() -> None:
    assert result_signature([(1, "a"), (2, "b")]) == result_signature([(2, "b"), (1, "a")])
    assert result_signature([(0.1 + 0.2,)]) == result_signature([(0.3,)])
    assert result_signature([(1.0,)]) == result_signature([(1,)])


def test_result_signature_tells_different_results_apart() -> None:
    assert result_signature([(1,)]) != result_signature([(1,), (1,)])  # a multiset: duplicates count
    assert result_signature([]) != result_signature([(None,)])
    assert result_signature([("1",)]) != result_signature([(1,)])


def test_a_result_of_nothing_but_nulls_and_zeros_is_uninformative() -> None:
    assert not informative([])
    assert not informative([[0]])  # count(*) over an empty table
    assert not informative([[None, ""], [0, None]])
    assert informative([[0, "Madison"]])
    assert informative([[0.5]])
