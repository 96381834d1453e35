"""Training the area reranker (``schemakg.retrieval.area_reranker``) on the training databases.

Each training question is routed by coverage, as the linker and the router do, over every training
database at once (one column index, the shipped retriever); the right database and the best-covering
wrong ones become one group, each written as :func:`area_text` from that question's column ranking,
and the loss is a softmax over the group (listwise). The hard negatives are exactly the confusions the
reranker is there to fix. The validation databases (15 % by database, seed 13, as the retriever's)
are never indexed, so never even seen as negatives.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from pydantic import BaseModel

from schemakg.kernel.model import split_column_ref
from schemakg.offline.retriever.data import (
    LabelledQuestion,
    builtin_sources,
    column_docs_by_db,
    label,
    split_by_database,
    subsample,
)
from schemakg.retrieval.area_reranker import AreaReranker, RerankerConfig
from schemakg.retrieval.area_text import area_text
from schemakg.retrieval.artifacts import load_model
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.index import ColumnIndex
from schemakg.retrieval.paths import cache_dir

Progress = Callable[[str], None]


class RerankerTrainConfig(BaseModel):
    sources: list[str] = ["spider-train", "bird-train", "spider-syn-train"]
    corpus_dir: Path = Path("../shared/data")
    val_fraction: float = 0.15
    seed: int = 13
    questions: int = 4000
    candidates: int = 8  # best-covering wrong databases a group's negatives are drawn from
    group_size: int = 4  # the right database and this many minus one wrong ones
    batch_questions: int = 8
    learning_rate: float = 2e-4
    drop_name: float = 0.2  # share of groups shown without database names (not every catalogue names well)
    threads: int = 2
    model: RerankerConfig = RerankerConfig()


class Group(BaseModel):
    question: str
    gold: str
    ranked: dict[str, list[str]]  # database -> its columns for this question, best first (gold + negatives)
    negatives: list[str]  # by coverage, best first
    coverage_first: bool  # coverage alone already ranks the right database first


def _db_name(db_key: str) -> str:
    return db_key.split(":", 1)[1]


def hard_negative_groups(
    questions: list[LabelledQuestion],
    docs: dict[str, list[ColumnDoc]],
    databases: list[str],
    config: RerankerTrainConfig,
    progress: Progress,
) -> list[Group]:
    """Each question's right database and the best-covering wrong ones among ``databases``, with the
    question's column ranking in each."""
    model = load_model()
    with tempfile.TemporaryDirectory() as folder:
        index = ColumnIndex(Path(folder), model.encoder, model.version, cache_bytes=2**31)
        for n, db in enumerate(databases, 1):
            index.upsert(db, docs[db])
            if n % 20 == 0:
                progress(f"indexed {n}/{len(databases)} databases")
        groups: list[Group] = []
        for start in range(0, len(questions), 64):
            batch = questions[start : start + 64]
            encoded = model.encoder.encode_questions([q.question for q in batch])
            per_db = {db: index.score(db, encoded) for db in databases}
            for i, q in enumerate(batch):
                coverage = {db: float(per_db[db][i].coverage()[0]) for db in databases}
                wrong = sorted((db for db in databases if db != q.db_key), key=lambda d: -coverage[d])
                negatives = wrong[: config.candidates]
                ranked = {
                    db: [s.key for s in per_db[db][i].ranked(config.model.max_columns)] for db in [q.db_key, *negatives]
                }
                first = not wrong or coverage[q.db_key] > coverage[wrong[0]]
                groups.append(
                    Group(question=q.question, gold=q.db_key, ranked=ranked, negatives=negatives, coverage_first=first)
                )
            progress(f"routed {min(start + 64, len(questions))}/{len(questions)} training questions")
    return groups


def group_texts(group: Group, rng: random.Random, config: RerankerTrainConfig) -> list[str]:
    """The right database's text first, then ``group_size - 1`` wrong ones drawn from the best-covering."""
    wrong = rng.sample(group.negatives, min(config.group_size - 1, len(group.negatives)))
    named = rng.random() >= config.drop_name
    return [
        area_text(_db_name(db) if named else None, [split_column_ref(k) for k in group.ranked[db]])
        for db in [group.gold, *wrong]
    ]


def train_reranker(config: RerankerTrainConfig, out: Path, progress: Progress = print) -> dict[str, float]:
    """Train, save the weights under ``out`` and return the training summary."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    sources = builtin_sources(config.sources, config.corpus_dir)
    labelled = [q for s in sources for q in label(s, cache_dir())]
    train_q, _ = split_by_database(labelled, config.val_fraction, config.seed)
    databases = sorted({q.db_key for q in train_q})
    train_q = subsample([q for q in train_q if q.tables], config.questions, config.seed)
    docs = column_docs_by_db(sources)
    started = time.perf_counter()
    groups = hard_negative_groups(train_q, docs, databases, config, progress)
    routed_first = sum(g.coverage_first for g in groups) / len(groups)
    progress(f"coverage ranks the right database first for {routed_first:.3f} of the training questions")

    model = AreaReranker.from_base(config.model)
    model.train()
    optimiser = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=config.learning_rate)
    steps = (len(groups) + config.batch_questions - 1) // config.batch_questions
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimiser, config.learning_rate, total_steps=steps, pct_start=0.1)
    rng.shuffle(groups)
    losses: list[float] = []
    hits: list[bool] = []
    for step in range(steps):
        batch = groups[step * config.batch_questions : (step + 1) * config.batch_questions]
        texts = [group_texts(g, rng, config) for g in batch]
        flat_q = [g.question for g, t in zip(batch, texts, strict=True) for _ in t]
        logits = model.logits(flat_q, [x for t in texts for x in t]).view(len(batch), -1)
        loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(batch), dtype=torch.long))
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        scheduler.step()
        losses.append(loss.item())
        hits.extend((logits.argmax(dim=1) == 0).tolist())
        if (step + 1) % 20 == 0 or step + 1 == steps:
            recent = losses[-20:]
            progress(
                f"step {step + 1}/{steps} loss {sum(recent) / len(recent):.3f} "
                f"group top-1 {sum(hits[-160:]) / len(hits[-160:]):.3f}"
            )
    model.eval()
    model.save(out)
    summary = {
        "questions": len(groups),
        "steps": steps,
        "coverage_first": routed_first,
        "final_loss": sum(losses[-50:]) / len(losses[-50:]),
        "minutes": (time.perf_counter() - started) / 60,
    }
    (out / "training.json").write_text(
        json.dumps({"config": json.loads(config.model_dump_json()), **summary}, indent=2)
    )
    return summary
