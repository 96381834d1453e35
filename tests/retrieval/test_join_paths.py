"""Join completion on small hand-made schemas: every mode, ties, gaps and joins on shared key names."""

from __future__ import annotations

from schemakg.retrieval.join_paths import JOIN_MODES, JoinGraph, namespace


def fk(a: str, b: str) -> tuple[tuple[str, str], tuple[str, str]]:
    return (a, f"{b}_id"), (b, "id")


def diamond() -> JoinGraph:
    """A joins D through B or through C (two equal shortest paths); D-E-F is a tail; G is alone."""
    return JoinGraph(
        tables=["A", "B", "C", "D", "E", "F", "G"],
        foreign_keys=[fk("A", "B"), fk("A", "C"), fk("B", "D"), fk("C", "D"), fk("D", "E"), fk("E", "F")],
    )


def test_three_hop_path_with_conditions() -> None:
    plan = diamond().plan(["B"], ["F"])
    assert plan.paths == [["B", "D", "E", "F"]]
    assert plan.tables == ["B", "F", "D", "E"]
    assert [c.sql() for c in plan.conditions] == ["B.D_id = D.id", "D.E_id = E.id", "E.F_id = F.id"]
    assert ("D", "E_id") in plan.join_columns and ("E", "id") in plan.join_columns


def test_two_equal_shortest_paths_are_both_kept_in_union_mode() -> None:
    union = diamond().plan(["A"], ["D"], mode="force-union")
    assert union.paths == [["A", "B", "D"], ["A", "C", "D"]]
    assert set(union.tables) == {"A", "B", "C", "D"}
    single = diamond().plan(["A"], ["D"], mode="n-n")
    assert single.paths == [["A", "B", "D"]]
    assert set(single.tables) == {"A", "B", "D"}


def test_disconnected_table_is_kept_and_reported() -> None:
    plan = diamond().plan(["A"], ["G"])
    assert plan.paths == [] and plan.conditions == []
    assert plan.tables == ["A", "G"]
    assert plan.unreachable == [("A", "G")]


def test_tables_no_key_connects_join_on_shared_key_names() -> None:
    columns = {
        "shop__orders": ["order_id", "customer_id", "total", "zip_code", "id"],
        "shop__customers": ["customer_id", "name", "zip_code", "id", "rowguid"],
        "shop__notes": ["text", "rowguid"],
        "shop__weather": ["zip_code", "date"],
        "crm__customers": ["customer_id"],
    }
    graph = JoinGraph(tables=list(columns), foreign_keys=[], columns=columns)
    plan = graph.plan(["shop__orders"], ["shop__customers"])
    assert [c.sql() for c in plan.conditions] == [
        "shop__orders.customer_id = shop__customers.customer_id",
        "shop__orders.zip_code = shop__customers.zip_code",
    ]  # not the bare ``id`` both tables have, nor a row GUID
    assert {c.source for c in plan.conditions} == {"name"}
    assert plan.unreachable == [("shop__orders", "shop__customers")]  # no declared path; a name join
    assert graph.plan(["shop__orders"], ["crm__customers"]).conditions == []  # another namespace
    assert not graph.plan(["shop__orders"], ["shop__weather"]).paths  # nothing to route through
    linked = JoinGraph(
        tables=["A", "B", "C"], foreign_keys=[fk("A", "B")], columns={"A": ["x_id"], "B": ["x_id"], "C": ["x_id"]}
    )
    assert [c.sql() for c in linked.plan(["A"], ["B"]).conditions] == ["A.B_id = B.id"]  # a key joins them
    assert [c.sql() for c in linked.plan(["A"], ["B", "C"]).conditions] == [
        "A.B_id = B.id",
        "A.x_id = C.x_id",
        "B.x_id = C.x_id",
    ]  # C joins either table of the other region


def test_log_joins_are_marked() -> None:
    graph = JoinGraph(tables=["A", "B", "C"], foreign_keys=[fk("A", "B")], log_joins=[(("B", "code"), ("C", "code"))])
    plan = graph.plan(["A"], ["C"])
    assert [c.source for c in plan.conditions] == ["fk", "log"]


