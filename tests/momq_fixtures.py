"""Tiny, offline building blocks for the MoMQ tests: a word-level tokenizer trained here and a
randomly initialised two-layer Qwen2, so every test runs in well under a second on a CPU."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import NamedTuple

import pytest
import torch
from tokenizers import Tokenizer, models, pre_tokenizers
from transformers import PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

from schemakg.generation.momq.config import MoMQConfig
from schemakg.generation.momq.model import MoMQModel
from schemakg.generation.momq.prompts import ensure_chat_template
from schemakg.offline.momq.data import MoMQExample

TOY_PAIRS: list[tuple[str, str, str]] = [
    ("mysql", "[MySQL] how many singers are there", "SELECT count ( * ) FROM singer"),
    ("mysql", "[MySQL] list the names of singers", "SELECT name FROM singer"),
    ("mysql", "[MySQL] how many concerts are there", "SELECT count ( * ) FROM concert"),
    ("mysql", "[MySQL] list the names of stadiums", "SELECT name FROM stadium"),
    ("cypher", "[Cypher] how many singers are there", "MATCH ( s : Singer ) RETURN count ( s )"),
    ("cypher", "[Cypher] list the names of singers", "MATCH ( s : Singer ) RETURN s . name"),
    ("cypher", "[Cypher] how many concerts are there", "MATCH ( c : Concert ) RETURN count ( c )"),
    ("cypher", "[Cypher] list the names of stadiums", "MATCH ( s : Stadium ) RETURN s . name"),
]
EXTRA_WORDS = "### user assistant system Write one query that answers the question over schema below Reply with only"
SPECIALS = ["[PAD]", "[EOS]", "[UNK]"]


@pytest.fixture(autouse=True)
def _single_thread() -> Iterator[None]:
    """The machine's two cores are shared: keep torch to one thread, deterministically seeded."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    torch.manual_seed(0)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_tokenizer() -> PreTrainedTokenizerFast:
    splitter = pre_tokenizers.Whitespace()
    corpus = [text for _, prompt, query in TOY_PAIRS for text in (prompt, query)] + [EXTRA_WORDS]
    words = sorted({piece for line in corpus for piece, _ in splitter.pre_tokenize_str(line)})
    backend = Tokenizer(
        models.WordLevel({token: index for index, token in enumerate(SPECIALS + words)}, unk_token="[UNK]")
    )
    backend.pre_tokenizer = splitter
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=backend, pad_token="[PAD]", eos_token="[EOS]", unk_token="[UNK]"
    )
    ensure_chat_template(tokenizer)
    return tokenizer


@pytest.fixture
def make_base(tiny_tokenizer: PreTrainedTokenizerFast) -> Callable[[int], Qwen2ForCausalLM]:
    """A fresh random tiny Qwen2 for a seed (same seed, same weights)."""

    def build(seed: int = 0) -> Qwen2ForCausalLM:
        # initializer_range 0.2 (not 0.02): a frozen 64-wide random LM head needs large weights
        # for logits that can tell tokens apart at all, else no adapter can fit the toy task.
        torch.manual_seed(seed)
        config = Qwen2Config(
            vocab_size=max(64, len(tiny_tokenizer)),
            hidden_size=64,
            intermediate_size=128,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            max_position_embeddings=256,
            tie_word_embeddings=False,
            initializer_range=0.2,
            pad_token_id=tiny_tokenizer.pad_token_id,
            eos_token_id=tiny_tokenizer.eos_token_id,
        )
        return Qwen2ForCausalLM(config).eval()

    return build


@pytest.fixture
def toy_pairs() -> list[tuple[str, str, str]]:
    """(dialect, prompt, query) rows of a two-dialect toy task."""
    return list(TOY_PAIRS)


@pytest.fixture
def tiny_config() -> MoMQConfig:
    return MoMQConfig(
        dialects=["mysql", "cypher"],
        experts_per_dialect=4,
        shared_experts=2,
        top_k=2,
        lora_rank=4,
        lora_alpha=8.0,
        lora_dropout=0.0,
    )


class SavedMoMQ(NamedTuple):
    base_dir: Path
    adapter_dir: Path


@pytest.fixture
def saved_momq(
    make_base: Callable[[int], Qwen2ForCausalLM],
    tiny_tokenizer: PreTrainedTokenizerFast,
    tiny_config: MoMQConfig,
    tmp_path: Path,
) -> SavedMoMQ:
    """A base model + tokenizer directory and a (randomised, so non-trivial) adapter on disk."""
    base_dir, adapter_dir = tmp_path / "base", tmp_path / "adapter"
    base = make_base(0)
    base.save_pretrained(base_dir)
    tiny_tokenizer.save_pretrained(base_dir)
    model = MoMQModel(base, tiny_config)
    with torch.no_grad():
        for parameter in model.trainable_state_dict().values():
            parameter.add_(torch.randn_like(parameter) * 0.05)
    model.save_adapter(adapter_dir)
    return SavedMoMQ(base_dir, adapter_dir)


@pytest.fixture
def toy_data_dir(toy_pairs: list[tuple[str, str, str]], tmp_path: Path) -> Path:
    """A `momq data`-shaped directory holding the toy pairs in every split."""
    directory = tmp_path / "data"
    directory.mkdir()
    rows = [
        MoMQExample(
            id=f"{dialect}/toy/{index}",
            dialect=dialect,
            source="toy",
            db_id="toy",
            question=prompt,
            prompt=prompt,
            query=query,
        )
        for index, (dialect, prompt, query) in enumerate(toy_pairs)
    ]
    for split in ("train", "validation", "test"):
        (directory / f"{split}.jsonl").write_text("".join(row.model_dump_json() + "\n" for row in rows))
    return directory
