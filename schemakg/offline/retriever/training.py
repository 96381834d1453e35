"""Fine-tuning the dual tower: in-db hard negatives + in-batch negatives, early stopping, resumable.

Loss per question, over every column in the batch (its own database's sampled columns are the
hard negatives, the other databases' columns are in-batch negatives). Some databases of each batch are
written as a warehouse holding many databases names them, ``<db>__<table>``; those also get other
databases' same-named tables as negatives (``singer`` of ``concert_singer`` against ``singer`` of
``singer``), so the model learns to read the namespace.
- multi-positive listwise softmax: each gold column against all negatives, ``-log(e^{s_p/τ} /
  (e^{s_p/τ} + Σ_n e^{s_n/τ}))`` — ranking;
- balanced BCE on ``(s - b)/τ`` with a learned global bias ``b`` — pushes gold columns above and
  the rest below one normalised-score level, which is what a single threshold needs.
Scores are the normalised late-interaction scores the selection policy thresholds.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from pydantic import BaseModel
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from tqdm import tqdm

from schemakg.offline.retriever.data import (
    LabelledQuestion,
    QuestionSource,
    builtin_sources,
    column_docs_by_db,
    label,
    split_by_database,
    subsample,
)
from schemakg.offline.retriever.validation import (
    calibrate_on,
    recall_at_k,
    report,
    score_split,
    selection_metrics,
)
from schemakg.retrieval.artifacts import (
    RetrieverModel,
    activate,
    is_complete,
    new_version,
    save_artefact,
)
from schemakg.retrieval.column_docs import ColumnDoc
from schemakg.retrieval.encoder import (
    AdapterConfig,
    DualTowerEncoder,
    EncoderConfig,
    late_interaction,
    normalise,
)
from schemakg.retrieval.paths import cache_dir, models_dir


class TrainConfig(BaseModel):
    """Everything that determines a run; stored in the checkpoint and the artefact."""

    sources: list[str] = ["spider-train", "bird-train", "spider-syn-train"]
    corpus_dir: Path = Path("../shared/data")
    max_train_questions: int | None = None
    val_fraction: float = 0.15
    monitor_questions: int = 300  # validation subset scored at each evaluation during training
    epochs: int = 2
    max_steps: int | None = None
    batch_size: int = 16
    questions_per_db: int = 8
    max_columns_per_db: int = 40  # gold columns always kept, negatives sampled up to this
    namespaced_fraction: float = 0.5  # share of a batch's databases written ``<db>__<table>``
    cross_db_negatives: int = 16  # per namespaced database: columns of other databases' same-named tables
    adapter: AdapterConfig = AdapterConfig()  # LoRA adapters; the base model stays frozen
    lr: float = 5e-4
    cnn_lr: float = 1e-4
    weight_decay: float = 0.01
    warmup_fraction: float = 0.06
    temperature: float = 0.05
    bce_weight: float = 0.5
    eval_every: int = 50
    patience: int = 4
    recall_k: int = 10
    min_columns: int = 3
    max_columns: int = 20
    beta: float = 6.0
    example_values: int = 3
    seed: int = 13
    encoder: EncoderConfig = EncoderConfig()


class LossHead(nn.Module):
    """The loss and its one learned parameter (the BCE decision level)."""

    def __init__(self, temperature: float, bce_weight: float) -> None:
        super().__init__()
        self.temperature = temperature
        self.bce_weight = bce_weight
        self.bias = nn.Parameter(torch.tensor(0.5))

    def forward(self, scores: Tensor, positives: Tensor) -> Tensor:
        rows = (~positives).any(dim=1)  # a question needs negatives to be ranked against
        logits, pos = scores[rows] / self.temperature, positives[rows]
        lse_neg = torch.logsumexp(logits.masked_fill(pos, float("-inf")), dim=1, keepdim=True)
        listwise = F.softplus(lse_neg - logits)[pos].sum() / pos.sum().clamp(min=1)
        bce_logits = (scores - self.bias) / self.temperature
        parts = [  # balanced: the mean over gold columns and the mean over the rest weigh the same
            F.binary_cross_entropy_with_logits(bce_logits[mask], torch.full_like(bce_logits[mask], target))
            for mask, target in ((positives, 1.0), (~positives, 0.0))
            if mask.any()
        ]
        return listwise + self.bce_weight * torch.stack(parts).mean()


def make_batches(
    questions: Sequence[LabelledQuestion], config: TrainConfig, epoch: int
) -> list[list[LabelledQuestion]]:
    """Groups of ``questions_per_db`` questions from one database, ``batch_size // questions_per_db`` groups a batch.

    Same-db groups share the encoded columns (the expensive part); the order depends only on seed and epoch,
    so a resumed run replays exactly the batches it had not seen.
    """
    rng = random.Random(config.seed * 1000 + epoch)
    by_db: dict[str, list[LabelledQuestion]] = defaultdict(list)
    for q in questions:
        by_db[q.db_key].append(q)
    groups: list[list[LabelledQuestion]] = []
    for db in sorted(by_db):
        qs = by_db[db][:]
        rng.shuffle(qs)
        groups += [qs[i : i + config.questions_per_db] for i in range(0, len(qs), config.questions_per_db)]
    rng.shuffle(groups)
    per_batch = max(1, config.batch_size // config.questions_per_db)
    return [list(chain.from_iterable(groups[i : i + per_batch])) for i in range(0, len(groups), per_batch)]


class SameNamedTables:
    """Every database's columns by table name, to find other databases' tables named like a given one."""

    def __init__(self, docs: dict[str, list[ColumnDoc]]) -> None:
        self._columns: dict[tuple[str, str], list[ColumnDoc]] = defaultdict(list)
        for db_key, db_docs in docs.items():
            for doc in db_docs:
                self._columns[(db_key, doc.table.lower())].append(doc)
        self._databases: dict[str, list[str]] = defaultdict(list)
        for db_key, table in self._columns:
            self._databases[table].append(db_key)

    def columns(self, db_key: str, tables: Iterable[str]) -> list[tuple[str, ColumnDoc]]:
        """``(db_key, column)`` of the other databases' tables named like ``tables``."""
        names = {t.lower() for t in tables}
        return [
            (other, doc)
            for name in sorted(names)
            for other in self._databases.get(name, [])
            if other != db_key
            for doc in self._columns[(other, name)]
        ]


