"""The SQLite FTS5 search index: ranking, prefixes, name splitting, filters, hostile queries, concurrency."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from schemakg.kernel.search.base import SearchDoc
from schemakg.kernel.search.sqlite_fts import SqliteFtsIndex, tokens

DOCS = [
    SearchDoc("hr", "employees", None, "People on the payroll"),
    SearchDoc("hr", "employees", "salary", "Monthly gross pay"),
    SearchDoc("hr", "employees", "salary_grade"),
    SearchDoc("hr", "employees", "hire_date", None, None, "when the employee started", ("start date",)),
    SearchDoc("hr", "jobs", None, "Job titles"),
    SearchDoc("hr", "jobs", "max_salary", "Highest salary of the job"),
    SearchDoc("hr", "jobs", "bonus", "Paid on top of the salary"),
    SearchDoc("music", "singer", None, "Performers"),
    SearchDoc("music", "singer", "singer_id"),
    SearchDoc("music", "singer", "Name"),
    SearchDoc("music", "concert", "SingerId", "The performer"),
    SearchDoc("music", "concert", "ConcertName", comment="what the gig was called"),
    SearchDoc("music", "stadium", "Prénom", "Vorname, Straße"),
    SearchDoc("music", "stadium", "名前", "日本語の説明"),
]


@pytest.fixture
def index(tmp_path: Path) -> Iterator[SqliteFtsIndex]:
    built = SqliteFtsIndex(tmp_path / "search.sqlite")
    for database in ("hr", "music"):
        built.replace_database(database, [d for d in DOCS if d.database == database], f"{database}-v1")
    yield built
    built.close()


def _names(hits: list) -> list[str]:
    return [h.table if h.column is None else f"{h.table}.{h.column}" for h in hits]


def test_tokens_split_underscores_camel_case_and_fold_case_and_accents() -> None:
    assert tokens("singer_id") == tokens("SingerId") == tokens("SINGER_ID") == ["singer", "id"]
    assert tokens("HTTPServerURL") == ["http", "server", "url"]
    assert tokens("Prénom Straße") == ["prenom", "strasse"]
    assert tokens('NEAR( "x" * OR') == ["near", "x", "or"]


def test_ranking_exact_name_then_more_name_words_then_other_text(index: SqliteFtsIndex) -> None:
    hits = index.search(["salary"], None, None, 20)
    assert _names(hits)[0] == "employees.salary"
    assert hits[0].score == 1.0
    # Names holding the word, then the columns that only mention it in their descriptions.
    assert set(_names(hits[1:3])) == {"employees.salary_grade", "jobs.max_salary"}
    assert all(h.score == 0.9 for h in hits[1:3])
    assert _names(hits[3:]) == ["jobs.bonus"]
    assert hits[3].score < 0.5
    assert hits[0].description == "Monthly gross pay"


def test_more_words_in_the_name_rank_higher(index: SqliteFtsIndex) -> None:
    hits = index.search(["gross", "salary"], "hr", None, 20)
    assert _names(hits) == ["employees.salary"]
    assert hits[0].score == round(0.5 + 0.4 * 1 / 2, 3)
    hits = index.search(["salary", "grade"], None, None, 20)
    assert _names(hits) == ["employees.salary_grade"]
    assert hits[0].score == 1.0  # the phrase equals the name, ignoring '_'


def test_every_word_must_match_as_a_prefix(index: SqliteFtsIndex) -> None:
    assert "employees.salary" in _names(index.search(["sal"], None, None, 20))
    assert _names(index.search(["sal", "gra"], None, None, 20)) == ["employees.salary_grade"]
    assert index.search(["salary", "nothing"], None, None, 20) == []
    assert index.search(["alary"], None, None, 20) == []  # prefixes, not infixes


def test_names_split_at_underscores_and_camel_case(index: SqliteFtsIndex) -> None:
    for query in (["singer", "id"], ["singer_id"], ["SingerId"], ["singerid"]):
        hits = index.search(query, "music", "column", 20)
        assert set(_names(hits[:2])) == {"singer.singer_id", "concert.SingerId"}, query
        assert all(h.score == 1.0 for h in hits[:2])
    assert "concert.ConcertName" in _names(index.search(["concert", "name"], None, None, 20))


def test_table_names_give_columns_context(index: SqliteFtsIndex) -> None:
    hits = index.search(["jobs", "bonus"], None, "column", 20)
    assert _names(hits) == ["jobs.bonus"]
    assert hits[0].score == 0.7  # 'bonus' is in the name, 'jobs' only in the table's


def test_comments_value_explanations_and_synonyms_are_searched(index: SqliteFtsIndex) -> None:
    assert _names(index.search(["started"], None, None, 20)) == ["employees.hire_date"]
    assert _names(index.search(["start", "date"], None, None, 20)) == ["employees.hire_date"]
    assert _names(index.search(["gig"], None, None, 20)) == ["concert.ConcertName"]


def test_filters_and_limit(index: SqliteFtsIndex) -> None:
    assert {h.database for h in index.search(["s"], "music", None, 50)} == {"music"}
    assert {h.kind for h in index.search(["s"], None, "table", 50)} == {"table"}
    columns = index.search(["employees"], None, "column", 50)
    assert columns and all(h.kind == "column" and h.column for h in columns)
    assert len(index.search(["s"], None, None, 2)) == 2
    assert index.search(["salary"], "nowhere", None, 20) == []
    assert index.search(["salary"], None, "index", 20) == []


def test_unicode_words_fold_accents_and_case(index: SqliteFtsIndex) -> None:
    assert _names(index.search(["prenom"], None, None, 20)) == ["stadium.Prénom"]
    assert _names(index.search(["PRÉNOM"], None, None, 20)) == ["stadium.Prénom"]
    assert _names(index.search(["strasse"], None, None, 20)) == ["stadium.Prénom"]
    assert _names(index.search(["名前"], None, None, 20)) == ["stadium.名前"]


@pytest.mark.parametrize(
    "query",
    ['"', '""', "*", "NEAR(", "NEAR(a b)", "OR", "AND", "NOT", "a OR b", "(", ")", "{name}:", "name:salary",
     "^salary", "salary*", "'", "\\", "-", "+", ":", "\x00", "😀", "a" * 500, "\u202esalary"],
)  # fmt: skip
def test_hostile_queries_never_raise(index: SqliteFtsIndex, query: str) -> None:
    hits = index.search([query], None, None, 20)
    assert isinstance(hits, list)
    index.search(query.split() or [query], "hr", "column", 5)


def test_query_syntax_is_matched_as_words(index: SqliteFtsIndex) -> None:
    assert _names(index.search(["name:salary"], None, None, 20)) == []  # 'name' and 'salary' in one name: none
    assert "employees.salary" in _names(index.search(["salary*"], None, None, 20))
    assert "employees.salary" in _names(index.search(["^salary"], None, None, 20))
    assert index.search(["OR"], None, None, 20) == []


def test_replace_upsert_drop_and_versions(index: SqliteFtsIndex) -> None:
    assert index.versions() == {"hr": "hr-v1", "music": "music-v1"}
    index.upsert("hr", [SearchDoc("hr", "jobs", "bonus", "Yearly remuneration")], "hr-v2")
    assert _names(index.search(["remuneration"], None, None, 20)) == ["jobs.bonus"]
    assert len(index.search(["bonus"], None, None, 20)) == 1  # replaced, not duplicated
    assert index.versions()["hr"] == "hr-v2"

    index.replace_database("hr", [SearchDoc("hr", "staff", None)], "hr-v3")
    assert index.search(["salary"], "hr", None, 20) == []
    assert _names(index.search(["staff"], None, None, 20)) == ["staff"]
    assert index.search(["singer"], None, None, 20)  # other databases are untouched

    index.drop_database("hr")
    assert index.versions() == {"music": "music-v1"}
    assert index.search(["staff"], None, None, 20) == []


def test_an_index_of_another_format_is_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "search.sqlite"
    SqliteFtsIndex(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = 'old' WHERE key = 'format'")
    conn.commit()
    conn.close()
    reopened = SqliteFtsIndex(path)
    assert reopened.versions() == {}
    reopened.replace_database("db", [SearchDoc("db", "t")], "v")
    assert reopened.search(["t"], None, None, 5)
    reopened.close()


def test_threads_search_while_another_rewrites(index: SqliteFtsIndex) -> None:
    errors: list[Exception] = []
    done = threading.Event()

    def read() -> None:
        try:
            while not done.is_set():
                hits = index.search(["salary"], "hr", None, 20)
                assert hits and hits[0].column == "salary"  # every snapshot is whole: old or new, never empty
        except (AssertionError, sqlite3.Error) as exc:
            errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(4)]
    for thread in readers:
        thread.start()
    for version in range(20):
        index.replace_database("hr", [d for d in DOCS if d.database == "hr"], f"hr-{version}")
    done.set()
    for thread in readers:
        thread.join()
    assert errors == []


def test_another_process_sees_the_writes(index: SqliteFtsIndex) -> None:
    script = (
        "import sys; from pathlib import Path; "
        "from schemakg.kernel.search.sqlite_fts import SqliteFtsIndex; "
        "from schemakg.kernel.search.base import SearchDoc; "
        "i = SqliteFtsIndex(Path(sys.argv[1])); "
        "i.upsert('hr', [SearchDoc('hr', 'payroll', 'net_pay', 'Written elsewhere')], 'hr-other'); "
        "print(len(i.search(['salary'], None, None, 20))); i.close()"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(index.path)], capture_output=True, text=True, check=True, timeout=60
    )
    assert int(done.stdout) == 4  # the other process reads what this one wrote
    assert _names(index.search(["elsewhere"], None, None, 20)) == ["payroll.net_pay"]
    assert index.versions()["hr"] == "hr-other"
