"""The area reranker: the text it reads (formatting) and the shipped cross-encoder itself (real weights)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from schemakg.retrieval.area_reranker import AreaReranker, RerankerConfig
from schemakg.retrieval.area_text import area_text, area_texts
from schemakg.retrieval.index import ColumnScores
from schemakg.retrieval.routing import route

SINGERS = "concert singer | singer: name, country ; concert: concert name, year"
PAYROLL = "payroll | employee: first name, salary ; department: budget"


def test_area_text_groups_columns_by_table_in_order_of_their_best_column() -> None:
    columns = [("singer", "Name"), ("concert", "Year"), ("singer", "Country"), ("stadium", "Capacity")]
    assert area_text("concert_singer", columns) == (
        "concert singer | singer: name, country ; concert: year ; stadium: capacity"
    )
    assert area_text(None, columns, max_columns=2) == "singer: name ; concert: year"


def test_area_texts_name_each_area_by_its_namespace_and_keep_its_best_columns() -> None:
    keys = ["p__employee.salary", "m__singer.name", "m__concert.year", "m__singer.country", "p__dept.budget", "x.y"]
    scores = ColumnScores(keys, torch.tensor([0.9, 0.8, 0.7, 0.6, 0.5, 0.4]), tokens=1)
    areas = {"m__singer": 0, "m__concert": 0, "p__employee": 1, "p__dept": 1, "x": 2}
    texts = area_texts(scores, areas, [0, 1], max_columns=2)
    assert texts == {0: "m | singer: name ; concert: year", 1: "p | employee: salary ; dept: budget"}


@pytest.fixture(scope="module")
def shipped() -> AreaReranker:
    torch.set_num_threads(1)
    return AreaReranker.load()


def test_the_shipped_reranker_prefers_the_area_that_answers_the_question(shipped: AreaReranker) -> None:
    singers, payroll = shipped.score("How many singers are from France?", [SINGERS, PAYROLL])
    assert singers > payroll
    payroll_first = shipped.score("What is the average salary of employees in each department?", [SINGERS, PAYROLL])
    assert payroll_first[1] > payroll_first[0]


def test_saved_weights_load_back_to_the_same_logits(tmp_path: Path) -> None:
    torch.manual_seed(0)
    model = AreaReranker.from_base(RerankerConfig(max_length=64)).eval()
    with torch.no_grad():
        for name, parameter in model.bert.named_parameters():
            if "lora_B" in name:  # LoRA starts as a no-op; make it change something
                parameter.normal_(0, 0.02)
    expected = model.score("How many singers are from France?", [SINGERS, PAYROLL])
    model.save(tmp_path)
    loaded = AreaReranker.load(tmp_path)
    assert loaded.config.max_length == 64
    assert loaded.score("How many singers are from France?", [SINGERS, PAYROLL]) == pytest.approx(expected, abs=0.02)


def test_routing_lets_the_reranker_reorder_the_best_covered_databases(shipped: AreaReranker) -> None:
    def scores(columns: list[str], coverage: float) -> ColumnScores:
        per_token = torch.full((1, len(columns)), coverage)
        return ColumnScores(columns, torch.linspace(0.9, 0.5, len(columns)), tokens=1, per_token=per_token)

    candidates = {
        "hr": scores(["employee.salary", "employee.name", "department.budget"], 0.72),
        "concert_singer": scores(["singer.name", "singer.country", "concert.year"], 0.70),
    }
    question = "How many singers are from France?"
    assert [r.database for r in route(candidates)] == ["hr", "concert_singer"]
    reranked = route(candidates, question=question, reranker=shipped, rerank=2)
    assert [r.database for r in reranked] == ["concert_singer", "hr"]
    assert reranked[0].score == pytest.approx(0.7)  # still its coverage; the final score is beside it
    assert reranked[0].rerank_score is not None and reranked[0].rerank_score > (reranked[1].rerank_score or 0.0)
    assert route(candidates, question=question, reranker=shipped, rerank=1)[0].database == "hr"
    decided = {**candidates, "hr": scores(["employee.salary", "employee.name", "department.budget"], 0.80)}
    kept = route(decided, question=question, reranker=shipped, rerank=2)  # coverage leads by DECIDED or more
    assert [r.database for r in kept] == ["hr", "concert_singer"] and kept[0].rerank_score is None
    assert kept[0].decided and not reranked[0].decided  # whether coverage alone chose the first
