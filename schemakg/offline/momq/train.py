"""Training loop for MoMQ adapters: device-agnostic (CPU, or CUDA with bf16 autocast),
gradient accumulation, adapter-only checkpoints every K steps, resumable from the newest.

The data order of each epoch is a seeded permutation, so a resumed run skips exactly the
micro-batches already seen and continues on the same sequence as an uninterrupted run.
"""

from __future__ import annotations

import json
import math
import random
import shutil
import time
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import astuple, dataclass
from pathlib import Path

import torch
from pydantic import BaseModel, Field
from torch import Tensor
from tqdm import tqdm
from transformers import PreTrainedTokenizerBase

from schemakg.generation.momq.base import load_base_model, load_tokenizer, resolve_device
from schemakg.generation.momq.config import MoMQConfig
from schemakg.generation.momq.model import MoMQModel, MoMQOutput
from schemakg.generation.momq.prompts import EncodedExample, encode_example
from schemakg.offline.momq.data import MoMQExample, read_examples

TRAINER_STATE = "trainer_state.pt"
LOG_FILE = "train_log.jsonl"


class TrainConfig(BaseModel):
    base_model: Path
    data_dir: Path
    out_dir: Path
    momq: MoMQConfig = Field(default_factory=MoMQConfig)
    max_length: int = Field(default=4096, ge=8, description="longer examples are dropped, not truncated")
    batch_size: int = Field(default=4, ge=1)
    grad_accum: int = Field(default=4, ge=1)
    learning_rate: float = Field(default=2e-4, gt=0)
    weight_decay: float = 0.0
    warmup_steps: int = Field(default=50, ge=0)
    epochs: int = Field(default=2, ge=1)
    max_steps: int | None = Field(default=None, ge=1, description="optimiser steps; overrides epochs")
    max_grad_norm: float = 1.0
    save_every: int = Field(default=500, ge=1, description="optimiser steps between checkpoints")
    keep_checkpoints: int = Field(default=2, ge=1)
    log_every: int = Field(default=10, ge=1)
    gradient_checkpointing: bool = False
    device: str = "auto"
    seed: int = 0


@dataclass
class Batch:
    input_ids: Tensor
    attention_mask: Tensor
    labels: Tensor
    dialect_labels: Tensor

    def to(self, device: torch.device) -> Batch:
        return Batch(*(tensor.to(device) for tensor in astuple(self)))


def encode_dataset(
    examples: list[MoMQExample], tokenizer: PreTrainedTokenizerBase, config: MoMQConfig, max_length: int
) -> tuple[list[tuple[EncodedExample, int]], int]:
    """Encoded (example, dialect index) pairs of the model's dialects, and how many were too long."""
    encoded, too_long = [], 0
    for example in examples:
        if example.dialect not in config.dialects:
            continue
        item = encode_example(tokenizer, example.prompt, example.query)
        if len(item.input_ids) > max_length:
            too_long += 1
            continue
        encoded.append((item, config.dialect_index(example.dialect)))
    return encoded, too_long


def collate(items: list[tuple[EncodedExample, int]], pad_token_id: int) -> Batch:
    """Right-pad a micro-batch; padding gets label -100 and attention 0."""
    width = max(len(item.input_ids) for item, _ in items)
    input_ids = torch.full((len(items), width), pad_token_id, dtype=torch.long)
    labels = torch.full((len(items), width), -100, dtype=torch.long)
    attention_mask = torch.zeros((len(items), width), dtype=torch.long)
    for row, (item, _) in enumerate(items):
        length = len(item.input_ids)
        input_ids[row, :length] = torch.tensor(item.input_ids)
        labels[row, :length] = torch.tensor(item.labels)
        attention_mask[row, :length] = 1
    dialect_labels = torch.tensor([dialect for _, dialect in items], dtype=torch.long)
    return Batch(input_ids=input_ids, attention_mask=attention_mask, labels=labels, dialect_labels=dialect_labels)


