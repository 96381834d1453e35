"""Stop the service and start it again on the same data directory: the catalogue is still there."""

from __future__ import annotations

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
