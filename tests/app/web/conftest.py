"""A live service (uvicorn on a free port over the session container) and headless Debian chromium, driven by
Playwright. A missing chromium skips locally and fails in CI, like the other servers the suite needs."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from schemakg.app.api.app import create_app
from schemakg.app.container import Container
from tests.live import serve

DOCS_UI = Path(__file__).resolve().parents[3] / "docs" / "ui"


@pytest.fixture(scope="session")
def live_url(container: Container) -> Iterator[str]:
    with serve(create_app(container=container)) as url:
        yield url


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        message = "chromium is not installed (scripts/setup.sh apt-installs it)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, headless=True)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    context.set_default_timeout(30_000)
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda error: errors.append(str(error)))
    yield opened
    context.close()
    assert errors == [], f"JavaScript errors in the page: {errors}"


@pytest.fixture(scope="session")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where screenshots go: docs/ui/ when SCHEMAKG_UI_SCREENSHOTS=1 (to refresh the committed ones), else a
    temporary folder, so that an ordinary test run leaves the working tree as it was."""
    if os.environ.get("SCHEMAKG_UI_SCREENSHOTS") == "1":
        DOCS_UI.mkdir(parents=True, exist_ok=True)
        return DOCS_UI
    return tmp_path_factory.mktemp("ui-shots")
