"""OpenAPI additions the route signatures cannot state: the ETag a read or an edit returns, the If-Match an
edit takes, and links from a response to the operations that take its values (clients, and schemathesis's
stateful tests, follow them: a listing to its first item, a read to an edit with the read's ETag).

Each constant is a route's ``openapi_extra``; FastAPI merges it into the generated operation."""

from __future__ import annotations

from typing import Any

IF_MATCH: dict[str, Any] = {
    "name": "If-Match",
    "in": "header",
    "required": False,
    "description": "The ETag of the revision the edit is based on; a stale one is a 412. Absent: no precondition.",
    "schema": {"type": "string"},
}
ETAG: dict[str, Any] = {
    "ETag": {"description": "the entity's revision, for If-Match", "required": True, "schema": {"type": "string"}}
}

_TABLE = "/databases/{database}/tables/{table}"
_COLUMN = _TABLE + "/columns/{column}"
_IN_TABLE = {"path.database": "$request.path.database", "path.table": "$request.path.table"}


def _link(path: str, method: str, description: str, parameters: dict[str, str]) -> dict[str, Any]:
    pointer = path.replace("~", "~0").replace("/", "~1")
    return {"operationRef": f"#/paths/{pointer}/{method}", "description": description, "parameters": parameters}


def _ok(links: dict[str, Any], headers: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"responses": {"200": {"links": links, **({"headers": headers} if headers else {})}}}


def _edit_table(description: str) -> dict[str, Any]:
    return _link(
        _TABLE,
        "patch",
        description,
        {
            "path.database": "$request.path.database",
            "path.table": "$response.body#/name",
            "header.If-Match": "$response.header.ETag",
        },
    )


def _edit_column(description: str) -> dict[str, Any]:
    return _link(
        _COLUMN,
        "patch",
        description,
        {**_IN_TABLE, "path.column": "$response.body#/name", "header.If-Match": "$response.header.ETag"},
    )


_TABLES = "/databases/{database}/tables"
DATABASE_LIST = _ok(
    {
        "ListFirstDatabaseTables": _link(
            _TABLES, "get", "the tables of the first database listed", {"path.database": "$response.body#/items/0/name"}
        )
    }
)
DATABASE_READ = _ok(
    {"ListTables": _link(_TABLES, "get", "the database's tables", {"path.database": "$response.body#/name"})}
)
TABLE_LIST = _ok(
    {
        "GetFirstTable": _link(
            _TABLE,
            "get",
            "the first table listed",
            {"path.database": "$request.path.database", "path.table": "$response.body#/items/0/name"},
        )
    }
)
TABLE_READ = _ok(
    {
        "EditTable": _edit_table("edit the revision read"),
        "ListColumns": _link(
            _TABLE + "/columns",
            "get",
            "the table's columns",
            {"path.database": "$request.path.database", "path.table": "$response.body#/name"},
        ),
    },
    ETAG,
)
TABLE_EDIT = {"parameters": [IF_MATCH], **_ok({"EditTableAgain": _edit_table("edit the revision written")}, ETAG)}
COLUMN_LIST = _ok(
    {
        "GetFirstColumn": _link(
            _COLUMN, "get", "the first column listed", {**_IN_TABLE, "path.column": "$response.body#/items/0/name"}
        )
    }
)
COLUMN_READ = _ok({"EditColumn": _edit_column("edit the revision read")}, ETAG)
COLUMN_EDIT = {"parameters": [IF_MATCH], **_ok({"EditColumnAgain": _edit_column("edit the revision written")}, ETAG)}
