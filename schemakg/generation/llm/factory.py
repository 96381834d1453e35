"""Picks the chat backend from the settings: the composition point for everything that needs an LLM."""

from __future__ import annotations

from typing import Literal

from schemakg.generation.llm.base import ChatModel
from schemakg.kernel.settings import Settings


def backend_for(settings: Settings) -> Literal["openai", "llama"]:
    """``openai`` when asked for, or when an endpoint is configured; else the embedded model."""
    if settings.llm_backend != "auto":
        return settings.llm_backend
    return "openai" if settings.openai_base_url else "llama"


def make_chat_model(settings: Settings) -> ChatModel:
    """A new client; the embedded backend loads its model here (about a second), so keep and share it."""
    if backend_for(settings) == "openai":
        from schemakg.generation.llm.openai_backend import OpenAIChatModel

        return OpenAIChatModel.from_settings(settings)

    from schemakg.generation.llm.llama_backend import LlamaChatModel
    from schemakg.generation.llm.model_files import ensure_gguf

    model_path = settings.llm_model_path or ensure_gguf(settings.llm_model, settings.llm_models_dir)
    return LlamaChatModel(
        model_path,
        name=settings.llm_model if settings.llm_model_path is None else None,
        n_threads=settings.llm_threads,
        n_threads_batch=settings.llm_batch_threads,
        n_ctx=settings.llm_context,
        seed=settings.llm_seed,
        prompt_cache_mb=settings.llm_prompt_cache_mb,
    )
