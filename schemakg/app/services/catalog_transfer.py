"""Export and import of the curated catalogue (``schemakg catalog export|import``, ``/catalog/export|import``).

Import is idempotent and never overwrites newer work: per curated field, the target keeps its value when it
holds an edit the document lacks that is newer than the document's last edit of that field (a conflict);
otherwise the document's value and provenance land, with the document's revisions copied as they are (who,
when, old, new). Tables and columns the target lacks are reported, never created.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from typing import Any

from pydantic import BaseModel, Field

from schemakg.app.services.catalog_document import (
    FORMAT,
    VERSION,
    CatalogDocument,
    ColumnEntry,
    ColumnFields,
    DatabaseEntry,
    DependencyEntry,
    ListValue,
    RevisionEntry,
    TableEntry,
    TableFields,
    TextValue,
)
from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import InvalidInput
from schemakg.kernel.model import ProposalState, Provenance, column_ref, split_column_ref
from schemakg.kernel.store.proposals_repo import ProposalRepository
from schemakg.kernel.store.schema_repo import CURATED_FIELDS, SchemaRepository
from schemakg.kernel.store.transfer_repo import CurationSnapshot, TransferRepository

# what an import carries; ingested text is the source's
CURATED_SOURCES = (Provenance.STEWARD, Provenance.LLM, Provenance.DBT)
DEPENDS_ON = "depends_on"  # the history field of an approved dependency


class TransferItem(BaseModel):
    """One thing an import applied, found in conflict, or could not place."""

    database: str
    table: str | None = None
    column: str | None = None
    item: str = Field(
        description="a curated field, 'history', 'dependency' or 'proposal'; for what the target lacks: "
        "'database', 'table', 'column'"
    )
    detail: str


class ImportReport(BaseModel):
    dry_run: bool = Field(description="true: nothing was written; the report says what an import would do")
    applied: list[TransferItem] = Field(default_factory=list)
    unchanged: int = Field(0, description="fields, dependencies and proposals the target already held as they are")
    conflicts: list[TransferItem] = Field(
        default_factory=list, description="kept as the target has them: it holds a newer edit, or differs"
    )
    missing: list[TransferItem] = Field(
        default_factory=list, description="databases, tables and columns of the document the target lacks"
    )


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _identity(revision: RevisionEntry) -> tuple[str, ...]:
    return (
        revision.field,
        _canonical(revision.old),
        _canonical(revision.new),
        revision.who,
        revision.source,
        revision.at,
    )


def _revisions(rows: Sequence[dict[str, Any]]) -> list[RevisionEntry]:
    return [RevisionEntry(**{k: v for k, v in row.items() if k != "key"}) for row in rows]


def _has_content(value: Any) -> bool:
    return value not in (None, "", [])


class _Target:
    """The target database's catalogue, looked up as the API does: the exact name, else the one equal to it
    ignoring case."""

    def __init__(self, snapshot: CurationSnapshot) -> None:
        self.tables = {row["name"]: row for row in snapshot.tables}
        self.columns: dict[str, dict[str, dict[str, Any]]] = defaultdict(dict)
        for row in snapshot.columns:
            self.columns[row["table"]][row["name"]] = row
        self.revisions: dict[str, list[RevisionEntry]] = defaultdict(list)
        for row in snapshot.revisions:
            self.revisions[row["key"]].extend(_revisions([row]))
        self.dependencies: dict[tuple[str, str, str], dict[str, Any]] = {
            (row["head"], row["relation"], row["tail_key"]): row for row in snapshot.dependencies
        }

    @staticmethod
    def _find(rows: dict[str, Any], name: str) -> Any:
        if name in rows:
            return rows[name]
        folded = [row for key, row in rows.items() if key.lower() == name.lower()]
        return folded[0] if len(folded) == 1 else None

    def table(self, name: str) -> dict[str, Any] | None:
        found: dict[str, Any] | None = self._find(self.tables, name)
        return found

    def column(self, table: str, name: str) -> dict[str, Any] | None:
        found_table = self.table(table)
        if found_table is None:
            return None
        found: dict[str, Any] | None = self._find(self.columns.get(found_table["name"], {}), name)
        return found


class _Plan:
    """What an import writes to one table or column, and what it reports."""

    def __init__(self, report: ImportReport, database: str, table: str, column: str | None) -> None:
        self.report, self.where = report, {"database": database, "table": table, "column": column}
        self.values: dict[str, tuple[Any, str]] = {}
        self.dependencies: list[dict[str, Any]] = []
        self.revisions: list[dict[str, Any]] = []
        self.applied: list[TransferItem] = []

    def apply(self, item: str, detail: str) -> None:
        self.applied.append(TransferItem(**self.where, item=item, detail=detail))

    def conflict(self, item: str, detail: str) -> None:
        self.report.conflicts.append(TransferItem(**self.where, item=item, detail=detail))

    @property
    def writes(self) -> bool:
        return bool(self.values or self.dependencies or self.revisions)


class CatalogTransferService:
    def __init__(
        self,
        catalog: SchemaRepository,
        transfer: TransferRepository,
        proposals: ProposalRepository,
        on_change: Callable[[], None] | None = None,
    ) -> None:
        self.catalog = catalog
        self.transfer = transfer
        self.proposals = proposals
        self.on_change = on_change  # told after an import that wrote something (the search index)

    # --- export --------------------------------------------------------------------------

    def export(self, databases: Sequence[str] | None = None) -> CatalogDocument:
        """Every registered database (or those named; an unknown one is a 404), without connection URLs."""
        names = sorted(set(databases)) if databases else self.catalog.database_names()
        infos = [self.catalog.require_database(name) for name in names]
        return CatalogDocument(
            format=FORMAT,
            version=VERSION,
            databases=[self._export_database(info.name, info.dialect) for info in infos],
        )

    def _export_database(self, name: str, dialect: str) -> DatabaseEntry:
        snapshot = self.transfer.snapshot(name)
        history: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for row in snapshot.revisions:
            history[row["key"]].append(row)
        dependencies: dict[str, list[DependencyEntry]] = defaultdict(list)
        for row in snapshot.dependencies:
            dependencies[row["head"]].append(
                DependencyEntry(
                    relation=row["relation"],
                    tail=column_ref(row["tail_table"], row["tail_column"]),
                    text=row["text"],
                    source=row["source"],
                    proposal=row["proposal"],
                )
            )
        columns: dict[str, list[ColumnEntry]] = defaultdict(list)
        for row in snapshot.columns:
            entry = ColumnEntry(
                name=row["name"],
                status=row["status"] or "current",
                fields=ColumnFields(**_fields("column", row)),
                dependencies=sorted(dependencies.get(row["key"], []), key=lambda d: (d.relation, d.tail)),
                history=_revisions(history.get(row["key"], [])),
            )
            if entry.fields.model_dump(exclude_none=True) or entry.dependencies or entry.history:
                columns[row["table"]].append(entry)
        tables = []
        for row in snapshot.tables:
            table = TableEntry(
                name=row["name"],
                status=row["status"] or "current",
                fields=TableFields(**_fields("table", row)),
                history=_revisions(history.get(row["key"], [])),
                columns=sorted(columns.get(row["name"], []), key=lambda c: c.name),
            )
            if table.fields.model_dump(exclude_none=True) or table.history or table.columns:
                tables.append(table)
        approved = self.transfer.approved_proposals(name)
        return DatabaseEntry(
            name=name,
            dialect=dialect,
            tables=sorted(tables, key=lambda t: t.name),
            proposals=sorted(approved, key=lambda p: p.id),
        )

    # --- import --------------------------------------------------------------------------

    def import_document(
        self, document: CatalogDocument, who: str, dry_run: bool = False, databases: Sequence[str] | None = None
    ) -> ImportReport:
        """Apply the document (only the databases named, when some are); ``dry_run`` reports and writes nothing."""
        _check(document)
        report = ImportReport(dry_run=dry_run)
        wanted = set(databases or ())
        wrote = False
        for entry in document.databases:
            if wanted and entry.name not in wanted:
                continue
            if self.catalog.get_database(entry.name) is None:
                report.missing.append(
                    TransferItem(
                        database=entry.name, item="database", detail="not registered here: register and ingest it first"
                    )
                )
                continue
            wrote |= self._import_database(entry, report, who, dry_run)
        if wrote and self.on_change is not None:
            self.on_change()
        return report

    def _import_database(self, entry: DatabaseEntry, report: ImportReport, who: str, dry_run: bool) -> bool:
        target = _Target(self.transfer.snapshot(entry.name))
        marks = {"imported_at": now_iso(), "imported_by": who}
        wrote = False
        for table_entry in entry.tables:
            table = target.table(table_entry.name)
            if table is None:
                report.missing.append(
                    TransferItem(
                        database=entry.name, table=table_entry.name, item="table", detail="not in this catalogue"
                    )
                )
                continue
            plans = [(self._plan(report, entry.name, target, "table", table, table_entry, who), table)]
            for column_entry in table_entry.columns:
                column = target.column(table["name"], column_entry.name)
                if column is None:
                    report.missing.append(
                        TransferItem(
                            database=entry.name,
                            table=table["name"],
                            column=column_entry.name,
                            item="column",
                            detail="not in this catalogue",
                        )
                    )
                    continue
                plans.append((self._plan(report, entry.name, target, "column", column, column_entry, who), column))
            for plan, row in plans:
                if not plan.writes:
                    continue
                kind = "table" if plan.where["column"] is None else "column"
                if not dry_run:
                    written = self.transfer.apply(
                        kind,
                        row["key"],
                        entry.name,
                        row["revision"],
                        plan.values,
                        plan.dependencies,
                        plan.revisions,
                        marks,
                    )
                    if not written:
                        plan.conflict(kind, "it changed while the import ran; nothing written to it, import again")
                        continue
                    wrote = True
                report.applied.extend(plan.applied)
        wrote |= self._import_proposals(entry, report, dry_run)
        return wrote

    def _plan(
        self,
        report: ImportReport,
        database: str,
        target: _Target,
        kind: str,
        row: dict[str, Any],
        entry: TableEntry | ColumnEntry,
        who: str,
    ) -> _Plan:
        column = row["name"] if kind == "column" else None
        plan = _Plan(report, database, row["table"] if column else row["name"], column)
        theirs = target.revisions.get(row["key"], [])
        held = {_identity(r) for r in theirs}
        seq = {id(r): i for i, r in enumerate(entry.history)}  # the document's order, kept by the copies

        def copy(revisions: list[RevisionEntry]) -> int:
            for revision in revisions:
                plan.revisions.append({**revision.model_dump(mode="json"), "seq": seq[id(revision)]})
            return len(revisions)

        def record(field: str, old: Any, new: Any, source: str) -> None:
            """A change the document has no revision for still gets one: every change is in the history."""
            plan.revisions.append(
                {"field": field, "old": old, "new": new, "who": f"{who} (catalog import)", "source": source}
                | {"at": now_iso(), "seq": len(entry.history)}
            )

        fields: dict[str, TextValue | ListValue | None] = dict(entry.fields)
        for name, value in sorted(fields.items()):
            if value is None or value.source not in CURATED_SOURCES:
                continue  # nothing curated: what ingestion sets stays the source's
            assert value.source is not None
            ours = [r for r in entry.history if r.field == name]
            missing = [r for r in ours if _identity(r) not in held]
            same = row.get(name) == value.value and row.get(f"{name}_source") == value.source.value
            if same and not missing:
                report.unchanged += 1
                continue
            if not same:
                known = {_identity(r) for r in ours}
                last = max((r.at for r in ours), default="")
                newer = [r for r in theirs if r.field == name and _identity(r) not in known and r.at > last]
                if newer:
                    edit = newer[-1]
                    plan.conflict(
                        name,
                        f"kept {row.get(name)!r}: edited here by {edit.who} ({edit.source.value}) at {edit.at}, "
                        f"after the document's last edit ({last or 'none'}); the document has {value.value!r}",
                    )
                    continue
                plan.values[name] = (value.value, value.source.value)
                if not missing:
                    record(name, row.get(name), value.value, value.source.value)
            copied = copy(missing)
            plan.apply(name if not same else "history", _applied(value.value, same, copied))
        if isinstance(entry, ColumnEntry):
            self._plan_dependencies(plan, target, row, entry, held, copy, record)
        return plan

    @staticmethod
    def _plan_dependencies(
        plan: _Plan,
        target: _Target,
        row: dict[str, Any],
        entry: ColumnEntry,
        held: set[tuple[str, ...]],
        copy: Callable[[list[RevisionEntry]], int],
        record: Callable[[str, Any, Any, str], None],
    ) -> None:
        report = plan.report
        for dependency in entry.dependencies:
            label = f"{dependency.relation} {dependency.tail}"
            try:
                tail = target.column(*split_column_ref(dependency.tail))
            except ValueError:
                tail = None
            if tail is None:
                report.missing.append(TransferItem(**plan.where, item="column", detail=f"the tail of {label}"))
                continue
            ours = [
                r
                for r in entry.history
                if r.field == DEPENDS_ON
                and isinstance(r.new, dict)
                and (r.new.get("relation"), r.new.get("tail")) == (dependency.relation, dependency.tail)
            ]
            missing = [r for r in ours if _identity(r) not in held]
            existing = target.dependencies.get((row["key"], dependency.relation, tail["key"]))
            wanted = (dependency.text, dependency.source, dependency.proposal)
            if existing is not None and (existing["text"], existing["source"], existing["proposal"]) != wanted:
                plan.conflict("dependency", f"kept {label} as it is here (text {existing['text']!r})")
                continue
            if existing is None:
                plan.dependencies.append(
                    {"tail": tail["key"], "relation": dependency.relation}
                    | dependency.model_dump(exclude={"relation", "tail"})
                )
                if not missing:
                    new = {"relation": dependency.relation, "tail": dependency.tail, "text": dependency.text}
                    record(DEPENDS_ON, None, new, dependency.source or Provenance.STEWARD.value)
            elif not missing:
                report.unchanged += 1
                continue
            copied = copy(missing)
            plan.apply("dependency" if existing is None else "history", f"{label}; {copied} revision(s) of history")

    def _import_proposals(self, entry: DatabaseEntry, report: ImportReport, dry_run: bool) -> bool:
        wrote = False
        for proposal in entry.proposals:
            item = {"database": entry.name, "item": "proposal"}
            held = self.proposals.get(proposal.id)
            if held is None:
                if not dry_run:
                    wrote |= self.proposals.create(proposal)
                report.applied.append(TransferItem(**item, detail=f"{proposal.id} ({proposal.kind.value}), approved"))
            elif held == proposal:
                report.unchanged += 1
            else:
                report.conflicts.append(
                    TransferItem(**item, detail=f"kept {proposal.id} as it is here ({held.state.value})")
                )
        return wrote


def _fields(kind: str, row: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The curated fields of a snapshot row that hold something: a value, or provenance other than ingestion."""
    fields = {}
    for name in CURATED_FIELDS[kind]:
        value, source = row.get(name), row.get(f"{name}_source")
        if _has_content(value) or source in {p.value for p in CURATED_SOURCES}:
            fields[name] = {"value": value, "source": source}
    return fields


def _applied(value: Any, same: bool, copied: int) -> str:
    history = f"{copied} revision(s) of history"
    return history if same else f"set to {value!r}; {history}"


def _check(document: CatalogDocument) -> None:
    """What the schema cannot say: history names fields of its entity; proposals are approved, of their database."""
    for database in document.databases:
        for table in database.tables:
            _check_history(database.name, "table", table.history)
            for column in table.columns:
                _check_history(database.name, "column", column.history)
        for proposal in database.proposals:
            if proposal.database != database.name or proposal.state != ProposalState.APPROVED:
                raise InvalidInput(
                    f"databases.{database.name}.proposals: proposal {proposal.id!r} is not an approved proposal "
                    f"of {database.name!r}"
                )


def _check_history(database: str, kind: str, history: list[RevisionEntry]) -> None:
    known = set(CURATED_FIELDS[kind]) | ({DEPENDS_ON} if kind == "column" else set())
    for revision in history:
        if revision.field not in known:
            raise InvalidInput(
                f"databases.{database}: a {kind}'s history names {revision.field!r}, not one of {sorted(known)}"
            )
