"""``ChatModel`` running a GGUF model in-process with llama.cpp (``llama-cpp-python``): the embedded default.

The prompt is laid out by llama-cpp's chat handler from the chat template stored in the GGUF
(Qwen's, for the packaged models). One ``Llama`` object holds one KV cache and is not
thread-safe, so generations are serialised by a lock. llama-cpp reuses the longest common prefix
with the previous prompt; with ``prompt_cache_mb`` it also keeps the KV states of earlier prompts in
RAM, so prompts that alternate (evidence, then SQL, then the next question's evidence) still skip
the prefill of their shared instructions, few-shot examples and schema.
A requested output model constrains decoding with a grammar llama-cpp builds from its JSON schema,
so the reply is JSON of that shape by construction (unless cut off at ``max_tokens``).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from schemakg.generation.llm.base import ChatMessage, ChatModel, ChatResult, LLMError

if TYPE_CHECKING:
    from llama_cpp.llama_types import (
        ChatCompletionRequestMessage,
        ChatCompletionRequestResponseFormat,
        CreateChatCompletionResponse,
    )


def _prompt_cache(base: type, capacity_bytes: int) -> Any:
    """A ``LlamaRAMCache`` whose capacity holds. llama-cpp copies the logits buffer (n_batch × vocab
    floats: 311 MB for Qwen's 152k vocabulary) into every saved state without counting it, so 512 MB
    of KV states could pin gigabytes. A restored state is always decoded again before sampling,
    so those logits are never read: each state keeps one zero row, which broadcasts on restore."""

    class PromptCache(base):
        def __setitem__(self, key: Any, state: Any) -> None:
            state.scores = np.zeros((1, state.scores.shape[1]), dtype=np.single)
            super().__setitem__(key, state)

    return PromptCache(capacity_bytes=capacity_bytes)


def built_with_amx(system_info: str) -> bool:
    """Whether llama.cpp was compiled with its AMX kernels (``llama_print_system_info``): on Sapphire Rapids CPUs
    they take the packaged models' weights and segfault at the first prompt of more than one token
    (ggml-org/llama.cpp#20824), which would kill the API or worker process instead of failing one request."""
    return "AMX_INT8 = 1" in system_info


class LlamaChatModel(ChatModel):
    def __init__(
        self,
        model_path: Path,
        *,
        name: str | None = None,
        n_threads: int,
        n_threads_batch: int | None = None,
        n_ctx: int,
        seed: int,
        prompt_cache_mb: int = 0,
    ) -> None:
        super().__init__()
        try:
            from llama_cpp import Llama, LlamaRAMCache, llama_print_system_info
        except ImportError as exc:
            raise LLMError("llama-cpp-python is not installed; run scripts/setup_llm.sh") from exc
        if built_with_amx(llama_print_system_info().decode()):
            raise LLMError(
                "llama-cpp-python was built with llama.cpp's AMX kernels, which crash on this model; "
                "run scripts/setup_llm.sh to rebuild it without them"
            )
        if not model_path.is_file():
            raise LLMError(f"no model file at {model_path}; run `schemakg llm prepare`")
        self._name = name or model_path.stem
        self._seed = seed
        self._lock = threading.Lock()
        self._closed = False
        started = time.perf_counter()
        try:
            self._llama = Llama(
                model_path=str(model_path),
                n_ctx=n_ctx,
                n_threads=n_threads,
                n_threads_batch=n_threads_batch or n_threads,
                seed=seed,
                verbose=False,
            )
        except ValueError as exc:  # llama-cpp's way of saying the file would not load
            raise LLMError(f"cannot load {model_path}: {exc}") from exc
        if prompt_cache_mb > 0:
            self._llama.set_cache(_prompt_cache(LlamaRAMCache, prompt_cache_mb << 20))
        self.load_s = time.perf_counter() - started

    @property
    def model_name(self) -> str:
        return self._name

    def _complete(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None,
        stop: list[str] | None,
        seed: int | None,
    ) -> ChatResult:
        response_format: ChatCompletionRequestResponseFormat | None = (
            {"type": "json_object", "schema": json_schema} if json_schema is not None else None
        )
        with self._lock:
            if self._closed:  # the native model is freed: calling into it would crash the process
                raise LLMError(f"{self._name} was closed")
            started = time.perf_counter()
            try:
                response = self._llama.create_chat_completion(
                    messages=cast("list[ChatCompletionRequestMessage]", [message.model_dump() for message in messages]),
                    max_tokens=max_tokens,
                    temperature=temperature,
                    stop=stop or [],
                    # with temperature 0 decoding is greedy; the seed fixes sampling otherwise
                    seed=self._seed if seed is None else seed,
                    response_format=response_format,
                )
            except ValueError as exc:  # e.g. the prompt does not fit the context window
                raise LLMError(f"{self._name}: {exc}") from exc
            latency_s = time.perf_counter() - started
        completion = cast("CreateChatCompletionResponse", response)  # not streamed: one response, not chunks
        choice = completion["choices"][0]
        usage = completion["usage"]
        return ChatResult(
            text=choice["message"]["content"] or "",
            model=self._name,
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
            latency_s=latency_s,
            finish_reason=choice["finish_reason"],
        )

    def close(self) -> None:
        """Waits for a running generation; later calls raise LLMError instead of touching freed memory."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._llama.close()
