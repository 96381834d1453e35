"""The KG-based schema as the LLM reads it: per table its columns (type, description, examples,
value explanation, the join a key takes part in as ``REFERENCES``), then the join conditions no
``REFERENCES`` carries, column dependencies and value hints.

Every token costs: a CPU reads some 60 prompt tokens a second, and the prompt is most of an answer's
time. So nothing is said twice, and a number column shows no examples (ids and counts tell the SQL
nothing, and the tokenizer spends a token on each digit).

Rendered as annotated CREATE TABLE text, which code models read best. Table names are written as the
source's SQL reads them: a schema-qualified table as two identifiers (``concert.singer``, ``"Hr"."Staff"``),
each quoted only where it must be. Under a token budget the least relevant columns are dropped first; join
keys and primary keys are never dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Collection

from schemakg.kernel.model import split_column_ref
from schemakg.kernel.sql.names import column_sql, table_sql
from schemakg.kernel.sql.types import type_family
from schemakg.retrieval.linked_schema import LinkedColumn, LinkedSchema

TokenCounter = Callable[[str], int]


def approx_tokens(text: str) -> int:
    """About four characters a token for English and SQL identifiers; the budget is a bound, not a count."""
    return (len(text) + 3) // 4


def _column_parts(column: LinkedColumn, references: dict[tuple[str, str], str]) -> tuple[str, str]:
    """(definition, comment) of one column line."""
    definition = f"{column.name} {column.data_type or 'TEXT'}".rstrip()
    if column.is_pk:
        definition += " PRIMARY KEY"
    if (column.table, column.name) in references:
        definition += f" REFERENCES {references[(column.table, column.name)]}"
    notes = []
    if column.description:
        notes.append(column.description.strip())
    if column.examples and type_family(column.data_type or "") != "number":
        notes.append("e.g. " + ", ".join(_literal(v) for v in column.examples[:3]))
    if column.value_explanation:
        notes.append(column.value_explanation.strip())
    return definition, "; ".join(notes)


def _literal(value: str) -> str:
    try:
        float(value)
        return value
    except ValueError:
        return "'" + value.replace("'", "''") + "'"


def _ref_sql(ref: str, dialect: str) -> str:
    """A ``table.column`` reference (``model.column_ref``) as SQL writes the column; anything else as it is."""
    try:
        return column_sql(*split_column_ref(ref), dialect)
    except ValueError:
        return ref


def render(schema: LinkedSchema) -> str:
    references: dict[tuple[str, str], str] = {}
    shown = {(c.table, c.name) for c in schema.columns if c.table in schema.tables}
    # A join whose key column is not shown, a column's second join (REFERENCES names one), or one inferred from
    # shared names: no key of the source, so not written as one.
    unreferenced = []
    for join in schema.joins:
        if join.left in references or join.left not in shown or join.source == "name":
            unreferenced.append(join)
        else:
            references[join.left] = f"{table_sql(join.right[0], schema.dialect)}({join.right[1]})"
    blocks = []
    for table in schema.tables:
        header = f"CREATE TABLE {table_sql(table, schema.dialect)} ("
        if schema.table_descriptions.get(table):
            header += f"  -- {schema.table_descriptions[table]}"
        parts = [_column_parts(c, references) for c in schema.columns if c.table == table]
        lines = [header]
        for index, (definition, note) in enumerate(parts):
            separator = "," if index < len(parts) - 1 else ""
            lines.append(f"  {definition}{separator}" + (f"  -- {note}" if note else ""))
        blocks.append("\n".join(lines) + "\n);")
    extras = []
    if unreferenced:  # each other join is already its column's REFERENCES: saying it twice cost prompt time
        extras.append("-- Joins:\n" + "\n".join(f"--   {j.sql(schema.dialect)}" for j in unreferenced))
    if schema.dependencies:
        extras.append(
            "-- Column dependencies:\n"
            + "\n".join(
                f"--   {_ref_sql(d.head, schema.dialect)} {d.relation} {_ref_sql(d.tail, schema.dialect)}"
                + (f": {d.text}" if d.text else "")
                for d in schema.dependencies
            )
        )
    if schema.value_hints:
        extras.append("-- Values:\n" + "\n".join(f"--   {hint}" for hint in schema.value_hints))
    return "\n\n".join(blocks + extras)


def union_schema(linked: LinkedSchema, full: LinkedSchema) -> LinkedSchema:
    """``linked`` (its tables, columns, joins and value hints first), then everything else of ``full``."""
    have = {(c.table, c.name) for c in linked.columns}
    return linked.model_copy(
        update={
            "tables": list(dict.fromkeys(linked.tables + full.tables)),
            "table_descriptions": {**full.table_descriptions, **linked.table_descriptions},
            "columns": linked.columns + [c for c in full.columns if (c.table, c.name) not in have],
            "joins": linked.joins + [j for j in full.joins if j not in linked.joins],
            "dependencies": linked.dependencies + [d for d in full.dependencies if d not in linked.dependencies],
        }
    )


def only_tables(schema: LinkedSchema, tables: Collection[str]) -> LinkedSchema:
    """``schema`` cut down to ``tables``: their columns, and the joins and dependencies among them."""
    kept = set(tables)
    return schema.model_copy(
        update={
            "tables": [t for t in schema.tables if t in kept],
            "table_descriptions": {t: d for t, d in schema.table_descriptions.items() if t in kept},
            "columns": [c for c in schema.columns if c.table in kept],
            "joins": [j for j in schema.joins if j.left[0] in kept and j.right[0] in kept],
            "dependencies": [
                d
                for d in schema.dependencies
                if split_column_ref(d.head)[0] in kept and split_column_ref(d.tail)[0] in kept
            ],
            "value_hints": [],
        }
    )


def fit_to_budget(schema: LinkedSchema, max_tokens: int, count: TokenCounter = approx_tokens) -> LinkedSchema:
    """Drop the lowest-scoring droppable columns until the rendering fits (or nothing droppable is left)."""
    keep = list(schema.columns)
    droppable = sorted((c for c in keep if not (c.join_key or c.is_pk)), key=lambda c: (c.score, c.value_match))
    fitted = schema.model_copy(update={"columns": keep})
    while count(render(fitted)) > max_tokens and droppable:
        victim = droppable.pop(0)
        keep = [c for c in keep if c is not victim]
        fitted = schema.model_copy(update={"columns": keep})
    return fitted
