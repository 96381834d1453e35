"""The embedded backend with the real packaged Qwen2.5-Coder-0.5B model, run by llama.cpp.

The GGUF is the one ``schemakg llm prepare`` builds under the configured data directory (shared
with it, so the ~470 MiB file is written once, not per test run). Skips when llama-cpp-python or
the model parts are not installed; scripts/setup_llm.sh installs both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from pydantic import BaseModel, ConfigDict

from schemakg.generation.llm.base import ChatMessage, ChatResult, LLMError
from schemakg.generation.llm.llama_backend import LlamaChatModel, built_with_amx
from schemakg.generation.llm.model_files import ModelFilesError, ensure_gguf
from schemakg.kernel.settings import Settings

MODEL = "qwen2.5-coder-0.5b"
SINGERS = "How many singers are from France? Table singer(singer_id, name, country). Reply with SQL only."


class ColumnRef(BaseModel):
    table: str
    column: str


def _load(prompt_cache_mb: int = 0) -> LlamaChatModel:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (scripts/setup_llm.sh installs it)")
    try:
        path = ensure_gguf(MODEL, Settings().llm_models_dir)
    except ModelFilesError as exc:
        pytest.skip(f"{MODEL} is not available: {exc.message}")
    settings = Settings()
    return LlamaChatModel(
        path,
        name=MODEL,
        n_threads=settings.llm_threads,
        n_threads_batch=settings.llm_batch_threads,
        n_ctx=1024,
        seed=0,
        prompt_cache_mb=prompt_cache_mb,
    )


@pytest.fixture(scope="module")
def qwen() -> Iterator[LlamaChatModel]:
    model = _load()
    yield model
    model.close()


def _ask(model: LlamaChatModel, content: str, *, max_tokens: int) -> ChatResult:
    messages = [ChatMessage(role="user", content=content)]
    return model.chat(messages, max_tokens=max_tokens, temperature=0.0)


def test_a_build_with_amx_kernels_is_recognised() -> None:
    amx = "CPU : SSE3 = 1 | AVX512 = 1 | AVX512_BF16 = 1 | AMX_INT8 = 1 | LLAMAFILE = 1 | REPACK = 1 |"
    assert built_with_amx(amx)
    assert not built_with_amx(amx.replace("AMX_INT8 = 1 | ", ""))


@pytest.mark.slow
def test_decoding_and_the_prompt_get_their_own_thread_counts(qwen: LlamaChatModel) -> None:
    settings = Settings()
    params = qwen._llama.context_params
    assert (params.n_threads, params.n_threads_batch) == (settings.llm_threads, settings.llm_batch_threads)


@pytest.mark.slow
def test_answers_a_text_to_sql_question_deterministically(qwen: LlamaChatModel) -> None:
    first = _ask(qwen, SINGERS, max_tokens=64)
    sql = first.text.lower()
    assert "select" in sql and "count" in sql and "france" in sql, first.text
    assert first.model == MODEL and first.prompt_tokens > 20 and 0 < first.completion_tokens <= 64
    assert _ask(qwen, SINGERS, max_tokens=64).text == first.text


@pytest.mark.slow
def test_chat_as_returns_an_instance_of_the_requested_model(qwen: LlamaChatModel) -> None:
    """The prompt names no keys: the grammar built from the schema is what gives the reply its shape."""
    question = "Table singer(singer_id, name, country). Which table and column hold a singer's country?"
    ref = qwen.chat_as([ChatMessage(role="user", content=question)], ColumnRef, max_tokens=48)
    assert ref == ColumnRef(table="singer", column="country")


@pytest.mark.slow
def test_the_reply_is_constrained_to_the_schema(qwen: LlamaChatModel) -> None:
    class Columns(BaseModel):
        model_config = ConfigDict(extra="forbid")

        count: int
        names: list[str]

    messages = [ChatMessage(role="user", content="Table singer(singer_id, name, country). List its columns.")]
    result = qwen.chat(messages, max_tokens=64, temperature=0.0, output=Columns)
    assert result.finish_reason == "stop", result.text
    Columns.model_validate_json(result.text)  # strictly: no fences, no prose, no other keys, the declared types


@pytest.mark.slow
def test_concurrent_calls_are_serialised_and_counted(qwen: LlamaChatModel) -> None:
    before = qwen.usage.calls
    answers: list[str] = []
    threads = [
        threading.Thread(target=lambda: answers.append(_ask(qwen, "Say OK.", max_tokens=4).text)) for _ in range(2)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(answers) == 2 and answers[0] == answers[1]
    assert qwen.usage.calls == before + 2


@pytest.mark.slow
def test_the_prompt_cache_keeps_earlier_prompts_without_changing_answers(qwen: LlamaChatModel) -> None:
    """Alternating prompts (evidence, SQL, evidence, ...) are what the cache is for."""
    schema = "Table singer(singer_id, name, country, age). Table concert(concert_id, singer_id, year). "
    prompts = [schema + "List the columns a question about ages needs.", schema + SINGERS]
    cached = _load(prompt_cache_mb=64)
    try:
        replies = [_ask(cached, prompts[i % 2], max_tokens=24).text for i in range(3)]
        cache = cached._llama.cache
        assert cache is not None and cache.cache_size > 0
        assert all(state.scores.shape[0] == 1 for state in cache.cache_state.values())  # no pinned logits
    finally:
        cached.close()
    assert replies[0] == replies[2]
    assert replies[:2] == [_ask(qwen, prompt, max_tokens=24).text for prompt in prompts]


@pytest.mark.slow
def test_a_prompt_longer_than_the_context_is_a_permanent_error(qwen: LlamaChatModel) -> None:
    with pytest.raises(LLMError, match="context window") as caught:
        _ask(qwen, "column " * 1500, max_tokens=4)
    assert not caught.value.transient


@pytest.mark.slow
def test_a_closed_model_refuses_calls_instead_of_crashing() -> None:
    model = _load()
    model.close()
    model.close()  # closing twice is harmless
    with pytest.raises(LLMError, match="closed"):
        model.chat([ChatMessage(role="user", content="hi")], max_tokens=4, temperature=0.0)
