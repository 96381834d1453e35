"""Value and name matching between question n-grams and the catalogue."""

from __future__ import annotations

from schemakg.retrieval.value_match import (
    ValueIndex,
    judged_literals,
    outermost,
    question_literals,
    question_ngrams,
    sample_completeness,
)

COLUMNS = [
    ("singer", "country", ["France", "United States", "Netherlands"]),
    ("singer", "name", ["Joe Sharp", "Timbaland", "Justin Brown"]),
    ("concert", "theme", ["Free choice", "Happy Tonight"]),
    ("stadium", "location", ["Raith Rovers", "Ayr United"]),
]


def test_exact_value_match_with_hint() -> None:
    matches = ValueIndex(COLUMNS).match("How many singers are from France?")
    assert matches[0].kind == "exact_value" and (matches[0].table, matches[0].column) == ("singer", "country")
    assert matches[0].hint() == "'France' is a value of singer.country"


def test_multiword_and_fuzzy_values() -> None:
    index = ValueIndex(COLUMNS)
    exact = index.match("Show concerts with the theme happy tonight")
    assert ("concert", "theme", "Happy Tonight") in {
        (m.table, m.column, m.value) for m in exact if m.kind == "exact_value"
    }
    fuzzy = index.match("singers from the Netherland")
    assert [(m.value, m.kind) for m in fuzzy][:1] == [("Netherlands", "partial_value")]
    assert index.match("What is the weather like?") == []


def test_column_name_matches() -> None:
    matches = ValueIndex(COLUMNS).match("list every location")
    assert any(m.kind == "exact_name" and m.column == "location" for m in matches)


def test_words_inside_an_exact_match_are_not_matched_again() -> None:
    matches = ValueIndex(COLUMNS).match("songs by Justin Brown")
    assert [m.value for m in matches] == ["Justin Brown"]


def test_matches_within_some_tables_are_ranked_and_capped_among_those_only() -> None:
    """A large schema's focus: a match elsewhere neither takes a place among the best nor hides a weaker one."""
    columns = [
        *COLUMNS,
        *((f"other_{i}", "country", ["France"]) for i in range(5)),
        ("festival", "host_country", ["Frances"]),
    ]
    question = "How many festivals were held in France?"
    assert {m.table for m in ValueIndex(columns).match(question, 3)} <= {"singer", *(f"other_{i}" for i in range(5))}
    within = ValueIndex(columns).match(question, 3, within={"festival", "concert"})
    assert [(m.table, m.value, m.kind) for m in within] == [("festival", "Frances", "partial_value")]


def test_ngrams_skip_stopword_edges() -> None:
    grams = [g for _, _, g in question_ngrams('Who is from "New York"?')]
    assert "new york" in grams and "from" not in grams and "is from" not in grams


def test_cost_is_bounded_on_columns_with_many_values() -> None:
    many = [("t", "code", [f"code{i:05d}" for i in range(50_000)])]
    index = ValueIndex(many, max_postings=500)
    assert len(index) == 50_000
    assert index.match("what is code01234")[0].value == "code01234"  # exact lookups are unaffected


def test_literals_are_quoted_strings_and_capitalised_runs_that_do_not_open_a_sentence() -> None:
    question = (
        "How many airports haven't the pilot 'Thompson' flown to? "
        'Show the games Linda Smith played in "Happy Tonight" USA.'
    )
    assert question_literals(question) == ["happy tonight", "linda smith", "thompson", "linda", "smith", "usa"]
    assert question_literals("Which singers are older than 40? Count the concerts.") == []
    assert question_literals("What is the rank of 'en' in the list?") == ["en"]
    assert question_literals("\"a\" or 'b'") == []  # one character says nothing
    shouted = question_literals("WHAT " + "IS " * 5_000)  # a run's spans are bounded: 6 words at most
    assert len(shouted) == 6 and shouted[0] == " ".join(["is"] * 6)


def test_a_capitalised_run_keeps_the_connectors_of_a_name_but_no_span_ends_on_one() -> None:
    literals = question_literals("Who played both Call of Destiny and Works of Widenius in Rio de Janeiro?")
    assert outermost(literals) == ["works of widenius", "call of destiny", "rio de janeiro"]
    assert {"call", "destiny", "janeiro"} <= set(literals)
    assert not {"of", "call of", "of destiny", "de janeiro", "destiny and works"} & set(literals)
    assert question_literals("Which films of Pixar are there?") == ["pixar"]  # a connector after nothing capitalised


def test_literal_values_are_exact_and_a_found_literal_hides_its_words() -> None:
    index = ValueIndex([*COLUMNS, ("singer", "surname", ["Sharp"])])
    found = index.literal_values(question_literals("Which concerts did Joe Sharp give with the theme 'Free choice'?"))
    assert {(m.table, m.column, m.value) for m in found} == {
        ("singer", "name", "Joe Sharp"),
        ("concert", "theme", "Free choice"),
    }  # not surname Sharp: inside Joe Sharp, already found
    assert found[0].hint() == "'Free choice' is a value of concert.theme"
    assert index.literal_values(question_literals("Which singers are from france?")) == []  # not written as a literal
    assert index.literal_values(question_literals("Which singers are from Franc?")) == []  # exact only


def test_completeness_is_the_share_of_sampled_columns_holding_every_distinct_value() -> None:
    """A code list sampled in full says a value it lacks is absent; a large table's sampled names do not."""
    full, partial, unknown = (["CHI", "HKG"], 2), (["Joe Sharp"], 5_000), (["x"], None)
    assert sample_completeness([full, full, partial, ([], None), ([], 12)]) == 2 / 3  # no values: not counted
    assert sample_completeness([partial, unknown]) == 0.0
    assert sample_completeness([([], None)]) == 0.0
    index = ValueIndex([("t", "c", ["CHI", "HKG"])], completeness=sample_completeness([full]))
    assert index.completeness == 1.0


def test_the_outermost_literals_are_what_the_question_wrote_not_its_spans() -> None:
    literals = question_literals("Did 'Rose White' sing with Linda Smith in New York?")
    assert {"linda", "smith", "new", "york"} <= set(literals)
    assert outermost(literals) == ["linda smith", "rose white", "new york"]
    assert outermost(["oslo", "los"]) == ["oslo", "los"]  # within a word is not within a literal


def test_a_two_character_literal_is_not_judged_absent() -> None:
    assert judged_literals("Which codes include the substring 'en' and the pilot Thompson?") == ["thompson"]


def test_a_value_holds_a_literal_within_it() -> None:
    """ "Names containing 'Swift'" quotes part of a value: the database is not lacking it."""
    index = ValueIndex(COLUMNS)
    assert index.holds_within(["sharp"]) and index.holds_within(["oslo", "tonight"])
    assert index.holds_within(["joe sharp"])  # the whole value too
    assert not index.holds_within(["sharpe"]) and not index.holds_within(["tonight happy"])
    assert not index.holds_within(["ss"]) and not index.holds_within([])  # under three characters: no trigram
