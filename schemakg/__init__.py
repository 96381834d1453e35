"""SchemaKG: a knowledge-graph schema catalogue for text-to-SQL. ``from schemakg import Client`` for its API."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from schemakg.client import ApiError, Client

__all__ = ["ApiError", "Client"]


def __getattr__(name: str) -> Any:
    """The client loads on first use: every module of the package imports this one, and the kernel must not
    pull in the client (nor the app models it reads)."""
    if name in __all__:
        from schemakg import client

        return getattr(client, name)
    raise AttributeError(f"module 'schemakg' has no attribute {name!r}")
