"""``schemakg retriever ...``: train and evaluate the column retriever (mounted by the main CLI)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from schemakg.app.cli.inputs import eval_inputs, training_sources

if TYPE_CHECKING:  # heavy imports (torch, transformers) wait until a command runs
    from schemakg.offline.retriever.data import LabelledQuestion
    from schemakg.offline.retriever.training import TrainConfig
    from schemakg.retrieval.column_docs import ColumnDoc

app = typer.Typer(help="Column retriever (dual-tower BERT + CNN late interaction).", no_args_is_help=True)

DEFAULT_SOURCES = "spider-train,bird-train,spider-syn-train"


def _threads(n: int) -> None:
    import torch

    torch.set_num_threads(n)


@app.command()
def train(
    sources: Annotated[
        str, typer.Option(help="Comma-separated: spider-train, bird-train, spider-syn-train.")
    ] = DEFAULT_SOURCES,
    corpus_dir: Annotated[Path, typer.Option(help="Folder holding the benchmark data sets.")] = Path("../shared/data"),
    max_train_questions: Annotated[
        int | None, typer.Option(help="Seeded random subsample of training questions.")
    ] = None,
    epochs: int = 2,
    batch_size: int = 16,
    seed: int = 13,
    resume: Annotated[bool, typer.Option(help="Continue the newest unfinished run (its stored settings win).")] = False,
    max_steps: int | None = None,
    eval_every: int = 50,
    max_columns_per_db: int = 40,
    questions_per_db: int = 8,
    namespaced_fraction: Annotated[
        float, typer.Option(help="Share of databases written <db>__<table>, with same-named tables as negatives.")
    ] = 0.5,
    lora_rank: Annotated[int, typer.Option(help="Rank of the LoRA adapters on the towers' upper layers.")] = 16,
    lr: Annotated[float, typer.Option(help="Learning rate of the LoRA adapters.")] = 5e-4,
    question_max_len: int = 96,
    column_max_len: int = 32,
    threads: Annotated[int, typer.Option(help="Torch CPU threads.")] = 1,
    baseline: Annotated[bool, typer.Option(help="Also score the zero-shot model on the full validation split.")] = True,
    activate: Annotated[bool, typer.Option(help="Activate the new version when done.")] = True,
) -> None:
    """Fine-tune, calibrate the threshold on the by-database validation split, write a versioned artefact."""
    chosen = training_sources(_names(sources), corpus_dir)
    _threads(threads)
    from schemakg.offline.retriever.training import TrainConfig, resumable_version
    from schemakg.offline.retriever.training import train as run_training
    from schemakg.retrieval.encoder import AdapterConfig, EncoderConfig

    version = None
    if resume:
        version = resumable_version()
        if version is None:
            raise typer.BadParameter("no unfinished run to resume")
    config = TrainConfig(
        sources=chosen,
        corpus_dir=corpus_dir,
        max_train_questions=max_train_questions,
        epochs=epochs,
        batch_size=batch_size,
        seed=seed,
        max_steps=max_steps,
        eval_every=eval_every,
        max_columns_per_db=max_columns_per_db,
        questions_per_db=questions_per_db,
        namespaced_fraction=namespaced_fraction,
        adapter=AdapterConfig(rank=lora_rank, alpha=2 * lora_rank),
        lr=lr,
        encoder=EncoderConfig(question_max_len=question_max_len, column_max_len=column_max_len),
    )
    model, metrics = run_training(config, resume=version, activate_model=activate, baseline=baseline)
    typer.echo(json.dumps({"version": model.version, **metrics}, indent=2))


@app.command()
def evaluate(
    version: Annotated[str | None, typer.Option(help="Model version; default the newest activated one.")] = None,
    zero_shot: Annotated[bool, typer.Option(help="Evaluate the untrained model.")] = False,
    tables: Annotated[Path | None, typer.Option(help="Spider tables.json: evaluate linking on these files.")] = None,
    questions: Annotated[Path | None, typer.Option(help="Spider-format questions (with --tables).")] = None,
    db_dir: Annotated[Path | None, typer.Option(help="DIR/<db_id>/<db_id>.sqlite for example values.")] = None,
    predictions: Annotated[Path | None, typer.Option(help="Write one JSON line per question.")] = None,
    sources: str = DEFAULT_SOURCES,
    corpus_dir: Path = Path("../shared/data"),
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures here.")] = None,
    threads: int = 1,
) -> None:
    """Linking figures on Spider-format files, or (without --tables) on the training validation split."""
    if tables is not None:
        if questions is None:
            raise typer.BadParameter("--questions is required with --tables")
        _, rows, _ = eval_inputs(tables, questions, None, need_sql=True)
    else:
        training_sources(_names(sources), corpus_dir)
    _threads(threads)
    from schemakg.retrieval.artifacts import ZERO_SHOT_VERSION, load_model

    model = load_model(ZERO_SHOT_VERSION if zero_shot else version)
    if tables is not None:
        from schemakg.offline.retriever.linking_eval import evaluate_linking
        from schemakg.offline.retriever.schema import load_schemas
        from schemakg.retrieval.index import ColumnIndex
        from schemakg.retrieval.retriever import ColumnRetriever

        with tempfile.TemporaryDirectory() as tmp:
            retriever = ColumnRetriever(model, ColumnIndex(Path(tmp), model.encoder, model.version))
            figures: dict[str, object] = dict(
                evaluate_linking(rows, load_schemas(tables), retriever, db_dir, predictions)
            )
    else:
        from schemakg.offline.retriever.validation import report, score_split

        settings, val_q, docs = _validation(model.version, sources, corpus_dir)
        scored = score_split(model.encoder, val_q, docs)
        figures = {"version": model.version, **report(scored, model.selection, settings.recall_k, settings.seed)}
    text = json.dumps(figures, indent=2)
    if json_out is not None:
        json_out.write_text(text)
    typer.echo(text)


@app.command()
def calibrate(
    version: Annotated[str | None, typer.Option(help="Model version; default the newest activated one.")] = None,
    zero_shot: Annotated[bool, typer.Option(help="Calibrate the untrained model (printed, not stored).")] = False,
    min_columns: int = 3,
    max_columns: int = 20,
    beta: float = 6.0,
    sources: str = DEFAULT_SOURCES,
    corpus_dir: Path = Path("../shared/data"),
    threads: int = 1,
) -> None:
    """Re-fit the selection threshold on the validation split with new bounds; stored in the version's config."""
    training_sources(_names(sources), corpus_dir)
    _threads(threads)
    from schemakg.offline.retriever.validation import calibrate_on, report, score_split
    from schemakg.retrieval.artifacts import ZERO_SHOT_VERSION, load_model, update_selection

    model = load_model(ZERO_SHOT_VERSION if zero_shot else version)
    settings, val_q, docs = _validation(model.version, sources, corpus_dir)
    scored = score_split(model.encoder, val_q, docs)
    policy = calibrate_on(scored, min_columns, max_columns, beta)
    figures = report(scored, policy, settings.recall_k, settings.seed)
    if model.version != ZERO_SHOT_VERSION:
        update_selection(model.version, policy, figures)
    typer.echo(json.dumps({"version": model.version, **figures}, indent=2))


