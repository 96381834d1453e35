"""``ChatModel`` over any OpenAI-compatible endpoint (OpenAI, vLLM, llama.cpp's server, the MoMQ server).

The ``openai`` client retries transient failures itself (connection errors, timeouts, 408/409/429
and 5xx, with exponential backoff and jitter, honouring ``Retry-After``), bounded by
``max_retries``; what still fails is raised as a ``TransientLLMError`` so the caller's own retry
(a Celery task's backoff) can take over, or as a permanent ``LLMError`` when retrying cannot help.
"""

from __future__ import annotations

import logging
import re
import threading
import time

import httpx
import openai
from openai.types.chat import ChatCompletion

from catalog.settings import Settings
from generation.llm.base import ChatMessage, ChatModel, ChatResult, LLMError, LLMTimeout, TransientLLMError

log = logging.getLogger(__name__)

# Keys some servers echo back in error bodies, whole or masked ("Incorrect API key provided: sk-ab***yz").
_KEY_PATTERN = re.compile(r"\bsk-[A-Za-z0-9_\-*.]{4,}")
_MAX_DETAIL_CHARS = 300
_TRANSIENT_STATUSES = {408, 409, 425, 429}


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
        self._response_format_supported = True

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
        json_mode: bool,
        stop: list[str] | None,
    ) -> ChatResult:
        model = self.model_name
        started = time.perf_counter()
        completion = self._request(messages, model, max_tokens, temperature, json_mode, stop)
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
        json_mode: bool,
        stop: list[str] | None,
    ) -> ChatCompletion:
        with_format = json_mode and self._response_format_supported
        try:
            return self._client.chat.completions.create(
                model=model,
                messages=[message.model_dump() for message in messages],  # type: ignore[misc]
                max_tokens=max_tokens,
                temperature=temperature,
                stop=stop or openai.NOT_GIVEN,
                response_format={"type": "json_object"} if with_format else openai.NOT_GIVEN,
            )
        except openai.BadRequestError as exc:
            if with_format and "response_format" in str(exc):
                # The JSON instruction already in the messages carries JSON mode on such servers.
                log.info("%s rejects response_format; asking for JSON by instruction only", self._endpoint)
                self._response_format_supported = False
                return self._request(messages, model, max_tokens, temperature, json_mode, stop)
            raise self._translate(exc, model) from None
        except openai.OpenAIError as exc:
            raise self._translate(exc, model) from None

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
