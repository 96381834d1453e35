"""The linker over a real index with the real MiniLM towers: what completion adds to the retrieved columns."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from schemakg.retrieval.area_reranker import AreaReranker
from schemakg.retrieval.artifacts import RetrieverModel
from schemakg.retrieval.encoder import DualTowerEncoder
from schemakg.retrieval.index import ColumnIndex
from schemakg.retrieval.linker import FOCUS_MIN_TABLES, ContextColumn, DatabaseContext, Linker, LinkerSettings
from schemakg.retrieval.retriever import ColumnRetriever
from schemakg.retrieval.selection import SelectionPolicy

COLUMNS = [
    ContextColumn(table="singer", name="Singer_ID", data_type="number", is_pk=True),
    ContextColumn(table="singer", name="Name", data_type="text", examples=["Joe Sharp"]),
    ContextColumn(table="singer", name="Country", data_type="text", examples=["France"]),
    ContextColumn(table="stadium", name="Stadium_ID", data_type="number", is_pk=True),
    ContextColumn(table="stadium", name="Capacity", data_type="number"),
]
CONTEXT = DatabaseContext(database="concert_singer", dialect="sqlite", version="1", columns=COLUMNS)


def _linker(folder: Path, encoder: DualTowerEncoder, columns: int = 2, **settings: Any) -> Linker:
    """The zero-shot towers; no score clears the threshold, so exactly the ``columns`` best are retrieved."""
    policy = SelectionPolicy(threshold=10.0, min_columns=columns, max_columns=columns)
    retriever = ColumnRetriever(RetrieverModel("zero-shot", encoder, policy), ColumnIndex(folder, encoder, "zero-shot"))
    return Linker(retriever, LinkerSettings(**settings))


def test_linked_tables_show_their_primary_keys(tmp_path: Path, encoder: DualTowerEncoder) -> None:
    question = "What are the names and countries of all singers?"
    plain = _linker(tmp_path / "plain", encoder, value_matching=False).link(CONTEXT, question)
    assert set(plain.retrieved) == {"singer.Name", "singer.Country"}
    assert plain.schema_.column_refs() == plain.retrieved

    keyed = _linker(tmp_path / "keyed", encoder, value_matching=False, primary_keys=True).link(CONTEXT, question)
    assert keyed.schema_.tables == ["singer"]
    # Best-scored first, the added key last; the key of the unlinked stadium table stays out.
    assert keyed.schema_.column_refs() == [*keyed.retrieved, "singer.Singer_ID"]


def _text_schema(
    database: str,
    columns: list[tuple[str, str]],
    foreign_keys: list[tuple[tuple[str, str], tuple[str, str]]] | None = None,
) -> DatabaseContext:
    """A small schema of text columns, (table, column) each."""
    return DatabaseContext(
        database=database,
        dialect="sqlite",
        version="1",
        columns=[ContextColumn(table=table, name=name, data_type="text") for table, name in columns],
        foreign_keys=foreign_keys or [],
    )


def _warehouse() -> DatabaseContext:
    """Two subject areas joined by foreign keys (music; payroll), and filler tables to pass FOCUS_MIN_TABLES."""
    music = [
        ContextColumn(table="m__singer", name="singer_id", data_type="number", is_pk=True),
        ContextColumn(table="m__singer", name="name", data_type="text", match_values=["Joe Sharp"]),
        ContextColumn(table="m__singer", name="country", data_type="text", match_values=["France"]),
        ContextColumn(table="m__concert", name="concert_name", data_type="text"),
        ContextColumn(table="m__concert", name="singer_id", data_type="number"),
        ContextColumn(table="m__award", name="prize", data_type="text"),  # no foreign key: in music by its name
    ]
    payroll = [
        ContextColumn(table="p__employee", name="employee_id", data_type="number", is_pk=True),
        ContextColumn(table="p__employee", name="name", data_type="text", match_values=["France Gall"]),
        ContextColumn(table="p__salary", name="amount", data_type="number"),
        ContextColumn(table="p__salary", name="employee_id", data_type="number"),
    ]
    filler = [ContextColumn(table=f"f__log_{i}", name="entry", data_type="text") for i in range(FOCUS_MIN_TABLES)]
    return DatabaseContext(
        database="warehouse",
        dialect="sqlite",
        version="1",
        columns=music + payroll + filler,
        foreign_keys=[
            (("m__concert", "singer_id"), ("m__singer", "singer_id")),
            (("p__salary", "employee_id"), ("p__employee", "employee_id")),
        ],
    )


def test_a_large_schema_is_linked_within_the_region_that_covers_the_question(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=10.0, min_columns=7, max_columns=7))
    question = "Which concerts did the singer from France give?"
    whole = Linker(
        ColumnRetriever(model, ColumnIndex(tmp_path / "a", encoder, "zero-shot")), LinkerSettings(region_margin=None)
    ).link(_warehouse(), question)
    focused = Linker(
        ColumnRetriever(model, ColumnIndex(tmp_path / "b", encoder, "zero-shot")),
        LinkerSettings(region_margin=0.0, table_margin=None),  # every table of the area
    ).link(_warehouse(), question)
    assert {"m__singer", "m__concert"} <= set(focused.schema_.tables)
    assert all(t.startswith("m__") for t in focused.schema_.tables)  # the value "France Gall" is payroll's
    assert not all(t.startswith("m__") for t in whole.schema_.tables)  # seven columns reach beyond music
    assert "'France' is a value of m__singer.country" in focused.schema_.value_hints
    # Columns are chosen within music (all six of them), not filtered out of the whole schema's best seven.
    assert set(focused.retrieved) == {f"{c.table}.{c.name}" for c in _warehouse().columns if c.table.startswith("m__")}
    # The linked schema says which subject area it kept and why: music, named by its prefix, with its coverage.
    [music] = focused.schema_.areas
    assert music.name == "m" and set(music.tables) == {"m__singer", "m__concert", "m__award"}
    assert music.tables[0] in {"m__singer", "m__concert"}  # the table that covers the question best comes first
    assert 0 < music.coverage <= 1
    assert whole.schema_.areas == []
    small = Linker(
        ColumnRetriever(model, ColumnIndex(tmp_path / "c", encoder, "zero-shot")), LinkerSettings(region_margin=0.0)
    )
    context = _warehouse().model_copy(update={"columns": _warehouse().columns[:10]})  # 4 tables: linked whole
    assert small.focus_areas(small.retriever.scores("warehouse", question), small.prepare(context)[0]) is None


def test_the_focused_areas_tables_are_every_table_of_those_areas_not_only_the_ones_named(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=10.0, min_columns=7, max_columns=7))
    linker = Linker(
        ColumnRetriever(model, ColumnIndex(tmp_path / "a", encoder, "zero-shot")),
        LinkerSettings(region_margin=0.0, area_tables=1),
    )
    linked = linker.link(_warehouse(), "Which concerts did the singer from France give?").schema_
    assert [len(area.tables) for area in linked.areas] == [1]  # music, named by its best table alone
    assert linker.area_tables(_warehouse(), linked.areas) == {"m__singer", "m__concert", "m__award"}
    assert linker.area_tables(_warehouse(), []) == set()


def test_a_large_schema_keeps_only_the_tables_that_cover_the_question_best_in_each_area(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=10.0, min_columns=7, max_columns=7))
    question = "Which concerts did the singer from France give?"

    def focus(folder: str, area_tables: int | None) -> set[str]:
        retriever = ColumnRetriever(model, ColumnIndex(tmp_path / folder, encoder, "zero-shot"))
        settings = LinkerSettings(region_margin=1.0, area_tables=area_tables, table_margin=None)  # every area kept
        linker = Linker(retriever, settings)
        graph = linker.prepare(_warehouse())[0]
        focused = linker.focus(retriever.scores("warehouse", question), graph, question)
        assert focused is not None
        return focused

    best = focus("best", 2)
    assert {"m__singer", "m__concert"} <= best and "m__award" not in best  # the best area (music): its best two
    retriever = ColumnRetriever(model, ColumnIndex(tmp_path / "areas", encoder, "zero-shot"))
    linker = Linker(retriever, LinkerSettings(region_margin=1.0, area_tables=2))
    graph = linker.prepare(_warehouse())[0]
    areas = linker.focus_areas(retriever.scores("warehouse", question), graph, question)
    assert areas is not None and [a.name for a in areas][:1] == ["m"] and {a.name for a in areas} == {"m", "p", "f"}
    assert [len(a.tables) for a in areas] == [2, 1, 1]
    assert [a.coverage for a in areas] == sorted((a.coverage for a in areas), reverse=True)
    assert len([t for t in best if t.startswith("p__")]) == 1  # each other area: half as many
    assert len([t for t in best if t.startswith("f__")]) == 1
    assert focus("all", None) == {c.table for c in _warehouse().columns}

    # With no margin only the tables level with an area's best are kept: music's best one; every area keeps one.
    retriever = ColumnRetriever(model, ColumnIndex(tmp_path / "margin", encoder, "zero-shot"))
    linker = Linker(retriever, LinkerSettings(region_margin=1.0, area_tables=None, table_margin=0.0))
    graph = linker.prepare(_warehouse())[0]
    areas = linker.focus_areas(retriever.scores("warehouse", question), graph, question)
    assert areas is not None
    tables = {a.name: a.tables for a in areas}
    assert len(tables["m"]) == 1 and tables["m"][0] in {"m__singer", "m__concert"}
    assert set(tables) == {"m", "p", "f"} and all(tables.values())


def test_a_smaller_schema_is_linked_within_the_tables_that_cover_the_question_best(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    """A table that only the column budget's last picks reach stays out."""
    context = _text_schema(
        "school",
        [
            ("singer", "name"),
            ("singer", "country"),
            ("stadium", "capacity"),
            ("stadium", "location"),
            ("payroll", "salary"),
            ("payroll", "hire_date"),
        ],
    )
    question = "What are the names and countries of all singers?"

    def linked(folder: str, **settings: Any) -> tuple[set[str] | None, list[str]]:
        linker = _linker(tmp_path / folder, encoder, 4, value_matching=False, **settings)
        graph = linker.prepare(context)[0]
        focus = linker.focus(linker.retriever.scores("school", question), graph)
        return focus, linker.link(context, question).schema_.tables

    assert linked("one", schema_tables=1) == ({"singer"}, ["singer"])  # four columns asked for; singer has two
    assert linked("level", table_margin=0.0) == ({"singer"}, ["singer"])
    focus, tables = linked("whole", table_margin=None, schema_tables=None)
    assert focus is None and len(tables) > 1


