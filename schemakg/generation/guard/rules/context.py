"""What every repair rule sees: the dialect, the catalogue's names, column types and foreign keys, and how the
query spells each table alias (read once, before any rule rewrites the tree)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlglot import exp

from schemakg.kernel.sql.links import ColumnRef, SchemaNames


@dataclass(frozen=True)
class RepairContext:
    """Built once per ``repair`` call, before any rule runs: ``spelled`` holds the tables and aliases of the
    tree as parsed, not those a rule adds (``missing_join``)."""

    dialect: str
    names: SchemaNames
    foreign_keys: Sequence[tuple[ColumnRef, ColumnRef]]
    spelled: dict[str, str]  # lower-cased alias or table name -> as the query writes it
    types: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (table, column), lower-cased -> type
    question: str | None = None  # the question the SQL answers, for rules that read it (``unused_join``)
    shown: frozenset[str] = frozenset()  # the catalogue tables the prompt showed (``table_schema``)

    @classmethod
    def of(
        cls,
        tree: exp.Expression,
        dialect: str,
        names: SchemaNames,
        foreign_keys: Sequence[tuple[ColumnRef, ColumnRef]],
        types: Mapping[tuple[str, str], str] | None = None,
        question: str | None = None,
        shown: Sequence[str] = (),
    ) -> RepairContext:
        spelled = {table.alias_or_name.lower(): table.alias_or_name for table in tree.find_all(exp.Table)}
        return cls(
            dialect=dialect,
            names=names,
            foreign_keys=foreign_keys,
            spelled=spelled,
            types=types or {},
            question=question,
            shown=frozenset(shown),
        )
