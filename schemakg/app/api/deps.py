"""Request-scoped dependencies: the container and the authenticated principal with a role check."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Query, Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from schemakg.app.container import Container
from schemakg.app.services.keys import KeyService
from schemakg.kernel.errors import PreconditionFailed
from schemakg.kernel.model import ApiKeyInfo, Role

# The graph engines take a 32-bit skip; a larger offset is a 422, not a 500.
MAX_OFFSET = 2**31 - 1
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="rows to skip")]


async def container(request: Request) -> Container:
    # async: a plain function would cost every request a hop to the thread pool
    return request.app.state.container


# Either header carries an API key; both appear under "Authorize" in /docs.
_bearer = HTTPBearer(auto_error=False, description="an API key, as 'Authorization: Bearer <key>'")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="an API key")


async def _principal(
    bearer: HTTPAuthorizationCredentials | None = Security(_bearer),
    api_key: str | None = Security(_api_key_header),
    app: Container = Depends(container),
) -> ApiKeyInfo:
    key = bearer.credentials if bearer else api_key
    # A key verified within the last SCHEMAKG_API_KEY_CACHE_S needs no graph round trip (nor a thread).
    cached = app.keys.cached(key)
    return cached if cached is not None else await run_in_threadpool(app.keys.authenticate, key)


def require(role: Role) -> Callable[..., Awaitable[ApiKeyInfo]]:
    async def dependency(principal: ApiKeyInfo = Depends(_principal)) -> ApiKeyInfo:
        KeyService.authorize(principal, role)
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
