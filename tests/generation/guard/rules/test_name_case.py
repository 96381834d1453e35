from __future__ import annotations

from collections.abc import Callable

from schemakg.generation.guard.rules import name_case
from schemakg.kernel.sql.links import SchemaNames

ALLERGY = {"Allergy_Type": ["Allergy", "AllergyType"], "Has_Allergy": ["StuID", "Allergy"], "film": ["title"]}
Run = Callable[..., tuple[list[str], str]]


def test_mariadb_tables_and_their_qualifiers_take_the_catalogues_case(run: Run) -> None:
    notes, sql = run(
        name_case.apply,
        "SELECT DISTINCT AllergyType FROM Allergy_type JOIN Has_allergy ON Allergy_type.Allergy = Has_allergy.Allergy",
        dialect="mysql",
        names=SchemaNames(ALLERGY, "mysql"),
    )
    assert sql == (
        "SELECT DISTINCT AllergyType FROM Allergy_Type JOIN Has_Allergy ON Allergy_Type.Allergy = Has_Allergy.Allergy"
    )
    assert notes[:2] == [
        "spelt table Allergy_type as the catalogue does: Allergy_Type",
        "spelt table Has_allergy as the catalogue does: Has_Allergy",
    ]


def test_mariadb_qualifiers_take_their_aliases_case(run: Run) -> None:
    notes, sql = run(name_case.apply, "SELECT t1.title FROM film AS T1", dialect="mysql", names=SchemaNames(ALLERGY))
    assert (notes, sql) == (["spelt qualifier t1 as T1"], "SELECT T1.title FROM film AS T1")


def test_postgres_mixed_case_tables_are_quoted_and_folded_names_left_alone(run: Run) -> None:
    names = SchemaNames(ALLERGY, "postgres")
    notes, sql = run(name_case.apply, "SELECT a.Allergy FROM Allergy_type AS a", dialect="postgres", names=names)
    assert sql == 'SELECT a.Allergy FROM "Allergy_Type" AS a'
    assert notes == ["spelt table Allergy_type as the catalogue does: Allergy_Type"]
    query = "SELECT F.title FROM Film AS f"  # both fold to the lower-case names PostgreSQL holds
    assert run(name_case.apply, query, dialect="postgres", names=names) == ([], query)


def test_sqlite_ignores_case_and_is_left_alone(run: Run) -> None:
    query = "SELECT t1.title FROM FILM AS T1"
    assert run(name_case.apply, query, names=SchemaNames(ALLERGY)) == ([], query)
