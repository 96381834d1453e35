"""The OpenAI backend through the real ``openai`` client against a real HTTP server on 127.0.0.1.

The server is a small FastAPI app in a thread; the requested model name picks its behaviour
(a normal answer, a 500 before succeeding, a slow answer, a key-echoing 401, a server without
structured outputs or without any ``response_format``, ...).
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from typer.testing import CliRunner

from schemakg.app.cli.llm import app as llm_cli
from schemakg.generation.llm.base import ChatMessage, LLMError, LLMTimeout, StructuredOutputError, TransientLLMError
from schemakg.generation.llm.factory import make_chat_model
from schemakg.generation.llm.openai_backend import OpenAIChatModel
from schemakg.kernel.settings import Settings
from tests.servers import free_port

API_KEY = "sk-test-0123456789abcdefSECRET"
QUESTION = [ChatMessage(role="user", content="How many singers are there?")]


class Answer(BaseModel):
    answer: int


class FakeEndpoint:
    """Records requests and answers per the requested model name."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.attempts: Counter[str] = Counter()
        self.lock = threading.Lock()
        self.app = FastAPI()
        self.app.get("/v1/models")(self.models)
        self.app.post("/v1/chat/completions")(self.completions)

    def models(self) -> dict[str, Any]:
        cards = [{"id": name, "object": "model", "created": 0, "owned_by": "test"} for name in ("served", "other")]
        return {"object": "list", "data": cards}

    async def completions(self, request: Request) -> JSONResponse:
        body = await request.json()
        model = body["model"]
        with self.lock:
            self.requests.append({"body": body, "authorization": request.headers.get("authorization")})
            self.attempts[model] += 1
            attempt = self.attempts[model]
        if model.startswith("flaky") and attempt == 1:
            return _error(500, "temporary failure")
        if model == "always-503":
            return _error(503, "overloaded")
        if model == "slow":
            await asyncio.sleep(1.0)
        if model == "bad-key":
            key = request.headers["authorization"].removeprefix("Bearer ")
            return _error(401, f"Incorrect API key provided: {key}")
        if model == "missing":
            return _error(404, "The model `missing` does not exist")
        response_format = body.get("response_format", {}).get("type")
        if model == "json-object-only" and response_format == "json_schema":
            return _error(400, "Unsupported json_schema: use a json_object response format")
        if model == "no-response-format" and response_format:
            return _error(400, "response_format is not supported by this server")
        if model == "bad-request":
            return _error(400, "max_tokens is too large for this model")
        json_requested = any("json" in message["content"].lower() for message in body["messages"])
        text = '{"answer": 42}' if json_requested else "SELECT count(*) FROM singer"
        return JSONResponse(
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
            }
        )


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse(status_code=status, content={"error": {"message": message, "type": "test", "code": None}})


@pytest.fixture(scope="module")
def endpoint() -> Iterator[tuple[FakeEndpoint, str]]:
    fake = FakeEndpoint()
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(fake.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "test server did not start"
        time.sleep(0.02)
    yield fake, f"http://127.0.0.1:{port}/v1"
    server.should_exit = True
    thread.join(timeout=5)


def _client(base_url: str, model: str | None, *, timeout_s: float = 5.0, max_retries: int = 2) -> OpenAIChatModel:
    return OpenAIChatModel(
        base_url=base_url, api_key=API_KEY, model=model, timeout_s=timeout_s, max_retries=max_retries
    )


def test_round_trip_and_usage(endpoint: tuple[FakeEndpoint, str]) -> None:
    fake, url = endpoint
    client = _client(url, "plain")
    result = client.chat(QUESTION, max_tokens=32, temperature=0.0, stop=[";"])
    assert result.text == "SELECT count(*) FROM singer"
    assert (result.model, result.prompt_tokens, result.completion_tokens) == ("plain", 11, 7)
    assert result.finish_reason == "stop"
    assert result.latency_s > 0
    sent = fake.requests[-1]
    assert sent["authorization"] == f"Bearer {API_KEY}"
    assert sent["body"]["max_tokens"] == 32 and sent["body"]["temperature"] == 0.0 and sent["body"]["stop"] == [";"]
    assert "response_format" not in sent["body"]
    assert client.usage.calls == 1 and client.usage.prompt_tokens == 11 and client.usage.completion_tokens == 7


def test_usage_totals_are_thread_safe(endpoint: tuple[FakeEndpoint, str]) -> None:
    _, url = endpoint
    client = _client(url, "plain")
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda _: client.chat(QUESTION, max_tokens=8, temperature=0.0), range(24)))
    usage = client.usage
    assert (usage.calls, usage.prompt_tokens, usage.completion_tokens) == (24, 24 * 11, 24 * 7)


def _formats(fake: FakeEndpoint, model: str) -> list[str | None]:
    """The response_format type of each request for ``model``, in order."""
    bodies = [request["body"] for request in fake.requests if request["body"]["model"] == model]
    return [body.get("response_format", {}).get("type") for body in bodies]


def test_structured_output_sends_the_schema_and_an_instruction(endpoint: tuple[FakeEndpoint, str]) -> None:
    fake, url = endpoint
    assert _client(url, "plain").chat_as(QUESTION, Answer, max_tokens=32) == Answer(answer=42)
    body = fake.requests[-1]["body"]
    assert body["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "Answer", "schema": Answer.model_json_schema()},
    }
    assert body["messages"][0]["role"] == "system" and "JSON" in body["messages"][0]["content"]
    assert body["temperature"] == 0.0 and body["max_tokens"] == 32


