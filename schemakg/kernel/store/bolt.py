"""The graph store over the official ``neo4j`` driver (Neo4j 5 or ArcadeDB's Bolt plugin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from neo4j import Driver, GraphDatabase, ManagedTransaction
from neo4j.exceptions import ConstraintError

from schemakg.kernel.store.base import DuplicateKeyError, GraphStore, GraphTransaction, Row
from schemakg.kernel.store.ddl import schema_statements

T = TypeVar("T")


class _BoltTransaction(GraphTransaction):
    def __init__(self, tx: ManagedTransaction) -> None:
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
        return self.write_transaction(lambda tx: tx.run(query, **params))

    def write_transaction(self, work: Callable[[GraphTransaction], T]) -> T:
        # The driver's managed transaction retries transient errors (DeadlockDetected, conflicts) with backoff.
        # Both engines report a unique key taken as ConstraintError, at the statement or at commit.
        with self._driver.session(database=self._database) as session:
            try:
                return session.execute_write(lambda tx: work(_BoltTransaction(tx)))
            except ConstraintError as exc:
                raise DuplicateKeyError("a unique key is already taken") from exc

    def ensure_schema(self) -> None:
        for statement in schema_statements(self.engine):
            self.write(statement)

    def close(self) -> None:
        self._driver.close()
