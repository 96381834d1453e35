"""Knowledge proposals and the DEPENDS_ON edges that approved dependencies become."""

from __future__ import annotations

from schemakg.kernel.model import Proposal, ProposalState
from schemakg.kernel.store.base import GraphStore
from schemakg.kernel.store.schema_repo import COLUMN_REF_PARAMS, cypher_column_ref

# One approved dependency: a DEPENDS_ON edge from the head column to the tail, one per relation.
ADD_DEPENDENCY = (
    "MATCH (h:Column {key: $head}) MATCH (t:Column {key: $tail}) "
    "MERGE (h)-[d:DEPENDS_ON {relation: $relation}]->(t) "
    "SET d.text = $text, d.source = $source, d.proposal = $proposal"
)


class ProposalRepository:
    def __init__(self, store: GraphStore) -> None:
        self.store = store

    def create(self, proposal: Proposal) -> bool:
        """MERGE on the id (a content hash), so re-running completion never duplicates; True if new."""
        props = proposal.model_dump(mode="json", exclude_none=True)
        rows = self.store.write(
            "MERGE (p:Proposal {id: $id}) ON CREATE SET p += $props, p.fresh = true "
            "WITH p, coalesce(p.fresh, false) AS created REMOVE p.fresh RETURN created",
            id=proposal.id,
            props=props,
        )
        return bool(rows and rows[0]["created"])

    def get(self, proposal_id: str) -> Proposal | None:
        rows = self.store.read("MATCH (p:Proposal {id: $id}) RETURN p {.*} AS p", id=proposal_id)
        return Proposal(**rows[0]["p"]) if rows else None

    def list_for(
        self, database: str, state: ProposalState | None, offset: int, limit: int
    ) -> tuple[list[Proposal], int]:
        where = "WHERE $state IS NULL OR p.state = $state"
        params = {"db": database, "state": state.value if state else None}
        total = self.store.read(f"MATCH (p:Proposal {{database: $db}}) {where} RETURN count(p) AS n", **params)[0]["n"]
        rows = self.store.read(
            f"MATCH (p:Proposal {{database: $db}}) {where} RETURN p {{.*}} AS p "
            "ORDER BY p.created_at, p.id SKIP $offset LIMIT $limit",
            offset=offset,
            limit=limit,
            **params,
        )
        return [Proposal(**row["p"]) for row in rows], total

    def pending_descriptions(self, database: str, column: str) -> list[str]:
        rows = self.store.read(
            "MATCH (p:Proposal {database: $db, column: $column, state: 'pending', kind: 'column_description'}) "
            "RETURN p.description AS description",
            db=database,
            column=column,
        )
        return [row["description"] for row in rows if row["description"]]

    def decide(self, proposal_id: str, state: ProposalState, who: str, at: str) -> bool:
        """Move a pending proposal to its final state; False if it was already decided."""
        rows = self.store.write(
            "MATCH (p:Proposal {id: $id}) WHERE p.state = 'pending' "
            "SET p.state = $state, p.decided_by = $who, p.decided_at = $at RETURN p.id AS id",
            id=proposal_id,
            state=state.value,
            who=who,
            at=at,
        )
        return bool(rows)

    def add_dependency(
        self, head_key: str, tail_key: str, relation: str, text: str | None, source: str, proposal_id: str
    ) -> None:
        self.store.write(
            ADD_DEPENDENCY,
            head=head_key,
            tail=tail_key,
            relation=relation,
            text=text,
            source=source,
            proposal=proposal_id,
        )

    def dependencies(self, database: str) -> list[dict[str, str | None]]:
        return self.store.read(
            "MATCH (h:Column {database: $db})-[d:DEPENDS_ON]->(t:Column) "
            f"RETURN {cypher_column_ref('h')} AS head, d.relation AS relation, {cypher_column_ref('t')} AS tail, "
            "d.text AS text, d.source AS source ORDER BY head, tail",
            db=database,
            **COLUMN_REF_PARAMS,
        )
