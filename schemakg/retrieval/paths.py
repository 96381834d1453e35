"""Where retrieval artefacts live under the service data directory."""

from __future__ import annotations

from pathlib import Path

from schemakg.kernel.settings import get_settings


def data_dir() -> Path:
    """The service data directory (``SCHEMAKG_DATA_DIR``, default ``./.schemakg``)."""
    return get_settings().data_dir


def models_dir(root: Path | None = None) -> Path:
    """Versioned retriever model artefacts."""
    return (root or data_dir()) / "models" / "retriever"


def index_dir(root: Path | None = None) -> Path:
    """Persisted column indexes, one sub-folder per model version."""
    return (root or data_dir()) / "index" / "retriever"


def cache_dir(root: Path | None = None) -> Path:
    """Derived data that is safe to delete (e.g. gold labels of training questions)."""
    return (root or data_dir()) / "cache" / "retriever"
