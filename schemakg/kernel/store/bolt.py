"""The graph store over the official ``neo4j`` driver (Neo4j 5 or ArcadeDB's Bolt plugin)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from neo4j import Driver, GraphDatabase, ManagedTransaction, Transaction

from schemakg.kernel.store.base import GraphStore, GraphTransaction, Row
from schemakg.kernel.store.ddl import schema_statements


class _BoltTransaction(GraphTransaction):
    def __init__(self, tx: Transaction | ManagedTransaction) -> None:
        self._tx = tx

    def run(self, query: str, **params: Any) -> list[Row]:
        return [record.data() for record in self._tx.run(query, params)]


class BoltGraphStore(GraphStore):
    def __init__(self, uri: str, user: str, password: str, database: str | None, engine: str) -> None:
        self.engine = engine
        self._database = database
        self._driver: Driver = GraphDatabase.driver(uri, auth=(user, password), max_connection_pool_size=16)

    def read(self, query: str, **params: Any) -> list[Row]:
        with self._driver.session(database=self._database) as session:
            return session.execute_read(lambda tx: _BoltTransaction(tx).run(query, **params))

    def write(self, query: str, **params: Any) -> list[Row]:
        with self._driver.session(database=self._database) as session:
            return session.execute_write(lambda tx: _BoltTransaction(tx).run(query, **params))

    @contextmanager
    def transaction(self) -> Iterator[GraphTransaction]:
        with self._driver.session(database=self._database) as session, session.begin_transaction() as tx:
            yield _BoltTransaction(tx)
            tx.commit()

    def ensure_schema(self) -> None:
        for statement in schema_statements(self.engine):
            self.write(statement)

    def close(self) -> None:
        self._driver.close()
