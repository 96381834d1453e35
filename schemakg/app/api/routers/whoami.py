"""The caller's own key: who it is and its role, so a client (the web UI) shows only what the role allows."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from schemakg.app.api.deps import require
from schemakg.kernel.model import ApiKeyInfo, Role

router = APIRouter(tags=["keys"])


@router.get("/whoami", response_model=ApiKeyInfo)
def whoami(principal: ApiKeyInfo = Depends(require(Role.ANALYST))) -> ApiKeyInfo:
    """The key that sent this request (never its secret); any role."""
    return principal