def test_falls_back_to_json_mode_when_json_schema_is_rejected(endpoint: tuple[FakeEndpoint, str]) -> None:
    fake, url = endpoint
    client = _client(url, "json-object-only")
    assert client.chat_as(QUESTION, Answer, max_tokens=32) == Answer(answer=42)
    assert client.chat_as(QUESTION, Answer, max_tokens=32) == Answer(answer=42)
    assert _formats(fake, "json-object-only") == ["json_schema", "json_object", "json_object"]  # remembered
    _client(url, "json-object-only").chat_as(QUESTION, Answer, max_tokens=32)  # per client: a new one asks again
    assert _formats(fake, "json-object-only")[3:] == ["json_schema", "json_object"]


def test_falls_back_to_the_instruction_when_every_response_format_is_rejected(
    endpoint: tuple[FakeEndpoint, str],
) -> None:
    fake, url = endpoint
    client = _client(url, "no-response-format")
    assert client.chat_as(QUESTION, Answer, max_tokens=32) == Answer(answer=42)
    assert "JSON" in fake.requests[-1]["body"]["messages"][0]["content"]
    client.chat_as(QUESTION, Answer, max_tokens=32)
    assert _formats(fake, "no-response-format") == ["json_schema", "json_object", None, None]  # remembered


def test_other_bad_requests_are_permanent_and_not_retried_without_a_format(
    endpoint: tuple[FakeEndpoint, str],
) -> None:
    fake, url = endpoint
    with pytest.raises(LLMError, match=r"HTTP 400.*max_tokens is too large") as caught:
        _client(url, "bad-request").chat_as(QUESTION, Answer, max_tokens=32)
    assert not caught.value.transient
    assert _formats(fake, "bad-request") == ["json_schema"]


def test_a_reply_that_does_not_fit_the_model_is_a_structured_output_error(endpoint: tuple[FakeEndpoint, str]) -> None:
    class Other(BaseModel):
        sql: str

    _, url = endpoint
    with pytest.raises(StructuredOutputError, match=r"not a valid Other \(sql: Field required\)") as caught:
        _client(url, "plain").chat_as(QUESTION, Other, max_tokens=32)
    assert not caught.value.transient


def test_server_error_then_success_is_retried(endpoint: tuple[FakeEndpoint, str]) -> None:
    fake, url = endpoint
    result = _client(url, "flaky-1", max_retries=2).chat(QUESTION, max_tokens=8, temperature=0.0)
    assert result.text.startswith("SELECT")
    assert fake.attempts["flaky-1"] == 2


def test_persistent_server_errors_are_transient_after_bounded_retries(endpoint: tuple[FakeEndpoint, str]) -> None:
    fake, url = endpoint
    with pytest.raises(TransientLLMError, match="HTTP 503") as caught:
        _client(url, "always-503", max_retries=1).chat(QUESTION, max_tokens=8, temperature=0.0)
    assert caught.value.transient
    assert fake.attempts["always-503"] == 2


def test_timeout(endpoint: tuple[FakeEndpoint, str]) -> None:
    _, url = endpoint
    started = time.monotonic()
    with pytest.raises(LLMTimeout) as caught:
        _client(url, "slow", timeout_s=0.3, max_retries=0).chat(QUESTION, max_tokens=8, temperature=0.0)
    assert caught.value.transient
    assert time.monotonic() - started < 1.5


def test_connection_refused_is_transient() -> None:
    client = _client(f"http://127.0.0.1:{free_port()}/v1", "plain", max_retries=0)
    with pytest.raises(TransientLLMError, match="cannot connect"):
        client.chat(QUESTION, max_tokens=8, temperature=0.0)


def test_rejected_key_is_permanent_and_never_echoed(endpoint: tuple[FakeEndpoint, str]) -> None:
    _, url = endpoint
    with pytest.raises(LLMError) as caught:
        _client(url, "bad-key").chat(QUESTION, max_tokens=8, temperature=0.0)
    assert not caught.value.transient
    assert "HTTP 401" in str(caught.value)
    for text in (str(caught.value), repr(caught.value), caught.value.message):
        assert "SECRET" not in text and "0123456789" not in text


def test_unknown_model_is_permanent(endpoint: tuple[FakeEndpoint, str]) -> None:
    _, url = endpoint
    with pytest.raises(LLMError, match="HTTP 404") as caught:
        _client(url, "missing").chat(QUESTION, max_tokens=8, temperature=0.0)
    assert not caught.value.transient


def test_model_defaults_to_the_first_one_the_endpoint_lists(endpoint: tuple[FakeEndpoint, str]) -> None:
    _, url = endpoint
    assert _client(url, None).chat(QUESTION, max_tokens=8, temperature=0.0).model == "served"


def test_factory_and_cli_use_the_endpoint_from_the_environment(
    endpoint: tuple[FakeEndpoint, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    fake, url = endpoint
    monkeypatch.setenv("OPENAI_BASE_URL", url)
    monkeypatch.setenv("OPENAI_API_KEY", API_KEY)
    monkeypatch.setenv("SCHEMAKG_OPENAI_MODEL", "plain")
    assert isinstance(make_chat_model(Settings()), OpenAIChatModel)
    outcome = CliRunner().invoke(llm_cli, ["chat", "How many singers are there?", "--max-tokens", "16"])
    assert outcome.exit_code == 0, outcome.output
    assert "SELECT count(*) FROM singer" in outcome.output
    assert "[plain]" in outcome.output and "tok/s" in outcome.output
    outcome = CliRunner().invoke(llm_cli, ["chat", "How many singers are there?", "--json"])
    assert outcome.exit_code == 0, outcome.output
    assert '{"answer": 42}' in outcome.output
    assert fake.requests[-1]["body"]["response_format"]["json_schema"]["name"] == "JSONObject"
