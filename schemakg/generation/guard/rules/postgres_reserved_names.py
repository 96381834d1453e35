"""Repair rule: on PostgreSQL, a table or column named by a reserved word is quoted.

Spider's ``imdb`` has a table ``cast`` and ``yelp`` one called ``user``; undocumented schemas have ``order``
and ``group``. SQLite reads most of these unquoted and the small models write them so; PostgreSQL then fails
(``FROM cast AS c``: a syntax error) or, worse, reads ``user`` as ``CURRENT_USER``. The name is quoted in the
lower case PostgreSQL would have folded it to, so it still means the same table or column."""

from __future__ import annotations

from sqlglot import exp

from schemakg.generation.guard.rules.context import RepairContext

# PostgreSQL 15, Appendix C: the words "reserved" and "reserved (can be function or type)", which can name
# neither a table nor a column unquoted.
RESERVED = frozenset(
    """all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create
    current_catalog current_date current_role current_time current_timestamp current_user default deferrable
    desc distinct do else end except false fetch for foreign from grant group having in initially intersect into
    lateral leading limit localtime localtimestamp not null offset on only or order placing primary references
    returning select session_user some symmetric system_user table then to trailing true union unique user using
    variadic when where window with authorization binary collation concurrently cross current_schema freeze full
    ilike inner is isnull join left like natural notnull outer overlaps right similar tablesample verbose""".split()  # noqa: SIM905
)


def _names(tree: exp.Expression) -> list[exp.Identifier]:
    """The identifiers that name tables, their aliases and columns (not functions or literals)."""
    found: list[exp.Identifier] = []
    for node in tree.find_all(exp.Table, exp.TableAlias, exp.Column):
        keys = ("this", "table") if isinstance(node, exp.Column) else ("this",)
        found += [part for key in keys if isinstance(part := node.args.get(key), exp.Identifier)]
    return found


def apply(tree: exp.Expression, context: RepairContext) -> list[str]:
    """``FROM cast AS c`` -> ``FROM "cast" AS c``; ``user.name`` -> ``"user".name``."""
    if context.dialect != "postgres":
        return []
    quoted: list[str] = []
    for name in _names(tree):
        if not name.quoted and name.name.lower() in RESERVED:
            name.set("this", name.name.lower())
            name.set("quoted", True)
            quoted.append(name.name)
    return [f"quoted the reserved word {word}" for word in dict.fromkeys(quoted)]
