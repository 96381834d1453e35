"""Structured replies: strict parsing into the requested model, two unwrappings, and errors that say what went wrong."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from schemakg.generation.answer import EvidenceReply
from schemakg.generation.llm.base import (
    JSON_INSTRUCTION,
    ChatMessage,
    LLMError,
    StructuredOutputError,
)
from schemakg.generation.llm.structured import parse_reply
from tests.canned_llm import CannedModel

REF = '{"table": "singer", "column": "country"}'


class ColumnRef(BaseModel):
    table: str
    column: str


EXPECTED = ColumnRef(table="singer", column="country")


def test_the_whole_reply_is_parsed_strictly() -> None:
    assert parse_reply(f"\n  {REF}\n", ColumnRef) == EXPECTED
    assert parse_reply('{"table": "a}b", "column": "{c}"}', ColumnRef) == ColumnRef(table="a}b", column="{c}")


def test_the_first_fenced_block_is_unwrapped() -> None:
    assert parse_reply(f"```json\n{REF}\n```", ColumnRef) == EXPECTED
    assert parse_reply(f"```\n{REF}\n```", ColumnRef) == EXPECTED
    assert parse_reply(f"Here you go:\n```json\n{REF}\n```\nAnything else?", ColumnRef) == EXPECTED


def test_prose_around_one_object_is_unwrapped() -> None:
    assert parse_reply(f"Here's the mapping you asked for: {REF}. Let me know!", ColumnRef) == EXPECTED


def test_only_the_first_fenced_block_counts() -> None:
    reply = f'```json\n{{"table": "singer"}}\n```\nOr rather:\n```json\n{REF}\n```'
    with pytest.raises(StructuredOutputError):
        parse_reply(reply, ColumnRef)


def test_two_objects_in_prose_are_not_picked_apart() -> None:
    with pytest.raises(StructuredOutputError, match="not JSON"):
        parse_reply(f"{REF} or maybe {REF}", ColumnRef)


@pytest.mark.parametrize(
    "reply",
    [
        '{"table": "singer", "column": "country",}',  # trailing comma
        "{'table': 'singer', 'column': 'country'}",  # single quotes
        '{table: "singer", column: "country"}',  # bare keys
    ],
)
def test_malformed_json_is_not_repaired(reply: str) -> None:
    with pytest.raises(StructuredOutputError, match=r"^the reply is not JSON \(Invalid JSON: "):
        parse_reply(reply, ColumnRef)


def test_a_misfit_names_the_model_and_the_field() -> None:
    with pytest.raises(StructuredOutputError, match=r"not a valid ColumnRef \(column: Field required\)") as caught:
        parse_reply('{"table": "singer"}', ColumnRef)
    assert not caught.value.transient and isinstance(caught.value, LLMError)
    assert "cut off" not in caught.value.message


def test_a_misfit_inside_a_fence_is_reported_as_a_misfit() -> None:
    with pytest.raises(StructuredOutputError, match=r"not a valid ColumnRef \(<root>: Input should be an object"):
        parse_reply("```json\n[1, 2]\n```", ColumnRef)


def test_many_misfits_are_summarised() -> None:
    class Wide(BaseModel):
        a: int
        b: int
        c: int
        d: int
        e: int

    with pytest.raises(StructuredOutputError, match=r"c: Field required; 2 more\)"):
        parse_reply("{}", Wide)


def test_a_reply_that_never_closes_says_it_may_be_cut_off() -> None:
    with pytest.raises(StructuredOutputError, match=r"never closes \(cut off at max_tokens\?\)"):
        parse_reply('```json\n{"table": "singer", "column": "coun', ColumnRef)
    with pytest.raises(StructuredOutputError, match=r"never closes \(cut off at max_tokens\?\)"):
        parse_reply('{"table": "singer", "column": "coun', ColumnRef)


def test_finish_reason_length_adds_the_hint() -> None:
    with pytest.raises(StructuredOutputError, match=r"not a valid ColumnRef .*\(cut off at max_tokens\?\)"):
        parse_reply('{"table": "singer"}', ColumnRef, finish_reason="length")
    with pytest.raises(StructuredOutputError) as caught:
        parse_reply("SELECT 1", ColumnRef, finish_reason="stop")
    assert "cut off" not in caught.value.message


def test_the_message_quotes_at_most_120_characters_of_the_reply() -> None:
    reply = "SELECT " + "x" * 200 + " END"
    with pytest.raises(StructuredOutputError) as caught:
        parse_reply(reply, ColumnRef)
    assert repr(reply[:120]) in caught.value.message
    assert repr(reply[:121]) not in caught.value.message and "END" not in caught.value.message


def test_an_empty_reply() -> None:
    with pytest.raises(StructuredOutputError, match="the reply is empty"):
        parse_reply("  \n", ColumnRef)


def test_evidence_reply_takes_odd_shapes() -> None:
    reply = parse_reply(
        '{"terms": [{"term": "France"}, 3], "mapping": ["France -> singer.country"], "evidence": "country is France"}',
        EvidenceReply,
    )
    assert reply.terms == ['{"term": "France"}', "3"]
    assert reply.mapping == [{"text": "France -> singer.country"}]
    assert reply.evidence == "country is France"
    odd = parse_reply('{"terms": "France", "mapping": null, "evidence": ["x"], "notes": "ignored"}', EvidenceReply)
    assert (odd.terms, odd.mapping, odd.evidence) == (["France"], [], "")


def test_evidence_reply_schema_keeps_the_declared_shapes() -> None:
    properties = EvidenceReply.model_json_schema()["properties"]
    assert properties["terms"]["items"] == {"type": "string"}
    assert properties["mapping"]["items"]["type"] == "object"
    assert properties["evidence"]["type"] == "string"


QUESTION = [ChatMessage(role="user", content="Which column holds a singer's country?")]


def test_chat_as_sends_the_schema_and_the_instruction_and_parses_the_reply() -> None:
    model = CannedModel(REF)
    assert model.chat_as(QUESTION, ColumnRef, max_tokens=32) == EXPECTED
    call = model.calls[-1]
    assert call["json_schema"] == ColumnRef.model_json_schema() and call["max_tokens"] == 32
    assert call["messages"][0] == ChatMessage(role="system", content=JSON_INSTRUCTION)
    assert model.usage.calls == 1


def test_plain_chat_sends_no_schema_and_no_instruction() -> None:
    model = CannedModel("SELECT 1")
    model.chat(QUESTION, max_tokens=8, temperature=0.0)
    assert model.calls[-1]["json_schema"] is None and model.calls[-1]["messages"] == QUESTION


def test_chat_as_reports_a_reply_cut_off_at_max_tokens() -> None:
    model = CannedModel('{"table": "singer", "col', finish_reason="length")
    with pytest.raises(StructuredOutputError, match=r"cut off at max_tokens\?") as caught:
        model.chat_as(QUESTION, ColumnRef, max_tokens=8)
    assert not caught.value.transient
