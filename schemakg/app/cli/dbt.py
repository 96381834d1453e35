"""``schemakg import dbt``: a dbt project's documentation into the catalogue (mounted by the main CLI)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from schemakg.app.services.dbt_import import DbtImportReport, read_files
from schemakg.kernel.errors import InvalidInput

app = typer.Typer(help="Import documentation written elsewhere.", no_args_is_help=True)
console = Console()


@app.command("dbt")
def import_dbt(
    manifest: Annotated[Path, typer.Argument(help="dbt's target/manifest.json (dbt 1.8 or later)")],
    catalog: Annotated[Path | None, typer.Argument(help="target/catalog.json of dbt docs generate")] = None,
    database: Annotated[str, typer.Option("--database", help="the registered database dbt builds")] = ...,  # type: ignore[assignment]
    proposals: Annotated[
        bool, typer.Option("--proposals", help="column descriptions become pending proposals instead of edits")
    ] = False,
) -> None:
    """Descriptions (provenance dbt; a steward's edit is kept), key hints of unique / not_null tests and
    foreign keys of relationships tests where the database declares none. Idempotent."""
    from schemakg.app.cli.main import _container, _report_job, _wait_for_job

    try:
        upload = read_files(manifest, catalog)  # before the graph engine starts: a bad file fails fast
    except InvalidInput as exc:
        console.print(f"[red]error:[/red] {escape(exc.message)}")
        raise typer.Exit(1) from exc
    with _container() as container:
        job = container.dbt_import.import_files(database, upload, proposals, "cli")
        finished = _wait_for_job(container.jobs.get, job.id, f"importing {manifest.name}")
    if finished.result is None:
        _report_job(finished)  # failed: prints the error and exits 1
        return
    _print_report(DbtImportReport.model_validate(finished.result))


def _print_report(report: DbtImportReport) -> None:
    console.print(
        f"{report.database}: {report.mapped} of {report.relations} dbt relations mapped; "
        f"imported {len(report.applied)}, unchanged {report.unchanged}, "
        f"skipped (steward edits kept) {len(report.skipped)}, unmapped {len(report.unmapped)}"
        + (" (as proposals)" if report.proposals else ""),
        highlight=False,
    )
    for title, items in (("imported", report.applied), ("skipped", report.skipped)):
        for item in items:
            where = escape(".".join(part for part in (item.table, item.column) if part))
            console.print(f"  {title}: {where} {escape(item.item)}: {escape(item.detail)}", highlight=False)
    for unmapped in report.unmapped:
        what = escape(unmapped.relation + (f" column {unmapped.column}" if unmapped.column else ""))
        console.print(f"  unmapped: {what} ({escape(unmapped.node)}): {escape(unmapped.reason)}", highlight=False)
