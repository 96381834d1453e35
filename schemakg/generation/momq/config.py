"""MoMQ hyper-parameters, saved next to the adapter weights so an adapter always reloads
with the architecture it was trained with."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_DIALECTS: tuple[str, ...] = ("mysql", "postgresql", "cypher", "ngql")
CONFIG_FILE = "momq_config.json"


class MoMQConfig(BaseModel):
    """Architecture and loss weights of the mixture of LoRA experts (MoMQ, Lin et al. 2024)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    dialects: list[str] = Field(default_factory=lambda: list(DEFAULT_DIALECTS), min_length=1)
    experts_per_dialect: int = Field(default=8, ge=1, description="N: LoRA experts in each dialect group")
    shared_experts: int = Field(default=2, ge=0, description="N_s: experts every token passes through")
    top_k: int = Field(default=2, ge=1, description="experts chosen per token inside a dialect group")
    lora_rank: int = Field(default=64, ge=1)
    lora_alpha: float = Field(default=128.0, gt=0)
    lora_dropout: float = Field(default=0.05, ge=0, lt=1)
    router_loss_weight: float = Field(default=0.1, ge=0, description="alpha: weight of the dialect router loss")
    balance_loss_weight: float = Field(default=0.001, ge=0, description="lambda: weight of the expert balance loss")
    label_smoothing: float = Field(default=0.1, ge=0, lt=1, description="epsilon over dialects in the router loss")
    lora_targets: list[str] = Field(
        default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj", "up_proj"],
        description="linear layers (by attribute name) that get one vanilla LoRA adapter",
    )
    moe_target: str = Field(default="down_proj", description="FFN projection replaced by the mixture of experts")

    @model_validator(mode="after")
    def _check(self) -> MoMQConfig:
        if self.top_k > self.experts_per_dialect:
            raise ValueError("top_k cannot exceed experts_per_dialect")
        if len(set(self.dialects)) != len(self.dialects):
            raise ValueError("dialects must be unique")
        if self.moe_target in self.lora_targets:
            raise ValueError("moe_target cannot also be a vanilla LoRA target")
        return self

    @property
    def lora_scaling(self) -> float:
        return self.lora_alpha / self.lora_rank

    def dialect_index(self, dialect: str) -> int:
        """Group index of a dialect name; raises a clear error for an unknown one."""
        try:
            return self.dialects.index(dialect)
        except ValueError:
            raise ValueError(f"unknown dialect {dialect!r}; this model knows {self.dialects}") from None

    def save(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        (directory / CONFIG_FILE).write_text(self.model_dump_json(indent=2))

    @classmethod
    def load(cls, directory: Path) -> MoMQConfig:
        return cls.model_validate_json((directory / CONFIG_FILE).read_text())
