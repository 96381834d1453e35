"""Training loop: logging, adapter-only checkpoints, and exact resumption."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import torch
from safetensors.torch import load_file

from schemakg.generation.momq.config import MoMQConfig
from schemakg.generation.momq.model import ADAPTER_FILE
from schemakg.offline.momq.train import TrainConfig, latest_checkpoint, lr_factor, micro_batches, train, train_dialects


def run_config(base_dir: Path, data_dir: Path, out_dir: Path, momq: MoMQConfig) -> TrainConfig:
    return TrainConfig(
        base_model=base_dir,
        data_dir=data_dir,
        out_dir=out_dir,
        momq=momq,
        max_length=64,
        batch_size=3,
        grad_accum=2,
        learning_rate=1e-2,
        warmup_steps=1,
        max_steps=4,
        save_every=2,
        log_every=1,
        device="cpu",
    )


def test_train_logs_checkpoints_and_resumes_exactly(
    saved_momq, toy_data_dir: Path, tiny_config: MoMQConfig, tmp_path: Path
) -> None:
    straight = run_config(saved_momq.base_dir, toy_data_dir, tmp_path / "straight", tiny_config)
    final = train(straight)

    assert final == straight.out_dir / "adapter"
    assert sorted(path.name for path in (straight.out_dir / "checkpoints").iterdir()) == ["step-2", "step-4"]
    assert {path.name for path in final.iterdir()} == {ADAPTER_FILE, "momq_config.json"}
    log = [json.loads(line) for line in (straight.out_dir / "train_log.jsonl").read_text().splitlines()]
    assert [row["step"] for row in log] == [1, 2, 3, 4]
    for row in log:
        assert {
            "loss",
            "lm_loss",
            "router_loss",
            "balance_loss",
            "lr",
            "expert_load",
            "dialect_router_probs",
        } <= row.keys()
        assert set(row["expert_load"]) == {"mysql", "cypher"} and len(row["expert_load"]["mysql"]) == 4
    assert log[-1]["lm_loss"] < log[0]["lm_loss"]

    # An interrupted run: only the step-2 checkpoint survived; resuming must land on the same weights.
    interrupted = straight.model_copy(update={"out_dir": tmp_path / "interrupted"})
    shutil.copytree(straight.out_dir / "checkpoints" / "step-2", interrupted.out_dir / "checkpoints" / "step-2")
    assert latest_checkpoint(interrupted.out_dir) == interrupted.out_dir / "checkpoints" / "step-2"
    resumed = load_file(str(train(interrupted) / ADAPTER_FILE))
    expected = load_file(str(final / ADAPTER_FILE))
    assert resumed.keys() == expected.keys()
    assert all(torch.equal(resumed[name], expected[name]) for name in expected)


def test_micro_batches_resume_mid_epoch_on_the_same_order() -> None:
    dataset = list(range(10))
    full = micro_batches(dataset, batch_size=3, seed=7, start=0)
    first_seven = [next(full) for _ in range(7)]
    resumed = micro_batches(dataset, batch_size=3, seed=7, start=5)
    assert [next(resumed) for _ in range(2)] == first_seven[5:7]
    epochs = [epoch for epoch, _, _ in first_seven]
    assert epochs == [0, 0, 0, 0, 1, 1, 1]
    assert sorted(item for _, _, items in first_seven[:4] for item in items) == dataset


def test_lr_schedule_warms_up_then_decays_to_zero() -> None:
    assert lr_factor(0, warmup=4, total=20) == 0.25
    assert lr_factor(3, warmup=4, total=20) == 1.0
    assert lr_factor(4, warmup=4, total=20) == 1.0
    assert lr_factor(20, warmup=4, total=20) == 0.0


def test_train_dialects_come_from_the_data(toy_data_dir: Path) -> None:
    assert train_dialects(toy_data_dir) == ["mysql", "cypher"]
