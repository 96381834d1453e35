"""The routing path keeps `/` and `%` encoded inside a segment; everything else arrives decoded."""

from __future__ import annotations

import pytest

from schemakg.app.api.paths import NameConvertor, routing_path


@pytest.mark.parametrize(
    ("raw", "routed"),
    [
        (b"/databases/d/tables/a%2Fb/columns/c", "/databases/d/tables/a%2Fb/columns/c"),
        (b"/databases/d/tables/100%25/columns/%2525", "/databases/d/tables/100%25/columns/%2525"),
        (b"/databases/d/tables/sp%20ace", "/databases/d/tables/sp ace"),
        (b"/databases/d/tables/%C3%BC", "/databases/d/tables/ü"),
    ],
)
def test_routing_path_keeps_separators_inside_segments(raw: bytes, routed: str) -> None:
    assert routing_path(raw) == routed


@pytest.mark.parametrize("name", ["a/b", "100%", "%2F", " x ", "ü", "q?x#y", "a\\b"])
def test_name_convertor_round_trips(name: str) -> None:
    convertor = NameConvertor()
    segment = convertor.to_string(name)
    assert "/" not in segment
    assert convertor.convert(routing_path(f"/{segment}".encode())[1:]) == name
