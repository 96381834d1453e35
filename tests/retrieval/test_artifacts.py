from __future__ import annotations

from pathlib import Path

import torch

from schemakg.retrieval.artifacts import (
    ZERO_SHOT_VERSION,
    RetrieverModel,
    activate,
    active_version,
    load_model,
    save_artefact,
)
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.encoder import DualTowerEncoder, late_interaction, normalise
from schemakg.retrieval.selection import SelectionPolicy


def _scores(encoder: DualTowerEncoder, docs: list[ColumnDoc]) -> torch.Tensor:
    q = encoder.encode_questions(["Show the names of singers from France", "What is the stadium capacity?"])
    return normalise(late_interaction(q, encoder.encode_columns(docs)), q.mask)


def test_save_load_round_trip_and_activation(
    tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]
) -> None:
    assert active_version(tmp_path) is None
    original = encoder.column.cnn.weight.detach().clone()
    try:
        with torch.no_grad():  # a non-identity CNN, so the round trip proves the CNN is stored too
            encoder.column.cnn.weight.add_(torch.randn_like(original) * 0.01)
        expected = _scores(encoder, singer_docs)
        model = RetrieverModel(
            version="v-test", encoder=encoder, selection=SelectionPolicy(threshold=0.42, max_columns=7)
        )
        save_artefact(tmp_path / "models" / "retriever" / "v-test", model, {"seed": 1}, {"ok": True}, [{"step": 0}])
        activate("v-test", tmp_path)
        loaded = load_model(root=tmp_path)
    finally:
        with torch.no_grad():
            encoder.column.cnn.weight.copy_(original)
    assert loaded.version == "v-test"
    assert loaded.selection.threshold == 0.42 and loaded.selection.max_columns == 7
    assert torch.equal(_scores(loaded.encoder, singer_docs), expected)


def test_loader_falls_back_to_zero_shot(tmp_path: Path) -> None:
    (tmp_path / "models" / "retriever").mkdir(parents=True)
    (tmp_path / "models" / "retriever" / "activations.json").write_text('[{"version": "gone", "activated_at": "x"}]')
    assert active_version(tmp_path) is None
    assert load_model(root=tmp_path).version == ZERO_SHOT_VERSION
