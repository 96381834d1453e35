"""The curated catalogue as one document: export (steward) and import (steward)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query, Response

from schemakg.app.api.deps import container, require
from schemakg.app.container import Container
from schemakg.app.services.catalog_document import MEDIA_TYPES, CatalogDocument, Syntax, dump_document
from schemakg.app.services.catalog_transfer import ImportReport
from schemakg.kernel.model import ApiKeyInfo, Role

router = APIRouter(prefix="/catalog", tags=["catalog transfer"])

_DATABASES = Query(None, description="only these databases (repeat the parameter); default: every one")
_EXPORTED: dict[int | str, dict[str, Any]] = {
    200: {
        "model": CatalogDocument,
        "description": "the curated catalogue, keys sorted (docs/catalogue-transfer.md)",
        # the same document in YAML (the JSON one's schema is the model's, under this name)
        "content": {MEDIA_TYPES["yaml"]: {"schema": {"$ref": "#/components/schemas/CatalogDocument"}}},
    }
}


@router.get("/export", response_class=Response, responses=_EXPORTED, dependencies=[Depends(require(Role.STEWARD))])
def export_catalog(
    database: list[str] | None = _DATABASES,
    format: Syntax = Query("json", description="json or yaml"),
    app: Container = Depends(container),
) -> Response:
    """Curated fields with provenance and history, dependencies and approved proposals; no connection URLs."""
    document = app.catalog_transfer.export(database)
    return Response(dump_document(document, format), media_type=MEDIA_TYPES[format])


@router.post("/import", response_model=ImportReport)
def import_catalog(
    body: CatalogDocument,
    dry_run: bool = Query(False, description="report what would change, write nothing"),
    database: list[str] | None = _DATABASES,
    principal: ApiKeyInfo = Depends(require(Role.STEWARD)),
    app: Container = Depends(container),
) -> ImportReport:
    """Idempotent. A field the target edited after the document's last edit of it is a conflict and kept;
    tables and columns the target lacks are reported, not created."""
    return app.catalog_transfer.import_document(body, principal.name, dry_run, database)
