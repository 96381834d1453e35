"""``schemakg mcp``: the MCP server over stdio, for an agent that starts it as a local process."""

from __future__ import annotations

import getpass

import typer

from schemakg.app.container import Container
from schemakg.app.services.warmup import set_torch_threads
from schemakg.kernel.clock import now_iso
from schemakg.kernel.model import ApiKeyInfo, Role
from schemakg.kernel.settings import Settings


def mcp(
    role: Role = typer.Option(
        Role.ANALYST,
        envvar="SCHEMAKG_MCP_ROLE",
        help="the role the agent acts with; steward lets it propose descriptions",
    ),
) -> None:
    """Serve MCP over stdio on this data dir (SCHEMAKG_DATA_DIR). A local process is trusted like the CLI,
    so no API key: the agent gets the role given here, analyst unless you say otherwise."""
    from schemakg.app.mcp.server import build_server  # the MCP SDK loads for this command only

    settings = Settings()
    set_torch_threads(settings)
    container = Container(settings)
    principal = ApiKeyInfo(id="local", name=f"local:{getpass.getuser()}", role=role, created_at=now_iso())
    try:
        build_server(lambda: container, lambda _: principal).run("stdio")
    finally:
        container.close()
