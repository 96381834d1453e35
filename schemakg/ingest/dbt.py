"""Reading a dbt project's documentation from ``manifest.json`` (and optionally ``catalog.json``).

Only the fields the import uses are modelled (manifest schema v12, what dbt 1.8 and later write; catalog v1);
everything else in the files is ignored. The result, :class:`DbtDocs`, names relations as dbt does
(database, schema, identifier) and knows nothing of the catalogue: mapping is the import service's business.
"""

from __future__ import annotations

import json
import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from schemakg.kernel.errors import InvalidInput

MANIFEST_VERSIONS = ("v12",)  # dbt 1.8 and later
CATALOG_VERSIONS = ("v1",)
DOCUMENTED = ("model", "seed", "snapshot")  # nodes that are relations in the warehouse (sources aside)
KEY_TESTS = ("unique", "not_null")
_VERSION = re.compile(r"/(manifest|catalog)/(v\d+)\.json$")
_REF = re.compile(r"""^\s*(ref|source)\(\s*(['"][^'"]+['"](?:\s*,\s*['"][^'"]+['"])*)\s*\)\s*$""")
_WHERE_SUBQUERY = re.compile(r"get_where_subquery\((.*)\)\s*}}")


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class _Metadata(_Loose):
    dbt_schema_version: str
    dbt_version: str | None = None


class _Header(_Loose):
    """What a file says it is, checked before the rest is read."""

    metadata: _Metadata


class _Column(_Loose):
    name: str
    description: str | None = None


class _DependsOn(_Loose):
    nodes: list[str] = Field(default_factory=list)


class _TestMetadata(_Loose):
    name: str
    namespace: str | None = None
    arguments: dict[str, Any] = Field(default_factory=dict, alias="kwargs")


class _Node(_Loose):
    unique_id: str
    resource_type: str
    name: str
    database: str | None = None
    schema_: str | None = Field(default=None, alias="schema")
    alias: str | None = None
    description: str | None = None
    columns: dict[str, _Column] = Field(default_factory=dict)
    depends_on: _DependsOn = Field(default_factory=_DependsOn)
    test_metadata: _TestMetadata | None = None
    attached_node: str | None = None
    column_name: str | None = None


class _Source(_Loose):
    unique_id: str
    name: str
    source_name: str
    database: str | None = None
    schema_: str = Field(alias="schema")
    identifier: str | None = None
    description: str | None = None
    columns: dict[str, _Column] = Field(default_factory=dict)


class _Manifest(_Loose):
    metadata: _Metadata
    nodes: dict[str, _Node] = Field(default_factory=dict)
    sources: dict[str, _Source] = Field(default_factory=dict)


class _CatalogColumn(_Loose):
    name: str
    comment: str | None = None


class _CatalogMetadata(_Loose):
    database: str | None = None
    schema_: str = Field(alias="schema")
    name: str
    comment: str | None = None


class _CatalogTable(_Loose):
    metadata: _CatalogMetadata
    columns: dict[str, _CatalogColumn] = Field(default_factory=dict)


class _Catalog(_Loose):
    metadata: _Metadata
    nodes: dict[str, _CatalogTable] = Field(default_factory=dict)
    sources: dict[str, _CatalogTable] = Field(default_factory=dict)


class DbtColumn(BaseModel):
    name: str
    description: str | None = None
    key_hints: list[str] = Field(default_factory=list, description="unique / not_null, when dbt tests them")


class DbtRelation(BaseModel):
    """A model, seed, snapshot or source table: where it lives and what dbt says of it."""

    unique_id: str
    kind: Literal["model", "seed", "snapshot", "source"]
    database: str | None
    schema_name: str
    identifier: str
    description: str | None = None
    columns: list[DbtColumn] = Field(default_factory=list)

    @property
    def relation(self) -> str:
        return ".".join(part for part in (self.database, self.schema_name, self.identifier) if part)


class DbtRelationship(BaseModel):
    """A ``relationships`` test: ``column`` of ``child`` points to ``field`` of ``parent``."""

    test: str
    child: str
    column: str
    parent: str
    field: str


class DbtDocs(BaseModel):
    dbt_version: str | None = None
    relations: list[DbtRelation] = Field(description="sources first, then models, seeds and snapshots, by id")
    relationships: list[DbtRelationship] = Field(default_factory=list)
    ignored_tests: list[str] = Field(default_factory=list, description="key tests whose subject was not found")


def load_json(text: bytes | str, what: str) -> dict[str, Any]:
    """A JSON object out of ``text``; ``InvalidInput`` naming ``what`` when it is not one."""
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise InvalidInput(f"{what} is not JSON: {exc}") from exc
    return _object(data, what)


