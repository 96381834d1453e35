"""API keys: only a SHA-256 of each key is stored."""

from __future__ import annotations

from schemakg.kernel.model import ApiKeyInfo, Role
from schemakg.kernel.store.base import GraphStore


class ApiKeyRepository:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def create(self, info: ApiKeyInfo, key_hash: str) -> None:
        self.store.write(
            "CREATE (k:ApiKey {id: $id, name: $name, role: $role, created_at: $created_at, hash: $hash})",
            id=info.id,
            name=info.name,
            role=info.role.value,
            created_at=info.created_at,
            hash=key_hash,
        )

    def find_by_hash(self, key_hash: str) -> ApiKeyInfo | None:
        rows = self.store.read(
            "MATCH (k:ApiKey {hash: $hash}) RETURN k.id AS id, k.name AS name, k.role AS role, "
            "k.created_at AS created_at",
            hash=key_hash,
        )
        return ApiKeyInfo(**rows[0]) if rows else None

    def list(self) -> list[ApiKeyInfo]:
        rows = self.store.read(
            "MATCH (k:ApiKey) RETURN k.id AS id, k.name AS name, k.role AS role, k.created_at AS created_at "
            "ORDER BY k.created_at"
        )
        return [ApiKeyInfo(**row) for row in rows]

    def delete(self, key_id: str) -> bool:
        rows = self.store.write("MATCH (k:ApiKey {id: $id}) DETACH DELETE k RETURN count(*) AS n", id=key_id)
        return bool(rows and rows[0]["n"])

    def count_admins(self) -> int:
        return int(
            self.store.read("MATCH (k:ApiKey {role: $role}) RETURN count(k) AS n", role=Role.ADMIN.value)[0]["n"]
        )
