"""MoMQ architecture and losses on a tiny random Qwen2."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import pytest
import torch
from transformers import PreTrainedTokenizerFast, Qwen2ForCausalLM

from schemakg.generation.momq.config import MoMQConfig
from schemakg.generation.momq.model import (
    LEARNED_ROUTING,
    LoRALinear,
    MixtureOfLoRAExperts,
    MoMQModel,
    RoutingRecord,
    dialect_router_loss,
    expert_balance_loss,
)
from schemakg.generation.momq.prompts import encode_example
from schemakg.offline.momq.train import Batch, collate

BaseFactory = Callable[[int], Qwen2ForCausalLM]
ToyPairs = list[tuple[str, str, str]]


def toy_batch(tokenizer: PreTrainedTokenizerFast, config: MoMQConfig, pairs: list[tuple[str, str, str]]) -> Batch:
    encoded = [
        (encode_example(tokenizer, prompt, query), config.dialect_index(dialect)) for dialect, prompt, query in pairs
    ]
    return collate(encoded, tokenizer.pad_token_id)


def randomise_adapters(model: MoMQModel, scale: float = 0.05) -> None:
    """Trained-looking adapters: LoRA up-projections start at zero and would hide bugs."""
    with torch.no_grad():
        for parameter in model.trainable_state_dict().values():
            parameter.add_(torch.randn_like(parameter) * scale)


def test_output_shapes_and_finite_losses(
    make_base: BaseFactory, tiny_tokenizer: PreTrainedTokenizerFast, tiny_config: MoMQConfig, toy_pairs: ToyPairs
) -> None:
    model = MoMQModel(make_base(0), tiny_config)
    batch = toy_batch(tiny_tokenizer, tiny_config, toy_pairs)
    output = model(batch.input_ids, batch.attention_mask, labels=batch.labels, dialect_labels=batch.dialect_labels)
    assert output.logits.shape == (*batch.input_ids.shape, model.base.config.vocab_size)
    for loss in (output.loss, output.lm_loss, output.router_loss, output.balance_loss):
        assert loss is not None and loss.dim() == 0 and torch.isfinite(loss)
    assert set(output.expert_load) == {"mysql", "cypher"}
    assert all(len(load) == 4 and math.isclose(sum(load), 1.0, abs_tol=1e-5) for load in output.expert_load.values())


def test_adapters_replace_the_targeted_layers(make_base: BaseFactory, tiny_config: MoMQConfig) -> None:
    model = MoMQModel(make_base(0), tiny_config)
    for layer in model.base.model.layers:
        for name in ("q_proj", "k_proj", "v_proj", "o_proj"):
            assert isinstance(getattr(layer.self_attn, name), LoRALinear)
        assert isinstance(layer.mlp.up_proj, LoRALinear)
        assert isinstance(layer.mlp.down_proj, MixtureOfLoRAExperts)
        assert isinstance(layer.mlp.gate_proj, torch.nn.Linear)
    assert len(model.mixture_layers) == 2


def test_exactly_top_k_experts_per_group_and_shared_always_on(make_base: BaseFactory, tiny_config: MoMQConfig) -> None:
    layer = MoMQModel(make_base(0), tiny_config).mixture_layers[0]
    torch.nn.init.normal_(layer.dialect_router.weight)
    tokens = torch.randn(7 * 5, layer.base.in_features)
    active = (layer.route(tokens, seq=5).weights > 0).float()
    assert torch.equal(active[:, :8].view(-1, 2, 4).sum(-1), torch.full((35, 2), 2.0)), "top_k experts in each group"
    assert torch.equal(active[:, 8:], torch.ones(35, 2)), "shared experts see every token"

    layer.context.forced_groups = torch.tensor([LEARNED_ROUTING, 0, 1, 1, LEARNED_ROUTING, 0, 0])
    weights = layer.route(tokens, seq=5).weights
    layer.context.forced_groups = None
    per_group = (weights[:, :8] > 0).view(7, 5, 2, 4).sum(-1)
    expected = torch.tensor([[2, 2], [2, 0], [0, 2], [0, 2], [2, 2], [2, 0], [2, 0]]).unsqueeze(1).expand(7, 5, 2)
    assert torch.equal(per_group, expected), "a forced dialect keeps only its own group's top_k experts"
    assert torch.equal(weights[:, 8:], torch.ones(35, 2)), "shared experts stay on under forcing, at weight 1"


def test_forced_dialect_routes_everything_to_its_group(make_base: BaseFactory, tiny_config: MoMQConfig) -> None:
    layer = MoMQModel(make_base(0), tiny_config).mixture_layers[0]
    tokens = torch.randn(2 * 3, layer.base.in_features)
    layer.context.forced_groups = torch.tensor([1, LEARNED_ROUTING])
    weights = layer.route(tokens, seq=3).weights[:, :8].view(-1, 2, 4).sum(-1)
    layer.context.forced_groups = None
    assert torch.allclose(weights[:3], torch.tensor([[0.0, 1.0]] * 3))
    assert torch.allclose(weights[3:], torch.full((3, 2), 0.5)), "zero-initialised router weights groups equally"


def test_mixture_equals_explicit_sparse_computation(make_base: BaseFactory, tiny_config: MoMQConfig) -> None:
    model = MoMQModel(make_base(0), tiny_config)
    randomise_adapters(model)
    layer = model.mixture_layers[0]
    x = torch.randn(1, 3, layer.base.in_features)
    tokens = x.view(3, -1)
    routing = layer.route(tokens, seq=3)
    expected = layer.base(tokens)
    for token in range(3):
        group_probs = routing.dialect_log_probs[token].exp()
        for group in range(2):
            chosen = routing.top_index[token, group]
            gates = routing.expert_probs[token, group, chosen]
            for expert, gate in zip(chosen.tolist(), (gates / gates.sum()).tolist(), strict=True):
                index = group * 4 + expert
                delta = tokens[token] @ layer.lora_down[:, index] @ layer.lora_up[index] * layer.scaling
                expected[token] += group_probs[group] * gate * delta
        for shared in range(8, 10):
            expected[token] += tokens[token] @ layer.lora_down[:, shared] @ layer.lora_up[shared] * layer.scaling
    assert torch.allclose(layer(x).view(3, -1), expected, atol=1e-5)


def test_gradients_reach_only_adapters_routers_and_norms(
    make_base: BaseFactory, tiny_tokenizer: PreTrainedTokenizerFast, tiny_config: MoMQConfig, toy_pairs: ToyPairs
) -> None:
    model = MoMQModel(make_base(0), tiny_config)
    randomise_adapters(model)
    batch = toy_batch(tiny_tokenizer, tiny_config, toy_pairs)
    output = model(batch.input_ids, batch.attention_mask, labels=batch.labels, dialect_labels=batch.dialect_labels)
    output.loss.backward()
    adapter_markers = ("lora_down", "lora_up", "dialect_router", "expert_router", "norm")
    for name, parameter in model.named_parameters():
        if any(marker in name for marker in adapter_markers):
            assert parameter.requires_grad and parameter.grad is not None and parameter.grad.abs().sum() > 0, name
        else:
            assert not parameter.requires_grad and parameter.grad is None, name
    trainable = model.trainable_state_dict()
    assert any(".base." in name for name, _ in model.named_parameters())
    assert not any(name.endswith(".base.weight") for name in trainable)
    assert sum(p.numel() for p in trainable.values()) < sum(p.numel() for p in model.parameters())


def test_router_loss_matches_hand_computation() -> None:
    probs = [torch.tensor([[0.7, 0.3], [0.2, 0.8]]), torch.tensor([[0.5, 0.5], [0.9, 0.1]])]
    records = [
        RoutingRecord(
            dialect_log_probs=p.log(), expert_fractions=torch.zeros(2, 1), expert_mean_probs=torch.zeros(2, 1)
        )
        for p in probs
    ]
    labels = torch.tensor([0, 1])
    # smoothed targets with eps=0.1, M=2: 0.95 for the label, 0.05 for the other group
    layer1 = (-(0.95 * math.log(0.7) + 0.05 * math.log(0.3)) - (0.05 * math.log(0.2) + 0.95 * math.log(0.8))) / 2
    layer2 = (-(0.95 * math.log(0.5) + 0.05 * math.log(0.5)) - (0.05 * math.log(0.9) + 0.95 * math.log(0.1))) / 2
    loss = dialect_router_loss(records, labels, smoothing=0.1)
    assert math.isclose(loss.item(), (layer1 + layer2) / 2, rel_tol=1e-6)


def test_router_loss_ignores_padding(
    make_base: BaseFactory, tiny_tokenizer: PreTrainedTokenizerFast, tiny_config: MoMQConfig, toy_pairs: ToyPairs
) -> None:
    model = MoMQModel(make_base(0), tiny_config)
    torch.nn.init.normal_(model.mixture_layers[0].dialect_router.weight)
    short = [toy_pairs[1]]
    alone = toy_batch(tiny_tokenizer, tiny_config, short)
    padded = toy_batch(tiny_tokenizer, tiny_config, [*short, toy_pairs[4]])
    first = model(alone.input_ids, alone.attention_mask, labels=alone.labels, dialect_labels=alone.dialect_labels)
    length = alone.input_ids.shape[1]
    assert padded.input_ids.shape[1] > length, "the second row must force padding on the first"
    both = model(
        padded.input_ids[:1],
        padded.attention_mask[:1],
        labels=padded.labels[:1],
        dialect_labels=padded.dialect_labels[:1],
    )
    assert torch.allclose(first.router_loss, both.router_loss, atol=1e-6)
    assert torch.allclose(first.balance_loss, both.balance_loss, atol=1e-6)


def test_balance_loss_is_minimal_for_uniform_routing(make_base: BaseFactory, tiny_config: MoMQConfig) -> None:
    model = MoMQModel(make_base(0), tiny_config)
    layer = model.mixture_layers[0]
    x = torch.randn(4, 16, layer.base.in_features)

    def balance_with(weight: torch.Tensor) -> float:
        with torch.no_grad():
            layer.expert_router.weight.copy_(weight)
        with model.routing(record=True) as records:
            layer(x)
        return expert_balance_loss(records).item()

    uniform = balance_with(torch.zeros_like(layer.expert_router.weight))
    assert math.isclose(uniform, 1.0, rel_tol=1e-6)
    generator = torch.Generator().manual_seed(0)
    for scale in (0.5, 2.0, 8.0):
        skewed = torch.randn(layer.expert_router.weight.shape, generator=generator) * scale
        assert balance_with(skewed) > uniform
    collapsed = torch.zeros_like(layer.expert_router.weight)
    collapsed[0::4] = 5.0 * x.mean((0, 1)).sign()  # expert 0 of each group wins every token
    assert balance_with(collapsed) > 1.5


def test_training_lowers_lm_loss_and_teaches_the_router(
    make_base: BaseFactory, tiny_tokenizer: PreTrainedTokenizerFast, tiny_config: MoMQConfig, toy_pairs: ToyPairs
) -> None:
    model = MoMQModel(make_base(0), tiny_config).train()
    batch = toy_batch(tiny_tokenizer, tiny_config, toy_pairs)
    optimizer = torch.optim.AdamW(model.trainable_state_dict().values(), lr=1e-2)
    losses = []
    for _ in range(30):
        output = model(batch.input_ids, batch.attention_mask, labels=batch.labels, dialect_labels=batch.dialect_labels)
        output.loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        losses.append(output.lm_loss.item())
    assert losses[-1] < 0.25 * losses[0]
    model.eval()
    for dialect in ("mysql", "cypher"):
        rows = [pair for pair in toy_pairs if pair[0] == dialect]
        single = toy_batch(tiny_tokenizer, tiny_config, rows)
        with torch.no_grad():
            probs = model(single.input_ids, single.attention_mask).dialect_router_probs
        assert probs[dialect] > 0.7, (dialect, probs)


def test_adapter_roundtrip_reproduces_logits_exactly(
    make_base: BaseFactory,
    tiny_tokenizer: PreTrainedTokenizerFast,
    tiny_config: MoMQConfig,
    toy_pairs: ToyPairs,
    tmp_path: Path,
) -> None:
    model = MoMQModel(make_base(0), tiny_config)
    randomise_adapters(model)
    batch = toy_batch(tiny_tokenizer, tiny_config, toy_pairs)
    with torch.no_grad():
        expected = model(batch.input_ids, batch.attention_mask).logits
    model.save_adapter(tmp_path / "adapter")
    saved = {path.name for path in (tmp_path / "adapter").iterdir()}
    assert saved == {"adapter.safetensors", "momq_config.json"}

    reloaded = MoMQModel.from_adapter(make_base(0), tmp_path / "adapter")
    assert reloaded.config == tiny_config
    with torch.no_grad():
        assert torch.equal(reloaded(batch.input_ids, batch.attention_mask).logits, expected)

    other = tiny_config.model_copy(update={"experts_per_dialect": 3})
    with pytest.raises(ValueError):
        MoMQModel(make_base(0), other).load_adapter(tmp_path / "adapter")


def test_generate_runs_with_forced_and_learned_routing(
    make_base: BaseFactory, tiny_tokenizer: PreTrainedTokenizerFast, tiny_config: MoMQConfig
) -> None:
    model = MoMQModel(make_base(0), tiny_config).eval()
    randomise_adapters(model, scale=0.5)
    ids = tiny_tokenizer(["how many singers", "how many singers"], return_tensors="pt")
    forced = model.group_indices(["mysql", None])
    output = model.generate(
        ids["input_ids"], ids["attention_mask"], forced_groups=forced, max_new_tokens=4, do_sample=False
    )
    assert output.shape == (2, ids["input_ids"].shape[1] + 4)
    assert model.context.forced_groups is None and model.context.records is None, "routing state is cleared"
    with pytest.raises(ValueError, match="unknown dialect"):
        model.group_indices(["oracle"])
