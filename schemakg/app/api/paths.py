"""Path segments that carry any name: ``/`` and ``%`` inside a table or column name travel URL-encoded.

Servers decode the whole path before routing, so ``/tables/a%2Fb/columns`` would route as
``/tables/a/b/columns``. ``EncodedSegments`` re-derives the routing path from the raw bytes, keeping
``%2F`` and ``%25`` encoded inside a segment, and every name parameter (``{table:name}``) decodes its
own segment back. Every other character arrives decoded, as before.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from starlette.convertors import Convertor, register_url_convertor
from starlette.types import ASGIApp, Receive, Scope, Send


class NameConvertor(Convertor[str]):
    regex = "[^/]+"

    def convert(self, value: str) -> str:
        return unquote(value)

    def to_string(self, value: str) -> str:
        return quote(value, safe="")


register_url_convertor("name", NameConvertor())


def routing_path(raw_path: bytes) -> str:
    """The decoded path, except that ``/`` and ``%`` inside a segment stay encoded."""
    segments = (unquote(segment) for segment in raw_path.decode("latin-1").split("/"))
    return "/".join(segment.replace("%", "%25").replace("/", "%2F") for segment in segments)


class EncodedSegments:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        raw_path = scope.get("raw_path") if scope["type"] in ("http", "websocket") else None
        if raw_path:  # as uvicorn sends it: the root path included, the query string not
            scope = {**scope, "path": routing_path(raw_path)}
        await self.app(scope, receive, send)