def namespaced(doc: ColumnDoc) -> ColumnDoc:
    """The column as a warehouse holding many databases names it."""
    return doc.model_copy(update={"table": f"{doc.db_id}__{doc.table}"})


def batch_columns(
    batch: Sequence[LabelledQuestion],
    docs: dict[str, list[ColumnDoc]],
    config: TrainConfig,
    rng: random.Random,
    same_named: SameNamedTables | None = None,
) -> tuple[list[ColumnDoc], Tensor]:
    """Columns to encode for a batch and the ``[questions, columns]`` positive mask."""
    chosen: list[tuple[str, ColumnDoc, ColumnDoc]] = []  # (db_key, column, the text the model reads)
    for db_key in dict.fromkeys(q.db_key for q in batch):
        gold = {c for q in batch if q.db_key == db_key for c in q.columns}
        db_docs = docs[db_key]
        negatives = [d for d in db_docs if d.key not in gold]
        budget = max(0, config.max_columns_per_db - len(gold))
        keep = {d.key for d in db_docs if d.key in gold} | {
            d.key for d in rng.sample(negatives, min(budget, len(negatives)))
        }
        if same_named is None or rng.random() >= config.namespaced_fraction:
            chosen += [(db_key, d, d) for d in db_docs if d.key in keep]
            continue
        chosen += [(db_key, d, namespaced(d)) for d in db_docs if d.key in keep]
        gold_tables = {t for q in batch if q.db_key == db_key for t in q.tables}
        others = same_named.columns(db_key, gold_tables)
        chosen += [
            (other, d, namespaced(d)) for other, d in rng.sample(others, min(config.cross_db_negatives, len(others)))
        ]
    positives = torch.tensor([[key == q.db_key and d.key in q.columns for key, d, _ in chosen] for q in batch])
    return [text for _, _, text in chosen], positives


