"""The ``schemakg`` command line. Commands that need the graph engine start (or reuse) it themselves."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import httpx
import typer
import uvicorn
from pydantic import BaseModel, ValidationError
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from schemakg.app.api.schemas import ApiKeyCreate, RetrieveRequest
from schemakg.app.cli.catalog import app as catalog_app
from schemakg.app.cli.dbt import app as import_app
from schemakg.app.cli.inputs import eval_inputs
from schemakg.app.cli.llm import app as llm_app
from schemakg.app.cli.mcp import mcp
from schemakg.app.cli.momq import app as momq_app
from schemakg.app.cli.retriever import app as retriever_app
from schemakg.app.container import Container
from schemakg.app.services.warmup import WarmUp
from schemakg.generation.answer import AskRequest, AskResult, RoutedAskResult
from schemakg.generation.llm.factory import backend_for
from schemakg.kernel.errors import ServiceError
from schemakg.kernel.model import JobInfo, JobState, Role
from schemakg.kernel.settings import SchemaView, Settings
from schemakg.retrieval.join_paths import JOIN_MODES
from schemakg.retrieval.linked_schema import Route

if TYPE_CHECKING:
    from schemakg.app.evaluation import EvalDatabases

app = typer.Typer(help="SchemaKG: a knowledge-graph schema catalogue for text-to-SQL.", no_args_is_help=True)
db_app = typer.Typer(help="Source databases.", no_args_is_help=True)
keys_app = typer.Typer(help="API keys.", no_args_is_help=True)
logs_app = typer.Typer(help="Historical question→SQL logs.", no_args_is_help=True)
eval_app = typer.Typer(help="Evaluation on Spider-format files.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
app.add_typer(db_app, name="db")
app.add_typer(logs_app, name="logs")
app.add_typer(momq_app, name="momq")
app.add_typer(llm_app, name="llm")
app.add_typer(retriever_app, name="retriever")
app.add_typer(keys_app, name="keys")
app.add_typer(catalog_app, name="catalog")
app.add_typer(import_app, name="import")
app.command()(mcp)

console = Console()
SAMPLE_DATABASE = "hr"
DEMO_QUESTIONS = (
    "How many employees are there?",
    "What is the highest salary of any employee?",
    "How many employees work in the Finance department?",
)


def sample_database_path() -> Path:
    return Path(str(resources.files("schemakg") / "samples" / "hr_1.sqlite"))


@contextmanager
def _container() -> Iterator[Container]:
    from schemakg.app.services.warmup import set_torch_threads

    settings = Settings()
    set_torch_threads(settings)  # cores - 1 by default, for the commands that encode (eval, ingestion)
    container = Container(settings)
    try:
        yield container
    except ServiceError as exc:
        console.print(f"[red]error:[/red] {exc.message}")
        raise typer.Exit(1) from exc
    finally:
        container.close()


def _wait_for_job(fetch: Callable[[str], JobInfo], job_id: str, title: str) -> JobInfo:
    """Poll a job record (via ``fetch(job_id)``) with a progress bar until it ends."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TextColumn("{task.fields[message]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        bar = progress.add_task(title, total=None, message="")
        while True:
            job: JobInfo = fetch(job_id)
            progress.update(bar, completed=job.done, total=job.total or None, message=job.message or "")
            if job.state not in (JobState.QUEUED, JobState.RUNNING):
                return job
            time.sleep(0.2)


def _report_job(job: JobInfo) -> None:
    if job.state == JobState.FAILED:
        console.print(f"[red]job {job.id} failed:[/red] {job.error}")
        raise typer.Exit(1)
    summary = {k: v for k, v in (job.result or {}).items() if k != "errors"}
    console.print(f"[green]job {job.id} {job.state.value}[/green]: {summary}")


@app.command()
def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    """Run the HTTP API (OpenAPI docs at /docs)."""
    from schemakg.app.api.app import create_app

    settings = Settings()
    console.print(f"SchemaKG API on http://{host}:{port}/docs, web UI at /ui/ (data dir {settings.data_dir.resolve()})")
    console.print("loading the retriever, the LLM and the databases' indexes; /health/ready is 503 until done")

    def announce(warmup: WarmUp) -> None:
        console.print(f"[bold]SchemaKG {warmup.summary()}[/bold]", highlight=False)

    uvicorn.run(create_app(settings, on_warm=announce), host=host, port=port, log_level="info")


@app.command()
def worker(concurrency: int = 1, pool: str = "solo", loglevel: str = "INFO") -> None:
    """Run a Celery worker for ingestion and training jobs (needs REDIS_URL)."""
    if not Settings().redis_url:
        console.print("[red]error:[/red] REDIS_URL is not set; without it jobs run inside the API process")
        raise typer.Exit(1)
    from schemakg.app.worker.tasks import celery_app

    celery_app.worker_main(["worker", f"--loglevel={loglevel}", f"--concurrency={concurrency}", f"--pool={pool}"])


@db_app.command("add")
def db_add(name: str, url: str, description: str | None = None) -> None:
    """Register a database by SQLAlchemy URL (checked by connecting; the password is stored privately)."""
    with _container() as container:
        info = container.databases.register(name, url, description)
        console.print(f"registered {info.name} ({info.dialect}) at {info.url}")


@db_app.command("list")
def db_list() -> None:
    with _container() as container:
        page = container.databases.list(0, 500)
        table = Table("name", "dialect", "url", "tables", "last ingested")
        for info in page.items:
            table.add_row(info.name, info.dialect, info.url, str(info.table_count), info.last_ingested_at or "-")
        console.print(table)


@db_app.command("ingest")
def db_ingest(name: str) -> None:
    """Ingest a registered database's schema and sampled values into the graph."""
    with _container() as container:
        job = container.databases.start_ingestion(name)
        _report_job(_wait_for_job(container.jobs.get, job.id, f"ingesting {name}"))


@db_app.command("show")
def db_show(name: str) -> None:
    """Print a database's catalogue: tables, columns with examples, foreign keys."""
    with _container() as container:
        _print_catalogue(container, name)


def _print_catalogue(container: Container, name: str) -> None:
    info = container.databases.get(name)
    console.print(f"[bold]{info.name}[/bold] ({info.dialect}) {info.url} — {info.table_count} tables")
    for table in container.browser.tables(name, 0, 500).items:
        grid = Table(title=f"{table.name} ({table.row_estimate} rows)", title_justify="left")
        for header in ("column", "type", "pk", "description", "examples", "distinct"):
            grid.add_column(header)
        for column in container.browser.columns(name, table.name, 0, 500).items:
            grid.add_row(
                column.name,
                column.data_type,
                "✓" if column.is_pk else "",
                column.description or "",
                ", ".join(column.examples[:3]),
                str(column.distinct_estimate or ""),
            )
        console.print(grid)
    fks = container.browser.foreign_keys(name)
    console.print("[bold]foreign keys[/bold]")
    for fk in fks:
        console.print(f"  {fk.table}.{fk.column} → {fk.ref_table}.{fk.ref_column}")


@logs_app.command("ingest")
def logs_ingest(database: str, file: Path, format: str = typer.Option("jsonl", help="jsonl or csv")) -> None:
    """Ingest a question→SQL log; bad lines are reported and the rest is ingested."""
    with _container() as container:
        job = container.query_logs.ingest_file(database, format, file)
        finished = _wait_for_job(container.jobs.get, job.id, f"ingesting {file.name}")
        _report_job(finished)
        for error in (finished.result or {}).get("errors", [])[:20]:
            console.print(f"  line {error['line']}: {error['reason']}")


@keys_app.command("create")
def keys_create(name: str, role: Role = Role.ANALYST) -> None:
    """Create an API key; the secret is printed once."""
    request = _checked(ApiKeyCreate, name=name, role=role)
    with _container() as container:
        info, secret = container.keys.create(request.name, request.role)
        console.print(f"{info.id} {info.role.value}: {secret}")


@keys_app.command("list")
def keys_list() -> None:
    with _container() as container:
        for info in container.keys.list():
            console.print(f"{info.id}  {info.role.value:8} {info.name}  {info.created_at}")


@app.command()
def search(query: str, database: str | None = None, limit: int = 20) -> None:
    """Search table and column names and descriptions."""
    with _container() as container:
        for hit in container.browser.search(query, database, None, limit):
            where = f"{hit.database}.{hit.table}" + (f".{hit.column}" if hit.column else "")
            console.print(f"{hit.score:.2f} {hit.kind:6} {where}  {hit.description or ''}")


Words = Annotated[
    list[str],
    typer.Argument(
        metavar="[DATABASE] QUESTION",
        help="the database and the question; the question alone is routed to the best registered database",
        show_default=False,
    ),
]
Among = Annotated[
    list[str] | None,
    typer.Option("--among", help="route among these databases only (repeat it; default: every registered one)"),
]


def _database_and_question(words: list[str], among: list[str] | None) -> tuple[str | None, str]:
    """``DATABASE QUESTION`` names the database; ``QUESTION`` alone asks the catalogue, as ``POST /ask`` does."""
    if len(words) > 2:
        raise typer.BadParameter("give the question as one quoted argument, after the database if any")
    if len(words) == 2 and among:
        raise typer.BadParameter("name a database or route --among some, not both", param_hint="--among")
    return (words[0], words[1]) if len(words) == 2 else (None, words[0])


Request = TypeVar("Request", bound=BaseModel)


def _checked(model: type[Request], **fields: Any) -> Request:
    """The request the API would take for these arguments; what it refuses with a 422 is a usage error here."""
    try:
        return model(**fields)
    except ValidationError as exc:
        error = exc.errors()[0]
        field = ".".join(map(str, error["loc"]))
        hint = field.upper() if field in {"question", "name"} else f"--{field}"  # the arguments, else an option
        raise typer.BadParameter(error["msg"], param_hint=hint) from None


def _print_routes(routes: list[Route]) -> None:
    grid = Table("database", "coverage", "reranked", "best tables, values", title="routes")
    for route in routes:
        reranked = "" if route.rerank_score is None else f"{route.rerank_score:.2f}"
        tables = ", ".join(f"{match.table} ({', '.join(match.columns)})" for match in route.tables[:3])
        why = "\n".join([tables, *route.values, *filter(None, [route.lacks])])  # the values named: held, or not
        grid.add_row(route.database, f"{route.score:.3f}", reranked, why)
    console.print(grid)
    verdict = "decided by coverage" if routes[0].decided else "not decided: check the alternatives"
    console.print(f"[bold]routed to[/bold] {routes[0].database} ({verdict})")


@app.command()
def route(
    question: str,
    evidence: str | None = None,
    among: Among = None,
    top: int = typer.Option(3, min=1, max=50, help="how many databases to show"),
) -> None:
    """The registered databases best placed to answer a question, best first, and their best tables: why."""
    _checked(RetrieveRequest, question=question, evidence=evidence)
    with _container() as container:
        _print_routes(container.linking.route(question, evidence, among, top))


@app.command()
def retrieve(words: Words, evidence: str | None = None, among: Among = None, top: int = 15) -> None:
    """Rank a database's columns for a question and show the linked sub-schema (no database: routed)."""
    database, question = _database_and_question(words, among)
    _checked(RetrieveRequest, question=question, evidence=evidence, top=top)
    with _container() as container:
        if database is None:
            routes, retrieval = container.linking.retrieve_catalogue(question, evidence, among, top=top)
            _print_routes(routes)
        else:
            retrieval = container.linking.retrieve(database, question, evidence, top=top)
        grid = Table("column", "score", "normalised", "selected")
        for column in retrieval.ranked:
            grid.add_row(
                column.column, f"{column.score:.2f}", f"{column.normalised:.3f}", "✓" if column.selected else ""
            )
        console.print(grid)
        linked = retrieval.link.schema_
        for area in linked.areas:
            tables = ", ".join(area.tables)
            console.print(f"[bold]subject area[/bold] {area.name}: coverage {area.coverage:.3f}, best tables {tables}")
        console.print(f"[bold]linked tables[/bold]: {', '.join(linked.tables)}")
        for join in linked.joins:
            console.print(f"  join {join.sql()}")
        for hint in linked.value_hints:
            console.print(f"  value {hint}")


@app.command()
def ask(
    words: Words,
    evidence: str | None = None,
    among: Among = None,
    execute: bool = typer.Option(True, help="run the SQL (read-only, capped) and print rows"),
    mode: str = typer.Option("auto", help="auto, fast or full (least-to-most)"),
) -> None:
    """Answer a question with SQL from the catalogue and the configured LLM (no database: routed)."""
    database, question = _database_and_question(words, among)
    request = _checked(AskRequest, question=question, evidence=evidence, execute=execute, mode=mode)
    with _container() as container:
        with console.status("thinking…"):
            if database is None:
                result: AskResult = container.answering.ask_catalogue(request, among)
            else:
                result = container.answering.ask(database, request)
        if isinstance(result, RoutedAskResult):
            _print_routes(result.routes)
        _print_answer(question, result)


def _print_answer(question: str, result: AskResult) -> None:
    console.print(f"[bold]Q:[/bold] {question}")
    if result.refused:
        console.print(f"[yellow]refused:[/yellow] {result.refused}")
        return
    console.print(f"[bold]SQL[/bold] ({result.mode}, {result.retries} retries, {result.model}): {result.sql}")
    for note in result.repairs:
        console.print(f"[cyan]repaired:[/cyan] {note}")
    if result.error:
        console.print(f"[red]error:[/red] {result.error}")
    if result.rows is not None:
        grid = Table(*(result.columns or []))
        for row in result.rows[:20]:
            grid.add_row(*(str(v) for v in row))
        console.print(grid)
    console.print(f"timings: {result.timings_s}")


def _progress_bar(title: str) -> tuple[Progress, Callable[[int, int, str], None]]:
    progress = Progress(
        TextColumn(f"[bold]{title}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
    )
    task = progress.add_task(title, total=None)
    return progress, lambda done, total, message: progress.update(task, completed=done, total=total)


def _write_report(report: dict[str, object], json_out: Path | None) -> None:
    import json

    text = json.dumps(report, indent=2)
    console.print(text)
    if json_out is not None:
        json_out.write_text(text + "\n")


ENGINE_URL_HELP = (
    "ingest and answer from this PostgreSQL or MariaDB server's database named DB_ID instead of the SQLite file "
    "(bench/engine_copies.py and bench/warehouse.py --postgres build them); the gold SQL still runs on the SQLite file"
)


HISTORY_HELP = (
    "Spider-format questions logged as each database's query log (evaluated questions and entries with their "
    "gold SQL left out)"
)


def _log_history(
    container: Container,
    catalogue: EvalDatabases,
    history: list[dict[str, Any]],
    evaluated: list[dict[str, Any]],
    every: bool,
) -> None:
    """The ``--history`` of an evaluation: the evaluated databases' logs, or with ``every`` each database's that the
    tables file holds (routing chooses among all of them)."""
    from schemakg.app.evaluation import ingest_history

    databases = sorted({row["db_id"] for row in history} & set(catalogue.tables)) if every else None
    logged = ingest_history(container, catalogue, history, evaluated, databases)
    console.print(f"query logs: {sum(logged.values())} examples over {len(logged)} databases")


def _check_engine_url(engine_url: str | None) -> None:
    from schemakg.kernel.sources import SourceError, parse_url

    try:
        engine = parse_url(engine_url).get_backend_name() if engine_url is not None else None
    except SourceError:
        engine = ""
    if engine not in {None, "postgresql", "mysql", "mariadb"}:
        console.print("--engine-url must be a postgresql:// or mysql:// (MariaDB) server URL")
        raise typer.Exit(2)


@eval_app.command("linking")
def eval_linking(
    tables: Path = typer.Option(..., help="Spider-format tables.json"),
    questions: Path = typer.Option(..., help="Spider-format questions (question, query|SQL, db_id, evidence?)"),
    db_dir: Path | None = typer.Option(
        None, exists=True, file_okay=False, help="DIR/<db_id>/<db_id>.sqlite; absent: empty databases from tables.json"
    ),
    json_out: Path | None = typer.Option(None, "--json", help="write the metrics here"),
    predictions: Path | None = typer.Option(None, help="one JSON line per question"),
    mode: str | None = typer.Option(None, help="join mode (default: the service's, as configured)"),
    limit: int | None = typer.Option(None, help="a fixed random sample of this many questions"),
    seed: int = 0,
    engine_url: str | None = typer.Option(
        None, help=ENGINE_URL_HELP + "; gold links read the questions' SQL in the engine's dialect"
    ),
    history: Path | None = typer.Option(None, help=HISTORY_HELP),
) -> None:
    """Table/column recall, precision, F1, F6, EMR and latency of schema linking."""
    from schemakg.app.evaluation import EvalDatabases, evaluate_linking, sample_indices

    if mode is not None and mode not in JOIN_MODES:
        raise typer.BadParameter(f"must be one of {', '.join(JOIN_MODES)}", param_hint="--mode")
    _check_engine_url(engine_url)
    schemas, rows, logged = eval_inputs(tables, questions, history, need_sql=True)
    rows = [rows[i] for i in sample_indices(len(rows), limit, seed)]
    with _container() as container:
        catalogue = EvalDatabases(container, schemas, db_dir, engine_url)
        if logged is not None:
            _log_history(container, catalogue, logged, rows, every=False)
        progress, update = _progress_bar("linking")
        with progress:
            report = evaluate_linking(container, rows, catalogue, mode, predictions, update)
        _write_report(report, json_out)


@eval_app.command("routing")
def eval_routing(
    tables: Path = typer.Option(..., help="Spider-format tables.json: every database in it is a candidate"),
    questions: Path = typer.Option(..., help="Spider-format questions; db_id is the answer, never an input"),
    db_dir: Path | None = typer.Option(
        None, exists=True, file_okay=False, help="DIR/<db_id>/<db_id>.sqlite; absent: empty databases from tables.json"
    ),
    json_out: Path | None = typer.Option(None, "--json", help="write the metrics here"),
    predictions: Path | None = typer.Option(None, help="one JSON line per question: index, db_id, ranked"),
    limit: int | None = typer.Option(None, help="a fixed random sample of this many questions"),
    seed: int = 0,
    engine_url: str | None = typer.Option(None, help=ENGINE_URL_HELP),
    history: Path | None = typer.Option(
        None, help=HISTORY_HELP + "; every database of the tables file that it names is logged, not only those asked"
    ),
) -> None:
    """Routing questions to their database among all of the tables file's: recall@1, recall@3, latency."""
    from schemakg.app.evaluation import EvalDatabases, evaluate_routing, sample_indices

    _check_engine_url(engine_url)
    schemas, rows, logged = eval_inputs(tables, questions, history, need_sql=False)
    rows = [rows[i] for i in sample_indices(len(rows), limit, seed)]
    with _container() as container:
        catalogue = EvalDatabases(container, schemas, db_dir, engine_url)
        if logged is not None:
            _log_history(container, catalogue, logged, rows, every=True)
        progress, update = _progress_bar("routing")
        with progress:
            report = evaluate_routing(container, rows, catalogue, predictions, update)
        _write_report(report, json_out)


@eval_app.command("sql")
def eval_sql(
    tables: Path = typer.Option(..., help="Spider-format tables.json"),
    questions: Path = typer.Option(..., help="Spider-format questions"),
    db_dir: Path = typer.Option(..., exists=True, file_okay=False, help="DIR/<db_id>/<db_id>.sqlite"),
    limit: int | None = typer.Option(None, help="a fixed random sample of this many questions"),
    seed: int = 0,
    json_out: Path | None = typer.Option(None, "--json", help="write the metrics here"),
    predictions: Path | None = typer.Option(None, help="one JSON line per question; reruns skip done ones"),
    schema_view: SchemaView | None = typer.Option(
        None, "--schema", help="the schema the prompt shows [default: SCHEMAKG_ASK_SCHEMA_VIEW]"
    ),
    evidence: bool | None = typer.Option(
        None, help="generate evidence when the question has none [default: SCHEMAKG_ASK_EVIDENCE]"
    ),
    log_examples: int = typer.Option(3, help="similar past questions from the catalogue's log"),
    max_retries: int = typer.Option(2, help="execution-guided retries"),
    candidates: int | None = typer.Option(
        None,
        min=1,
        max=8,
        help="SQL candidates chosen by execution; the report also gives every smaller count "
        "[default: SCHEMAKG_ASK_CANDIDATES]",
    ),
    rescue_samples: int | None = typer.Option(
        None,
        min=0,
        max=8,
        help="samples for an answer that still fails after its retries or says nothing, until one runs and says "
        "something; the report's by_candidates gives every smaller count [default: SCHEMAKG_ASK_RESCUE_SAMPLES]",
    ),
    shape_check: bool | None = typer.Option(
        None,
        help="ask again when an answer returns fewer columns than the question lists; the report gives the "
        "figures without it too [default: SCHEMAKG_ASK_SHAPE_CHECK]",
    ),
    area_check: bool | None = typer.Option(
        None,
        help="ask again, within one, when an answer reads tables of several subject areas that nothing relates; "
        "the report gives the figures without it too [default: SCHEMAKG_ASK_AREA_CHECK]",
    ),
    history: Path | None = typer.Option(None, help=HISTORY_HELP),
    engine_url: str | None = typer.Option(None, help=ENGINE_URL_HELP),
) -> None:
    """Execution accuracy of answering (result multisets; order only under a gold ORDER BY)."""
    from schemakg.app.evaluation import EvalDatabases, evaluate_sql, sample_indices
    from schemakg.app.services.answering import evidence_by_default
    from schemakg.generation.answer import AskOptions

    _check_engine_url(engine_url)
    schemas, rows, logged = eval_inputs(tables, questions, history, need_sql=True)
    indices = sample_indices(len(rows), limit, seed)
    settings = Settings()
    generate_evidence = evidence_by_default(settings) if evidence is None else evidence
    options = AskOptions(
        schema_view=settings.ask_schema_view if schema_view is None else schema_view,
        generate_evidence=generate_evidence,
        log_examples=log_examples,
        max_retries=max_retries,
        row_cap=100_000,
        candidates=settings.ask_candidates if candidates is None else candidates,
        candidate_temperature=settings.ask_candidate_temperature,
        rescue_samples=settings.ask_rescue_samples if rescue_samples is None else rescue_samples,
        shape_check=settings.ask_shape_check if shape_check is None else shape_check,
        area_check=settings.ask_area_check if area_check is None else area_check,
    )
    with _container() as container:
        catalogue = EvalDatabases(container, schemas, db_dir, engine_url)
        if logged is not None:
            _log_history(container, catalogue, logged, [rows[i] for i in indices], every=False)
        progress, update = _progress_bar("answering")
        with progress:
            report = evaluate_sql(container, rows, catalogue, indices, options, predictions, update)
        _write_report(report, json_out)


@eval_app.command("compare")
def eval_compare(
    first: Path = typer.Argument(..., help="predictions (JSON lines) of one configuration"),
    second: Path = typer.Argument(..., help="predictions of another, on the same questions"),
) -> None:
    """Two `eval sql` runs on the same questions: each one's accuracy, the questions only one got right,
    and the exact sign test on those."""
    from schemakg.app.evaluation import paired_comparison, read_predictions

    try:
        report = paired_comparison(read_predictions(first), read_predictions(second))
    except (OSError, ValueError, KeyError) as exc:
        console.print(f"cannot compare: {exc}")
        raise typer.Exit(1) from None
    if not report["n"]:
        console.print("the two runs share no question")
        raise typer.Exit(1)
    _write_report(report, None)


@app.command()
def demo(port: int = 0, questions: bool = typer.Option(True, help="also ask the sample a few questions")) -> None:
    """The main job on embedded defaults: start the service, ingest the sample database over HTTP, show it."""
    from schemakg.app.api.app import create_app

    settings = Settings()
    warmed = threading.Event()

    def announce(warmup: WarmUp) -> None:
        console.print(f"SchemaKG {warmup.summary()}", highlight=False)
        warmed.set()

    with _container() as container:
        admin, key = container.keys.create("demo", Role.ADMIN)
        server = uvicorn.Server(
            uvicorn.Config(
                create_app(settings, container, on_warm=announce, warm_llm=questions),
                host="127.0.0.1",
                port=port,
                log_level="warning",
            )
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        bound = server.servers[0].sockets[0].getsockname()[1]
        base = f"http://127.0.0.1:{bound}"
        console.print(f"service up at {base}/docs, web UI at {base}/ui/ (graph engine: {container.store.engine})")
        warmed.wait(600)  # the retriever and the LLM load at start-up, not in the first question
        try:
            # An answer on a 2-core CPU can take minutes (evidence, generation, retries).
            with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=900) as http:
                retriever = http.get("/retriever").json()
                console.print(f"column retriever: {retriever['version']} ({retriever['origin']})")
                if http.get(f"/databases/{SAMPLE_DATABASE}").status_code == 404:
                    created = http.post(
                        "/databases",
                        json={
                            "name": SAMPLE_DATABASE,
                            "url": f"sqlite:///{sample_database_path()}",
                            "description": "Spider hr_1 sample (CC BY-SA 4.0)",
                        },
                    )
                    created.raise_for_status()
                job = http.post(f"/databases/{SAMPLE_DATABASE}/ingest").json()

                def fetch(job_id: str) -> JobInfo:
                    return JobInfo(**http.get(f"/jobs/{job_id}").json())

                _report_job(_wait_for_job(fetch, job["id"], f"ingesting {SAMPLE_DATABASE}"))
                _print_catalogue(container, SAMPLE_DATABASE)
                hits = http.get("/search", params={"q": "salary", "database": SAMPLE_DATABASE}).json()
                console.print("[bold]search 'salary'[/bold]: " + ", ".join(f"{h['table']}.{h['column']}" for h in hits))
                if questions:
                    console.print(f"[bold]asking {len(DEMO_QUESTIONS)} questions with the local model[/bold]")
                    generation: list[float] = []
                    model = "?"
                    for question in DEMO_QUESTIONS:
                        with console.status(f"answering: {question}"):
                            answer = http.post(f"/databases/{SAMPLE_DATABASE}/ask", json={"question": question})
                        answer.raise_for_status()
                        result = AskResult(**answer.json())
                        _print_answer(question, result)
                        generation.append(result.timings_s.get("generate", 0.0))
                        model = result.model
                    threads = (
                        f", llama.cpp threads: {settings.llm_threads} decoding, {settings.llm_batch_threads} prefill"
                        if backend_for(settings) == "llama"
                        else ""
                    )
                    seconds = ", ".join(f"{s:.1f}" for s in generation)
                    console.print(f"generation per question: {seconds} s ({model}{threads})", highlight=False)
        finally:
            container.keys.delete(admin.id)
            server.should_exit = True
            thread.join()  # uvicorn finishes in-flight requests before the container closes


if __name__ == "__main__":
    app()
