from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from schemakg.retrieval.artifacts import (
    SHIPPED_DIR,
    ZERO_SHOT_VERSION,
    activate,
    active_version,
    describe,
    load_model,
    save_artefact,
    shipped_version,
    update_selection,
)
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.encoder import (
    ADAPTER_FILE,
    AdapterConfig,
    DualTowerEncoder,
    EncoderConfig,
    late_interaction,
    normalise,
)
from schemakg.retrieval.selection import SelectionPolicy


def _scores(encoder: DualTowerEncoder, docs: list[ColumnDoc]) -> torch.Tensor:
    q = encoder.encode_questions(["Show the names of singers from France", "What is the stadium capacity?"])
    return normalise(late_interaction(q, encoder.encode_columns(docs)), q.mask)


def _trained_encoder() -> DualTowerEncoder:
    """Adapters and CNN heads moved away from their initial values, as training would."""
    encoder = DualTowerEncoder.from_base(EncoderConfig(batch_size=4))
    encoder.add_adapters(AdapterConfig(rank=4, alpha=8, layers=[4, 5]))
    generator = torch.Generator().manual_seed(0)
    with torch.no_grad():
        for name, parameter in encoder.named_parameters():
            if "lora_B" in name or ".cnn." in name:
                parameter.add_(torch.randn(parameter.shape, generator=generator) * 0.02)
    return encoder.eval()


def test_adapter_round_trip_and_activation(tmp_path: Path, singer_docs: list[ColumnDoc]) -> None:
    encoder = _trained_encoder()
    expected = _scores(encoder, singer_docs)
    directory = tmp_path / "models" / "retriever" / "v-test"
    encoder.save(directory)
    save_artefact(directory, "v-test", SelectionPolicy(threshold=0.42, max_columns=7), {"seed": 1}, {}, [])
    assert active_version(tmp_path) is None
    activate("v-test", tmp_path)
    loaded = load_model(root=tmp_path)
    assert loaded.version == "v-test" and loaded.encoder.merged
    assert loaded.selection.threshold == 0.42 and loaded.selection.max_columns == 7
    # float16 storage: the same scores to well under the gap between a gold column and the rest
    assert torch.allclose(_scores(loaded.encoder, singer_docs), expected, atol=2e-3)
    assert not torch.allclose(_scores(DualTowerEncoder.from_base(), singer_docs), expected, atol=2e-3)
    with pytest.raises(ValueError, match="merged"):
        loaded.encoder.save(tmp_path / "again")


def test_artefact_needs_its_adapter_first(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="adapter"):
        save_artefact(tmp_path / "v-empty", "v-empty", SelectionPolicy(), {}, {}, [])


def test_without_activation_the_shipped_version_serves(tmp_path: Path) -> None:
    (tmp_path / "models" / "retriever").mkdir(parents=True)
    (tmp_path / "models" / "retriever" / "activations.json").write_text('[{"version": "gone", "activated_at": "x"}]')
    assert active_version(tmp_path) is None
    assert load_model(root=tmp_path).version == shipped_version()
    info = describe(tmp_path)
    assert info.version == shipped_version() and info.origin == "shipped"
    assert info.available == [shipped_version(), ZERO_SHOT_VERSION]


def test_shipped_and_zero_shot_can_be_activated_by_name(tmp_path: Path) -> None:
    activate(ZERO_SHOT_VERSION, tmp_path)
    assert load_model(root=tmp_path).version == ZERO_SHOT_VERSION
    assert describe(tmp_path).origin == "zero-shot"
    activate(shipped_version(), tmp_path)
    assert active_version(tmp_path) == shipped_version()
    with pytest.raises(FileNotFoundError):
        activate("v-missing", tmp_path)
    with pytest.raises(ValueError, match="read-only"):
        update_selection(shipped_version(), SelectionPolicy(), {}, tmp_path)


def test_shipped_adapter_is_small_and_documented() -> None:
    info = describe(Path("/nonexistent"))
    assert info.adapter_bytes is not None and info.adapter_bytes <= 5 * 2**20
    assert {"spider-train", "bird-train", "spider-syn-train"} <= set(info.validation)
    provenance = (SHIPPED_DIR / "PROVENANCE.md").read_text()
    assert "make retriever" in provenance and shipped_version() in provenance
    config = json.loads((SHIPPED_DIR / "config.json").read_text())
    assert config["training"]["seed"] == 13 and (SHIPPED_DIR / ADAPTER_FILE).exists()
