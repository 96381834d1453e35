"""The embedded engine: private secrets, reuse by a second process, no password in the process list, and a
start that survives ports taken between choosing and binding them."""

from __future__ import annotations

import json
import socket
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
from neo4j import GraphDatabase

from schemakg.kernel.engines import arcadedb
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


def _bolt_port_taken(busy: int, fresh: int) -> list[int]:
    return [busy, fresh]


def _one_port_for_both(busy: int, fresh: int) -> list[int]:
    return [fresh, fresh]  # what the kernel once handed out: the port it had just released, twice


@pytest.mark.parametrize("first_pick", [_bolt_port_taken, _one_port_for_both])
def test_a_port_taken_before_the_server_binds_it_is_given_up_for_fresh_ones(
    first_pick: Callable[[int, int], list[int]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The server then fails only in its log while its process lives on; without noticing, the start would
    wait out the whole deadline and fail."""
    choose = arcadedb._free_ports
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other_process:
        other_process.bind(("127.0.0.1", 0))
        other_process.listen()
        busy = other_process.getsockname()[1]
        picks = iter([first_pick(busy, choose(1)[0])])
        monkeypatch.setattr(arcadedb, "_free_ports", lambda count: next(picks, None) or choose(count))
        engine = EmbeddedArcadeDB(tmp_path / "graph", heap="256m", start_timeout_s=60)
        try:
            endpoint = engine.ensure_running()
            with (
                GraphDatabase.driver(endpoint.uri, auth=(endpoint.user, endpoint.password)) as driver,
                driver.session(database=endpoint.database) as session,
            ):
                assert session.run("RETURN 1 AS one").single()["one"] == 1
        finally:
            engine.stop()
    assert not endpoint.uri.endswith(f":{busy}")
    assert "Unable to listen" in (tmp_path / "graph" / "server.log").read_text()