def test_a_table_that_join_completion_brings_in_shows_the_columns_selection_picks_in_it(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    """Columns are selected among a smaller schema's best tables, yet a table that only joins them shows what
    selection over every table would link of it."""
    context = _text_schema(
        "concerts",
        [
            ("stadium", "stadium_id"),
            ("stadium", "stadium_name"),
            ("stadium", "capacity"),
            ("gig", "gig_id"),
            ("gig", "place_ref"),
            ("gig", "artist_ref"),
            ("gig", "gig_date"),
            ("performer", "performer_id"),
            ("performer", "age"),
        ],
        foreign_keys=[
            (("gig", "place_ref"), ("stadium", "stadium_id")),
            (("gig", "artist_ref"), ("performer", "performer_id")),
        ],
    )
    question = "What is the stadium capacity for performers whose age is under 30?"
    linker = _linker(tmp_path, encoder, 8, value_matching=False, schema_tables=2)
    graph = linker.prepare(context)[0]
    scores = linker.retriever.scores("concerts", question)
    focus = linker.focus(scores, graph)
    schema = linker.link(context, question, scores=scores).schema_
    bridged = set(schema.tables) - (focus or set())
    assert focus is not None and len(focus) == 2 and bridged
    picked = [s.key for s in linker.retriever.select(scores) if s.key.split(".")[0] in bridged]
    assert picked and set(picked) <= set(schema.column_refs())


def test_the_area_reranker_decides_which_areas_a_large_schema_is_linked_within(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=10.0, min_columns=3, max_columns=3))
    linker = Linker(
        ColumnRetriever(model, ColumnIndex(tmp_path / "index", encoder, "zero-shot")),
        # Three areas (music, payroll, filler); keep the best, all its tables.
        LinkerSettings(rerank_areas=3, rerank_margin=0.0, table_margin=None),
        reranker=AreaReranker.load(),
    )
    graph = linker.prepare(_warehouse())[0]
    for question, tables in (
        ("Which concerts did the singer from France give?", {"m__singer", "m__concert", "m__award"}),
        ("What is the salary amount of each employee?", {"p__employee", "p__salary"}),
    ):
        assert linker.focus(linker.retriever.scores("warehouse", question), graph, question) == tables
    linked = linker.link(_warehouse(), "What is the salary amount of each employee?")
    assert set(linked.schema_.tables) <= {"p__employee", "p__salary"}


