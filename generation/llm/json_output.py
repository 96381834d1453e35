"""JSON out of a model's reply, however the model wrapped it.

Small models asked for JSON still add prose ("Here is the JSON: ..."), markdown fences, trailing
commas or Python-style single quotes. ``extract_json`` returns the first top-level object or array
that parses, strictly first and then after repairing the trailing commas and the single-quoted
strings that sit where a JSON string may start (so an apostrophe inside a double-quoted string,
or in prose, is never touched). Replies cut off mid-value get an error that says so.
"""

from __future__ import annotations

import json
import re
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from generation.llm.base import LLMError

T = TypeVar("T", bound=BaseModel)

_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)
_UNESCAPED_DOUBLE_QUOTE = re.compile(r'(?<!\\)"')
_CLOSERS = {"{": "}", "[": "]"}
_VALUE_STARTS_AFTER = "{[:,"  # a single quote right after one of these opens a string
_EXCERPT_CHARS = 120


class JSONOutputError(LLMError):
    """The reply holds no parseable JSON object or array (or it does not fit the expected model)."""


def extract_json(text: str) -> dict[str, Any] | list[Any]:
    """The first top-level JSON object or array in ``text``: fenced blocks first, then the whole reply."""
    candidates = [match.group(1) for match in _FENCE.finditer(text)] + [text]
    unclosed = False
    for candidate in candidates:
        start = _next_opening(candidate, 0)
        while start is not None:
            end = _matching_close(candidate, start)
            if end is None:
                unclosed = True
                start = _next_opening(candidate, start + 1)
                continue
            value = _parse(candidate[start : end + 1])
            if value is not None:
                return value
            start = _next_opening(candidate, end + 1)  # past the whole span: nested values are not top-level
    excerpt = text.strip()[:_EXCERPT_CHARS]
    if unclosed:
        raise JSONOutputError(f"the reply's JSON never closes (cut off at max_tokens?): {excerpt!r}")
    raise JSONOutputError(f"no JSON object or array in the reply: {excerpt!r}")


def extract_json_as(text: str, model: type[T]) -> T:
    """``extract_json`` validated into ``model``."""
    value = extract_json(text)
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, error['loc'])) or '<root>'}: {error['msg']}" for error in exc.errors()
        )
        raise JSONOutputError(f"the reply's JSON is not a valid {model.__name__}: {problems}") from exc


def _next_opening(text: str, start: int) -> int | None:
    positions = [position for position in (text.find("{", start), text.find("[", start)) if position >= 0]
    return min(positions, default=None)


def _parse(span: str) -> dict[str, Any] | list[Any] | None:
    for attempt in (span, _repair(span)):
        try:
            value = json.loads(attempt)
        except json.JSONDecodeError:
            continue
        return value  # a balanced {...} or [...] span can only decode to an object or an array
    return None


def _quote_opens_string(text: str, index: int) -> bool:
    """A single quote opens a string only where a JSON value or key may start; elsewhere it is an apostrophe."""
    index -= 1
    while index >= 0 and text[index].isspace():
        index -= 1
    return index >= 0 and text[index] in _VALUE_STARTS_AFTER


def _string_end(text: str, start: int) -> int | None:
    """Index of the quote closing the string opened at ``start`` (backslash escapes honoured)."""
    quote, index = text[start], start + 1
    while index < len(text):
        if text[index] == "\\":
            index += 2
            continue
        if text[index] == quote:
            return index
        index += 1
    return None


def _matching_close(text: str, start: int) -> int | None:
    """Index of the bracket closing the one at ``start``, skipping brackets inside strings."""
    stack, index = [_CLOSERS[text[start]]], start + 1
    while index < len(text):
        char = text[index]
        if char == '"' or (char == "'" and _quote_opens_string(text, index)):
            end = _string_end(text, index)
            if end is None:
                return None
            index = end
        elif char in _CLOSERS:
            stack.append(_CLOSERS[char])
        elif char in "}]":
            if char != stack.pop():
                return None
            if not stack:
                return index
        index += 1
    return None


def _repair(span: str) -> str:
    """Single-quoted strings in string positions become double-quoted; trailing commas go."""
    out, index = [], 0
    while index < len(span):
        char = span[index]
        if char == '"':
            end = _string_end(span, index)
            if end is None:
                return span
            out.append(span[index : end + 1])
            index = end + 1
            continue
        if char == "'" and _quote_opens_string(span, index):
            end = _string_end(span, index)
            if end is None:
                return span
            body = _UNESCAPED_DOUBLE_QUOTE.sub('\\"', span[index + 1 : end].replace("\\'", "'"))
            out.append(f'"{body}"')
            index = end + 1
            continue
        if char == "," and span[index + 1 :].lstrip()[:1] in ("}", "]"):
            index += 1
            continue
        out.append(char)
        index += 1
    return "".join(out)
