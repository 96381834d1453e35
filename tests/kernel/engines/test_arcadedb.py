"""The embedded engine: private secrets, reuse by a second process, no password in the process list."""

from __future__ import annotations

import json
import stat
from pathlib import Path

from schemakg.kernel.engines.arcadedb import EmbeddedArcadeDB
from schemakg.kernel.settings import Settings


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_secrets_are_private_and_not_in_the_command_line(settings: Settings, container: object) -> None:
    graph = settings.graph_dir
    password = (graph / "root.password").read_text().strip()
    assert _mode(graph / "root.password") == 0o600
    assert _mode(graph / "server.args") == 0o600
    pid = json.loads((graph / "server.json").read_text())["pid"]
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
    assert "com.arcadedb.server.ArcadeDBServer" in cmdline
    assert password not in cmdline
    assert password not in (graph / "server.log").read_text()


def test_second_handle_reuses_the_running_server(settings: Settings, container: object) -> None:
    state = json.loads((settings.graph_dir / "server.json").read_text())
    other = EmbeddedArcadeDB(settings.graph_dir)
    endpoint = other.ensure_running()
    assert endpoint.uri.endswith(f":{state['bolt_port']}")
    other.stop()  # did not start it, so it must not stop it
    assert EmbeddedArcadeDB(settings.graph_dir).ensure_running().uri == endpoint.uri
