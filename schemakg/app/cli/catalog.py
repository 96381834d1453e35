"""``schemakg catalog export|import``: the curated catalogue as a file (mounted by the main CLI)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from schemakg.app.services.catalog_document import Syntax, dump_document, parse_document
from schemakg.app.services.catalog_transfer import ImportReport, TransferItem
from schemakg.kernel.errors import InvalidInput

app = typer.Typer(help="The curated catalogue as a versioned JSON or YAML file.", no_args_is_help=True)
console = Console()

_Databases = Annotated[list[str] | None, typer.Option("--database", help="only this database (repeatable)")]


@app.command("export")
def export_catalog(
    database: _Databases = None,
    format: Annotated[Syntax, typer.Option(help="json or yaml")] = "json",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="write here instead of to stdout")] = None,
) -> None:
    """Curated fields with provenance and history, dependencies and approved proposals; no connection URLs."""
    from schemakg.app.cli.main import _container

    with _container() as container:
        text = dump_document(container.catalog_transfer.export(database), format)
    if output is None:
        sys.stdout.write(text)
    else:
        output.write_text(text, encoding="utf-8")
        console.print(f"wrote {output} ({len(text.encode())} bytes)", highlight=False)


@app.command("import")
def import_catalog(
    file: Path,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="report what would change, write nothing")] = False,
    database: _Databases = None,
) -> None:
    """Idempotent. A field edited here after the file's last edit of it is a conflict and kept; tables and
    columns missing here are reported, not created."""
    try:
        document = parse_document(file.read_bytes())
    except OSError as exc:
        console.print(f"[red]error:[/red] cannot read {escape(str(file))}: {escape(exc.strerror or str(exc))}")
        raise typer.Exit(1) from exc
    except InvalidInput as exc:
        console.print(f"[red]error:[/red] {escape(str(file))}: {escape(exc.message)}")
        raise typer.Exit(1) from exc
    from schemakg.app.cli.main import _container

    with _container() as container:
        report = container.catalog_transfer.import_document(document, "cli", dry_run, database)
    _print_report(report)


def _print_report(report: ImportReport) -> None:
    verb = "would apply" if report.dry_run else "applied"
    console.print(
        f"{verb} {len(report.applied)}, unchanged {report.unchanged}, conflicts {len(report.conflicts)}, "
        f"missing {len(report.missing)}",
        highlight=False,
    )
    for title, items in ((verb, report.applied), ("conflict", report.conflicts), ("missing", report.missing)):
        for item in items:
            console.print(f"  {title}: {_where(item)} {escape(item.item)}: {escape(item.detail)}", highlight=False)


def _where(item: TransferItem) -> str:
    return escape(".".join(part for part in (item.database, item.table, item.column) if part is not None))
