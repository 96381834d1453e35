"""Batched generation with a trained MoMQ model, shared by evaluation and the server."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import torch
from pydantic import BaseModel
from transformers import PreTrainedTokenizerBase

from schemakg.generation.momq.base import load_base_model, load_tokenizer, resolve_device
from schemakg.generation.momq.model import MoMQModel
from schemakg.generation.momq.prompts import encode_chat_prompt


class Completion(BaseModel):
    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (EOS or a stop string) or "length"


class MoMQGenerator:
    """A MoMQ model and its tokenizer, ready to answer chat conversations (thread-safe)."""

    def __init__(self, model: MoMQModel, tokenizer: PreTrainedTokenizerBase) -> None:
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.device = next(model.parameters()).device
        self._lock = threading.Lock()

    @classmethod
    def load(cls, base_model: Path, adapter: Path, device: str = "auto", dtype: str = "auto") -> MoMQGenerator:
        """Base weights plus a saved adapter; ``auto`` dtype is bf16 on CUDA, fp32 on the CPU."""
        target = resolve_device(device)
        if dtype == "auto":
            dtype = "bfloat16" if target.type == "cuda" else "float32"
        base = load_base_model(base_model, target)
        model = MoMQModel.from_adapter(base, adapter).to(target, getattr(torch, dtype))
        return cls(model, load_tokenizer(base_model))

    @property
    def dialects(self) -> list[str]:
        return list(self.model.config.dialects)

    def generate(
        self,
        conversations: Sequence[list[dict[str, str]]],
        dialects: Sequence[str | None],
        max_new_tokens: int = 256,
        temperature: float = 0.0,
        top_p: float = 1.0,
        stop: Sequence[str] = (),
    ) -> list[Completion]:
        """One completion per conversation; a named dialect forces its expert group, None lets the router choose."""
        prompts = [encode_chat_prompt(self.tokenizer, messages) for messages in conversations]
        width = max(len(ids) for ids in prompts)
        pad = self.tokenizer.pad_token_id
        # Left padding keeps every prompt's last token at the end, where generation continues.
        input_ids = torch.tensor([[pad] * (width - len(ids)) + ids for ids in prompts], device=self.device)
        attention_mask = torch.tensor(
            [[0] * (width - len(ids)) + [1] * len(ids) for ids in prompts], device=self.device
        )
        # Decode exactly as asked: a checkpoint's chat defaults (top_k, repetition penalty) would skew greedy eval.
        sampling = (
            {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0}
            if temperature > 0
            else {"do_sample": False}
        )
        with self._lock:
            output = self.model.generate(
                input_ids,
                attention_mask,
                forced_groups=self.model.group_indices(dialects, self.device),
                max_new_tokens=max_new_tokens,
                pad_token_id=pad,
                eos_token_id=self.tokenizer.eos_token_id,
                repetition_penalty=1.0,
                **sampling,
            )
        return [
            self._completion(row[width:].tolist(), len(ids), max_new_tokens, stop)
            for row, ids in zip(output, prompts, strict=True)
        ]

    def _completion(
        self, new_ids: list[int], prompt_tokens: int, max_new_tokens: int, stop: Sequence[str]
    ) -> Completion:
        eos = self.tokenizer.eos_token_id
        ended = eos in new_ids
        if ended:
            new_ids = new_ids[: new_ids.index(eos)]
        text = self.tokenizer.decode(new_ids, skip_special_tokens=True)
        for marker in stop:
            if marker and marker in text:
                text, ended = text[: text.index(marker)], True
        finish = "stop" if ended or len(new_ids) < max_new_tokens else "length"
        return Completion(text=text, prompt_tokens=prompt_tokens, completion_tokens=len(new_ids), finish_reason=finish)