class _Run:
    """Mutable state of one training run, checkpointed after each evaluation."""

    def __init__(self, directory: Path, config: TrainConfig) -> None:
        self.directory = directory
        self.config = config
        self.epoch = 0
        self.batch_in_epoch = 0
        self.step = 0
        self.best = -1.0
        self.bad_evals = 0
        self.curve: list[dict[str, Any]] = []
        self.baseline: dict[str, Any] | None = None
        self.elapsed_s = 0.0

    @property
    def checkpoint(self) -> Path:
        return self.directory / "checkpoint"

    def save(
        self,
        encoder: DualTowerEncoder,
        head: LossHead,
        optimizer: torch.optim.Optimizer,
        scheduler: Any,
        rng: random.Random,
    ) -> None:
        self.checkpoint.mkdir(parents=True, exist_ok=True)
        save_file(encoder.adapter_state(), self.checkpoint / "last.safetensors")
        state = {
            "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(),
            "head": head.state_dict(),
            "torch_rng": torch.get_rng_state(),
            "py_rng": rng.getstate(),
        }
        torch.save(state, self.checkpoint / "state.tmp")
        (self.checkpoint / "state.tmp").replace(self.checkpoint / "state.pt")
        meta = {
            k: getattr(self, k)
            for k in ("epoch", "batch_in_epoch", "step", "best", "bad_evals", "curve", "baseline", "elapsed_s")
        }
        meta["config"] = json.loads(self.config.model_dump_json())
        (self.checkpoint / "run.json").write_text(json.dumps(meta, indent=2))

    @classmethod
    def load(cls, directory: Path) -> _Run:
        meta = json.loads((directory / "checkpoint" / "run.json").read_text())
        run = cls(directory, TrainConfig.model_validate(meta.pop("config")))
        for k, v in meta.items():
            setattr(run, k, v)
        return run


def resumable_version(root: Path | None = None) -> str | None:
    """Newest version folder with a checkpoint but no finished artefact."""
    base = models_dir(root)
    if not base.exists():
        return None
    pending = [d.name for d in base.iterdir() if (d / "checkpoint" / "run.json").exists() and not is_complete(d)]
    return max(pending, default=None)


