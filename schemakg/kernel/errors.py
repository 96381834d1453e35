"""Service-level errors; the HTTP layer maps each to a status code and a JSON body."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    code = "error"
    status = 400

    def __init__(self, message: str, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class InvalidInput(ServiceError):
    code = "invalid_input"
    status = 422


class SourceUnavailable(ServiceError):
    code = "source_unavailable"
    status = 400


class NotFound(ServiceError):
    code = "not_found"
    status = 404


class Conflict(ServiceError):
    code = "conflict"
    status = 409


class PreconditionFailed(ServiceError):
    code = "precondition_failed"
    status = 412


class Unauthorized(ServiceError):
    code = "unauthorized"
    status = 401


class Forbidden(ServiceError):
    code = "forbidden"
    status = 403
