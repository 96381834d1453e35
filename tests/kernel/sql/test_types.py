import pytest

from schemakg.kernel.sql.types import type_family


@pytest.mark.parametrize(
    ("declared", "family"),
    [
        ("BIGINT", "number"),
        ("double precision", "number"),
        ("NUMERIC(10, 2)", "number"),
        ("TEXT", "text"),
        ("character varying(40)", "text"),
        ("DATE", None),
        ("", None),
    ],
)
def test_type_families(declared: str, family: str | None) -> None:
    assert type_family(declared) == family
