"""MoMQ: a frozen Qwen2 causal LM with LoRA experts for multi-dialect query generation.

Architecture (Lin et al. 2024, "MoMQ: Mixture-of-Experts Enhances Multi-Dialect Query
Generation across Relational and Non-Relational Databases"):

* vanilla LoRA on the attention projections and the FFN up-projection;
* the FFN down-projection becomes a :class:`MixtureOfLoRAExperts`: the frozen base linear,
  one group of N LoRA experts per dialect (top-k routing inside the group), a shared group
  every token passes through, and a dialect router that weights the groups per token;
* norm layers are trainable, every other base weight is frozen;
* loss = LM loss + alpha * dialect router loss (label-smoothed cross-entropy against the
  sequence's dialect) + lambda * expert balance loss (``N * sum_i f_i * P_i`` per group).

Adapters are applied on the fly (no merge), so one base model serves every dialect and the
adapter file holds only the trainable weights.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from torch import Tensor, nn
from transformers import PreTrainedModel

from schemakg.generation.momq.config import MoMQConfig

ADAPTER_FILE = "adapter.safetensors"
LEARNED_ROUTING = -1  # forced-group value meaning "let the dialect router decide"


@dataclass
class RoutingRecord:
    """What one mixture layer saw in one forward pass, over the non-padding tokens."""

    dialect_log_probs: Tensor  # (tokens, groups), keeps grad: feeds the router loss
    expert_fractions: Tensor  # (groups, N) f_i: share of top-k slots given to expert i
    expert_mean_probs: Tensor  # (groups, N) P_i: mean router probability, keeps grad


@dataclass
class Routing:
    """One layer's routing decision for a flat batch of tokens."""

    weights: Tensor  # (tokens, experts): group prob x renormalised top-k gate; 1 for shared experts
    dialect_log_probs: Tensor  # (tokens, groups)
    expert_probs: Tensor  # (tokens, groups, N) softmax inside each group
    top_index: Tensor  # (tokens, groups, top_k)


@dataclass
class RoutingContext:
    """Per-forward state shared by all mixture layers; set by :class:`MoMQModel` only."""

    token_mask: Tensor | None = None  # (batch, seq) bool, True for real tokens
    forced_groups: Tensor | None = None  # (batch,) long, LEARNED_ROUTING or a group index
    records: list[RoutingRecord] | None = None  # None: do not record (generation)


@dataclass
class MoMQOutput:
    logits: Tensor
    loss: Tensor | None = None
    lm_loss: Tensor | None = None
    router_loss: Tensor | None = None
    balance_loss: Tensor | None = None
    expert_load: dict[str, list[float]] = field(default_factory=dict)
    dialect_router_probs: dict[str, float] = field(default_factory=dict)


