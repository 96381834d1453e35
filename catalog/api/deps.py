"""Request-scoped dependencies: the container and the authenticated principal with a role check."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Query, Request

from catalog.container import Container
from catalog.errors import PreconditionFailed
from catalog.model import ApiKeyInfo, Role

# The graph engines take a 32-bit skip; a larger offset is a 422, not a 500.
MAX_OFFSET = 2**31 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]


def container(request: Request) -> Container:
    return request.app.state.container  # type: ignore[no-any-return]


def _principal(request: Request, app: Container = Depends(container)) -> ApiKeyInfo:
    header = request.headers.get("authorization", "")
    key = header[7:].strip() if header.lower().startswith("bearer ") else request.headers.get("x-api-key")
    return app.keys.authenticate(key)


def require(role: Role) -> Callable[..., ApiKeyInfo]:
    def dependency(principal: ApiKeyInfo = Depends(_principal), app: Container = Depends(container)) -> ApiKeyInfo:
        app.keys.authorize(principal, role)
        return principal

    return dependency


def etag(revision: int) -> str:
    return f'"r{revision}"'


def expected_revision(request: Request) -> int | None:
    """The revision named by If-Match ("r<n>"), or None when the client sent no precondition."""
    value = request.headers.get("if-match")
    if value is None or value.strip() == "*":
        return None
    tag = value.strip().removeprefix("W/").strip('"')
    if not tag.startswith("r") or not tag[1:].isdigit():
        raise PreconditionFailed(f"If-Match {value!r} is not an ETag issued by this service")
    return int(tag[1:])
