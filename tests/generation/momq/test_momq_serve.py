"""The OpenAI-compatible endpoint, called through the real ``openai`` client over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import openai
import pytest
import uvicorn

from schemakg.generation.momq.inference import MoMQGenerator
from schemakg.generation.momq.serve import create_app
from tests.servers import free_port


@pytest.fixture
def generator(saved_momq) -> MoMQGenerator:
    return MoMQGenerator.load(saved_momq.base_dir, saved_momq.adapter_dir, device="cpu")


@pytest.fixture
def client(generator: MoMQGenerator) -> Iterator[openai.OpenAI]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(generator), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    yield openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key="unused", max_retries=0, timeout=30)
    server.should_exit = True
    thread.join(timeout=10)


MESSAGES = [
    {"role": "system", "content": "Write one query"},
    {"role": "user", "content": "how many singers are there"},
]


def test_lists_the_model_and_one_name_per_dialect(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["momq", "momq-mysql", "momq-cypher"]


def test_chat_completion_routes_by_model_suffix_or_dialect_field(
    client: openai.OpenAI, generator: MoMQGenerator
) -> None:
    by_suffix = client.chat.completions.create(model="momq-cypher", messages=MESSAGES, max_tokens=5)
    by_field = client.chat.completions.create(
        model="momq", messages=MESSAGES, max_tokens=5, extra_body={"dialect": "cypher"}
    )
    learned = client.chat.completions.create(model="momq", messages=MESSAGES, max_tokens=5)

    choice = by_suffix.choices[0]
    assert by_suffix.object == "chat.completion" and by_suffix.model == "momq-cypher"
    assert choice.message.role == "assistant" and isinstance(choice.message.content, str)
    assert choice.finish_reason in {"stop", "length"}
    assert by_suffix.usage.prompt_tokens > 0 and by_suffix.usage.completion_tokens <= 5
    assert by_field.choices[0].message.content == choice.message.content, "same dialect, greedy: same answer"

    direct = generator.generate([MESSAGES], ["cypher"], max_new_tokens=5)[0]
    assert choice.message.content == direct.text
    assert learned.choices[0].message.content == generator.generate([MESSAGES], [None], max_new_tokens=5)[0].text

    sampled = client.chat.completions.create(
        model="momq-mysql", messages=MESSAGES, max_tokens=3, temperature=0.8, top_p=0.9
    )
    assert isinstance(sampled.choices[0].message.content, str) and sampled.usage.completion_tokens <= 3


def test_errors_come_back_as_openai_exceptions(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError, match="unknown dialect"):
        client.chat.completions.create(model="momq-oracle", messages=MESSAGES)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-4o", messages=MESSAGES)
    with pytest.raises(openai.BadRequestError, match="streaming"):
        client.chat.completions.create(model="momq", messages=MESSAGES, stream=True)
