"""A chat model double for tests of parsing and of what the pipeline does with a reply: it answers every
chat with one canned text and records what the port handed it."""

from __future__ import annotations

from typing import Any

from schemakg.generation.llm.base import ChatMessage, ChatModel, ChatResult


def sql_reply(sql: str) -> str:
    """The reply of a model that writes ``sql`` in the format the generator asks for."""
    return f"Final SQL:\n```sql\n{sql}\n```"


class CannedModel(ChatModel):
    def __init__(self, text: str, finish_reason: str = "stop") -> None:
        super().__init__()
        self.text, self.finish_reason = text, finish_reason
        self.calls: list[dict[str, Any]] = []

    @property
    def model_name(self) -> str:
        return "canned"

    @property
    def prompts(self) -> list[str]:
        """The last message of every chat so far."""
        return [call["messages"][-1].content for call in self.calls]

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
        self.calls.append(
            {
                "messages": messages,
                "json_schema": json_schema,
                "max_tokens": max_tokens,
                "temperature": temperature,
                "seed": seed,
            }
        )
        return ChatResult(
            text=self.text,
            model="canned",
            prompt_tokens=1,
            completion_tokens=1,
            latency_s=0.001,
            finish_reason=self.finish_reason,
        )

    def close(self) -> None:
        pass
