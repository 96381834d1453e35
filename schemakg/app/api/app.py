"""The FastAPI application: a face over the services in the container."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from schemakg.app.api.errors import ERROR_RESPONSES, BodySizeLimit, install_error_handlers
from schemakg.app.api.paths import EncodedSegments
from schemakg.app.api.routers import ask, databases, health, jobs, keys, knowledge, linking, search, tables
from schemakg.app.container import Container
from schemakg.app.services.warmup import WarmUp
from schemakg.kernel.settings import Settings


def create_app(settings: Settings | None = None, container: Container | None = None, warm_up: bool = True) -> FastAPI:
    """With a container, the app uses it and leaves it open; otherwise it owns one for its lifetime.

    ``warm_up``: load the retriever and every database's linking state in a background thread at start-up
    (``/health/ready`` is 503 until that is done); off, the warm-up never runs and the service never says ready.
    """
    settings = settings or (container.settings if container else Settings())

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        owned = container is None
        app.state.container = container or Container(settings)
        app.state.container.keys.bootstrap_admin(
            settings.admin_key.get_secret_value() if settings.admin_key else None,
            settings.data_dir / "admin.key",
        )
        app.state.warmup = WarmUp(settings, app.state.container.linking, app.state.container.catalog)
        if warm_up:
            app.state.warmup.start()
        try:
            yield
        finally:
            app.state.warmup.stop()
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
    app.add_middleware(EncodedSegments)
    app.include_router(health.router)
    for module in (databases, tables, search, jobs, keys, knowledge, linking, ask):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    return app
