"""The optional LLM step of SchemaGraphSQL: one call names the source and destination tables."""

from __future__ import annotations

import re

from schemakg.generation.llm.base import ChatMessage, ChatModel
from schemakg.generation.prompts import render_prompt


def parse_src_dst(text: str, tables: list[str]) -> tuple[list[str], list[str]]:
    """``src=a, b`` / ``dst=c`` lines -> known table names (case-insensitive); unknown names are dropped."""
    known = {t.lower(): t for t in tables}
    found: dict[str, list[str]] = {"src": [], "dst": []}
    pattern = r"\b(src|dst)\s*[=:]\s*(.*?)(?=\b(?:src|dst)\s*[=:]|\n|$)"
    for side, names in re.findall(pattern, text, flags=re.IGNORECASE):
        for name in re.split(r"[,;\s]+", names):
            table = known.get(name.strip(" `\"'.[]()").lower())
            if table and table not in found[side.lower()]:
                found[side.lower()].append(table)
    return found["src"], found["dst"]


class LLMTablePicker:
    def __init__(self, llm: ChatModel) -> None:
        self.llm = llm

    def pick(self, question: str, columns_by_table: dict[str, list[str]]) -> tuple[list[str], list[str]]:
        listing = "\n".join(f"- {table}: {', '.join(columns[:8])}" for table, columns in columns_by_table.items())
        reply = self.llm.chat(
            [ChatMessage(role="user", content=render_prompt("table_src_dst.j2", tables=listing, question=question))],
            max_tokens=64,
            temperature=0.0,
        )
        return parse_src_dst(reply.text, list(columns_by_table))
