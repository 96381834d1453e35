"""``schemakg momq ...``: build the multi-dialect data, train, evaluate and serve MoMQ.

Mounted under the main CLI as ``momq``; also runnable alone: ``python -m schemakg.app.cli.momq``.
Commands import their modules lazily so that ``schemakg --help`` does not pay torch's import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="MoMQ: multi-dialect mixture-of-LoRA-experts query generator.", no_args_is_help=True)

BaseModelOption = Annotated[
    Path, typer.Option("--base-model", exists=True, file_okay=False, help="local Hugging Face directory of the base LM")
]
DialectOption = Annotated[list[str] | None, typer.Option("--dialect", help="repeat to select several")]


@app.command()
def data(
    out: Annotated[Path, typer.Option(help="output directory for the JSONL splits and stats.json")],
    data_root: Annotated[
        Path,
        typer.Option(exists=True, file_okay=False, help="shared data root (spider-train, bird-train, text2cypher)"),
    ] = Path("../shared/data"),
    dialect: DialectOption = None,
    high_resource: Annotated[str, typer.Option(help="dialect kept whole in the training split")] = "mysql",
    low_resource_samples: Annotated[int, typer.Option(help="training rows kept per other dialect; 0 keeps all")] = 128,
    validation_fraction: float = 0.1,
    no_bird: Annotated[bool, typer.Option("--no-bird", help="Spider only")] = False,
    seed: int = 0,
) -> None:
    """Build the instruction set (Spider/BIRD transpiled to MySQL/PostgreSQL, text2cypher)."""
    from schemakg.offline.momq.data import DataBuildConfig, build_dataset

    config = DataBuildConfig(
        data_root=data_root,
        out_dir=out,
        high_resource=high_resource,
        low_resource_samples=low_resource_samples or None,
        validation_fraction=validation_fraction,
        include_bird=not no_bird,
        seed=seed,
        **({"dialects": dialect} if dialect else {}),
    )
    stats = build_dataset(config)
    for name, row in stats.dialects.items():
        typer.echo(
            f"{name:11} kept {row.kept:6}/{row.source_rows:<6} drop {row.drop_rate:.2%}  splits {row.split_rows}"
            + (f"  ({row.note})" if row.note else "")
        )
    typer.echo(f"wrote {out}")


@app.command()
def train(
    base_model: BaseModelOption,
    data_dir: Annotated[Path, typer.Option(exists=True, file_okay=False, help="output of `momq data`")],
    out: Annotated[Path, typer.Option(help="run directory: checkpoints/, adapter/, train_log.jsonl")],
    dialect: DialectOption = None,
    experts_per_dialect: int = 8,
    shared_experts: int = 2,
    top_k: int = 2,
    lora_rank: int = 64,
    lora_alpha: Annotated[float | None, typer.Option(help="LoRA alpha; default 2 x rank")] = None,
    router_loss_weight: float = 0.1,
    balance_loss_weight: float = 0.001,
    label_smoothing: float = 0.1,
    max_length: int = 4096,
    batch_size: int = 4,
    grad_accum: int = 4,
    learning_rate: float = 2e-4,
    epochs: int = 2,
    max_steps: Annotated[int | None, typer.Option(help="optimiser steps; overrides --epochs")] = None,
    save_every: int = 500,
    log_every: int = 10,
    gradient_checkpointing: bool = False,
    device: str = "auto",
    seed: int = 0,
    resume: Annotated[bool, typer.Option(help="continue from the newest checkpoint in --out")] = True,
) -> None:
    """Train MoMQ adapters on a frozen base model (resumes from --out when it holds checkpoints)."""
    from schemakg.generation.momq.config import MoMQConfig
    from schemakg.offline.momq.train import TrainConfig, train_dialects
    from schemakg.offline.momq.train import train as run_training

    momq = MoMQConfig(
        dialects=dialect or train_dialects(data_dir),
        experts_per_dialect=experts_per_dialect,
        shared_experts=shared_experts,
        top_k=top_k,
        lora_rank=lora_rank,
        lora_alpha=lora_alpha or 2.0 * lora_rank,
        router_loss_weight=router_loss_weight,
        balance_loss_weight=balance_loss_weight,
        label_smoothing=label_smoothing,
    )
    config = TrainConfig(
        base_model=base_model,
        data_dir=data_dir,
        out_dir=out,
        momq=momq,
        max_length=max_length,
        batch_size=batch_size,
        grad_accum=grad_accum,
        learning_rate=learning_rate,
        epochs=epochs,
        max_steps=max_steps,
        save_every=save_every,
        log_every=log_every,
        gradient_checkpointing=gradient_checkpointing,
        device=device,
        seed=seed,
    )
    typer.echo(f"adapter saved to {run_training(config, resume=resume)}")


@app.command("eval")
def evaluate(
    base_model: BaseModelOption,
    adapter: Annotated[
        Path, typer.Option(exists=True, file_okay=False, help="adapter directory (run/adapter or a checkpoint)")
    ],
    data_file: Annotated[
        Path, typer.Option(exists=True, dir_okay=False, help="validation.jsonl or test.jsonl from `momq data`")
    ],
    db_dir: Annotated[
        Path, typer.Option(exists=True, file_okay=False, help="Spider databases: DIR/<db>/<db>.sqlite")
    ] = Path("../shared/data/spider-train/database"),
    dialect: DialectOption = None,
    limit: Annotated[int | None, typer.Option(help="rows per dialect (seeded sample)")] = None,
    seed: int = 0,
    batch_size: int = 8,
    max_new_tokens: int = 256,
    learned_routing: Annotated[bool, typer.Option(help="let the router choose instead of the row's dialect")] = False,
    device: str = "auto",
    dtype: str = "auto",
    json_out: Annotated[Path | None, typer.Option("--json", help="write the report here")] = None,
    predictions: Annotated[Path | None, typer.Option(help="one JSON line per row")] = None,
) -> None:
    """Greedy-decode and score per dialect (execution accuracy for SQLite, parse rate elsewhere)."""
    from schemakg.generation.momq.inference import MoMQGenerator
    from schemakg.offline.momq.evaluate import EvalConfig, write_report
    from schemakg.offline.momq.evaluate import evaluate as run_evaluation

    config = EvalConfig(
        base_model=base_model,
        adapter=adapter,
        data_file=data_file,
        db_dir=db_dir,
        dialects=dialect,
        limit=limit,
        seed=seed,
        batch_size=batch_size,
        max_new_tokens=max_new_tokens,
        route_by_label=not learned_routing,
        device=device,
        dtype=dtype,
    )
    generator = MoMQGenerator.load(base_model, adapter, device=device, dtype=dtype)
    typer.echo(write_report(run_evaluation(config, generator, predictions), json_out))


@app.command()
def serve(
    base_model: BaseModelOption,
    adapter: Annotated[Path, typer.Option(exists=True, file_okay=False, help="adapter directory")],
    host: str = "127.0.0.1",
    port: int = 8001,
    served_name: Annotated[str, typer.Option(help="model id; <id>-<dialect> forces a dialect")] = "momq",
    device: str = "auto",
    dtype: str = "auto",
) -> None:
    """OpenAI-compatible /v1/chat/completions and /v1/models for the MoMQ model."""
    from schemakg.generation.momq.inference import MoMQGenerator
    from schemakg.generation.momq.serve import serve as run_server

    run_server(MoMQGenerator.load(base_model, adapter, device=device, dtype=dtype), host, port, served_name)


if __name__ == "__main__":
    app()
