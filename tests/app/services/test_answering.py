"""Which answers generate evidence when the caller gives none."""

from __future__ import annotations

import pytest

from schemakg.app.services.answering import evidence_by_default
from schemakg.kernel.settings import Settings


@pytest.mark.parametrize(
    ("setting", "endpoint", "expected"),
    [
        ("auto", None, False),  # the embedded small model: evidence lowered its accuracy
        ("auto", "http://llm.internal:8000/v1", True),
        ("on", None, True),
        ("off", "http://llm.internal:8000/v1", False),
    ],
)
def test_evidence_by_default(
    setting: str, endpoint: str | None, expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    settings = Settings(ask_evidence=setting, openai_base_url=endpoint)
    assert evidence_by_default(settings) is expected
