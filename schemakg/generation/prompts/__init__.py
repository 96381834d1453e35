"""Every prompt SchemaKG sends, as Jinja2 templates in this folder; few-shot examples are data files in ``examples/``.

Templates are rendered with ``StrictUndefined`` (a missing value is an error, not an empty string) and keep
their trailing newline, so what a template file shows is exactly what the model reads.
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

import jinja2

_ENVIRONMENT = jinja2.Environment(
    loader=jinja2.PackageLoader("schemakg.generation", "prompts"),
    undefined=jinja2.StrictUndefined,
    keep_trailing_newline=True,
    autoescape=False,
)


def template(name: str) -> jinja2.Template:
    return _ENVIRONMENT.get_template(name)


def render_prompt(name: str, **values: Any) -> str:
    return template(name).render(**values)


def template_source(name: str) -> str:
    """A template's text, for engines that render it themselves (a tokenizer's chat template)."""
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


@cache
def load_examples(name: str) -> list[dict[str, Any]]:
    """A few-shot example file from ``examples/`` (JSON)."""
    text = resources.files(__package__).joinpath("examples", name).read_text(encoding="utf-8")
    examples: list[dict[str, Any]] = json.loads(text)
    return examples
