"""Connection URLs with their passwords live only here: a 0600 file under the data directory.

The graph and every API response hold the masked URL; the full one is read back only to
open the source database.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path


class SecretStore:
    def __init__(self, directory: Path) -> None:
        self._path = directory / "connections.json"
        self._lock = threading.Lock()

    def _load(self) -> dict[str, str]:
        if not self._path.exists():
            return {}
        return dict(json.loads(self._path.read_text()))

    def _save(self, data: dict[str, str]) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        os.chmod(self._path.parent, 0o700)
        tmp = self._path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(data, handle)
        os.replace(tmp, self._path)

    def put(self, name: str, url: str) -> None:
        with self._lock:
            data = self._load()
            data[name] = url
            self._save(data)

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._load().get(name)

    def delete(self, name: str) -> None:
        with self._lock:
            data = self._load()
            if data.pop(name, None) is not None:
                self._save(data)
