.PHONY: setup demo lint test bench retriever reranker

setup:
	bash scripts/setup.sh

# The default model is the 1.5B (README: Results); the suite keeps the 0.5B that setup installs.
demo: setup
	bash scripts/setup_llm.sh --with-1.5b
	.venv/bin/schemakg demo

# The linters and the layering contract (import-linter), then the whole suite.
lint: setup
	.venv/bin/ruff check .
	.venv/bin/ruff format --check .
	.venv/bin/mypy
	.venv/bin/lint-imports

test: lint
	.venv/bin/python -m pytest -q

bench: setup
	.venv/bin/python bench/ingest_scale.py

# Reproduces the retriever adapter shipped in schemakg/retrieval/shipped/ as a new, activated version
# under the data dir (about 30 min on 2 idle cores; needs ../shared/data). See shipped/PROVENANCE.md.
retriever: setup
	HF_HUB_OFFLINE=1 .venv/bin/schemakg retriever train --max-train-questions 13000 --epochs 1 --eval-every 100 --no-baseline --threads 2

# Reproduces the area reranker shipped in schemakg/retrieval/shipped_reranker/ into .schemakg/reranker
# (about 30 min on 2 idle cores; needs ../shared/data). See shipped_reranker/PROVENANCE.md.
reranker: setup
	HF_HUB_OFFLINE=1 .venv/bin/schemakg retriever train-reranker --out .schemakg/reranker --questions 4000 --threads 2
