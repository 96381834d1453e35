"""The guard between generated SQL and a user's database.

The guard is one of two fences, each enough on its own (the threat model in docs/security.md): a
statement runs only if it is short and shallow enough to check, parses in the source's own
dialect, is exactly one read-only query (SELECT, WITH … SELECT, set operations), calls only
allowed functions (``schemakg.kernel.sql.functions``), and names only tables and columns the catalogue
knows. What runs is the statement rendered back from the checked tree, through the source's
read-only execution layer (``SourceDatabase.read``) under a deadline, a row cap and a size cap.
"""

from schemakg.generation.guard.checks import (
    MAX_NESTING,
    MAX_SQL_CHARS,
    GuardError,
    Validated,
    check_limits,
    check_policy,
    validate,
)
from schemakg.generation.guard.execution import QueryResult, execute
from schemakg.generation.guard.repairs import Repaired, repair

__all__ = [
    "MAX_NESTING",
    "MAX_SQL_CHARS",
    "GuardError",
    "QueryResult",
    "Repaired",
    "Validated",
    "check_limits",
    "check_policy",
    "execute",
    "repair",
    "validate",
]