def test_each_mode() -> None:
    graph = diamond()
    sources, destinations = ["A", "B"], ["D", "F"]
    expected = {
        "force-union": [
            ["A", "B", "D"],
            ["A", "C", "D"],
            ["A", "B", "D", "E", "F"],
            ["A", "C", "D", "E", "F"],
            ["B", "D"],
            ["B", "D", "E", "F"],
        ],
        "n-n": [["A", "B", "D"], ["A", "B", "D", "E", "F"], ["B", "D"], ["B", "D", "E", "F"]],
        "1-1": [["A", "B", "D"]],
        "1-n": [["A", "B", "D"], ["A", "B", "D", "E", "F"]],
        "n-1": [["A", "B", "D"], ["B", "D"]],
        "no-union": [["B", "D"]],
        "force-longest": [["A", "B", "D", "E", "F"]],
        "steiner": [["A", "B"], ["B", "D"], ["D", "E"], ["E", "F"]],  # one tree's edges
    }
    assert set(expected) == set(JOIN_MODES)
    for mode, paths in expected.items():
        plan = graph.plan(sources, destinations, mode=mode)
        assert plan.paths == paths, mode
        assert {t for p in paths for t in p} <= set(plan.tables)
    assert set(graph.plan(sources, destinations, "force-union").tables) == {"A", "B", "C", "D", "E", "F"}
    assert set(graph.plan(sources, destinations, "1-1").tables) == {"A", "B", "D"}


def star_with_hub() -> JoinGraph:
    """Leaves L1..L4 hang off hub H; L1 also reaches L2 through a detour X-Y; Z is alone."""
    leaves = [fk(f"L{i}", "H") for i in range(1, 5)]
    return JoinGraph(
        tables=["H", "L1", "L2", "L3", "L4", "X", "Y", "Z"],
        foreign_keys=[*leaves, fk("L1", "X"), fk("X", "Y"), fk("Y", "L2")],
    )


def test_steiner_joins_many_tables_by_one_small_tree() -> None:
    plan = star_with_hub().plan(["L1", "L2", "L3", "L4"], ["L1", "L2", "L3", "L4"], mode="steiner")
    assert set(plan.tables) == {"L1", "L2", "L3", "L4", "H"}  # the hub, not the detour
    assert sorted(map(sorted, plan.paths)) == [["H", f"L{i}"] for i in range(1, 5)]
    assert len(plan.conditions) == 4 and plan.unreachable == []
    union = star_with_hub().plan(["L1", "L2", "L3", "L4"], ["L1", "L2", "L3", "L4"], mode="force-union")
    assert set(union.tables) == set(plan.tables)  # here the same tables, from 6 paths instead of one tree


def test_steiner_keeps_each_region_apart_and_reports_the_gap() -> None:
    graph = star_with_hub()
    plan = graph.plan(["L3", "Z", "L4"], [], mode="steiner")
    assert set(plan.tables) == {"L3", "L4", "H", "Z"}
    assert plan.unreachable == [("L3", "Z")]
    assert graph.regions()["L1"] == graph.regions()["Y"] != graph.regions()["Z"]
    assert graph.plan(["L3"], [], mode="steiner").tables == ["L3"]


def test_a_namespace_joins_regions_into_one_subject_area() -> None:
    tables = ["m__singer", "m__concert", "m__award", "p__employee", "sales.orders", "sales.items", "plain"]
    graph = JoinGraph(tables, [(("m__concert", "singer_id"), ("m__singer", "singer_id"))])
    regions, areas = graph.regions(), graph.areas()
    assert regions["m__award"] != regions["m__singer"] and areas["m__award"] == areas["m__singer"]
    assert areas["sales.orders"] == areas["sales.items"] != areas["m__singer"]
    assert len({areas["p__employee"], areas["plain"], areas["m__singer"], areas["sales.items"]}) == 4
    assert sorted(set(areas.values())) == list(range(4))


def test_namespace_is_the_schema_or_the_double_underscore_prefix() -> None:
    assert namespace("Sales.Orders") == "sales"
    assert namespace("public.odd.name") == "public"  # a default-schema table whose name has a dot
    assert namespace("concert_singer__singer") == "concert_singer"
    assert namespace("__private") is None and namespace("singer") is None and namespace("a_b") is None
