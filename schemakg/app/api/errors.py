"""One JSON error shape for every failure: {"error": {"code", "message", "details"}}."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schemakg.generation.llm.base import LLMError, TransientLLMError
from schemakg.kernel.errors import ServiceError

log = logging.getLogger(__name__)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


class ErrorDetail(BaseModel):
    code: str = Field(description="machine-readable, e.g. not_found, precondition_failed")
    message: str
    details: Any = None


class ErrorResponse(BaseModel):
    """The body of every error response."""

    error: ErrorDetail


def _declared(description: str) -> dict[str, Any]:
    return {"model": ErrorResponse, "description": description}


# Declared on every authenticated route, so clients (and /docs) see each error the service can send.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: _declared("the request cannot be served as sent (e.g. a source database that cannot be reached)"),
    401: _declared("no API key, or an unknown one"),
    403: _declared("the key's role may not do this"),
    404: _declared("no such database, table, column, proposal, job or key"),
    409: _declared("conflicts with the current state (a duplicate name, a proposal already decided)"),
    412: _declared("If-Match names a revision that is no longer current"),
    413: _declared("the request body is larger than the service accepts"),
    422: _declared("a parameter or the body is invalid; details name each problem"),
}

# Declared on the routes that call the LLM while the client waits.
LLM_UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: _declared("the LLM cannot be reached or loaded; transient failures carry Retry-After"),
}


def _validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    # The offending input is left out on purpose: it may be a connection URL with a password.
    return [{"location": list(err.get("loc", ())), "problem": err.get("msg", "")} for err in exc.errors()]


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ServiceError)
    async def _catalog(_: Request, exc: ServiceError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.details), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        details = _validation_details(exc)
        first = details[0] if details else {"location": [], "problem": "invalid request"}
        where = ".".join(str(part) for part in first["location"])
        return JSONResponse(error_body("invalid_input", f"{where}: {first['problem']}", details), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large"}.get(
            exc.status_code, "http_error"
        )
        headers = dict(exc.headers or {})
        if exc.status_code == 405:  # RFC 9110: every method the path takes, not only its first route's
            headers["Allow"] = ", ".join(allowed_methods(request))
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code, headers=headers)

    @app.exception_handler(LLMError)
    async def _llm(_: Request, exc: LLMError) -> JSONResponse:
        # The backends' messages are already redacted (no keys, no credentials in URLs).
        headers = {"Retry-After": "30"} if isinstance(exc, TransientLLMError) else None
        return JSONResponse(error_body("llm_unavailable", str(exc)), status_code=503, headers=headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(error_body("internal_error", "internal server error"), status_code=500)


def allowed_methods(request: Request) -> list[str]:
    """The methods some route fully matches for the request's path."""
    routes = request.app.router.routes
    return [
        method
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE")
        if any(route.matches({**request.scope, "method": method})[0] == Match.FULL for route in routes)
    ]


class BodySizeLimit:
    """Rejects request bodies over ``max_bytes`` with 413 before the app parses them."""

    def __init__(
        self, app: ASGIApp, max_bytes: int, unbounded_suffixes: tuple[str, ...] = ("/query-logs", "/dbt")
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.unbounded_suffixes = unbounded_suffixes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # Log and dbt uploads stream to disk under their own (larger) limit, enforced by the service.
        if scope["type"] != "http" or scope["path"].endswith(self.unbounded_suffixes):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers", [])).get(b"content-length")
        if declared is not None:  # the server holds the client to a declared length
            if declared.isdigit() and int(declared) > self.max_bytes:
                await self._reject(send)
                return
            await self.app(scope, receive, send)
            return
        # No declared length (chunked): read the body up to the limit first, then hand it on whole.
        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            received += len(message.get("body", b""))
            if received > self.max_bytes:
                await self._reject(send)
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

        await self.app(scope, replay, send)

    async def _reject(self, send: Send) -> None:
        response = JSONResponse(
            error_body("payload_too_large", f"request body is larger than {self.max_bytes} bytes"), status_code=413
        )
        await response({"type": "http"}, _empty_receive, send)


async def _empty_receive() -> Message:
    return {"type": "http.request", "body": b"", "more_body": False}
