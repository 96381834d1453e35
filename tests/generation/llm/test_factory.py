"""Which backend the settings select, and how JSON mode reaches the model."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemakg.generation.llm.base import JSON_INSTRUCTION, ChatMessage, with_json_instruction
from schemakg.generation.llm.factory import backend_for, make_chat_model
from schemakg.generation.llm.model_files import ModelFilesError
from schemakg.kernel.settings import Settings


def test_embedded_model_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("OPENAI_BASE_URL", "SCHEMAKG_LLM_BACKEND", "SCHEMAKG_LLM_MODEL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert backend_for(settings) == "llama" and settings.llm_model == "qwen2.5-coder-1.5b"


def test_an_endpoint_or_an_explicit_choice_selects_openai() -> None:
    assert backend_for(Settings(OPENAI_BASE_URL="http://127.0.0.1:9/v1")) == "openai"
    assert backend_for(Settings(llm_backend="openai")) == "openai"
    assert backend_for(Settings(OPENAI_BASE_URL="http://127.0.0.1:9/v1", llm_backend="llama")) == "llama"


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("SCHEMAKG_LLM_MODEL", "qwen2.5-coder-1.5b")
    monkeypatch.setenv("SCHEMAKG_LLM_THREADS", "4")
    settings = Settings()
    assert settings.openai_api_key is not None and settings.openai_api_key.get_secret_value() == "sk-from-env"
    assert "sk-from-env" not in repr(settings)
    assert (settings.llm_model, settings.llm_threads) == ("qwen2.5-coder-1.5b", 4)


def test_an_unknown_embedded_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFilesError, match="unknown model 'tiny'"):
        make_chat_model(Settings(data_dir=tmp_path, llm_model="tiny", llm_backend="llama"))


def test_json_instruction_is_added_once() -> None:
    plain = [ChatMessage(role="system", content="You map questions to columns."), ChatMessage(role="user", content="q")]
    instructed = with_json_instruction(plain)
    assert instructed[0].content.endswith(JSON_INSTRUCTION) and len(instructed) == 2
    assert with_json_instruction(instructed) == instructed
    assert with_json_instruction([ChatMessage(role="user", content="q")])[0] == ChatMessage(
        role="system", content=JSON_INSTRUCTION
    )
