"""The layering rules that import-linter cannot see: Cypher lives only in the store, prompts only in their folder."""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "schemakg"
STORE = PACKAGE / "kernel" / "store"
PROMPTS = PACKAGE / "generation" / "prompts"
CYPHER = re.compile(r"\b(MATCH|MERGE|UNWIND|DETACH DELETE|OPTIONAL MATCH)\s*\(|\bRETURN\s+\w+\s+AS\b")


def _string_constants(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [
        (node.lineno, node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]


def _modules_outside(folder: Path) -> list[Path]:
    return [p for p in PACKAGE.rglob("*.py") if folder not in p.parents]


def test_no_cypher_outside_the_store() -> None:
    found = [
        f"{path.relative_to(PACKAGE)}:{line}"
        for path in _modules_outside(STORE)
        for line, text in _string_constants(path)
        if CYPHER.search(text)
    ]
    assert found == []


def test_the_cypher_check_sees_cypher() -> None:
    assert CYPHER.search("MATCH (q:QueryExample {database: $db}) RETURN q.sql AS sql")
    assert not CYPHER.search("Match the question to the schema; return the columns as JSON")


def test_prompt_templates_live_in_one_folder() -> None:
    stray = [p for p in PACKAGE.rglob("*") if p.suffix in {".txt", ".j2", ".jinja"} and PROMPTS not in p.parents]
    assert stray == []
    assert not [p for p in PACKAGE.rglob("*.py") if "string import Template" in p.read_text(encoding="utf-8")]
