"""API keys with roles. Keys are random tokens shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from pathlib import Path

from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import Forbidden, NotFound, Unauthorized
from schemakg.kernel.model import ApiKeyInfo, Role
from schemakg.kernel.store.keys_repo import ApiKeyRepository

KEY_PREFIX = "skg_"
_CACHE_MAX = 10_000  # verified keys remembered at most (the cache is cleared when full)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyService:
    def __init__(self, keys: ApiKeyRepository, cache_s: float = 0.0) -> None:
        """``cache_s``: a verified key is trusted this long without asking the graph again. A key deleted
        here stops working at once; one deleted by another process, within ``cache_s``."""
        self.keys = keys
        self.cache_s = cache_s
        self._verified: dict[str, tuple[ApiKeyInfo, float]] = {}  # key hash -> principal, trusted until
        self._cache_lock = threading.Lock()

    def create(self, name: str, role: Role, key: str | None = None) -> tuple[ApiKeyInfo, str]:
        secret = key or KEY_PREFIX + secrets.token_urlsafe(32)
        info = ApiKeyInfo(id=uuid.uuid4().hex[:12], name=name, role=role, created_at=now_iso())
        self.keys.create(info, hash_key(secret))
        return info, secret

    def authenticate(self, key: str | None) -> ApiKeyInfo:
        if not key:
            raise Unauthorized("missing API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key'")
        digest = hash_key(key)
        info = self._trusted(digest)
        if info is not None:
            return info
        info = self.keys.find_by_hash(digest)
        if info is None:
            raise Unauthorized("invalid API key")
        if self.cache_s > 0:
            with self._cache_lock:
                if len(self._verified) >= _CACHE_MAX:
                    self._verified.clear()
                self._verified[digest] = (info, time.monotonic() + self.cache_s)
        return info

    def cached(self, key: str | None) -> ApiKeyInfo | None:
        """The principal of ``key`` when it was verified less than ``cache_s`` ago, without a graph round trip."""
        return self._trusted(hash_key(key)) if key else None

    def _trusted(self, digest: str) -> ApiKeyInfo | None:
        with self._cache_lock:
            entry = self._verified.get(digest)
            if entry is None:
                return None
            if entry[1] <= time.monotonic():
                del self._verified[digest]
                return None
            return entry[0]

    @staticmethod
    def authorize(principal: ApiKeyInfo, needed: Role) -> None:
        if not principal.role.allows(needed):
            raise Forbidden(f"this action needs the {needed.value} role; your key has {principal.role.value}")

    def list(self) -> list[ApiKeyInfo]:
        return self.keys.list()

    def delete(self, key_id: str) -> None:
        deleted = self.keys.delete(key_id)
        with self._cache_lock:
            for digest in [d for d, (info, _) in self._verified.items() if info.id == key_id]:
                del self._verified[digest]
        if not deleted:
            raise NotFound(f"API key {key_id!r} not found")

    def bootstrap_admin(self, configured: str | None, key_file: Path) -> str | None:
        """Make sure an admin key exists: the configured one, or a generated one written to a 0600 file.

        Returns the path-worthy secret only when it was generated now.
        """
        if configured is not None:
            if self.keys.find_by_hash(hash_key(configured)) is None:
                self.create("bootstrap-admin", Role.ADMIN, configured)
            return None
        if self.keys.count_admins() > 0:
            return None
        _, secret = self.create("bootstrap-admin", Role.ADMIN)
        key_file.parent.mkdir(parents=True, exist_ok=True)
        key_file.touch(mode=0o600)
        key_file.write_text(secret + "\n")
        return secret
