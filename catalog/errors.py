"""Service-level errors; the HTTP layer maps each to a status code and a JSON body."""

from __future__ import annotations

from typing import Any


class CatalogError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(CatalogError):
    code = "invalid_input"
    status = 422


class SourceUnavailable(CatalogError):
    code = "source_unavailable"
    status = 400


class NotFound(CatalogError):
    code = "not_found"
    status = 404


class Conflict(CatalogError):
    code = "conflict"
    status = 409


class PreconditionFailed(CatalogError):
    code = "precondition_failed"
    status = 412


class PreconditionRequired(CatalogError):
    code = "precondition_required"
    status = 428


class Unauthorized(CatalogError):
    code = "unauthorized"
    status = 401


class Forbidden(CatalogError):
    code = "forbidden"
    status = 403
