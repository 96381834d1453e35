"""Repair rule: a table, or a column's qualifier, spelt in another case than the engine will find it by."""

from __future__ import annotations

from sqlglot import exp

from schemakg.generation.guard.rules.context import RepairContext
from schemakg.kernel.sql.names import identifier, split_table_name

# MariaDB and MySQL on Linux tell table names and aliases apart by case; PostgreSQL folds unquoted names to
# lower case, so a mixed-case table is found only quoted and spelt exactly. SQLite ignores case.
_CASE_SENSITIVE = frozenset({"mysql", "postgres"})


def _spelling(name: exp.Identifier, dialect: str) -> str:
    """The name the engine looks up for ``name``."""
    return name.name if name.quoted or dialect == "mysql" else name.name.lower()


def apply(tree: exp.Expression, context: RepairContext) -> list[str]:
    """Each catalogue table spelt as the catalogue spells it (``Allergy_type`` -> ``Allergy_Type``; quoted where
    PostgreSQL needs it), then each column qualifier as its alias or table is spelt (``t1.title`` under ``AS T1``).
    The guard matched those names ignoring case; only the engine would have refused them."""
    dialect = context.dialect
    if dialect not in _CASE_SENSITIVE:
        return []
    notes: list[str] = []
    spelt: dict[str, exp.Identifier] = {}  # lower-case alias or table name -> as the query now spells it
    for table in tree.find_all(exp.Table):
        written = table.this
        if not isinstance(written, exp.Identifier):
            continue
        real = context.names.table_of(table)
        if real is not None:
            name = split_table_name(real, dialect)[1]
            if _spelling(written, dialect) != name:
                table.set("this", identifier(name, dialect))
                notes.append(f"spelt table {written.name} as the catalogue does: {name}")
        alias = table.args.get("alias")
        own = alias.this if isinstance(alias, exp.TableAlias) and isinstance(alias.this, exp.Identifier) else table.this
        spelt.setdefault(own.name.lower(), own)
    for column in tree.find_all(exp.Column):
        qualifier = column.args.get("table")
        if not isinstance(qualifier, exp.Identifier) or (target := spelt.get(qualifier.name.lower())) is None:
            continue
        if _spelling(qualifier, dialect) != _spelling(target, dialect):
            column.set("table", target.copy())
            notes.append(f"spelt qualifier {qualifier.name} as {target.name}")
    return notes
