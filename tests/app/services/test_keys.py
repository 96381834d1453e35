"""API keys: a verified key is trusted for a short time without a graph round trip; revocation still holds."""

from __future__ import annotations

import time

import pytest

from schemakg.app.container import Container
from schemakg.app.services.keys import KeyService
from schemakg.kernel.errors import Unauthorized
from schemakg.kernel.model import Role
from schemakg.kernel.store.keys_repo import ApiKeyRepository


class CountingRepository(ApiKeyRepository):
    lookups = 0

    def find_by_hash(self, key_hash: str):  # type: ignore[no-untyped-def]
        self.lookups += 1
        return super().find_by_hash(key_hash)


def test_verified_keys_are_cached_briefly_and_revocation_takes_effect(container: Container) -> None:
    repo = CountingRepository(container.store)
    keys = KeyService(repo, cache_s=0.5)
    info, secret = keys.create("cache-test", Role.ANALYST)

    assert keys.cached(secret) is None
    assert keys.authenticate(secret).id == info.id
    assert keys.authenticate(secret).id == info.id
    assert keys.cached(secret) is not None
    assert repo.lookups == 1  # the second request did not ask the graph

    # Revoked by another process (straight in the graph): honoured once the short trust runs out.
    assert ApiKeyRepository(container.store).delete(info.id)
    deadline = time.monotonic() + 5
    while keys.cached(secret) is not None:
        assert time.monotonic() < deadline, "the cached key outlived its time"
        time.sleep(0.05)
    with pytest.raises(Unauthorized):
        keys.authenticate(secret)

    # Revoked through this service: at once.
    info, secret = keys.create("cache-test-2", Role.ANALYST)
    keys.authenticate(secret)
    keys.delete(info.id)
    assert keys.cached(secret) is None
    with pytest.raises(Unauthorized):
        keys.authenticate(secret)
    with pytest.raises(Unauthorized):
        keys.authenticate("skg_not_a_key")  # unknown keys are never cached
    assert keys.cached("skg_not_a_key") is None


def test_the_service_setting_reaches_the_container(container: Container) -> None:
    assert container.keys.cache_s == container.settings.api_key_cache_s == 1.0
