"""A second look at the few subject areas (or databases) that best cover a question: a cross-encoder.

The column retriever scores each column alone, and an area's coverage only adds those scores up; the
misses are among same-topic areas (``allergy_1``'s Student against ``dorm_1``'s, one sports database
against another). A cross-encoder reads the question and one area's best-matching tables and columns
together, so it can weigh what the question asks against what the area holds. It is all-MiniLM-L6-v2
(the packaged wheel) with LoRA adapters and a one-logit head, trained on the training databases
(``schemakg retriever train-reranker``); it reranks only the top few areas by coverage, which keeps it to one
small batch per question.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from pathlib import Path

import torch
from peft import PeftModel, get_peft_model, get_peft_model_state_dict, set_peft_model_state_dict
from pydantic import BaseModel
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from transformers import AutoTokenizer, BertModel, PreTrainedTokenizerBase

from schemakg.kernel.model import split_column_ref
from schemakg.retrieval.column_docs import humanise
from schemakg.retrieval.encoder import AdapterConfig, base_model_dir, quiet_loading
from schemakg.retrieval.index import ColumnScores
from schemakg.retrieval.join_paths import namespace

SHIPPED_DIR = Path(__file__).parent / "shipped_reranker"
WEIGHTS_FILE = "reranker.safetensors"
# An area's final score is the reranker's logit plus this many times its coverage. Alone the reranker ranks
# the right area first less often than coverage does (0.66 against 0.72 on 600 validation-warehouse
# questions); together they do best (0.73; docs/evaluation.md, the area reranker).
COVERAGE_WEIGHT = 50.0


def combined(logits: Sequence[float], coverage: Sequence[float]) -> list[float]:
    """The areas' final scores: :data:`COVERAGE_WEIGHT` × coverage + the reranker's logit."""
    return [logit + COVERAGE_WEIGHT * cover for logit, cover in zip(logits, coverage, strict=True)]


class RerankerConfig(BaseModel):
    """Input limits and adapter shape; stored with the weights."""

    max_length: int = 128  # question + area text, in word pieces
    max_columns: int = 24  # an area's best columns shown (its tables in the order of their best column)
    adapter: AdapterConfig = AdapterConfig()


def area_text(name: str | None, columns: Sequence[tuple[str, str]], max_columns: int = 24) -> str:
    """``name | table: column, column ; table: column``, from ``(table, column)`` pairs best first. Tables
    keep the order of their best column, so what truncation cuts is what matched the question least."""
    by_table: dict[str, list[str]] = {}
    for table, column in columns[:max_columns]:
        by_table.setdefault(table, []).append(humanise(column))
    body = " ; ".join(f"{humanise(t)}: {', '.join(cs)}" for t, cs in by_table.items())
    return f"{humanise(name)} | {body}" if name else body


def area_texts(
    scores: ColumnScores, areas: Mapping[str, int], wanted: Collection[int], max_columns: int
) -> dict[int, str]:
    """:func:`area_text` of each ``wanted`` area of one large schema (``areas``: each table's area), from the
    question's column ranking. An area is named by its namespace (``sales`` of ``sales__orders`` or
    ``sales.orders``), its tables by their names within it."""
    members: dict[int, list[tuple[str, str]]] = {area: [] for area in wanted}
    full = 0
    for position in scores.order():
        table, column = split_column_ref(scores.keys[position])
        found = members.get(areas.get(table, -1))
        if found is not None and len(found) < max_columns:
            found.append((table, column))
            full += len(found) == max_columns
            if full == len(members):
                break
    texts = {}
    for area, columns in members.items():
        space = namespace(columns[0][0]) if columns else None
        texts[area] = area_text(space, [(_local(t, space), c) for t, c in columns], max_columns)
    return texts


def _local(table: str, space: str | None) -> str:
    """A table's name within its namespace: ``sales__orders`` and ``sales.orders`` are ``orders`` in ``sales``."""
    for separator in (".", "__"):
        if space is not None and table.lower().startswith(f"{space}{separator}"):
            return table[len(space) + len(separator) :]
    return table


class AreaReranker(nn.Module):
    """MiniLM over ``[CLS] question [SEP] area text [SEP]``; the [CLS] state's logit says how well the area
    answers the question (only its order among one question's candidates is meaningful)."""

    def __init__(self, bert: BertModel | PeftModel, tokenizer: PreTrainedTokenizerBase, config: RerankerConfig) -> None:
        super().__init__()
        self.bert = bert
        self.head = nn.Linear(bert.config.hidden_size, 1)
        self.tokenizer = tokenizer
        self.config = config

    @classmethod
    def from_base(cls, config: RerankerConfig | None = None, base_dir: Path | None = None) -> AreaReranker:
        """The untrained model with trainable adapters (training starts here)."""
        config = config or RerankerConfig()
        base_dir = base_dir or base_model_dir()
        with quiet_loading():
            bert = get_peft_model(BertModel.from_pretrained(base_dir, add_pooling_layer=False), config.adapter.lora())
        return cls(bert, AutoTokenizer.from_pretrained(base_dir), config)

    @classmethod
    def load(cls, directory: Path = SHIPPED_DIR, base_dir: Path | None = None) -> AreaReranker:
        """Trained weights written by :meth:`save`, merged into the base model for inference."""
        config = RerankerConfig.model_validate_json((directory / "config.json").read_text())
        model = cls.from_base(config, base_dir)
        state = {k: v.float() for k, v in load_file(directory / WEIGHTS_FILE).items()}
        lora = {k.removeprefix("lora."): v for k, v in state.items() if k.startswith("lora.")}
        with quiet_loading():
            unexpected = set_peft_model_state_dict(model.bert, lora).unexpected_keys  # type: ignore[attr-defined]
            if unexpected:
                raise ValueError(f"reranker weights do not fit the model: {unexpected[:3]}")
            model.head.load_state_dict({k.removeprefix("head."): v for k, v in state.items() if k.startswith("head.")})
            assert isinstance(model.bert, PeftModel)
            model.bert = model.bert.merge_and_unload()
        return model.eval()

    def save(self, directory: Path) -> None:
        """The adapter and head in float16, and the config: everything but the base model."""
        if not isinstance(self.bert, PeftModel):
            raise ValueError("a merged reranker no longer holds its adapter apart from BERT; save before loading")
        directory.mkdir(parents=True, exist_ok=True)
        state = {f"lora.{k}": v for k, v in get_peft_model_state_dict(self.bert).items()}
        state |= {f"head.{k}": v for k, v in self.head.state_dict().items()}
        save_file({k: v.detach().to(torch.float16).contiguous() for k, v in state.items()}, directory / WEIGHTS_FILE)
        (directory / "config.json").write_text(self.config.model_dump_json(indent=2))

    def logits(self, questions: Sequence[str], texts: Sequence[str]) -> Tensor:
        """One logit per (question, area text) pair, keeping the autograd graph (training)."""
        batch = self.tokenizer(
            list(questions),
            list(texts),
            padding=True,
            truncation="longest_first",
            max_length=self.config.max_length,
            return_tensors="pt",
        )
        states = self.bert(input_ids=batch["input_ids"], attention_mask=batch["attention_mask"]).last_hidden_state
        return self.head(states[:, 0]).squeeze(-1)

    @torch.inference_mode()
    def score(self, question: str, texts: Sequence[str]) -> list[float]:
        """Each area text's logit for ``question``, in order."""
        if not texts:
            return []
        return [float(x) for x in self.logits([question] * len(texts), texts)]