def train(
    config: TrainConfig,
    root: Path | None = None,
    resume: str | None = None,
    extra_sources: Sequence[QuestionSource] = (),
    activate_model: bool = True,
    baseline: bool = True,
) -> tuple[RetrieverModel, dict[str, Any]]:
    """Train, calibrate the threshold on the validation split, write and (optionally) activate the artefact."""
    started = time.monotonic()
    if resume:
        run = _Run.load(models_dir(root) / resume)
        config = run.config
    else:
        run = _Run(models_dir(root) / new_version(), config)
    torch.manual_seed(config.seed)
    rng = random.Random(config.seed)
    earlier = run.elapsed_s

    def elapsed() -> float:
        return earlier + time.monotonic() - started

    sources = [*builtin_sources(config.sources, config.corpus_dir), *extra_sources]
    labelled = [q for s in tqdm(sources, desc="labelling sources") for q in label(s, cache_dir(root))]
    docs = column_docs_by_db(sources, config.example_values)
    train_q, val_q = split_by_database(labelled, config.val_fraction, config.seed)
    train_q = subsample([q for q in train_q if q.columns], config.max_train_questions, config.seed)
    val_q = [q for q in val_q if q.columns]
    monitor = subsample(val_q, config.monitor_questions, config.seed)
    same_named = SameNamedTables({k: v for k, v in docs.items() if k in {q.db_key for q in train_q}})

    encoder = DualTowerEncoder.from_base(config.encoder)
    encoder.add_adapters(config.adapter)
    head = LossHead(config.temperature, config.bce_weight)
    lora_params = [p for n, p in encoder.named_parameters() if ".bert." in f".{n}" and p.requires_grad]
    cnn_params = [p for n, p in encoder.named_parameters() if ".cnn." in f".{n}"]
    optimizer = torch.optim.AdamW(
        [
            {"params": lora_params, "lr": config.lr, "weight_decay": config.weight_decay},
            {"params": cnn_params, "lr": config.cnn_lr, "weight_decay": 0.0},
            {"params": head.parameters(), "lr": config.cnn_lr, "weight_decay": 0.0},
        ]
    )
    batches_per_epoch = len(make_batches(train_q, config, 0))
    total_steps = min(config.max_steps or 10**9, config.epochs * batches_per_epoch)
    warmup = max(1, int(config.warmup_fraction * total_steps))
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda s: min((s + 1) / warmup, max(0.0, (total_steps - s) / max(1, total_steps - warmup)))
    )
    if resume:
        encoder.load_adapter_state(load_file(run.checkpoint / "last.safetensors"))
        state = torch.load(run.checkpoint / "state.pt", weights_only=True)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        head.load_state_dict(state["head"])
        torch.set_rng_state(state["torch_rng"])
        rng.setstate(state["py_rng"])

    def evaluate(tag: str, **extra: float) -> float:
        encoder.eval()
        scored = score_split(encoder, monitor, docs)
        policy = calibrate_on(scored, config.min_columns, config.max_columns, config.beta)
        figures = recall_at_k(scored, config.recall_k)
        point = {
            "step": run.step,
            "epoch": run.epoch,
            "tag": tag,
            **extra,
            **figures,
            **selection_metrics(scored, policy),
            "threshold": policy.threshold,
            "elapsed_s": round(elapsed(), 1),
        }
        run.curve.append(point)
        tqdm.write(json.dumps(point))
        encoder.train()
        return figures[f"recall@{config.recall_k}"]

    if baseline and run.baseline is None:
        scored = score_split(encoder.eval(), val_q, docs)
        policy = calibrate_on(scored, config.min_columns, config.max_columns, config.beta)
        run.baseline = report(scored, policy, config.recall_k, config.seed)
    if not run.curve:
        run.best = evaluate("zero-shot")
        run.checkpoint.mkdir(parents=True, exist_ok=True)
        save_file(encoder.adapter_state(), run.checkpoint / "best.safetensors")

    encoder.train()
    losses: list[float] = []
    stop = run.bad_evals >= config.patience or run.step >= total_steps
    progress = tqdm(total=total_steps, initial=run.step, desc="training", unit="step")
    while not stop and run.epoch < config.epochs:
        batches = make_batches(train_q, config, run.epoch)
        while not stop and run.batch_in_epoch < len(batches):
            batch = batches[run.batch_in_epoch]
            columns, positives = batch_columns(batch, docs, config, rng, same_named)
            q = encoder.question_vectors([x.question for x in batch])
            c = encoder.column_vectors(columns)
            loss = head(normalise(late_interaction(q, c), q.mask), positives)
            optimizer.zero_grad()
            loss.backward()
            torch.nn.utils.clip_grad_norm_(encoder.parameters(), 1.0)
            optimizer.step()
            scheduler.step()
            losses.append(loss.item())
            run.step += 1
            run.batch_in_epoch += 1
            progress.update(1)
            progress.set_postfix(loss=f"{sum(losses[-20:]) / len(losses[-20:]):.3f}")
            if run.step % config.eval_every == 0 or run.step >= total_steps:
                metric = evaluate("train", train_loss=sum(losses) / max(1, len(losses)))
                losses.clear()
                if metric > run.best:
                    run.best, run.bad_evals = metric, 0
                    save_file(encoder.adapter_state(), run.checkpoint / "best.safetensors")
                else:
                    run.bad_evals += 1
                stop = run.bad_evals >= config.patience or run.step >= total_steps
                run.elapsed_s = elapsed()
                run.save(encoder, head, optimizer, scheduler, rng)
        if run.batch_in_epoch >= len(batches):
            run.epoch, run.batch_in_epoch = run.epoch + 1, 0
    progress.close()

    encoder.load_adapter_state(load_file(run.checkpoint / "best.safetensors"))
    encoder.save(run.directory)  # float16 adapter; the figures below are those of the stored file
    encoder = DualTowerEncoder.load(run.directory)
    scored = score_split(encoder, val_q, docs)
    policy = calibrate_on(scored, config.min_columns, config.max_columns, config.beta)
    metrics = {
        "fine_tuned": report(scored, policy, config.recall_k, config.seed),
        "zero_shot": run.baseline,
        "best_monitor_recall": run.best,
        "steps": run.step,
        "train_questions": len(train_q),
        "val_questions": len(val_q),
        "wall_time_s": round(elapsed(), 1),
    }
    model = RetrieverModel(version=run.directory.name, encoder=encoder, selection=policy)
    save_artefact(run.directory, model.version, policy, json.loads(config.model_dump_json()), metrics, run.curve)
    shutil.rmtree(run.checkpoint)  # finished: optimizer state is ~2x the model and resuming is moot
    if activate_model:
        activate(model.version, root)
    return model, metrics
