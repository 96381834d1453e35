"""A structured reply parsed into the pydantic model it was asked for.

Backends constrain decoding to the model's JSON schema where they can (llama.cpp's grammar,
OpenAI-style structured outputs), so the reply is the JSON itself. For servers that ignore
``response_format`` and answer by instruction alone, two common wrappings are unwrapped: the first
markdown-fenced block, and prose around one object (first ``{`` to last ``}``). Nothing is repaired.
"""

from __future__ import annotations

import re
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from schemakg.generation.llm.base import StructuredOutputError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_EXCERPT_CHARS = 120
_SHOWN_PROBLEMS = 3


def parse_reply(text: str, output: type[T], finish_reason: str | None = None) -> T:
    """``text`` validated into ``output``: the whole reply, else its first fenced block, else ``{`` … ``}``."""
    reply = text.strip()
    errors: list[ValidationError] = []
    for candidate in _candidates(reply):
        try:
            return output.model_validate_json(candidate)
        except ValidationError as exc:
            errors.append(exc)
    raise StructuredOutputError(_diagnosis(reply, output, finish_reason, errors))


def _candidates(reply: str) -> list[str]:
    candidates = [reply]
    fenced = _FENCE.search(reply)
    if fenced:
        candidates.append(fenced.group(1).strip())
    opening = reply.find("{")
    if opening >= 0:
        closing = reply.rfind("}")
        # With no closing brace the span runs to the end: it never parses, but its error tells a cut-off reply.
        candidates.append(reply[opening : closing + 1] if closing > opening else reply[opening:])
    return list(dict.fromkeys(candidates))  # each once, in order


def _diagnosis(reply: str, output: type[BaseModel], finish_reason: str | None, errors: list[ValidationError]) -> str:
    cut_off = finish_reason == "length"
    misfit = next((exc for exc in errors if not _is_json_error(exc)), None)
    if not reply:
        problem = "the reply is empty"
    elif misfit is not None:
        problems = [f"{'.'.join(map(str, error['loc'])) or '<root>'}: {error['msg']}" for error in misfit.errors()]
        more = f"; {len(problems) - _SHOWN_PROBLEMS} more" if len(problems) > _SHOWN_PROBLEMS else ""
        problem = f"the reply's JSON is not a valid {output.__name__} ({'; '.join(problems[:_SHOWN_PROBLEMS])}{more})"
    elif any("EOF while parsing" in error["msg"] for exc in errors for error in exc.errors()):
        problem, cut_off = "the reply's JSON never closes", True
    else:
        problem = f"the reply is not JSON ({errors[0].errors()[0]['msg']})"
    hint = " (cut off at max_tokens?)" if cut_off else ""
    return f"{problem}{hint}: {reply[:_EXCERPT_CHARS]!r}"


def _is_json_error(exc: ValidationError) -> bool:
    return any(error["type"] == "json_invalid" for error in exc.errors())
