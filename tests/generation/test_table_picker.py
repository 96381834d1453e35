"""The optional LLM source/destination step: parsing, and one real call with the local model."""

from __future__ import annotations

import pytest

from schemakg.app.container import Container
from schemakg.generation.table_picker import LLMTablePicker, parse_src_dst

TABLES = ["employees", "departments", "jobs"]


def test_parse_src_dst() -> None:
    assert parse_src_dst("src=departments\ndst=employees", TABLES) == (["departments"], ["employees"])
    assert parse_src_dst("Sure! src: `Departments`, jobs; dst = employees, payroll", TABLES) == (
        ["departments", "jobs"],
        ["employees"],
    )
    assert parse_src_dst("I don't know", TABLES) == ([], [])


@pytest.mark.slow
def test_local_model_names_known_tables(container: Container) -> None:
    pytest.importorskip("llama_cpp", reason="llama-cpp-python is installed by scripts/setup_llm.sh")
    from schemakg.generation.llm.model_files import ModelFilesError

    try:
        llm = container.llm
    except ModelFilesError as exc:
        pytest.skip(str(exc))
    source, destination = LLMTablePicker(llm).pick(
        "What are the first names of employees in the Finance department?",
        {
            "employees": ["first_name", "department_id"],
            "departments": ["department_id", "department_name"],
            "jobs": ["job_id", "job_title"],
        },
    )
    assert source or destination
    assert set(source + destination) <= set(TABLES)
