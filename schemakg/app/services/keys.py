"""API keys with roles. Keys are random tokens shown once; only their SHA-256 is stored."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from pathlib import Path

from schemakg.kernel.clock import now_iso
from schemakg.kernel.errors import Forbidden, NotFound, Unauthorized
from schemakg.kernel.model import ApiKeyInfo, Role
from schemakg.kernel.store.keys_repo import ApiKeyRepository

KEY_PREFIX = "skg_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class KeyService:
    def __init__(self, keys: ApiKeyRepository) -> None:
        self.keys = keys

    def create(self, name: str, role: Role, key: str | None = None) -> tuple[ApiKeyInfo, str]:
        secret = key or KEY_PREFIX + secrets.token_urlsafe(32)
        info = ApiKeyInfo(id=uuid.uuid4().hex[:12], name=name, role=role, created_at=now_iso())
        self.keys.create(info, hash_key(secret))
        return info, secret

    def authenticate(self, key: str | None) -> ApiKeyInfo:
        if not key:
            raise Unauthorized("missing API key: send it as 'Authorization: Bearer <key>' or 'X-API-Key'")
        info = self.keys.find_by_hash(hash_key(key))
        if info is None:
            raise Unauthorized("invalid API key")
        return info

    @staticmethod
    def authorize(principal: ApiKeyInfo, needed: Role) -> None:
        if not principal.role.allows(needed):
            raise Forbidden(f"this action needs the {needed.value} role; your key has {principal.role.value}")

    def list(self) -> list[ApiKeyInfo]:
        return self.keys.list()

    def delete(self, key_id: str) -> None:
        if not self.keys.delete(key_id):
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