def _object(data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise InvalidInput(f"{what} is a JSON {type(data).__name__}, not an object")
    return data


def _validated(model: type[_Loose], data: Any, what: str) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = [{"location": [str(p) for p in err["loc"]], "problem": err["msg"]} for err in exc.errors()]
        first = problems[0]
        raise InvalidInput(f"{what}: {'.'.join(first['location'])}: {first['problem']}", problems) from exc


def _check_version(metadata: _Metadata, kind: str, supported: tuple[str, ...], what: str) -> None:
    found = _VERSION.search(metadata.dbt_schema_version)
    if found is None or found.group(1) != kind:
        raise InvalidInput(
            f"{what} is not a dbt {kind}: metadata.dbt_schema_version is {metadata.dbt_schema_version!r}"
        )
    if found.group(2) not in supported:
        raise InvalidInput(
            f"{what} is dbt {kind} {found.group(2)}; this release reads {', '.join(supported)} (dbt 1.8 or later)"
        )


def parse_manifest(manifest: Any, catalog: Any = None) -> DbtDocs:
    """The documentation in a dbt ``manifest.json`` (its JSON, loaded); ``catalog.json``, when given, adds the
    comments the warehouse holds where the manifest has no description. ``InvalidInput`` names the first
    problem."""
    data = _object(manifest, "the manifest")
    _check_version(_validated(_Header, data, "the manifest").metadata, "manifest", MANIFEST_VERSIONS, "the manifest")
    parsed: _Manifest = _validated(_Manifest, data, "the manifest")
    comments: dict[str, _CatalogTable] = {}
    if catalog is not None:
        data = _object(catalog, "the catalog")
        _check_version(_validated(_Header, data, "the catalog").metadata, "catalog", CATALOG_VERSIONS, "the catalog")
        read: _Catalog = _validated(_Catalog, data, "the catalog")
        comments = {**read.nodes, **read.sources}
    relations = [_source(source, comments.get(uid)) for uid, source in sorted(parsed.sources.items())]
    relations += [
        _node(node, comments.get(uid))
        for uid, node in sorted(parsed.nodes.items())
        if node.resource_type in DOCUMENTED and node.schema_ is not None
    ]
    by_id = {relation.unique_id: relation for relation in relations}
    names = _names(parsed)
    relationships, ignored = [], []
    for uid, node in sorted(parsed.nodes.items()):
        meta = node.test_metadata
        if node.resource_type != "test" or meta is None or meta.namespace not in (None, "dbt"):
            continue
        if meta.name not in (*KEY_TESTS, "relationships"):
            continue
        column = node.column_name or meta.arguments.get("column_name")
        subject = node.attached_node or _resolve(_subject_expression(meta.arguments.get("model")), node, names)
        if not isinstance(column, str) or subject not in by_id:
            ignored.append(uid)
            continue
        if meta.name in KEY_TESTS:
            _column(by_id[subject], column).key_hints.append(meta.name)
            continue
        parent = _resolve(meta.arguments.get("to"), node, names)
        field = meta.arguments.get("field")
        if parent not in by_id or not isinstance(field, str):
            ignored.append(uid)
            continue
        relationships.append(DbtRelationship(test=uid, child=subject, column=column, parent=parent, field=field))
    for relation in relations:
        for item in relation.columns:
            item.key_hints = sorted(set(item.key_hints))
    return DbtDocs(
        dbt_version=parsed.metadata.dbt_version, relations=relations, relationships=relationships, ignored_tests=ignored
    )


def _text(value: str | None) -> str | None:
    return value.strip() or None if value else None


def _columns(columns: dict[str, _Column], comments: _CatalogTable | None) -> list[DbtColumn]:
    described = {
        column.name: DbtColumn(name=column.name, description=_text(column.description)) for column in columns.values()
    }
    for column in (comments.columns if comments else {}).values():
        known = next((c for name, c in described.items() if name.lower() == column.name.lower()), None)
        if known is None:
            described[column.name] = DbtColumn(name=column.name, description=_text(column.comment))
        elif known.description is None:
            known.description = _text(column.comment)
    return list(described.values())


def _source(source: _Source, comments: _CatalogTable | None) -> DbtRelation:
    return DbtRelation(
        unique_id=source.unique_id,
        kind="source",
        database=source.database,
        schema_name=source.schema_,
        identifier=source.identifier or source.name,
        description=_text(source.description) or (_text(comments.metadata.comment) if comments else None),
        columns=_columns(source.columns, comments),
    )


def _node(node: _Node, comments: _CatalogTable | None) -> DbtRelation:
    assert node.schema_ is not None
    return DbtRelation(
        unique_id=node.unique_id,
        kind=node.resource_type,  # one of DOCUMENTED, checked by the caller
        database=node.database,
        schema_name=node.schema_,
        identifier=node.alias or node.name,
        description=_text(node.description) or (_text(comments.metadata.comment) if comments else None),
        columns=_columns(node.columns, comments),
    )


def _column(relation: DbtRelation, name: str) -> DbtColumn:
    """The relation's column ``name`` (ignoring case), added when only a test names it."""
    for column in relation.columns:
        if column.name.lower() == name.lower():
            return column
    added = DbtColumn(name=name)
    relation.columns.append(added)
    return added


def _names(manifest: _Manifest) -> dict[str, tuple[str, ...]]:
    """How ``ref`` and ``source`` name each relation: ``('ref', name)``, ``('source', source, table)``."""
    names: dict[str, tuple[str, ...]] = {
        uid: ("ref", node.name) for uid, node in manifest.nodes.items() if node.resource_type in DOCUMENTED
    }
    names.update({uid: ("source", s.source_name, s.name) for uid, s in manifest.sources.items()})
    return names


def _subject_expression(model: Any) -> str | None:
    """``ref('x')`` out of ``{{ get_where_subquery(ref('x')) }}``, the form dbt gives a test's ``model``."""
    if not isinstance(model, str):
        return None
    found = _WHERE_SUBQUERY.search(model)
    return found.group(1) if found else model


def _resolve(expression: Any, test: _Node, names: dict[str, tuple[str, ...]]) -> str | None:
    """The node among the test's dependencies that ``ref('x')`` / ``ref('pkg', 'x')`` / ``source('s', 't')``
    names."""
    if not isinstance(expression, str) or (found := _REF.match(expression)) is None:
        return None
    args = tuple(arg.strip().strip("'\"") for arg in found.group(2).split(","))
    wanted = ("ref", args[-1]) if found.group(1) == "ref" else ("source", *args)
    matches = [uid for uid in test.depends_on.nodes if names.get(uid) == wanted]
    return matches[0] if len(matches) == 1 else None
