"""The chat port every LLM backend implements, its errors, and per-client token accounting.

Knowledge completion, evidence and SQL generation talk to a ``ChatModel`` only, so the
embedded llama.cpp model, an OpenAI-compatible endpoint and the MoMQ server are interchangeable.
Errors say whether trying again later can help (``LLMError.transient``), so Celery tasks can
retry with backoff exactly the failures worth retrying. Structured replies are asked for with a
pydantic model (``chat_as``): backends that can constrain decoding to its JSON schema do so.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, Field

from schemakg.generation.prompts import render_prompt

JSON_INSTRUCTION = render_prompt("json_instruction.j2").strip()

T = TypeVar("T", bound=BaseModel)


class LLMError(RuntimeError):
    """A chat call failed. Messages never carry credentials."""

    transient = False

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class TransientLLMError(LLMError):
    """Worth retrying later: connection failure, timeout, rate limit, server error."""

    transient = True


class LLMTimeout(TransientLLMError):
    """No answer within the configured timeout."""


class StructuredOutputError(LLMError):
    """The reply does not parse into the requested model. Not transient: the same prompt gets the same reply."""


def encodable(text: object) -> object:
    """Text that UTF-8 can carry: a lone surrogate (valid in a Python str and in JSON escapes, never
    on the wire) would crash the request to the model or the response to the caller."""
    return text.encode("utf-8", errors="replace").decode("utf-8") if isinstance(text, str) else text


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: Annotated[str, BeforeValidator(encodable)]


class ChatResult(BaseModel):
    text: Annotated[str, BeforeValidator(encodable)]
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    finish_reason: str | None = None  # "length": cut off at max_tokens (a JSON reply is then incomplete)

    @property
    def tokens_per_s(self) -> float:
        return self.completion_tokens / self.latency_s if self.latency_s > 0 else 0.0


class Usage(BaseModel):
    """Running totals over one client's successful calls."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = Field(default=0.0, description="summed wall time of the calls")


class ChatModel(ABC):
    """One chat-completion client. Safe to share between threads."""

    def __init__(self) -> None:
        self._usage = Usage()
        self._usage_lock = threading.Lock()

    @property
    @abstractmethod
    def model_name(self) -> str: ...

    @property
    def usage(self) -> Usage:
        with self._usage_lock:
            return self._usage.model_copy()

    def chat(
        self,
        messages: list[ChatMessage],
        *,
        max_tokens: int,
        temperature: float,
        output: type[BaseModel] | None = None,
        stop: list[str] | None = None,
        seed: int | None = None,
    ) -> ChatResult:
        """Complete a conversation; ``output`` asks for one JSON object of that model (``chat_as`` parses it).
        ``seed`` varies sampling between calls at a temperature above 0 (None: the client's own seed)."""
        if not messages:
            raise ValueError("a chat needs at least one message")
        if max_tokens < 1:
            raise ValueError("max_tokens must be at least 1")
        json_schema = None
        if output is not None:
            messages = with_json_instruction(messages)
            json_schema = output.model_json_schema()
        result = self._complete(
            messages, max_tokens=max_tokens, temperature=temperature, json_schema=json_schema, stop=stop, seed=seed
        )
        with self._usage_lock:
            self._usage = Usage(
                calls=self._usage.calls + 1,
                prompt_tokens=self._usage.prompt_tokens + result.prompt_tokens,
                completion_tokens=self._usage.completion_tokens + result.completion_tokens,
                latency_s=self._usage.latency_s + result.latency_s,
            )
        return result

    def chat_as(self, messages: list[ChatMessage], output: type[T], *, max_tokens: int, temperature: float = 0.0) -> T:
        """The reply as an ``output`` instance; ``StructuredOutputError`` says why when it is not one."""
        from schemakg.generation.llm.structured import parse_reply  # it imports this module's errors

        result = self.chat(messages, max_tokens=max_tokens, temperature=temperature, output=output)
        return parse_reply(result.text, output, result.finish_reason)

    @abstractmethod
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
        """The backend call; ``json_schema``: constrain the reply to it where the backend can.
        Raise ``LLMError`` subclasses only."""

    @abstractmethod
    def close(self) -> None:
        """Release connections or model memory."""


def with_json_instruction(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Tell the model to answer in JSON unless the prompt already asks for it.

    Servers that accept ``response_format`` still need this (OpenAI rejects JSON mode when no
    message mentions JSON), and servers that ignore it (the MoMQ server) rely on it alone.
    """
    if any("json" in message.content.lower() for message in messages):
        return messages
    if messages[0].role == "system":
        system = ChatMessage(role="system", content=f"{messages[0].content}\n\n{JSON_INSTRUCTION}")
        return [system, *messages[1:]]
    return [ChatMessage(role="system", content=JSON_INSTRUCTION), *messages]
