"""Catalogue column types in families: what the guard's repairs and the schema rendering compare."""

from __future__ import annotations

_NUMBER_TYPES = ("INT", "DOUBLE", "REAL", "NUMERIC", "DECIMAL", "FLOAT", "SERIAL")
_TEXT_TYPES = ("TEXT", "CHAR", "CLOB", "STRING")  # also VARCHAR and CHARACTER VARYING


def type_family(data_type: str) -> str | None:
    """``number``, ``text`` or None (dates, booleans, unknown) for a catalogue column type."""
    upper = data_type.upper()
    if any(t in upper for t in _NUMBER_TYPES):
        return "number"
    if any(t in upper for t in _TEXT_TYPES):
        return "text"
    return None
