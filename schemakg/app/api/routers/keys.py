"""API keys with roles (admin only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from schemakg.app.api.deps import container, require
from schemakg.app.api.schemas import ApiKeyCreate, ApiKeyCreated
from schemakg.app.container import Container
from schemakg.kernel.model import ApiKeyInfo, Role

router = APIRouter(prefix="/api-keys", tags=["keys"], dependencies=[Depends(require(Role.ADMIN))])


@router.post("", status_code=201, response_model=ApiKeyCreated)
def create_key(body: ApiKeyCreate, app: Container = Depends(container)) -> ApiKeyCreated:
    info, secret = app.keys.create(body.name, body.role)
    return ApiKeyCreated(**info.model_dump(), key=secret)


@router.get("", response_model=list[ApiKeyInfo])
def list_keys(app: Container = Depends(container)) -> list[ApiKeyInfo]:
    return app.keys.list()


@router.delete("/{key_id:name}", status_code=204)
def delete_key(key_id: str, app: Container = Depends(container)) -> Response:
    app.keys.delete(key_id)
    return Response(status_code=204)