def micro_batches(
    dataset: list[tuple[EncodedExample, int]], batch_size: int, seed: int, start: int
) -> Iterator[tuple[int, int, list[tuple[EncodedExample, int]]]]:
    """(epoch, micro-batch number, items) from micro-batch ``start`` on, endlessly."""
    per_epoch = math.ceil(len(dataset) / batch_size)
    epoch, offset = divmod(start, per_epoch)
    while True:
        order = list(range(len(dataset)))
        random.Random(seed + epoch).shuffle(order)
        for index in range(offset, per_epoch):
            chosen = order[index * batch_size : (index + 1) * batch_size]
            yield epoch, epoch * per_epoch + index, [dataset[position] for position in chosen]
        epoch, offset = epoch + 1, 0


def lr_factor(step: int, warmup: int, total: int) -> float:
    """Linear warm-up, then cosine decay to zero."""
    if step < warmup:
        return (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return 0.5 * (1.0 + math.cos(math.pi * min(1.0, progress)))


def checkpoints(out_dir: Path) -> list[Path]:
    """Checkpoint directories, oldest first."""
    return sorted((out_dir / "checkpoints").glob("step-*"), key=lambda path: int(path.name.split("-")[1]))


def latest_checkpoint(out_dir: Path) -> Path | None:
    complete = [path for path in checkpoints(out_dir) if (path / TRAINER_STATE).exists()]
    return complete[-1] if complete else None


class LossWindow:
    """Running means of the logged quantities between two log lines."""

    def __init__(self) -> None:
        self.sums: dict[str, float] = defaultdict(float)
        self.load: dict[str, list[float]] = {}
        self.router: dict[str, float] = defaultdict(float)
        self.count = 0

    def add(self, output: MoMQOutput) -> None:
        self.count += 1
        for name in ("loss", "lm_loss", "router_loss", "balance_loss"):
            value = getattr(output, name)
            if value is not None:
                self.sums[name] += value.item()
        for dialect, fractions in output.expert_load.items():
            previous = self.load.get(dialect, [0.0] * len(fractions))
            self.load[dialect] = [old + new for old, new in zip(previous, fractions, strict=True)]
        for dialect, prob in output.dialect_router_probs.items():
            self.router[dialect] += prob

    def summary(self) -> dict[str, object]:
        count = max(1, self.count)
        return {
            **{name: round(total / count, 6) for name, total in self.sums.items()},
            "expert_load": {dialect: [round(v / count, 4) for v in values] for dialect, values in self.load.items()},
            "dialect_router_probs": {dialect: round(v / count, 4) for dialect, v in self.router.items()},
        }


class Trainer:
    """Owns model, optimiser and schedule; ``run`` trains to the configured number of steps."""

    def __init__(self, config: TrainConfig, model: MoMQModel, tokenizer: PreTrainedTokenizerBase) -> None:
        self.config = config
        self.model = model
        self.tokenizer = tokenizer
        self.device = next(model.parameters()).device
        self.autocast = self.device.type == "cuda"
        examples = read_examples(config.data_dir / "train.jsonl")
        self.dataset, self.too_long = encode_dataset(examples, tokenizer, model.config, config.max_length)
        if not self.dataset:
            raise ValueError("no training example fits the model's dialects and max_length")
        steps_per_epoch = math.ceil(math.ceil(len(self.dataset) / config.batch_size) / config.grad_accum)
        self.total_steps = config.max_steps or config.epochs * steps_per_epoch
        parameters = list(model.trainable_state_dict().values())
        self.optimizer = torch.optim.AdamW(parameters, lr=config.learning_rate, weight_decay=config.weight_decay)
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, lambda step: lr_factor(step, config.warmup_steps, self.total_steps)
        )
        self.step = 0

    def resume(self) -> bool:
        checkpoint = latest_checkpoint(self.config.out_dir)
        if checkpoint is None:
            return False
        self.model.load_adapter(checkpoint)
        state = torch.load(checkpoint / TRAINER_STATE, map_location="cpu", weights_only=True)
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.step = state["step"]
        torch.set_rng_state(state["rng"])
        if state["cuda_rng"]:
            torch.cuda.set_rng_state_all(state["cuda_rng"])
        return True

    def save_checkpoint(self) -> Path:
        directory = self.config.out_dir / "checkpoints" / f"step-{self.step}"
        self.model.save_adapter(directory)
        state = {
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "step": self.step,
            "rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
        }
        torch.save(state, directory / TRAINER_STATE)  # written last: marks the checkpoint complete
        for old in checkpoints(self.config.out_dir)[: -self.config.keep_checkpoints]:
            shutil.rmtree(old)
        return directory

    def train_step(self, batches: list[Batch], window: LossWindow) -> float:
        """One optimiser step over ``grad_accum`` micro-batches; returns the last micro-batch loss."""
        tokens = sum(int(batch.attention_mask.sum()) for batch in batches)
        for micro_batch in batches:
            batch = micro_batch.to(self.device)
            with torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast):
                output = self.model(
                    batch.input_ids, batch.attention_mask, labels=batch.labels, dialect_labels=batch.dialect_labels
                )
            assert output.loss is not None
            # Weight by tokens so a short micro-batch does not count as much as a long one.
            (output.loss * (int(batch.attention_mask.sum()) / tokens)).backward()
            window.add(output)
        torch.nn.utils.clip_grad_norm_(self.model.trainable_state_dict().values(), self.config.max_grad_norm)
        self.optimizer.step()
        self.scheduler.step()
        self.optimizer.zero_grad(set_to_none=True)
        self.step += 1
        return output.loss.item()

    def run(self) -> Path:
        """Train to ``total_steps``; returns the directory of the final adapter."""
        config = self.config
        config.out_dir.mkdir(parents=True, exist_ok=True)
        (config.out_dir / "train_config.json").write_text(config.model_dump_json(indent=2))
        self.model.train()
        started = time.monotonic()
        stream = micro_batches(self.dataset, config.batch_size, config.seed, start=self.step * config.grad_accum)
        pad = self.tokenizer.pad_token_id
        log_window = LossWindow()
        with (
            (config.out_dir / LOG_FILE).open("a") as log,
            tqdm(total=self.total_steps, initial=self.step, desc="momq train", unit="step") as progress,
        ):
            while self.step < self.total_steps:
                chunk = [next(stream) for _ in range(config.grad_accum)]
                epoch = chunk[-1][0]
                loss = self.train_step([collate(items, pad) for _, _, items in chunk], log_window)
                progress.update(1)
                progress.set_postfix(loss=f"{loss:.4f}")
                if self.step % config.log_every == 0 or self.step == self.total_steps:
                    record: dict[str, object] = {
                        "step": self.step,
                        "epoch": epoch,
                        "lr": self.scheduler.get_last_lr()[0],
                    }
                    record |= log_window.summary() | {"elapsed_s": round(time.monotonic() - started, 1)}
                    log.write(json.dumps(record) + "\n")
                    log.flush()
                    log_window = LossWindow()
                if self.step % config.save_every == 0:
                    self.save_checkpoint()
        final = config.out_dir / "adapter"
        self.model.save_adapter(final)
        return final


def train_dialects(data_dir: Path) -> list[str]:
    """Dialects that have training rows, in first-seen order (groups without data are useless)."""
    seen: dict[str, None] = {}
    for example in read_examples(data_dir / "train.jsonl"):
        seen.setdefault(example.dialect, None)
    return list(seen)


def train(config: TrainConfig, resume: bool = True) -> Path:
    """Load the base model, wrap it, train, and return the final adapter directory."""
    torch.manual_seed(config.seed)
    device = resolve_device(config.device)
    base = load_base_model(config.base_model, device)
    if config.gradient_checkpointing:
        base.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model = MoMQModel(base, config.momq).to(device)
    trainer = Trainer(config, model, load_tokenizer(config.base_model))
    if resume and trainer.resume():
        tqdm.write(f"resumed at step {trainer.step}")
    if trainer.too_long:
        tqdm.write(f"dropped {trainer.too_long} examples longer than {config.max_length} tokens")
    return trainer.run()