@app.command("train-reranker")
def train_reranker(
    out: Annotated[Path, typer.Option(help="Folder for the weights (schemakg/retrieval/shipped_reranker ships).")],
    questions: Annotated[int, typer.Option(help="Seeded random subsample of training questions.")] = 4000,
    corpus_dir: Annotated[Path, typer.Option(help="Folder holding the benchmark data sets.")] = Path("../shared/data"),
    threads: int = 2,
) -> None:
    """Train the area reranker (a cross-encoder over the best-covering subject areas or databases) on the
    training databases' questions, with the shipped column retriever's confusions as negatives."""
    from schemakg.offline.reranker import RerankerTrainConfig
    from schemakg.offline.reranker import train_reranker as train_areas

    config = RerankerTrainConfig(questions=questions, corpus_dir=corpus_dir, threads=threads)
    training_sources(config.sources, corpus_dir)
    typer.echo(json.dumps(train_areas(config, out, typer.echo), indent=2))


def _names(sources: str) -> list[str]:
    return [name.strip() for name in sources.split(",") if name.strip()]


def _validation(
    version: str, sources: str, corpus_dir: Path
) -> tuple[TrainConfig, list[LabelledQuestion], dict[str, list[ColumnDoc]]]:
    """The validation split a version was trained with (defaults for the zero-shot model)."""
    from schemakg.offline.retriever.data import builtin_sources, validation_split
    from schemakg.offline.retriever.training import TrainConfig
    from schemakg.retrieval.artifacts import training_settings
    from schemakg.retrieval.paths import cache_dir

    settings = TrainConfig.model_validate(training_settings(version))
    chosen = builtin_sources(_names(sources), corpus_dir)
    val_q, docs = validation_split(chosen, settings.val_fraction, settings.seed, cache_dir(), settings.example_values)
    return settings, val_q, docs


if __name__ == "__main__":  # also runnable alone: python -m schemakg.app.cli.retriever ...
    app()
