"""``ChatModel`` over any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server, the MoMQ server).

The ``openai`` client retries transient failures itself (connection errors, timeouts, 408/409/429
and 5xx, with exponential backoff and jitter, honouring ``Retry-After``), bounded by
``max_retries``; what still fails is raised as a ``TransientLLMError`` so the caller's own retry
(a Celery task's backoff) can take over, or as a permanent ``LLMError`` when retrying cannot help.

A requested output model is sent as structured outputs (``response_format`` of type ``json_schema``,
not strict: optional fields stay optional). A server that rejects that gets JSON mode
(``json_object``), and one that rejects both relies on the JSON instruction in the messages alone;
each client remembers what its server rejected.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from typing import Any, cast

import httpx
import openai
from openai.types.chat import ChatCompletion, ChatCompletionMessageParam
from openai.types.chat.completion_create_params import ResponseFormat

from schemakg.generation.llm.base import ChatMessage, ChatModel, ChatResult, LLMError, LLMTimeout, TransientLLMError
from schemakg.kernel.settings import Settings

log = logging.getLogger(__name__)

# Keys some servers echo back in error bodies, whole or masked ("Incorrect API key provided: sk-ab***yz").
_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-*.]{4,}")
_MAX_DETAIL_CHARS = 300
_TRANSIENT_STATUSES = {408, 409, 425, 429}
_SCHEMA_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9_-]")


class OpenAIChatModel(ChatModel):
    def __init__(
        self,
        *,
        base_url: str | None,
        api_key: str | None,
        model: str | None,
        timeout_s: float,
        max_retries: int,
    ) -> None:
        super().__init__()
        self._api_key = api_key
        # Local servers (vLLM, the MoMQ server) take no key, but the client insists on one.
        self._client = openai.OpenAI(
            base_url=base_url, api_key=api_key or "unused", timeout=timeout_s, max_retries=max_retries
        )
        self._endpoint = _describe_endpoint(str(self._client.base_url))
        self._model = model
        self._model_lock = threading.Lock()
        self._rejected_formats: set[str] = set()  # response_format types this server refused

    @classmethod
    def from_settings(cls, settings: Settings) -> OpenAIChatModel:
        return cls(
            base_url=settings.openai_base_url,
            api_key=settings.openai_api_key.get_secret_value() if settings.openai_api_key else None,
            model=settings.openai_model,
            timeout_s=settings.llm_timeout_s,
            max_retries=settings.llm_max_retries,
        )

    @property
    def model_name(self) -> str:
        with self._model_lock:
            if self._model is None:
                self._model = self._first_served_model()
            return self._model

    def _first_served_model(self) -> str:
        """vLLM and the MoMQ server list the model they serve first."""
        try:
            models = self._client.models.list().data
        except openai.OpenAIError as exc:
            raise self._translate(exc, "listing models") from None
        if not models:
            raise LLMError(f"{self._endpoint} lists no models; set SCHEMAKG_OPENAI_MODEL")
        log.info("using model %s, the first one %s lists", models[0].id, self._endpoint)
        return models[0].id

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
        model = self.model_name
        started = time.perf_counter()
        completion = self._request(messages, model, max_tokens, temperature, json_schema, stop, seed)
        latency_s = time.perf_counter() - started
        if not completion.choices or completion.choices[0].message.content is None:
            raise LLMError(f"{model} at {self._endpoint} returned no text")
        choice = completion.choices[0]
        usage = completion.usage  # some servers omit it: counted as zero
        return ChatResult(
            text=choice.message.content,
            model=completion.model or model,
            prompt_tokens=usage.prompt_tokens if usage else 0,
            completion_tokens=usage.completion_tokens if usage else 0,
            latency_s=latency_s,
            finish_reason=choice.finish_reason,
        )

    def _request(
        self,
        messages: list[ChatMessage],
        model: str,
        max_tokens: int,
        temperature: float,
        json_schema: dict[str, Any] | None,
        stop: list[str] | None,
        seed: int | None = None,
    ) -> ChatCompletion:
        response_format = self._response_format(json_schema)
        try:
            return self._client.chat.completions.create(
                model=model,
                messages=cast(list[ChatCompletionMessageParam], [message.model_dump() for message in messages]),
                max_tokens=max_tokens,
                temperature=temperature,
                stop=stop or openai.omit,
                response_format=response_format or openai.omit,
                seed=openai.omit if seed is None else seed,
            )
        except openai.BadRequestError as exc:
            refused = response_format["type"] if response_format else None
            if refused and ("response_format" in str(exc) or refused in str(exc)):
                # The JSON instruction already in the messages still asks for JSON on such servers.
                log.info(
                    "%s rejects response_format %s; falling back (%s)",
                    self._endpoint,
                    refused,
                    self._redact(exc.message)[:_MAX_DETAIL_CHARS],
                )
                self._rejected_formats.add(refused)
                return self._request(messages, model, max_tokens, temperature, json_schema, stop, seed)
            raise self._translate(exc, model) from None
        except openai.OpenAIError as exc:
            raise self._translate(exc, model) from None

    def _response_format(self, json_schema: dict[str, Any] | None) -> ResponseFormat | None:
        """The strongest JSON constraint the server has not rejected: the schema, then JSON mode, then none."""
        if json_schema is None:
            return None
        if "json_schema" not in self._rejected_formats:
            name = _SCHEMA_NAME_UNSAFE.sub("_", str(json_schema.get("title") or "reply"))[:64]
            return {"type": "json_schema", "json_schema": {"name": name, "schema": json_schema}}
        if "json_object" not in self._rejected_formats:
            return {"type": "json_object"}
        return None

    def _translate(self, exc: openai.OpenAIError, model: str) -> LLMError:
        """The project's error for a client failure, with any key scrubbed from the server's text."""
        where = f"{model} at {self._endpoint}"
        if isinstance(exc, openai.APITimeoutError):
            return LLMTimeout(f"{where}: no answer within the timeout")
        if isinstance(exc, openai.APIConnectionError):
            return TransientLLMError(f"{where}: cannot connect ({self._redact(str(exc.__cause__ or exc))})")
        if isinstance(exc, openai.APIStatusError):
            detail = self._redact(exc.message)[:_MAX_DETAIL_CHARS]
            message = f"{where}: HTTP {exc.status_code}: {detail}"
            if exc.status_code >= 500 or exc.status_code in _TRANSIENT_STATUSES:
                return TransientLLMError(message)
            return LLMError(message)
        return LLMError(f"{where}: {self._redact(str(exc))[:_MAX_DETAIL_CHARS]}")

    def _redact(self, text: str) -> str:
        if self._api_key:
            text = text.replace(self._api_key, "***")
        return _KEY_PATTERN.sub("***", text)

    def close(self) -> None:
        self._client.close()


def _describe_endpoint(base_url: str) -> str:
    """Scheme, host and path of the endpoint: never user info or query parameters, which may hold secrets."""
    url = httpx.URL(base_url)
    port = f":{url.port}" if url.port else ""
    return f"{url.scheme}://{url.host}{port}{url.path.rstrip('/')}"