def _lora_down_init(tensor: Tensor, fan_in: int) -> None:
    """The LoRA paper's A init (kaiming-uniform, a=sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    bound = 1.0 / math.sqrt(fan_in)
    nn.init.uniform_(tensor, -bound, bound)


class LoRALinear(nn.Module):
    """A frozen linear plus one low-rank update ``B A x * alpha/r`` (B starts at zero)."""

    def __init__(self, base: nn.Linear, rank: int, scaling: float, dropout: float) -> None:
        super().__init__()
        self.base = base
        self.scaling = scaling
        self.dropout = nn.Dropout(dropout)
        self.lora_down = nn.Parameter(torch.empty(base.in_features, rank))
        self.lora_up = nn.Parameter(torch.zeros(rank, base.out_features))
        _lora_down_init(self.lora_down, base.in_features)

    def forward(self, x: Tensor) -> Tensor:
        update = (self.dropout(x).to(self.lora_down.dtype) @ self.lora_down) @ self.lora_up
        return self.base(x) + (update * self.scaling).to(x.dtype)


class MixtureOfLoRAExperts(nn.Module):
    """Frozen linear + dialect expert groups (top-k inside each) + shared experts.

    All experts of the layer are stored stacked so the whole update is two matmuls with a
    per-token weight per expert (zero for experts not chosen): dense on the GPU, and
    numerically the same as running only the chosen experts.
    """

    def __init__(self, base: nn.Linear, config: MoMQConfig, context: RoutingContext) -> None:
        super().__init__()
        self.base = base
        self.context = context
        self.groups = len(config.dialects)
        self.experts_per_group = config.experts_per_dialect
        self.shared_experts = config.shared_experts
        self.top_k = config.top_k
        self.rank = config.lora_rank
        self.scaling = config.lora_scaling
        self.total_experts = self.groups * self.experts_per_group + self.shared_experts
        self.dropout = nn.Dropout(config.lora_dropout)
        # Zero init: every group starts equally weighted, as no dialect knowledge exists yet.
        self.dialect_router = nn.Linear(base.in_features, self.groups, bias=False)
        nn.init.zeros_(self.dialect_router.weight)
        self.expert_router = nn.Linear(base.in_features, self.groups * self.experts_per_group, bias=False)
        # Experts: dialect groups first (group-major), then the shared group.
        self.lora_down = nn.Parameter(torch.empty(base.in_features, self.total_experts, self.rank))
        self.lora_up = nn.Parameter(torch.zeros(self.total_experts, self.rank, base.out_features))
        _lora_down_init(self.lora_down, base.in_features)

    def route(self, tokens: Tensor, seq: int) -> Routing:
        """Per-token expert weights for flattened ``(batch*seq, in)`` tokens."""
        dialect_log_probs = F.log_softmax(self.dialect_router(tokens).float(), dim=-1)
        group_weights = self._group_weights(dialect_log_probs.exp(), seq)
        expert_probs = F.softmax(
            self.expert_router(tokens).float().view(-1, self.groups, self.experts_per_group), dim=-1
        )
        top_probs, top_index = expert_probs.topk(self.top_k, dim=-1)
        gates = torch.zeros_like(expert_probs).scatter(-1, top_index, top_probs / top_probs.sum(-1, keepdim=True))
        weights = (group_weights.unsqueeze(-1) * gates).flatten(1)
        if self.shared_experts:
            weights = torch.cat([weights, weights.new_ones(weights.shape[0], self.shared_experts)], dim=-1)
        return Routing(
            weights=weights, dialect_log_probs=dialect_log_probs, expert_probs=expert_probs, top_index=top_index
        )

    def forward(self, x: Tensor) -> Tensor:
        batch, seq, _ = x.shape
        tokens = x.reshape(batch * seq, -1)
        routing = self.route(tokens, seq)
        dtype = self.lora_down.dtype
        hidden = self.dropout(tokens).to(dtype) @ self.lora_down.flatten(1)
        hidden = (hidden.view(-1, self.total_experts, self.rank) * routing.weights.unsqueeze(-1).to(dtype)).flatten(1)
        update = (hidden @ self.lora_up.flatten(0, 1)) * self.scaling
        if self.context.records is not None:
            self.context.records.append(self._record(routing))
        return self.base(x) + update.view(batch, seq, -1).to(x.dtype)

    def _group_weights(self, dialect_probs: Tensor, seq: int) -> Tensor:
        """Router probabilities, replaced by a one-hot group where the request names a dialect."""
        forced = self.context.forced_groups
        if forced is None:
            return dialect_probs
        per_token = forced.to(dialect_probs.device).repeat_interleave(seq)
        is_forced = per_token != LEARNED_ROUTING
        one_hot = F.one_hot(per_token.clamp(min=0), self.groups).to(dialect_probs.dtype)
        return torch.where(is_forced.unsqueeze(-1), one_hot, dialect_probs)

    def _record(self, routing: Routing) -> RoutingRecord:
        """Routing statistics over the real (non-padding) tokens only."""
        dialect_log_probs, expert_probs, top_index = routing.dialect_log_probs, routing.expert_probs, routing.top_index
        mask = self.context.token_mask
        if mask is not None:
            keep = mask.reshape(-1).to(dialect_log_probs.device)
            dialect_log_probs, expert_probs, top_index = dialect_log_probs[keep], expert_probs[keep], top_index[keep]
        chosen = torch.zeros_like(expert_probs).scatter(-1, top_index, 1.0)
        return RoutingRecord(
            dialect_log_probs=dialect_log_probs,
            expert_fractions=chosen.mean(0).detach() / self.top_k,
            expert_mean_probs=expert_probs.mean(0),
        )


def dialect_router_loss(records: Sequence[RoutingRecord], token_labels: Tensor, smoothing: float) -> Tensor:
    """Cross-entropy of the dialect router against ``y(1-eps) + eps/M``, mean over layers and tokens.

    Smoothing leaves every group some weight, so related dialects can still share knowledge.
    """
    losses = []
    for record in records:
        groups = record.dialect_log_probs.shape[-1]
        target = F.one_hot(token_labels, groups).float() * (1.0 - smoothing) + smoothing / groups
        losses.append(-(target * record.dialect_log_probs).sum(-1).mean())
    return torch.stack(losses).mean()


def expert_balance_loss(records: Sequence[RoutingRecord]) -> Tensor:
    """``N * sum_i f_i P_i`` per dialect group, averaged over groups and layers (1.0 when balanced)."""
    losses = []
    for record in records:
        experts = record.expert_mean_probs.shape[-1]
        losses.append((experts * (record.expert_fractions * record.expert_mean_probs).sum(-1)).mean())
    return torch.stack(losses).mean()


def _is_norm(module: nn.Module) -> bool:
    return isinstance(module, nn.LayerNorm) or type(module).__name__.endswith("RMSNorm")


class MoMQModel(nn.Module):
    """A Hugging Face causal LM with MoMQ adapters injected in place (base weights frozen)."""

    def __init__(self, base: PreTrainedModel, config: MoMQConfig) -> None:
        super().__init__()
        self.config = config
        self.base: PreTrainedModel = base
        self.context = RoutingContext()
        for parameter in base.parameters():
            parameter.requires_grad_(False)
        self._inject_adapters()
        for module in base.modules():
            if _is_norm(module):
                for parameter in module.parameters(recurse=False):
                    parameter.data = parameter.data.float()
                    parameter.requires_grad_(True)

    def _inject_adapters(self) -> None:
        targets = set(self.config.lora_targets)
        replaced = 0
        for parent in list(self.base.modules()):
            for name, child in list(parent.named_children()):
                if not isinstance(child, nn.Linear):
                    continue
                if name in targets:
                    lora = LoRALinear(child, self.config.lora_rank, self.config.lora_scaling, self.config.lora_dropout)
                    setattr(parent, name, lora.to(child.weight.device))
                elif name == self.config.moe_target:
                    setattr(
                        parent, name, MixtureOfLoRAExperts(child, self.config, self.context).to(child.weight.device)
                    )
                    replaced += 1
        if not replaced:
            raise ValueError(f"no linear named {self.config.moe_target!r} found in the base model")

    @property
    def mixture_layers(self) -> list[MixtureOfLoRAExperts]:
        return [module for module in self.base.modules() if isinstance(module, MixtureOfLoRAExperts)]

    def group_indices(self, dialects: Sequence[str | None], device: torch.device | None = None) -> Tensor:
        """Per-sequence group index for forced routing; ``None`` keeps learned routing."""
        indices = [LEARNED_ROUTING if name is None else self.config.dialect_index(name) for name in dialects]
        return torch.tensor(indices, dtype=torch.long, device=device)

    @contextmanager
    def routing(
        self, token_mask: Tensor | None = None, forced_groups: Tensor | None = None, record: bool = False
    ) -> Iterator[list[RoutingRecord]]:
        """Set the per-forward routing state, and always clear it so no pass leaks into the next."""
        records: list[RoutingRecord] = []
        self.context.token_mask = token_mask
        self.context.forced_groups = forced_groups
        self.context.records = records if record else None
        try:
            yield records
        finally:
            self.context.token_mask = None
            self.context.forced_groups = None
            self.context.records = None

    def forward(
        self,
        input_ids: Tensor,
        attention_mask: Tensor | None = None,
        labels: Tensor | None = None,
        dialect_labels: Tensor | None = None,
        forced_groups: Tensor | None = None,
    ) -> MoMQOutput:
        """Logits, and when labels are given the MoMQ training loss and its parts."""
        token_mask = (
            attention_mask.bool() if attention_mask is not None else torch.ones_like(input_ids, dtype=torch.bool)
        )
        with self.routing(token_mask, forced_groups, record=True) as records:
            logits = self.base(input_ids=input_ids, attention_mask=attention_mask, use_cache=False).logits
        output = MoMQOutput(logits=logits)
        output.expert_load = self._expert_load(records)
        output.dialect_router_probs = self._mean_router_probs(records)
        if labels is None:
            return output
        targets = labels[:, 1:]
        answer = targets != -100  # upcast only the answer positions: full fp32 logits cost GBs at 150k vocab
        output.lm_loss = F.cross_entropy(logits[:, :-1][answer].float(), targets[answer])
        output.balance_loss = expert_balance_loss(records)
        output.loss = output.lm_loss + self.config.balance_loss_weight * output.balance_loss
        if dialect_labels is not None:
            token_labels = dialect_labels.unsqueeze(1).expand_as(input_ids)[token_mask]
            output.router_loss = dialect_router_loss(records, token_labels, self.config.label_smoothing)
            output.loss = output.loss + self.config.router_loss_weight * output.router_loss
        return output

    def _expert_load(self, records: Sequence[RoutingRecord]) -> dict[str, list[float]]:
        """Per dialect group, the share of routed slots each expert got, averaged over layers."""
        fractions = torch.stack([record.expert_fractions for record in records]).mean(0)
        return {dialect: fractions[index].tolist() for index, dialect in enumerate(self.config.dialects)}

    def _mean_router_probs(self, records: Sequence[RoutingRecord]) -> dict[str, float]:
        probs = torch.cat([record.dialect_log_probs.detach().exp() for record in records]).mean(0)
        return {dialect: probs[index].item() for index, dialect in enumerate(self.config.dialects)}

    @torch.no_grad()
    def generate(
        self, input_ids: Tensor, attention_mask: Tensor, forced_groups: Tensor | None = None, **kwargs: object
    ) -> Tensor:
        """Hugging Face ``generate`` with the adapters active, optionally routed to named dialects."""
        with self.routing(forced_groups=forced_groups):
            generate = cast(Callable[..., Tensor], self.base.generate)  # transformers types it loosely
            return generate(input_ids=input_ids, attention_mask=attention_mask, **kwargs)

    def trainable_state_dict(self) -> dict[str, Tensor]:
        return {name: parameter for name, parameter in self.named_parameters() if parameter.requires_grad}

    def save_adapter(self, directory: Path) -> None:
        """Write only the trainable weights (LoRA, routers, norms) and the config."""
        directory.mkdir(parents=True, exist_ok=True)
        tensors = {name: tensor.detach().cpu().contiguous() for name, tensor in self.trainable_state_dict().items()}
        save_file(tensors, str(directory / ADAPTER_FILE))
        self.config.save(directory)

    def load_adapter(self, directory: Path) -> None:
        """Copy saved trainable weights in; the key sets must match exactly."""
        saved = load_file(str(directory / ADAPTER_FILE))
        own = self.trainable_state_dict()
        if saved.keys() != own.keys():
            missing, unexpected = sorted(own.keys() - saved.keys()), sorted(saved.keys() - own.keys())
            raise ValueError(f"adapter does not fit this model: missing {missing[:5]}, unexpected {unexpected[:5]}")
        mismatched = [name for name, parameter in own.items() if saved[name].shape != parameter.shape]
        if mismatched:
            raise ValueError(f"adapter shapes do not fit this model: {mismatched[:5]}")
        with torch.no_grad():
            for name, parameter in own.items():
                parameter.copy_(saved[name])

    @classmethod
    def from_adapter(cls, base: PreTrainedModel, directory: Path) -> MoMQModel:
        """Rebuild a trained MoMQ model on a freshly loaded base model."""
        model = cls(base, MoMQConfig.load(directory))
        model.load_adapter(directory)
        return model
