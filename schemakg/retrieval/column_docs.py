"""The column document the retriever encodes: a plain model the catalogue can fill in later."""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict, Field

from schemakg.kernel.model import column_ref

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[_\s]+")


class ColumnDoc(BaseModel):
    """One column as the catalogue describes it (KG ``Column`` node plus its table name)."""

    model_config = ConfigDict(frozen=True)

    db_id: str
    table: str
    column: str
    description: str = ""
    examples: tuple[str, ...] = Field(default_factory=tuple)
    value_explanation: str = ""
    data_type: str = ""

    @property
    def key(self) -> str:
        """Identity inside a database (``table.column``, :func:`column_ref`); the index upserts and deletes by it."""
        return column_ref(self.table, self.column)


def humanise(identifier: str) -> str:
    """``HomeTeam`` / ``home_team`` -> ``home team``: word pieces match questions better than raw identifiers."""
    return _SEPARATORS.sub(" ", _CAMEL.sub(" ", identifier)).strip().lower()


def column_text(doc: ColumnDoc, max_examples: int = 3) -> str:
    """Table name ‖ column name ‖ description ‖ example values ‖ value explanation.

    Names come first: they survive truncation."""
    parts = [f"{humanise(doc.table)} . {humanise(doc.column)}"]
    if doc.description:
        parts.append(doc.description)
    if doc.examples:
        parts.append("values: " + ", ".join(doc.examples[:max_examples]))
    if doc.value_explanation:
        parts.append(doc.value_explanation)
    return " ; ".join(parts)


def question_text(question: str, evidence: str | None) -> str:
    """What the question tower reads: the question, then the evidence when there is some."""
    return f"{question} {evidence or ''}".strip()
