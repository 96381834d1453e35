"""Join completion by shortest paths over the foreign-key graph (SchemaGraphSQL).

Tables are nodes, foreign keys undirected edges (plus inter-table relations learned from
query logs, marked ``log``). Given source tables (filters) and destination tables (outputs),
the paths between them add the join tables and the join conditions.

Modes (the paper's ablation settings, as implemented here):
- ``force-union`` (default, highest recall): every (source, destination) pair, *all*
  shortest paths of each pair, union of everything.
- ``n-n``: every pair, one shortest path each, union.
- ``1-1``: the first source and the first destination only, one shortest path.
- ``1-n`` / ``n-1``: the first source to every destination / every source to the first
  destination, one shortest path each, union.
- ``no-union``: every pair considered, but only the single shortest of their paths is kept.
- ``force-longest``: every pair considered, only the longest of their shortest paths is kept.
- ``steiner``: the selected tables joined by one approximately minimal tree (Mehlhorn's
  2-approximation) in each connected region. With many selected tables, from different subject
  areas of a large schema, the union of every pair's shortest paths pulls in far more bridging
  tables than any query needs; the linker switches to this mode above a number of tables.
The selected tables themselves are always part of the result, reachable or not.

Schemas that declare few or no foreign keys (as most undocumented ones) leave tables that belong
together unjoined. Two result tables of one namespace that no foreign key or logged join connects are
joined, marked ``name``, on the key-like column names they share (``zip_code``, ``productCode``,
``podcast_id``). These joins are not edges to route through: bridging tables are chosen by declared
and logged joins only.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Literal

import networkx as nx
from networkx.algorithms.approximation import steiner_tree
from pydantic import BaseModel

from schemakg.kernel.sql.names import column_sql
from schemakg.retrieval.identifiers import Identifiers

ColumnRef = tuple[str, str]
JoinMode = Literal["force-union", "n-n", "1-1", "1-n", "n-1", "no-union", "force-longest", "steiner"]
JOIN_MODES: tuple[JoinMode, ...] = (
    "force-union",
    "n-n",
    "1-1",
    "1-n",
    "n-1",
    "no-union",
    "force-longest",
    "steiner",
)
MAX_PATHS_PER_PAIR = 32
# A name ending like a key's, but not the bare word (``id``: every table's own key) nor a row GUID.
KEY_NAME = re.compile(r"(?<!gu)(?<=.)(id|code|key|number)$", re.IGNORECASE)
# A name that more tables of one namespace share says little about which two of them join (and its pairs
# grow with the square of their number).
MAX_NAME_SHARERS = 32


class JoinCondition(BaseModel):
    left: ColumnRef
    right: ColumnRef
    source: str  # "fk", "log" or "name"

    def sql(self, dialect: str | None = None) -> str:
        """The equality as text; with a ``dialect``, tables written as its SQL writes them (schema apart)."""
        if dialect is None:
            return f"{self.left[0]}.{self.left[1]} = {self.right[0]}.{self.right[1]}"
        return f"{column_sql(*self.left, dialect)} = {column_sql(*self.right, dialect)}"


class JoinPlan(BaseModel):
    tables: list[str]
    paths: list[list[str]]
    conditions: list[JoinCondition]
    join_columns: list[ColumnRef]
    unreachable: list[tuple[str, str]] = []


def namespace(table: str) -> str | None:
    """The namespace a table's name declares: its schema (``sales.orders``), else the prefix before a
    double underscore (``sales__orders``), as warehouses that flatten schemas name tables."""
    if "." in table:
        return table.split(".", 1)[0].lower()
    if "__" in table.strip("_"):
        return table.strip("_").split("__", 1)[0].lower()
    return None


class JoinGraph:
    """An undirected table graph; edges carry the column equalities that join their two tables."""

    def __init__(
        self,
        tables: Iterable[str],
        foreign_keys: Iterable[tuple[ColumnRef, ColumnRef]],
        log_joins: Iterable[tuple[ColumnRef, ColumnRef]] = (),
        columns: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        self.graph = nx.Graph()
        self.graph.add_nodes_from(tables)
        self.columns = columns or {}
        self._regions: dict[str, int] | None = None
        self._areas: dict[str, int] | None = None
        self._identifiers: Identifiers | None = None
        self._name_joins: dict[frozenset[str], list[JoinCondition]] | None = None
        for left, right in foreign_keys:
            self._add(left, right, "fk")
        for left, right in log_joins:
            self._add(left, right, "log")

    def _add(self, left: ColumnRef, right: ColumnRef, source: str) -> None:
        a, b = left[0], right[0]
        if a == b or a not in self.graph or b not in self.graph:
            return
        if not self.graph.has_edge(a, b):
            self.graph.add_edge(a, b, conditions=[])
        conditions: list[JoinCondition] = self.graph.edges[a, b]["conditions"]
        pair = tuple(sorted((left, right)))
        if all(tuple(sorted((c.left, c.right))) != pair for c in conditions):
            conditions.append(JoinCondition(left=left, right=right, source=source))

    def name_joins(self) -> dict[frozenset[str], list[JoinCondition]]:
        """For each pair of tables of one namespace in different regions, the key-like names they share."""
        if self._name_joins is None:
            regions = self.regions()
            by_name: dict[tuple[str | None, str], list[ColumnRef]] = {}
            for table, names in self.columns.items():
                for name in names:
                    if table in regions and KEY_NAME.search(name):
                        by_name.setdefault((namespace(table), name.lower()), []).append((table, name))
            self._name_joins = {}
            for refs in by_name.values():
                if len(refs) > MAX_NAME_SHARERS:
                    continue
                for i, left in enumerate(refs):
                    for right in refs[i + 1 :]:
                        if regions[left[0]] != regions[right[0]]:
                            pair = frozenset((left[0], right[0]))
                            condition = JoinCondition(left=left, right=right, source="name")
                            self._name_joins.setdefault(pair, []).append(condition)
        return self._name_joins

    def plan(self, sources: Sequence[str], destinations: Sequence[str], mode: JoinMode = "force-union") -> JoinPlan:
        sources = [t for t in dict.fromkeys(sources) if t in self.graph]
        destinations = [t for t in dict.fromkeys(destinations) if t in self.graph]
        if mode == "steiner":
            return self._steiner(list(dict.fromkeys(sources + destinations)) if destinations else sources)
        if mode in ("1-1", "1-n"):
            sources = sources[:1]
        if mode in ("1-1", "n-1"):
            destinations = destinations[:1]
        paths: list[list[str]] = []
        unreachable: list[tuple[str, str]] = []
        done: set[frozenset[str]] = set()
        for source in sources:
            wanted = [d for d in destinations if d != source and frozenset((source, d)) not in done]
            if not wanted:
                continue
            # One breadth-first search per source serves all of its destinations.
            predecessors = nx.predecessor(self.graph, source)
            for destination in wanted:
                done.add(frozenset((source, destination)))
                if destination not in predecessors:
                    unreachable.append((source, destination))
                    continue
                found = sorted(islice(_walk_back(predecessors, source, destination), MAX_PATHS_PER_PAIR))
                paths += found if mode == "force-union" else found[:1]
        if paths and mode == "no-union":
            paths = [min(paths, key=len)]
        elif paths and mode == "force-longest":
            paths = [max(paths, key=len)]
        return self._plan(list(dict.fromkeys(sources + destinations)), paths, unreachable)

    def regions(self) -> dict[str, int]:
        """Each table's connected region (a component of the join graph), numbered from 0."""
        if self._regions is None:
            self._regions = {
                table: number
                for number, component in enumerate(nx.connected_components(self.graph))
                for table in sorted(component)
            }
        return self._regions

    def areas(self) -> dict[str, int]:
        """Each table's subject area, numbered from 0: its region, joined with every other region that
        has a table of the same namespace (a schema, or a ``prefix__`` where a warehouse flattened its
        schemas). A warehouse's tables without foreign keys are regions of their own, yet the namespace
        still says which subject area they belong to."""
        if self._areas is None:
            linked = nx.Graph()
            for table, region in self.regions().items():
                linked.add_edge(("table", table), ("region", region))
                space = namespace(table)
                if space is not None:
                    linked.add_edge(("table", table), ("namespace", space))
            self._areas = {
                name: number
                for number, component in enumerate(
                    sorted(nx.connected_components(linked), key=lambda c: min(n for k, n in c if k == "table"))
                )
                for kind, name in sorted(component)
                if kind == "table"
            }
        return self._areas

    def identifiers(self) -> Identifiers:
        """The identifier-like column names, their columns and the areas holding them (``identifiers``)."""
        if self._identifiers is None:
            pairs = ((table, name) for table, names in self.columns.items() for name in names)
            self._identifiers = Identifiers(pairs, self.areas())
        return self._identifiers

    def _steiner(self, selected: list[str]) -> JoinPlan:
        by_region: dict[int, list[str]] = {}
        for table in selected:
            by_region.setdefault(self.regions()[table], []).append(table)
        paths: list[list[str]] = []
        for tables in by_region.values():
            if len(tables) > 1:
                component = self.graph.subgraph(nx.node_connected_component(self.graph, tables[0]))
                tree = steiner_tree(component, tables, method="mehlhorn")
                paths += [sorted(edge) for edge in sorted(tree.edges, key=sorted)]
        firsts = [tables[0] for tables in by_region.values()]
        unreachable = [(a, b) for i, a in enumerate(firsts) for b in firsts[i + 1 :]]
        return self._plan(selected, paths, unreachable)

    def _plan(self, selected: list[str], paths: list[list[str]], unreachable: list[tuple[str, str]]) -> JoinPlan:
        tables = list(dict.fromkeys(selected + [t for path in paths for t in path]))
        conditions: dict[str, JoinCondition] = {}
        for path in paths:
            for a, b in itertools.pairwise(path):
                for condition in self.graph.edges[a, b]["conditions"]:
                    conditions.setdefault(condition.sql(), condition)
        name_joins = self.name_joins()
        for a, b in itertools.combinations(tables, 2):
            for condition in name_joins.get(frozenset((a, b)), []):
                conditions.setdefault(condition.sql(), condition)
        join_columns = list(dict.fromkeys(ref for c in conditions.values() for ref in (c.left, c.right)))
        return JoinPlan(
            tables=tables,
            paths=paths,
            conditions=list(conditions.values()),
            join_columns=join_columns,
            unreachable=unreachable,
        )


def _walk_back(predecessors: dict[str, list[str]], source: str, node: str) -> Iterator[list[str]]:
    """Every shortest path source → node, from a BFS predecessor map."""
    if node == source:
        yield [source]
        return
    for previous in predecessors[node]:
        for path in _walk_back(predecessors, source, previous):
            yield [*path, node]
