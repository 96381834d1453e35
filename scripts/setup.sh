#!/usr/bin/env bash
# Idempotent set-up from a fresh clone: a virtualenv with the project and its dev dependencies.
set -euo pipefail
cd "$(dirname "$0")/.."

# Servers the tests run for real, installed when missing: redis-server (the Celery broker), and
# PostgreSQL and MariaDB (source databases; the tests start throwaway instances on free ports).
missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
command -v mariadb-install-db >/dev/null 2>&1 || missing+=(mariadb-server)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)  # the web UI's browser tests (Playwright)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: ${missing[*]} missing; install with apt-get to run the server tests" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
"$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 is required")'

if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
# torch is pinned to the CPU build (2.13.0): installed first so nothing pulls a CUDA build.
.venv/bin/python -m pip install --quiet "torch==2.13.0"
.venv/bin/python -m pip install --quiet -e ".[dev]"
# The embedded LLM (llama-cpp-python compiles once; pip caches the wheel) and its GGUF.
bash scripts/setup_llm.sh
