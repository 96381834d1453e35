"""The FastAPI application: a face over the services in the container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from schemakg.app.api.errors import ERROR_RESPONSES, BodySizeLimit, install_error_handlers
from schemakg.app.api.routers import ask, databases, health, jobs, keys, knowledge, linking, search, tables
from schemakg.app.container import Container
from schemakg.kernel.settings import Settings


def create_app(settings: Settings | None = None, container: Container | None = None) -> FastAPI:
    """With a container, the app uses it and leaves it open; otherwise it owns one for its lifetime."""
    settings = settings or (container.settings if container else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = container is None
        app.state.container = container or Container(settings)
        app.state.container.keys.bootstrap_admin(
            settings.admin_key.get_secret_value() if settings.admin_key else None,
            settings.data_dir / "admin.key",
        )
        try:
            yield
        finally:
            if owned:
                app.state.container.close()

    app = FastAPI(
        title="SchemaKG",
        version="0.1.0",
        description=(
            "Knowledge-graph schema catalogue for text-to-SQL. "
            "Authenticate with an API key: 'Authorization: Bearer <key>' or 'X-API-Key: <key>' (Authorize, above)."
        ),
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_request_bytes)
    app.include_router(health.router)
    for module in (databases, tables, search, jobs, keys, knowledge, linking, ask):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    return app
