"""Jobs on a real redis-server and a real Celery worker process, including a worker killed mid-job."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from schemakg.app.api.app import create_app
from schemakg.app.container import Container
from schemakg.kernel.settings import Settings
from tests.conftest import ADMIN_KEY, count_nodes, wait_for_job
from tests.servers import free_port

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("redis-server is not installed (scripts/setup.sh installs it with apt-get)")
    port = free_port()
    workdir = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def celery_settings(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("celery-data"),
        admin_key=ADMIN_KEY,
        redis_url=redis_url,
        celery_visibility_timeout_s=3,
    )


@pytest.fixture(scope="module")
def celery_container(celery_settings: Settings) -> Iterator[Container]:
    built = Container(celery_settings)
    yield built
    built.close()


@pytest.fixture(scope="module")
def celery_client(celery_container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=celery_container)) as test_client:
        yield test_client


def _start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "SCHEMAKG_DATA_DIR": str(settings.data_dir),
        "REDIS_URL": str(settings.redis_url),
        "SCHEMAKG_CELERY_VISIBILITY_TIMEOUT_S": "3",
    }
    with open(log, "ab") as handle:
        return subprocess.Popen(
            [sys.executable, "-m", "schemakg.app.cli.main", "worker", "--pool", "solo"],
            env=env,
            stdout=handle,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
    if process.poll() is None:
        os.killpg(process.pid, sig)
        process.wait(timeout=30)


def _big_log(rows: int) -> bytes:
    return "\n".join(
        json.dumps(
            {
                "question": f"Who is employee {i}?",
                "sql": f"SELECT first_name, last_name FROM employees WHERE employee_id = {i}",
            }
        )
        for i in range(rows)
    ).encode()


def test_jobs_run_on_a_celery_worker_and_survive_its_death(
    celery_client: TestClient,
    celery_container: Container,
    celery_settings: Settings,
    sample_copy: Path,
    tmp_path: Path,
) -> None:
    worker_log = tmp_path / "worker.log"
    worker = _start_worker(celery_settings, worker_log)
    try:
        created = celery_client.post(
            "/databases", json={"name": "hr", "url": f"sqlite:///{sample_copy}"}, headers=ADMIN
        )
        assert created.status_code == 201
        job = celery_client.post("/databases/hr/ingest", headers=ADMIN).json()
        assert wait_for_job(celery_client, ADMIN, job["id"], timeout_s=120)["state"] == "succeeded", (
            worker_log.read_text()
        )

        rows = 6000
        upload = celery_client.post("/databases/hr/query-logs", content=_big_log(rows), headers=ADMIN).json()
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            state = celery_client.get(f"/jobs/{upload['id']}", headers=ADMIN).json()
            if state["state"] == "running" and state["done"] > 0:
                break
            time.sleep(0.05)
        assert state["state"] == "running" and state["done"] < rows, state
        _stop(worker, signal.SIGKILL)  # the worker dies mid-job, its task unacknowledged

        worker = _start_worker(celery_settings, worker_log)
        finished = wait_for_job(celery_client, ADMIN, upload["id"], timeout_s=180)
        assert finished["state"] == "succeeded", (finished, worker_log.read_text()[-3000:])
        assert count_nodes(celery_container, "QueryExample", "hr") == rows
        uses = celery_container.store.read(
            "MATCH (q:QueryExample {database: 'hr'})-[u:USES]->(c:Column) RETURN count(u) AS n"
        )[0]["n"]
        assert uses == rows * 3  # first_name, last_name, employee_id: once each, no duplicates
    finally:
        _stop(worker)
