"""The MoMQ fixtures (a tiny tokenizer and a two-layer Qwen2), shared with the other MoMQ test folder."""

from tests.momq_fixtures import (
    _single_thread,
    make_base,
    saved_momq,
    tiny_config,
    tiny_tokenizer,
    toy_data_dir,
    toy_pairs,
)

__all__ = ["_single_thread", "make_base", "saved_momq", "tiny_config", "tiny_tokenizer", "toy_data_dir", "toy_pairs"]
