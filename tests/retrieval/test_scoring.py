from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from schemakg.retrieval.column_docs import ColumnDoc, column_text, humanise
from schemakg.retrieval.encoder import (
    DualTowerEncoder,
    TokenVectors,
    late_interaction,
    normalise,
)


def test_max_sim_matches_hand_computation() -> None:
    # question: 2 scoring tokens + 1 masked; columns: A has 2 tokens (+1 pad), B has 1 token.
    q = TokenVectors(torch.tensor([[[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]]]), torch.tensor([[True, True, False]]))
    c = TokenVectors(
        torch.tensor([[[0.6, 0.8], [1.0, 0.0], [0.0, 1.0]], [[0.8, 0.6], [0.0, 0.0], [0.0, 0.0]]]),
        torch.tensor([[True, True, False], [True, False, False]]),
    )
    raw = late_interaction(q, c)
    # A: q0 -> max(0.6, 1.0) = 1.0; q1 -> max(0.8, 0.0) = 0.8 (the padded [0,1] must not count) => 1.8
    # B: q0 -> 0.8; q1 -> 0.6 => 1.4
    assert raw[0].tolist() == pytest.approx([1.8, 1.4])
    assert normalise(raw, q.mask)[0].tolist() == pytest.approx([0.9, 0.7])


def test_column_text_puts_names_first() -> None:
    doc = ColumnDoc(
        db_id="d",
        table="HomeTeam",
        column="num_sales",
        description="units sold",
        examples=("1", "2"),
        value_explanation="in millions",
    )
    assert humanise("HomeTeam") == "home team"
    assert column_text(doc) == "home team . num sales ; units sold ; values: 1, 2 ; in millions"


def test_identity_cnn_leaves_token_vectors_unchanged(encoder: DualTowerEncoder) -> None:
    texts = ["How many singers are from France?", "oldest singer"]
    batch = encoder.tokenizer(texts, padding=True, return_tensors="pt")
    with torch.no_grad():
        states = encoder.question.bert(**batch).last_hidden_state
        out = encoder.question_vectors(texts)
    real = batch["attention_mask"].bool()
    assert torch.allclose(out.vectors[real], F.normalize(states, dim=-1)[real], atol=1e-5)
    # [CLS]/[SEP]/padding do not score
    assert out.mask.sum(dim=1).tolist() == [n - 2 for n in batch["attention_mask"].sum(dim=1).tolist()]


def test_padding_does_not_change_vectors(encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]) -> None:
    with torch.no_grad():
        alone = encoder.column_vectors(singer_docs[2:3])
        padded = encoder.column_vectors(singer_docs)
    n = alone.vectors.shape[1]
    assert torch.allclose(padded.vectors[2, :n], alone.vectors[0], atol=1e-5)
    assert not padded.mask[2, n:].any()
