.PHONY: setup demo lint test bench retriever

setup:
	bash scripts/setup.sh

demo: setup
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

# The fine-tuned column retriever the README's figures use (about 16 min on 2 cores; needs ../shared/data).
# Without it the service links with the zero-shot model.
retriever: setup
	HF_HUB_OFFLINE=1 .venv/bin/schemakg retriever train --max-train-questions 6500 --epochs 1 --eval-every 75 --no-baseline --threads 2
