"""The web UI: static files (plain ES modules, one stylesheet) over the public REST API, served at ``/ui``.

It holds no logic of its own beyond presentation: every read and write goes through the same endpoints, with
the API key the user signed in with. Nothing is fetched from elsewhere (a strict Content-Security-Policy).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC = Path(__file__).resolve().parent / "static"
# Only this origin: no CDN, no inline script or style, never framed.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def install(app: FastAPI) -> None:
    """Serve the UI at ``/ui`` (its assets under ``/ui/static``), outside the OpenAPI document."""
    headers = {"Content-Security-Policy": CSP, "Cache-Control": "no-cache", "Referrer-Policy": "no-referrer"}

    @app.get("/ui", include_in_schema=False)
    def ui_root() -> RedirectResponse:
        return RedirectResponse("/ui/", status_code=307)

    @app.get("/ui/", include_in_schema=False)
    def ui_index() -> FileResponse:
        return FileResponse(STATIC / "index.html", media_type="text/html", headers=headers)

    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