def test_a_column_name_the_question_spells_out_adds_to_the_coverage_of_its_area(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=10.0, min_columns=3, max_columns=3))
    question = "Which concerts did the singer from France give? Pay refers to employee_id"

    def coverage(folder: str, weight: float) -> dict[str, float]:
        retriever = ColumnRetriever(model, ColumnIndex(tmp_path / folder, encoder, "zero-shot"))
        linker = Linker(retriever, LinkerSettings(region_margin=1.0, identifier_weight=weight))  # every area kept
        graph = linker.prepare(_warehouse())[0]
        areas = linker.focus_areas(retriever.scores("warehouse", question), graph, question)
        assert areas is not None
        return {area.name: area.coverage for area in areas}

    plain, named = coverage("plain", 0.0), coverage("named", 0.5)
    assert named["p"] == pytest.approx(plain["p"] + 0.5, abs=1e-3)  # employee_id: only payroll has it
    assert named["m"] == pytest.approx(plain["m"], abs=1e-3) and named["f"] == pytest.approx(plain["f"], abs=1e-3)


def test_a_column_the_question_names_exactly_is_linked(tmp_path: Path, encoder: DualTowerEncoder) -> None:
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=10.0, min_columns=1, max_columns=1))
    question = "Which concerts did the singer from France give? Pay refers to EMPLOYEE_ID"

    def linked(folder: str, weight: float) -> set[tuple[str, str]]:
        retriever = ColumnRetriever(model, ColumnIndex(tmp_path / folder, encoder, "zero-shot"))
        settings = LinkerSettings(region_margin=1.0, identifier_weight=weight, value_matching=False)
        return {(c.table, c.name) for c in Linker(retriever, settings).link(_warehouse(), question).schema_.columns}

    named = {("p__employee", "employee_id"), ("p__salary", "employee_id")}
    assert named <= linked("on", 0.05)  # both columns of that name, whatever the retriever ranked first
    assert not named & linked("off", 0.0)

    # Routing's share: the one prepared database holding employee_id gets the whole weight; unprepared ones none.
    linker = Linker(ColumnRetriever(model, ColumnIndex(tmp_path / "route", encoder, "zero-shot")))
    linker.prepare(_warehouse())
    assert linker.named_shares(["warehouse", "unprepared"], question) == {"warehouse": pytest.approx(0.05)}
    assert linker.named_shares(["warehouse"], "Which singers give concerts?") == {"warehouse": 0.0}


