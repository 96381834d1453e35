"""The linker over a real index with the real MiniLM towers: what completion adds to the retrieved columns."""

from __future__ import annotations

from pathlib import Path

from schemakg.retrieval.artifacts import RetrieverModel
from schemakg.retrieval.encoder import DualTowerEncoder
from schemakg.retrieval.index import ColumnIndex
from schemakg.retrieval.linker import ContextColumn, DatabaseContext, Linker, LinkerSettings
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


def _linker(tmp_path: Path, encoder: DualTowerEncoder, primary_keys: bool) -> Linker:
    # No score clears the threshold, so exactly the two best columns are retrieved.
    model = RetrieverModel("zero-shot", encoder, SelectionPolicy(threshold=10.0, min_columns=2, max_columns=2))
    retriever = ColumnRetriever(model, ColumnIndex(tmp_path / "index", encoder, "zero-shot"))
    return Linker(retriever, LinkerSettings(value_matching=False, primary_keys=primary_keys))


def test_linked_tables_show_their_primary_keys(tmp_path: Path, encoder: DualTowerEncoder) -> None:
    question = "What are the names and countries of all singers?"
    plain = _linker(tmp_path / "plain", encoder, primary_keys=False).link(CONTEXT, question)
    assert set(plain.retrieved) == {"singer.Name", "singer.Country"}
    assert plain.schema_.column_refs() == plain.retrieved

    keyed = _linker(tmp_path / "keyed", encoder, primary_keys=True).link(CONTEXT, question)
    assert keyed.schema_.tables == ["singer"]
    # Best-scored first, the added key last; the key of the unlinked stadium table stays out.
    assert keyed.schema_.column_refs() == [*keyed.retrieved, "singer.Singer_ID"]
