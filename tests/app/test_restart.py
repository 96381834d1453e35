"""Stop the service and start it again on the same data directory: the catalogue is still there."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from schemakg.app.container import Container
from schemakg.kernel.model import JobState
from schemakg.kernel.settings import Settings


def test_catalogue_survives_restart(tmp_path: Path, sample_copy: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    first = Container(settings)
    try:
        first.databases.register("hr", f"sqlite:///{sample_copy}")
        job = first.databases.start_ingestion("hr")
        while first.jobs.get(job.id).state in (JobState.QUEUED, JobState.RUNNING):
            time.sleep(0.1)
        assert first.jobs.get(job.id).state == JobState.SUCCEEDED
    finally:
        first.close()
    assert not (settings.graph_dir / "server.json").exists()

    second = Container(settings)
    try:
        assert second.databases.get("hr").table_count == 7
        assert second.browser.column("hr", "employees", "salary").examples
        assert second.secrets.get("hr") == f"sqlite:///{sample_copy}"
    finally:
        second.close()


_KILLED_SERVICE = """
import json, sys, time
from schemakg.app.container import Container
from schemakg.kernel.model import JobState
from schemakg.kernel.settings import Settings

container = Container(Settings(data_dir=sys.argv[1]))
container.databases.register("big", "sqlite:///" + sys.argv[2])
job = container.databases.start_ingestion("big")
while container.jobs.get(job.id).state != JobState.RUNNING:
    time.sleep(0.02)
engine = json.loads((container.settings.graph_dir / "server.json").read_text())["pid"]
print(json.dumps({"job": job.id, "engine": engine}), flush=True)
time.sleep(600)
"""


def _wide_database(path: Path, tables: int = 1500) -> Path:
    with sqlite3.connect(path) as conn:
        for t in range(tables):
            columns = ", ".join(f"c{c} TEXT" for c in range(8))
            conn.execute(f"CREATE TABLE t{t} (id INTEGER PRIMARY KEY, {columns})")
            conn.executemany(f"INSERT INTO t{t} VALUES (?{', ?' * 8})", [(i, *[f"v{i}"] * 8) for i in range(20)])
    return path


def test_a_killed_service_leaves_no_running_job_no_partial_graph_and_no_orphan_engine(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    source = _wide_database(tmp_path / "big.sqlite")
    service = subprocess.Popen(
        [sys.executable, "-c", _KILLED_SERVICE, str(data_dir), str(source)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert service.stdout is not None
        started = json.loads(service.stdout.readline())
    finally:
        service.send_signal(signal.SIGKILL)  # mid-ingestion: no clean-up runs
        service.wait(timeout=30)
    engine = int(started["engine"])
    os.kill(engine, 0)  # the engine outlived the service

    restarted = Container(Settings(data_dir=data_dir))
    try:
        job = restarted.jobs.get(started["job"])
        assert job.state == JobState.FAILED
        assert job.error is not None and "stopped before this job finished" in job.error
        assert restarted.catalog.list_tables("big", 0, 10)[1] == 0  # the ingestion's transaction never committed
    finally:
        restarted.close()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(engine, 0)
        except ProcessLookupError:
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the adopted engine was left running")
    assert not (data_dir / "graph" / "server.json").exists()