def test_a_value_the_question_writes_as_a_literal_adds_to_routing_shared_among_the_databases_holding_it(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=10.0, min_columns=3, max_columns=3))
    linker = Linker(ColumnRetriever(model, ColumnIndex(tmp_path / "route", encoder, "zero-shot")))
    linker.prepare(_warehouse())
    linker.prepare(_warehouse().model_copy(update={"database": "other"}))
    only_here = [
        c.model_copy(update={"match_values": ["Rose White"]}) if c.name == "name" else c for c in _warehouse().columns
    ]
    linker.prepare(_warehouse().model_copy(update={"database": "third", "columns": only_here}))
    databases = ["warehouse", "other", "third", "unprepared"]

    question = "Which concerts did 'Rose White' give in France?"  # France: all three hold it; Rose White: only third
    literals = linker.literal_values(databases, question)
    assert {d: {m.value for m in found} for d, found in literals.items()} == {
        "warehouse": {"France"},
        "other": {"France"},
        "third": {"France", "Rose White"},
    }
    shares = linker.named_shares(databases, question, literals)
    assert shares == {
        "warehouse": pytest.approx(0.1 / 3),
        "other": pytest.approx(0.1 / 3),
        "third": pytest.approx(0.1 / 3 + 0.1),
    }
    assert linker.literal_values(databases, "Which concerts did the singer from france give?") == {}  # no literal

    off = Linker(linker.retriever, LinkerSettings(literal_value_weight=0.0, literal_absence_weight=0.0))
    off.prepare(_warehouse())
    assert off.literal_values(["warehouse"], question) == {}


