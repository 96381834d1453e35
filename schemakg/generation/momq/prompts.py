"""Prompt rendering and tokenisation shared by data building, training, evaluation and serving,
so the model sees at serving time exactly the text layout it was trained on."""

from __future__ import annotations

from pydantic import BaseModel
from transformers import PreTrainedTokenizerBase

from schemakg.generation import prompts as templates

DIALECT_NAMES: dict[str, str] = {
    "mysql": "MySQL",
    "postgresql": "PostgreSQL",
    "sqlite": "SQLite",
    "cypher": "Cypher",
    "ngql": "nGQL",
}


def render_prompt(dialect: str, schema: str, question: str, evidence: str | None = None) -> str:
    """The instruction for one question; the first line is the dialect tag."""
    return templates.render_prompt(
        "momq_prompt.j2",
        dialect_name=DIALECT_NAMES.get(dialect, dialect),
        schema=schema,
        question=question,
        evidence=evidence or "",
    )


def ensure_chat_template(tokenizer: PreTrainedTokenizerBase) -> None:
    """Give tokenizers without a chat template (base models, test tokenizers) a plain one."""
    if tokenizer.eos_token_id is None:
        raise ValueError("the tokenizer has no EOS token; MoMQ needs one to end answers")
    if not tokenizer.chat_template:
        tokenizer.chat_template = templates.template_source("momq_chat_fallback.j2")
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token


class EncodedExample(BaseModel):
    input_ids: list[int]
    labels: list[int]  # -100 on the prompt: the LM loss covers the answer only


def encode_chat_prompt(tokenizer: PreTrainedTokenizerBase, messages: list[dict[str, str]]) -> list[int]:
    """Token ids of a conversation up to the start of the assistant's reply."""
    text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return tokenizer(text, add_special_tokens=False)["input_ids"]


def encode_example(tokenizer: PreTrainedTokenizerBase, prompt: str, query: str) -> EncodedExample:
    """Prompt as a user turn, query as the assistant turn, ended by the tokenizer's EOS."""
    messages = [{"role": "user", "content": prompt}]
    prompt_text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    full_text = tokenizer.apply_chat_template([*messages, {"role": "assistant", "content": query}], tokenize=False)
    assert isinstance(prompt_text, str) and isinstance(full_text, str)  # tokenize=False renders text
    if not full_text.startswith(prompt_text):
        raise ValueError("chat template does not extend the prompt with the reply; cannot mask the prompt")
    prompt_ids = tokenizer(prompt_text, add_special_tokens=False)["input_ids"]
    answer_ids = tokenizer(full_text[len(prompt_text) :], add_special_tokens=False)["input_ids"]
    if tokenizer.eos_token_id not in answer_ids:
        answer_ids.append(tokenizer.eos_token_id)
    return EncodedExample(input_ids=prompt_ids + answer_ids, labels=[-100] * len(prompt_ids) + answer_ids)


def extract_query(completion: str) -> str:
    """The query out of a reply that may wrap it in a markdown code fence."""
    text = completion.strip()
    if "```" in text:
        fenced = text.split("```")[1]
        first_line, _, rest = fenced.partition("\n")
        text = rest if first_line.strip().isalpha() else fenced
    return text.strip()
