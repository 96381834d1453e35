"""Importing a dbt project's documentation (``schemakg import dbt``, ``POST /databases/{name}/dbt``).

Descriptions land through the curation service with provenance ``dbt`` (or wait as proposals), so history and
the rule that a steward's edit (or an approved proposal) is never overwritten are the same as everywhere. Key
hints and the foreign keys of ``relationships`` tests go through :class:`DbtRepository`. Idempotent: what the
catalogue already holds is counted as unchanged and writes nothing.

Mapping: every relation of the manifest is looked for in the one catalogue database named. A relation
``schema.identifier`` maps to the table of that qualified name (a PostgreSQL schema the catalogue holds), else,
when the catalogue qualifies no table with that schema, to the table ``identifier``; names match exactly, else
ignoring case when only one does. Sources are read first, then models, seeds and snapshots: where two map to
the same table, the later's non-empty text wins.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from schemakg.app.job_runner import JobReporter, TaskFailed
from schemakg.app.services.curation import CurationService
from schemakg.app.services.jobs import JobService
from schemakg.app.services.query_logs import save_upload
from schemakg.ingest.dbt import DbtDocs, DbtRelation, load_json, parse_manifest
from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import InvalidInput, PreconditionFailed
from schemakg.kernel.model import JobInfo, JobKind, Proposal, ProposalKind, Provenance, column_ref
from schemakg.kernel.settings import Settings
from schemakg.kernel.store.dbt_repo import DbtRepository
from schemakg.kernel.store.proposals_repo import ProposalRepository
from schemakg.kernel.store.schema_repo import SchemaRepository
from schemakg.kernel.store.transfer_repo import TransferRepository

KEPT = (Provenance.STEWARD.value, Provenance.LLM.value)  # a steward's edit or an approved proposal
Progress = Callable[[int, int, str], None]


class DbtItem(BaseModel):
    """One thing the import wrote, or kept as it was."""

    table: str
    column: str | None = None
    item: str = Field(description="'description', 'proposal', 'key hints' or 'foreign key'")
    detail: str


class DbtUnmapped(BaseModel):
    """A relation, column or relationships test of the manifest that no catalogue table or column matches."""

    node: str = Field(description="dbt's unique_id (a test's for a relationships test)")
    relation: str = Field(description="database.schema.identifier as dbt names it")
    column: str | None = None
    reason: str


class DbtImportReport(BaseModel):
    database: str
    proposals: bool = Field(description="descriptions became pending proposals instead of edits")
    dbt_version: str | None = None
    relations: int = Field(description="models, seeds, snapshots and sources in the manifest")
    mapped: int = Field(description="of them, those mapped to a catalogue table")
    applied: list[DbtItem] = Field(default_factory=list)
    unchanged: int = Field(0, description="descriptions, key hints and keys the catalogue already held as they are")
    skipped: list[DbtItem] = Field(
        default_factory=list, description="kept as they are: a steward's edit or an approved proposal"
    )
    unmapped: list[DbtUnmapped] = Field(default_factory=list)


class DbtUpload(BaseModel):
    """The request body: the two files dbt writes to ``target/``, as they are."""

    manifest: dict[str, Any] = Field(description="manifest.json (schema v12, dbt 1.8 or later)")
    catalog: dict[str, Any] | None = Field(default=None, description="catalog.json of dbt docs generate")


@dataclass
class _Target:
    """What dbt says of one catalogue table, merged over the relations that map to it."""

    row: dict[str, Any]
    description: str | None = None
    columns: dict[str, tuple[dict[str, Any], str | None]] = field(default_factory=dict)  # key: (row, text)


def _find(rows: dict[str, dict[str, Any]], name: str) -> dict[str, Any] | None:
    if name in rows:
        return rows[name]
    folded = [row for key, row in rows.items() if key.lower() == name.lower()]
    return folded[0] if len(folded) == 1 else None


class DbtImportService:
    def __init__(
        self,
        settings: Settings,
        catalog: SchemaRepository,
        transfer: TransferRepository,
        dbt: DbtRepository,
        curation: CurationService,
        proposals: ProposalRepository,
        jobs: JobService,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.transfer = transfer
        self.dbt = dbt
        self.curation = curation
        self.proposals = proposals
        self.jobs = jobs
        self.on_change = on_change  # told once after an import that wrote text (the search index)

    # --- starting the job ----------------------------------------------------------------

    async def upload(self, database: str, body: AsyncIterator[bytes], proposals: bool, who: str) -> JobInfo:
        """Stream a :class:`DbtUpload` body to the data directory (bounded by max_upload_bytes), check it, and
        queue the import."""
        self.catalog.require_database(database)
        path = self._upload_path()
        await save_upload(body, path, self.settings.max_upload_bytes, "the upload")
        try:
            await asyncio.to_thread(_check_upload, path)  # a large manifest parses off the event loop
        except BaseException:
            path.unlink(missing_ok=True)
            raise
        return self._start(database, path, proposals, who)

    def import_files(self, database: str, upload: dict[str, Any], proposals: bool, who: str) -> JobInfo:
        """Queue the import of local files read by :func:`read_files` (the CLI); they are written where workers
        read them."""
        self.catalog.require_database(database)
        path = self._upload_path()
        path.write_text(json.dumps(upload), encoding="utf-8")
        return self._start(database, path, proposals, who)

    def _upload_path(self) -> Path:
        self.settings.uploads_dir.mkdir(parents=True, exist_ok=True)
        return self.settings.uploads_dir / f"{uuid.uuid4().hex}.dbt.json"

    def _start(self, database: str, path: Path, proposals: bool, who: str) -> JobInfo:
        payload = {"database": database, "path": str(path), "proposals": proposals, "who": who}
        return self.jobs.start(JobKind.IMPORT_DBT, database, payload)

    def run_import(self, reporter: JobReporter, payload: dict[str, Any]) -> dict[str, Any]:
        """The ``import_dbt`` job: read the stored upload, import it, then delete it."""
        database = self.catalog.require_database(payload["database"])
        path = Path(payload["path"])
        if not path.is_file():
            raise TaskFailed("the uploaded manifest is no longer available; upload it again")
        upload = load_json(path.read_bytes(), "the stored upload")
        docs = parse_manifest(upload["manifest"], upload.get("catalog"))
        report = self.import_docs(database.name, docs, payload["proposals"], payload["who"], reporter.progress)
        path.unlink(missing_ok=True)
        return report.model_dump()

    # --- the import ----------------------------------------------------------------------

    def import_docs(
        self, database: str, docs: DbtDocs, proposals: bool, who: str, progress: Progress | None = None
    ) -> DbtImportReport:
        self.catalog.require_database(database)
        snapshot = self.transfer.snapshot(database)
        tables = {row["name"]: row for row in snapshot.tables if row["status"] != "removed"}
        columns: dict[str, dict[str, dict[str, Any]]] = {}
        for row in snapshot.columns:
            if row["status"] != "removed":
                columns.setdefault(row["table"], {})[row["name"]] = row
        report = DbtImportReport(
            database=database,
            proposals=proposals,
            dbt_version=docs.dbt_version,
            relations=len(docs.relations),
            mapped=0,
        )
        targets: dict[str, _Target] = {}
        mapped: dict[str, dict[str, Any]] = {}  # unique_id → table row
        hints: dict[str, set[str]] = {}
        for relation in docs.relations:
            table_row = self._map(relation, tables)
            if table_row is None:
                report.unmapped.append(
                    DbtUnmapped(node=relation.unique_id, relation=relation.relation, reason=self._no_table(relation))
                )
                continue
            report.mapped += 1
            mapped[relation.unique_id] = table_row
            target = targets.setdefault(table_row["key"], _Target(table_row))
            target.description = relation.description or target.description
            for item in relation.columns:
                found = _find(columns.get(table_row["name"], {}), item.name)
                if found is None:
                    report.unmapped.append(
                        DbtUnmapped(
                            node=relation.unique_id,
                            relation=relation.relation,
                            column=item.name,
                            reason=f"table {table_row['name']} has no column {item.name}",
                        )
                    )
                    continue
                earlier = target.columns.get(found["key"])
                target.columns[found["key"]] = (found, item.description or (earlier[1] if earlier else None))
                hints.setdefault(found["key"], set()).update(item.key_hints)
        total = len(targets) + 1
        for done, target in enumerate(sorted(targets.values(), key=lambda t: t.row["name"])):
            if progress is not None:
                progress(done, total, target.row["name"])
            self._describe(database, target, proposals, who, report)
        if progress is not None:
            progress(total - 1, total, "key hints and foreign keys")
        self._keys(database, docs, mapped, columns, hints, report)
        if self.on_change is not None and any(item.item == "description" for item in report.applied):
            self.on_change()
        if progress is not None:
            progress(total, total, "done")
        return report

    @staticmethod
    def _map(relation: DbtRelation, tables: dict[str, dict[str, Any]]) -> dict[str, Any] | None:
        schema = relation.schema_name
        found = _find(tables, f"{schema}.{relation.identifier}")
        if found is not None:
            return found
        if any(name.lower().startswith(f"{schema.lower()}.") for name in tables):
            return None  # the catalogue holds that schema: the bare name would be another schema's table
        return _find(tables, relation.identifier)

    @staticmethod
    def _no_table(relation: DbtRelation) -> str:
        return f"no table {relation.schema_name}.{relation.identifier} or {relation.identifier} in the catalogue"

    def _describe(self, database: str, target: _Target, proposals: bool, who: str, report: DbtImportReport) -> None:
        table = target.row["name"]
        self._field(database, table, None, target.row, target.description, proposals, who, report)
        for row, text in sorted(target.columns.values(), key=lambda pair: pair[0]["name"]):
            self._field(database, table, row["name"], row, text, proposals, who, report)

    def _field(
        self,
        database: str,
        table: str,
        column: str | None,
        row: dict[str, Any],
        text: str | None,
        proposals: bool,
        who: str,
        report: DbtImportReport,
    ) -> None:
        """One description: unchanged, kept (a steward's edit), proposed, or set with provenance dbt."""
        if text is None:
            return
        where = {"table": table, "column": column}
        current, source = row.get("description"), row.get("description_source")
        if current == text:
            report.unchanged += 1
            return
        if source in KEPT:
            kind = "a steward's edit" if source == Provenance.STEWARD.value else "an approved proposal"
            report.skipped.append(DbtItem(**where, item="description", detail=f"kept {kind}: {current!r}"))
            return
        if proposals:
            if column is None:
                report.skipped.append(
                    DbtItem(**where, item="description", detail="not proposed: proposals hold column descriptions")
                )
            elif self._propose(database, table, column, text, current):
                report.applied.append(DbtItem(**where, item="proposal", detail=f"proposed {text!r}"))
            else:
                report.unchanged += 1  # proposed before (pending, or decided: a rejection stands)
            return
        author = f"{who} (dbt import)"
        try:
            if column is None:
                self.curation.edit_table(
                    database, table, {"description": text}, row["revision"], author, Provenance.DBT
                )
            else:
                self.curation.edit_column(
                    database, table, column, {"description": text}, row["revision"], author, Provenance.DBT
                )
        except PreconditionFailed:
            report.skipped.append(
                DbtItem(**where, item="description", detail="changed while the import ran; kept, import again")
            )
            return
        report.applied.append(DbtItem(**where, item="description", detail=f"set to {text!r}"))

    def _propose(self, database: str, table: str, column: str, text: str, previous: str | None) -> bool:
        ref = column_ref(table, column)
        content = "\n".join([database, ProposalKind.COLUMN_DESCRIPTION.value, ref, f"description={text}", "dbt"])
        proposal = Proposal(
            id=hashlib.sha1(content.encode()).hexdigest()[:16],
            database=database,
            kind=ProposalKind.COLUMN_DESCRIPTION,
            column=ref,
            description=text,
            previous=previous,
            example_question="",
            example_sql="",
            example_source="dbt manifest",
            model="dbt",
            source=Provenance.DBT,
            created_at=now_iso(),
        )
        return self.proposals.create(proposal)

    def _keys(
        self,
        database: str,
        docs: DbtDocs,
        mapped: dict[str, dict[str, Any]],
        columns: dict[str, dict[str, dict[str, Any]]],
        hints: dict[str, set[str]],
        report: DbtImportReport,
    ) -> None:
        """Key hints on every column as this manifest's tests say (none where it says nothing), and dbt
        foreign keys for its relationships tests where the database declares no key between those columns."""
        names = {row["key"]: (row["table"], row["name"]) for rows in columns.values() for row in rows.values()}
        held = self.dbt.key_hints(database)
        changed: dict[str, list[str]] = {}
        for key, current in held.items():
            wanted = sorted(hints.get(key, ()))
            if key not in names:
                continue
            if wanted == current:
                report.unchanged += bool(wanted)
                continue
            changed[key] = wanted
            table, column = names[key]
            detail = ", ".join(wanted) if wanted else f"cleared ({', '.join(current)})"
            report.applied.append(DbtItem(table=table, column=column, item="key hints", detail=detail))
        relations = {relation.unique_id: relation for relation in docs.relations}
        existing = self.dbt.foreign_keys(database)
        wanted_keys: set[tuple[str, str]] = set()
        add: list[tuple[str, str]] = []
        for test in docs.relationships:
            ends = []
            for uid, name in ((test.child, test.column), (test.parent, test.field)):
                row = mapped.get(uid)
                found = _find(columns.get(row["name"], {}), name) if row else None
                if found is None:
                    relation = relations[uid]
                    reason = "relationships test: " + (
                        f"table {row['name']} has no column {name}" if row else self._no_table(relation)
                    )
                    report.unmapped.append(
                        DbtUnmapped(node=test.test, relation=relation.relation, column=name, reason=reason)
                    )
                    break
                ends.append(found)
            if len(ends) != 2:
                continue
            pair = (ends[0]["key"], ends[1]["key"])
            wanted_keys.add(pair)
            if pair in existing:
                report.unchanged += 1  # declared by the database, or imported before
                continue
            add.append(pair)
            report.applied.append(
                DbtItem(
                    table=ends[0]["table"],
                    column=ends[0]["name"],
                    item="foreign key",
                    detail=f"references {column_ref(ends[1]['table'], ends[1]['name'])}",
                )
            )
        remove = [pair for pair, source in existing.items() if source == "dbt" and pair not in wanted_keys]
        for head, tail in remove:
            table, column = names.get(head, ("?", head))
            report.applied.append(
                DbtItem(
                    table=table,
                    column=column,
                    item="foreign key",
                    detail=f"removed the reference to {column_ref(*names.get(tail, ('?', tail)))}",
                )
            )
        if changed or add or remove:
            self.dbt.apply(database, changed, add, remove, now_iso())


def _check_upload(path: Path) -> None:
    upload = load_json(path.read_bytes(), "the body")
    unknown = sorted(set(upload) - {"manifest", "catalog"})
    if unknown:
        raise InvalidInput(f"unknown keys in the body: {', '.join(unknown)}; 'manifest' and 'catalog' only")
    if "manifest" not in upload:
        raise InvalidInput("the body needs 'manifest': the manifest.json object (and 'catalog', optional)")
    parse_manifest(upload["manifest"], upload.get("catalog"))


def read_files(manifest: Path, catalog: Path | None) -> dict[str, Any]:
    """The upload of local dbt files, checked: ``InvalidInput`` naming the problem when one is not readable."""
    upload = {"manifest": _read(manifest, "the manifest"), "catalog": _read(catalog, "the catalog")}
    parse_manifest(upload["manifest"], upload["catalog"])
    return upload


def _read(path: Path | None, what: str) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        return load_json(path.read_bytes(), f"{what} {path}")
    except OSError as exc:
        raise InvalidInput(f"cannot read {what} {path}: {exc.strerror or exc}") from exc
