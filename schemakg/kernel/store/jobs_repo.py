"""Job records, kept in the graph store so the API and every worker see the same state."""

from __future__ import annotations

import json
from typing import Any

from schemakg.kernel.model import JobInfo, JobState
from schemakg.kernel.store.base import GraphStore


def _job(row: dict[str, Any]) -> JobInfo:
    data = dict(row)
    data["result"] = json.loads(data["result"]) if data.get("result") else None
    return JobInfo(**data)


class JobRepository:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def create(self, job: JobInfo) -> None:
        props = job.model_dump(mode="json", exclude_none=True)
        props.pop("result", None)
        self.store.write("CREATE (j:Job) SET j = $props", props=props)

    def update(self, job_id: str, **fields: Any) -> None:
        if "result" in fields:
            fields["result"] = json.dumps(fields["result"])
        if isinstance(fields.get("state"), JobState):
            fields["state"] = fields["state"].value
        self.store.write("MATCH (j:Job {id: $id}) SET j += $fields", id=job_id, fields=fields)

    def settle(self, job_id: str, expected: JobState, silent_since: str | None, **fields: Any) -> bool:
        """Set ``fields`` only if the job is still ``expected`` and (with ``silent_since``) its heartbeat is older
        than that; False when another process moved it on first."""
        if isinstance(fields.get("state"), JobState):
            fields["state"] = fields["state"].value
        rows = self.store.write(
            "MATCH (j:Job {id: $id}) WHERE j.state = $expected "
            "AND ($since IS NULL OR coalesce(j.heartbeat_at, j.updated_at) < $since) "
            "SET j += $fields RETURN j.id AS id",
            id=job_id,
            expected=expected.value,
            since=silent_since,
            fields=fields,
        )
        return bool(rows)

    def unfinished(self) -> list[JobInfo]:
        rows = self.store.read("MATCH (j:Job) WHERE j.state IN ['queued', 'running'] RETURN j {.*} AS j")
        return [_job(row["j"]) for row in rows]

    def get(self, job_id: str) -> JobInfo | None:
        rows = self.store.read("MATCH (j:Job {id: $id}) RETURN j {.*} AS j", id=job_id)
        return _job(rows[0]["j"]) if rows else None

    def list(self, database: str | None, offset: int, limit: int) -> tuple[list[JobInfo], int]:
        where = "WHERE $db IS NULL OR j.database = $db"
        total = self.store.read(f"MATCH (j:Job) {where} RETURN count(j) AS n", db=database)[0]["n"]
        rows = self.store.read(
            f"MATCH (j:Job) {where} RETURN j {{.*}} AS j ORDER BY j.created_at DESC SKIP $offset LIMIT $limit",
            db=database,
            offset=offset,
            limit=limit,
        )
        return [_job(row["j"]) for row in rows], total