def test_a_database_whose_full_value_lists_lack_the_literal_loses_its_completeness_and_an_unsampled_one_nothing(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=10.0, min_columns=3, max_columns=3))
    linker = Linker(ColumnRetriever(model, ColumnIndex(tmp_path / "route", encoder, "zero-shot")))
    sampled = [c.model_copy(update={"distinct_estimate": len(c.match_values)}) for c in _warehouse().columns]
    half = [  # of its three sampled columns, the singers' names were a sample of many more
        c.model_copy(update={"distinct_estimate": 500}) if c.table == "m__singer" and c.name == "name" else c
        for c in sampled
    ]
    unsampled = [c.model_copy(update={"match_values": []}) for c in _warehouse().columns]
    for database, columns in (("full", sampled), ("partial", half), ("unsampled", unsampled)):
        linker.prepare(_warehouse().model_copy(update={"database": database, "columns": columns}))
    databases = ["full", "partial", "unsampled"]

    question = "Which concerts did 'Rose White' give?"  # held by none
    literals = linker.literal_values(databases, question)
    assert literals == {"full": [], "partial": []}  # the unsampled database is not judged
    assert linker.literal_absences(question, literals) == {
        "full": pytest.approx(0.15),
        "partial": pytest.approx(0.15 * 2 / 3),
    }
    for held in ("Which concerts did 'Joe Sharp' give?", "Which singers' names contain 'Sharp'?"):
        assert linker.literal_absences(held, linker.literal_values(databases, held)) == {}  # a value, or within one
    off = Linker(linker.retriever, LinkerSettings(literal_absence_weight=0.0))
    off.prepare(_warehouse().model_copy(update={"database": "full", "columns": sampled}))
    assert off.literal_absences(question, off.literal_values(["full"], question)) == {}


def test_tables_no_foreign_key_joins_are_joined_on_the_key_names_they_share(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    """As in BIRD's bike_share: trips and the weather share a zip code, and no foreign key says so."""
    context = DatabaseContext(
        database="bikes",
        dialect="sqlite",
        version="1",
        columns=[
            ContextColumn(table="trip", name="id", data_type="number", is_pk=True),
            ContextColumn(table="trip", name="duration", data_type="number"),
            ContextColumn(table="trip", name="zip_code", data_type="text"),
            ContextColumn(table="weather", name="mean_temperature_f", data_type="number"),
            ContextColumn(table="weather", name="zip_code", data_type="text"),
            ContextColumn(table="weather", name="id", data_type="number"),
        ],
    )
    result = _linker(tmp_path, encoder, value_matching=False).link(
        context, "What was the mean temperature during the longest trip duration?"
    )
    schema = result.schema_
    assert set(result.retrieved) == {"trip.duration", "weather.mean_temperature_f"}
    assert [(j.sql(), j.source) for j in schema.joins] == [("trip.zip_code = weather.zip_code", "name")]
    assert {"trip.zip_code", "weather.zip_code"} <= set(schema.column_refs())
    assert "trip.id" not in schema.column_refs()  # each table's own ``id`` is no join


def test_a_column_of_a_linked_table_that_the_question_names_word_for_word_is_linked(
    tmp_path: Path, encoder: DualTowerEncoder
) -> None:
    names = ("playerID", "firstName", "lastName", "nameGiven", "birthYear", "height")
    context = _text_schema("hockey", [("Master", name) for name in names])
    question = "Give the first name and last name of the tallest player."

    def linked(folder: str, value_matching: bool) -> tuple[set[str], set[str]]:
        result = _linker(tmp_path / folder, encoder, 1, value_matching=value_matching).link(context, question)
        return set(result.schema_.column_refs()), set(result.retrieved)

    columns, retrieved = linked("on", True)
    assert columns - retrieved == {"Master.firstName", "Master.lastName"} - retrieved  # not nameGiven: no "given"
    columns, retrieved = linked("off", False)
    assert columns == retrieved
