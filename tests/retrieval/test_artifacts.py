from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from retrieval import artifacts
from retrieval.artifacts import (
    ZERO_SHOT_VERSION,
    RetrieverModel,
    activate,
    active_version,
    bundle,
    bundled_version,
    load_model,
    save_artefact,
)
from retrieval.docs import ColumnDoc
from retrieval.encoder import DualTowerEncoder, late_interaction, normalise
from retrieval.selection import SelectionPolicy


def _scores(encoder: DualTowerEncoder, docs: list[ColumnDoc]) -> torch.Tensor:
    q = encoder.encode_questions(["Show the names of singers from France", "What is the stadium capacity?"])
    return normalise(late_interaction(q, encoder.encode_columns(docs)), q.mask)


def test_save_load_round_trip_and_activation(tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]) -> None:
    assert active_version(tmp_path) == bundled_version()
    original = encoder.column.cnn.weight.detach().clone()
    try:
        with torch.no_grad():  # a non-identity CNN, so the round trip proves the CNN is stored too
            encoder.column.cnn.weight.add_(torch.randn_like(original) * 0.01)
        expected = _scores(encoder, singer_docs)
        model = RetrieverModel(version="v-test", encoder=encoder, selection=SelectionPolicy(threshold=0.42, max_columns=7))
        save_artefact(tmp_path / "models" / "retriever" / "v-test", model, {"seed": 1}, {"ok": True}, [{"step": 0}])
        activate("v-test", tmp_path)
        loaded = load_model(root=tmp_path)
    finally:
        with torch.no_grad():
            encoder.column.cnn.weight.copy_(original)
    assert loaded.version == "v-test"
    assert loaded.selection.threshold == 0.42 and loaded.selection.max_columns == 7
    assert torch.equal(_scores(loaded.encoder, singer_docs), expected)


def test_delta_round_trip_stores_only_what_changed(tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc]) -> None:
    original = encoder.column.cnn.weight.detach().clone()
    try:
        with torch.no_grad():
            encoder.column.cnn.weight.add_(torch.randn_like(original) * 0.01)
        expected = _scores(encoder, singer_docs)
        encoder.save_delta(tmp_path)
    finally:
        with torch.no_grad():
            encoder.column.cnn.weight.copy_(original)
    assert set(load_file(tmp_path / "delta.safetensors")) == {"column.cnn.weight"}
    loaded = DualTowerEncoder.load_delta(tmp_path)
    assert torch.allclose(_scores(loaded, singer_docs), expected, atol=1e-4)  # float16 differences
    assert not torch.allclose(_scores(encoder, singer_docs), expected, atol=1e-4)


def test_loader_serves_the_bundled_model_then_zero_shot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "models" / "retriever").mkdir(parents=True)
    (tmp_path / "models" / "retriever" / "activations.json").write_text('[{"version": "gone", "activated_at": "x"}]')
    version = bundled_version()
    assert version is not None and active_version(tmp_path) == version
    model = load_model(root=tmp_path)
    stored = json.loads((artifacts.BUNDLED_DIR / version / "config.json").read_text())
    assert model.version == version and model.selection.threshold == stored["selection"]["threshold"]
    assert not torch.equal(model.encoder.question.cnn.weight, load_model(ZERO_SHOT_VERSION).encoder.question.cnn.weight)

    monkeypatch.setattr(artifacts, "BUNDLED_DIR", tmp_path / "no-bundle")
    assert active_version(tmp_path) is None
    assert load_model(root=tmp_path).version == ZERO_SHOT_VERSION


def test_bundle_ships_a_trained_version_that_loads_without_the_data_dir(
    tmp_path: Path, encoder: DualTowerEncoder, singer_docs: list[ColumnDoc], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(artifacts, "BUNDLED_DIR", tmp_path / "bundled")
    original = encoder.question.cnn.weight.detach().clone()
    try:
        with torch.no_grad():
            encoder.question.cnn.weight.add_(torch.randn_like(original) * 0.01)
        expected = _scores(encoder, singer_docs)
        model = RetrieverModel(version="v-ship", encoder=encoder, selection=SelectionPolicy(threshold=0.3, max_columns=9))
        save_artefact(tmp_path / "trained" / "models" / "retriever" / "v-ship", model, {}, {}, [])
    finally:
        with torch.no_grad():
            encoder.question.cnn.weight.copy_(original)
    bundle("v-ship", tmp_path / "trained")

    elsewhere = tmp_path / "fresh-clone"
    assert active_version(elsewhere) == "v-ship"
    loaded = load_model(root=elsewhere)
    assert loaded.selection.max_columns == 9
    assert torch.allclose(_scores(loaded.encoder, singer_docs), expected, atol=1e-4)
