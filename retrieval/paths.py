"""Where retrieval artefacts live; one function so the lead can swap in ``catalog.settings`` later."""

from __future__ import annotations

import os
from pathlib import Path


def data_dir() -> Path:
    """The service data directory (``SCHEMAKG_DATA_DIR``, default ``./.schemakg``)."""
    return Path(os.environ.get("SCHEMAKG_DATA_DIR", ".schemakg"))


def models_dir(root: Path | None = None) -> Path:
    """Versioned retriever model artefacts."""
    return (root or data_dir()) / "models" / "retriever"


def index_dir(root: Path | None = None) -> Path:
    """Persisted column indexes, one sub-folder per model version."""
    return (root or data_dir()) / "index" / "retriever"
