"""The FastAPI application: a face over the services in the container."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.routing import Route

from schemakg.app.api.errors import ERROR_RESPONSES, BodySizeLimit, install_error_handlers
from schemakg.app.api.paths import EncodedSegments
from schemakg.app.api.routers import (
    ask,
    catalog,
    databases,
    health,
    jobs,
    keys,
    knowledge,
    linking,
    search,
    tables,
    whoami,
)
from schemakg.app.container import Container
from schemakg.app.mcp.http import McpEndpoint
from schemakg.app.services.warmup import WarmUp
from schemakg.app.web import install as install_ui
from schemakg.generation.llm.factory import backend_for
from schemakg.kernel.settings import Settings


def create_app(
    settings: Settings | None = None,
    container: Container | None = None,
    warm_up: bool = True,
    on_warm: Callable[[WarmUp], None] | None = None,
    warm_llm: bool = True,
) -> FastAPI:
    """With a container, the app uses it and leaves it open; otherwise it owns one for its lifetime.

    ``warm_up``: load the retriever, the LLM and every database's linking state in a background thread at
    start-up (``/health/ready`` is 503 until that is done); off, the warm-up never runs and the service never
    says ready. ``on_warm`` is called with the warm-up when it has finished (``schemakg serve`` prints it);
    ``warm_llm`` off leaves the LLM to its first use (``schemakg demo --no-questions``).
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
        built: Container = app.state.container

        def load_llm() -> str:
            model = built.llm  # the embedded GGUF loads here; an endpoint's client is only built
            if backend_for(built.settings) == "llama":
                return model.model_name
            return f"endpoint {built.settings.openai_base_url or 'api.openai.com'}"

        app.state.warmup = WarmUp(
            settings, built.linking, built.catalog, llm=load_llm if warm_llm else None, on_finished=on_warm
        )
        if warm_up:
            app.state.warmup.start()
        try:
            async with mcp.serving():
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
    mcp = McpEndpoint(lambda: app.state.container)
    app.router.routes.append(Route("/mcp", mcp, include_in_schema=False))  # MCP for agents (docs/integrations.md)
    for module in (databases, tables, search, jobs, keys, whoami, knowledge, linking, ask, catalog):
        app.include_router(module.router, responses=ERROR_RESPONSES)
    install_ui(app)
    return app
