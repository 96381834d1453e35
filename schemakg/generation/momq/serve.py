"""OpenAI-compatible chat-completions endpoint for a MoMQ model, so the SQL generation code
talks to it like to any LLM (``openai.OpenAI(base_url=".../v1")``).

Routing: the extra body field ``dialect`` (``extra_body={"dialect": "postgresql"}``) or a model
name ``<served>-<dialect>`` (``momq-cypher``) forces that dialect's expert group; the plain
served name lets the learned dialect router decide per token.
"""

from __future__ import annotations

import time
import uuid
from typing import Literal

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from schemakg.generation.momq.inference import MoMQGenerator


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="ignore")

    role: str
    content: str | list[dict[str, object]] | None = None

    def text(self) -> str:
        """Content as plain text; multi-part content keeps its text parts."""
        if isinstance(self.content, list):
            return "".join(str(part.get("text", "")) for part in self.content if part.get("type") == "text")
        return self.content or ""


class ChatCompletionRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str
    messages: list[ChatMessage] = Field(min_length=1)
    max_tokens: int | None = Field(default=None, ge=1)
    max_completion_tokens: int | None = Field(default=None, ge=1)
    temperature: float = Field(default=0.0, ge=0, le=2, description="0 (the default here) decodes greedily")
    top_p: float = Field(default=1.0, gt=0, le=1)
    stop: str | list[str] | None = None
    n: int = 1
    stream: bool = False
    dialect: str | None = None


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int
    message: ResponseMessage
    finish_reason: str


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "schemakg"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class OpenAIError(Exception):
    """Answered in OpenAI's error shape, which the ``openai`` client turns into its exceptions."""

    def __init__(self, status: int, message: str, code: str, param: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param


def create_app(generator: MoMQGenerator, served_name: str = "momq", default_max_tokens: int = 512) -> FastAPI:
    app = FastAPI(title="SchemaKG MoMQ", version="1")
    started = int(time.time())

    @app.exception_handler(OpenAIError)
    async def _openai_error(_: Request, error: OpenAIError) -> JSONResponse:
        body = {
            "error": {
                "message": error.message,
                "type": "invalid_request_error",
                "param": error.param,
                "code": error.code,
            }
        }
        return JSONResponse(status_code=error.status, content=body)

    def resolve_dialect(request: ChatCompletionRequest) -> str | None:
        """Dialect to force, from the ``dialect`` field or the model-name suffix; None: learned routing."""
        if request.model != served_name and not request.model.startswith(f"{served_name}-"):
            raise OpenAIError(404, f"model {request.model!r} is not served here", "model_not_found", "model")
        dialect = request.dialect or (
            request.model.removeprefix(f"{served_name}-") if request.model != served_name else None
        )
        if dialect is not None and dialect not in generator.dialects:
            raise OpenAIError(
                400, f"unknown dialect {dialect!r}; served: {generator.dialects}", "unknown_dialect", "dialect"
            )
        return dialect

    @app.get("/v1/models")
    def list_models() -> ModelList:
        names = [served_name] + [f"{served_name}-{dialect}" for dialect in generator.dialects]
        return ModelList(data=[ModelCard(id=name, created=started) for name in names])

    @app.post("/v1/chat/completions")
    def chat_completions(request: ChatCompletionRequest) -> ChatCompletion:
        if request.stream:
            raise OpenAIError(400, "streaming is not supported", "unsupported", "stream")
        if request.n != 1:
            raise OpenAIError(400, "only n=1 is supported", "unsupported", "n")
        dialect = resolve_dialect(request)
        stop = [request.stop] if isinstance(request.stop, str) else (request.stop or [])
        completion = generator.generate(
            [[{"role": message.role, "content": message.text()} for message in request.messages]],
            [dialect],
            max_new_tokens=request.max_completion_tokens or request.max_tokens or default_max_tokens,
            temperature=request.temperature,
            top_p=request.top_p,
            stop=stop,
        )[0]
        return ChatCompletion(
            id=f"chatcmpl-{uuid.uuid4().hex}",
            created=int(time.time()),
            model=request.model,
            choices=[
                Choice(
                    index=0, message=ResponseMessage(content=completion.text), finish_reason=completion.finish_reason
                )
            ],
            usage=Usage(
                prompt_tokens=completion.prompt_tokens,
                completion_tokens=completion.completion_tokens,
                total_tokens=completion.prompt_tokens + completion.completion_tokens,
            ),
        )

    return app


def serve(generator: MoMQGenerator, host: str = "127.0.0.1", port: int = 8001, served_name: str = "momq") -> None:
    uvicorn.run(create_app(generator, served_name), host=host, port=port)
