"""MCP over streamable HTTP at ``/mcp`` on the service, authenticated with the REST API's keys and headers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from mcp.server.mcpserver import Context
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.types import Receive, Scope, Send

from schemakg.app.api.errors import error_body
from schemakg.app.container import Container
from schemakg.app.mcp.server import build_server
from schemakg.kernel.errors import Unauthorized
from schemakg.kernel.model import ApiKeyInfo

_PRINCIPAL = "schemakg.principal"  # the ASGI scope key the authenticated key is kept under


def _api_key(headers: Headers) -> str | None:
    """The key from 'Authorization: Bearer <key>' or 'X-API-Key', as the REST API reads it."""
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("x-api-key")


def _principal(ctx: Context) -> ApiKeyInfo:
    request = ctx.request_context.request
    assert isinstance(request, Request), "an MCP call over HTTP carries its request"
    principal: ApiKeyInfo = request.scope[_PRINCIPAL]
    return principal


class McpEndpoint:
    """The ASGI endpoint: a request without a valid key is a 401 with the API's error body; one with a key is
    served by the MCP session manager, and its tools see the key's role.

    Stateless JSON responses: each call stands alone, so any worker process can serve it. DNS-rebinding
    protection (the SDK's Host/Origin allowlist for localhost) is off: the endpoint serves whatever host name
    the service is deployed under, and a page a browser was tricked into loading has no API key to send."""

    def __init__(self, services: Callable[[], Container]) -> None:
        self._services = services
        self._manager: StreamableHTTPSessionManager | None = None

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[None]:
        """Run for the app's lifetime (its lifespan); a session manager runs once, so each start builds one."""
        server = build_server(self._services, _principal)
        server.streamable_http_app(
            stateless_http=True,
            json_response=True,
            transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
        )
        async with server.session_manager.run():
            self._manager = server.session_manager
            try:
                yield
            finally:
                self._manager = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._manager is None:
            response = JSONResponse(error_body("unavailable", "the MCP endpoint is not running"), status_code=503)
            await response(scope, receive, send)
            return
        keys = self._services().keys
        key = _api_key(Headers(scope=scope))
        try:
            principal = keys.cached(key) or await run_in_threadpool(keys.authenticate, key)
        except Unauthorized as exc:
            body = error_body(exc.code, exc.message)
            await JSONResponse(body, status_code=exc.status, headers={"WWW-Authenticate": "Bearer"})(
                scope, receive, send
            )
            return
        scope[_PRINCIPAL] = principal
        await self._manager.handle_request(scope, receive, send)
