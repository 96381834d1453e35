"""Opens the configured graph store: external Neo4j when NEO4J_URI is set, else the embedded engine."""

from __future__ import annotations

from schemakg.kernel.engines.arcadedb import EmbeddedArcadeDB
from schemakg.kernel.settings import Settings
from schemakg.kernel.store.base import GraphStore
from schemakg.kernel.store.bolt import BoltGraphStore


class OpenedStore:
    """A store plus the embedded engine it may have started (stopped on close)."""

    def __init__(self, store: GraphStore, engine: EmbeddedArcadeDB | None) -> None:
        self.store = store
        self.engine = engine

    def close(self) -> None:
        self.store.close()
        if self.engine is not None:
            self.engine.stop()


def open_graph_store(settings: Settings) -> OpenedStore:
    if settings.neo4j_uri:
        password = settings.neo4j_password.get_secret_value() if settings.neo4j_password else ""
        store: GraphStore = BoltGraphStore(
            settings.neo4j_uri, settings.neo4j_user, password, settings.neo4j_database, engine="neo4j"
        )
        engine = None
    else:
        engine = EmbeddedArcadeDB(
            settings.graph_dir, settings.arcadedb_heap, settings.arcadedb_start_timeout_s, settings.arcadedb_cpus
        )
        endpoint = engine.ensure_running()
        store = BoltGraphStore(endpoint.uri, endpoint.user, endpoint.password, endpoint.database, engine="arcadedb")
    store.ensure_schema()
    return OpenedStore(store, engine)
