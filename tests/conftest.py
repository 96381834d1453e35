"""Shared fixtures: one real embedded ArcadeDB engine and API for the session, isolated by database name."""

from __future__ import annotations

import itertools
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from catalog.api.app import create_app
from catalog.container import Container
from catalog.settings import Settings

ADMIN_KEY = "skg_test_admin_key"
SAMPLE_DB = Path(__file__).resolve().parents[1] / "catalog" / "samples" / "hr_1.sqlite"
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
_names = itertools.count()


# The GGUF that scripts/setup_llm.sh builds: tests share it rather than rebuild 0.5 GB per data dir.
LOCAL_GGUF = Path(__file__).resolve().parents[1] / ".schemakg" / "models" / "llm" / "qwen2.5-coder-0.5b.gguf"


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        data_dir=tmp_path_factory.mktemp("schemakg-data"),
        admin_key=ADMIN_KEY,
        llm_model_path=LOCAL_GGUF if LOCAL_GGUF.exists() else None,
    )


@pytest.fixture(scope="session")
def container(settings: Settings) -> Iterator[Container]:
    built = Container(settings)
    yield built
    built.close()


@pytest.fixture(scope="session")
def client(container: Container) -> Iterator[TestClient]:
    with TestClient(create_app(container=container)) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def admin() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_KEY}"}


@pytest.fixture
def db_name() -> str:
    return f"db{next(_names)}_{int(time.time() * 1000) % 100000}"


@pytest.fixture
def sample_copy(tmp_path: Path) -> Path:
    """A private copy of the sample database that a test may alter."""
    target = tmp_path / "hr_1.sqlite"
    shutil.copy(SAMPLE_DB, target)
    target.chmod(0o644)
    return target


def wait_for_job(client: TestClient, headers: dict[str, str], job_id: str, timeout_s: float = 60) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        job = client.get(f"/jobs/{job_id}", headers=headers).json()
        if job["state"] not in ("queued", "running"):
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job_id} did not finish in {timeout_s}s")


def count_nodes(container: Container, label: str, database: str | None = None) -> int:
    where = "WHERE n.database = $db" if database else ""
    return int(container.store.read(f"MATCH (n:{label}) {where} RETURN count(n) AS n", db=database)[0]["n"])
