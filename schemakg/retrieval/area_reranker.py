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

from collections.abc import Sequence
from pathlib import Path

import torch
from peft import PeftModel, get_peft_model
from pydantic import BaseModel
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from transformers import AutoTokenizer, BertModel, PreTrainedTokenizerBase

from schemakg.retrieval.encoder import (
    AdapterConfig,
    adapter_weights,
    base_model_dir,
    load_adapter_weights,
    quiet_loading,
)

SHIPPED_DIR = Path(__file__).parent / "shipped_reranker"
WEIGHTS_FILE = "reranker.safetensors"


class RerankerConfig(BaseModel):
    """Input limits and adapter shape; stored with the weights."""

    max_length: int = 128  # question + area text, in word pieces
    max_columns: int = 24  # an area's best columns shown (its tables in the order of their best column)
    adapter: AdapterConfig = AdapterConfig()


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
        with quiet_loading():
            load_adapter_weights(model.bert, model.head, "head", load_file(directory / WEIGHTS_FILE), "the reranker")
            assert isinstance(model.bert, PeftModel)
            model.bert = model.bert.merge_and_unload()
        return model.eval()

    def save(self, directory: Path) -> None:
        """The adapter and head in float16, and the config: everything but the base model."""
        if not isinstance(self.bert, PeftModel):
            raise ValueError("a merged reranker no longer holds its adapter apart from BERT; save before loading")
        directory.mkdir(parents=True, exist_ok=True)
        state = adapter_weights(self.bert, self.head, "head")
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
