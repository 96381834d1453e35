"""A PostgreSQL database with several schemas, read by introspection and sampling against a real server:
every schema the role may use, qualified names outside the default schema, foreign keys across schemas."""

from __future__ import annotations

from schemakg.ingest.introspect import introspect
from schemakg.ingest.sampling import SamplingBounds, profile_tables
from schemakg.kernel.model import ForeignKeySnapshot
from schemakg.kernel.sources import SourceDatabase
from tests.conftest import SCHEMA_TABLE_NAMES as TABLES


def test_every_usable_schema_is_read_with_qualified_names(postgres_schemas_url: str) -> None:
    source = SourceDatabase(postgres_schemas_url)
    try:
        snapshot = introspect(source)
    finally:
        source.dispose()
    # pg_catalog, information_schema and the schema the role may not use (secret) are left out.
    assert sorted(t.name for t in snapshot.tables) == TABLES
    columns = {t.name: [c.name for c in t.columns] for t in snapshot.tables}
    assert columns["concert.singer"] == ["singer_id", "name", "country"]
    assert columns["hr.singer"] == ["singer_id", "name", "salary"]  # the same name, its own columns
    assert columns["Box Office.Ticket Sales"] == ["concert_id", "Tickets"]
    assert {c.name for t in snapshot.tables for c in t.columns if c.is_pk and t.name == "hr.singer"} == {"singer_id"}
    assert sorted(snapshot.foreign_keys, key=lambda fk: (fk.table, fk.columns)) == [
        ForeignKeySnapshot(
            table="Box Office.Ticket Sales",
            columns=["concert_id"],
            ref_table="concert.concert",
            ref_columns=["concert_id"],
        ),
        ForeignKeySnapshot(table="award", columns=["singer_id"], ref_table="concert.singer", ref_columns=["singer_id"]),
        ForeignKeySnapshot(
            table="concert.concert", columns=["singer_id"], ref_table="concert.singer", ref_columns=["singer_id"]
        ),
        # to the default schema: PostgreSQL names no schema (the search path finds it)
        ForeignKeySnapshot(table="concert.concert", columns=["venue_id"], ref_table="venue", ref_columns=["venue_id"]),
        ForeignKeySnapshot(
            table="hr.singer", columns=["singer_id"], ref_table="concert.singer", ref_columns=["singer_id"]
        ),
    ]
    assert snapshot.warnings == []


def test_values_are_sampled_with_schema_and_table_quoted_apart(postgres_schemas_url: str) -> None:
    source = SourceDatabase(postgres_schemas_url)
    try:
        snapshot = introspect(source)
        warnings = profile_tables(source, snapshot.tables, SamplingBounds())
    finally:
        source.dispose()
    assert warnings == []
    by_name = {t.name: t for t in snapshot.tables}
    assert by_name["concert.singer"].row_estimate == 3 and by_name["hr.singer"].row_estimate == 2

    def profile(table: str, column: str) -> list[str]:
        found = next(c for c in by_name[table].columns if c.name == column)
        assert found.profile is not None
        return found.profile.match_values or found.profile.examples

    assert "France" in profile("concert.singer", "country")
    assert sorted(profile("hr.singer", "name")) == ["Alice Payroll", "Bob Ledger"]  # not concert.singer's names
    assert sorted(profile("Box Office.Ticket Sales", "Tickets")) == ["100", "250"]  # "Box Office"."Ticket Sales"
    assert by_name["public.odd.name"].row_estimate == 0  # public."odd.name"
