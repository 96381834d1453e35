"""Where retrieval artefacts live under the service data directory."""

from __future__ import annotations

import hashlib
import re
import shutil
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


def database_folder(root: Path, db_id: str) -> Path:
    """One database's folder under an index version: the name itself when it is file-safe, else a
    file-safe spelling plus a hash of the name (so two names never share a folder)."""
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", db_id)
    return root / (safe if safe == db_id else f"{safe}-{hashlib.sha1(db_id.encode()).hexdigest()[:8]}")


def drop_database(db_id: str, root: Path | None = None) -> None:
    """Remove a database's column vectors from every index version."""
    for version in index_dir(root).glob("*"):
        if version.is_dir():
            shutil.rmtree(database_folder(version, db_id), ignore_errors=True)


def cache_dir(root: Path | None = None) -> Path:
    """Derived data that is safe to delete (e.g. gold labels of training questions)."""
    return (root or data_dir()) / "cache" / "retriever"
