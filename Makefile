# Diversion Hub's tasks. `make help` lists them; each one's `## ` comment is its description.
.DEFAULT_GOAL := help
VENV := .venv/bin

.PHONY: help install demo test lint typecheck bench bench-micro screenshots clean

help: ## List the targets
	@grep -E '^[a-z][a-z-]*:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-10s %s\n", $$1, $$2}'

install: ## Create .venv with the hub and its test tools, the pinned htmx, and chromium if root
	scripts/install --test

demo: ## Run the hub with demo data and accounts (scripts/demo; ARGS="--port 8001")
	scripts/demo $(ARGS)

test: ## Lint, types and the whole suite on SQLite and PostgreSQL (scripts/test; ARGS=pytest args)
	scripts/test $(ARGS)

lint: $(VENV)/python ## ruff check and ruff format --check
	$(VENV)/ruff check hub tests bench migrations
	$(VENV)/ruff format --check hub tests bench

typecheck: $(VENV)/python ## mypy on hub/ and tests/
	$(VENV)/mypy

bench: $(VENV)/python ## Short run of scale, load, crash and two-instance propagation (bench/short.py, ~4 min)
	$(VENV)/python bench/short.py

bench-micro: $(VENV)/python ## Run every bench/bench_*.py (one piece each: policy, agenda, console, verify)
	$(VENV)/python bench/run_all.py

screenshots: $(VENV)/python ## Redraw README's pictures (docs/screenshots/) from a demo hub in chromium
	$(VENV)/python bench/screenshots.py

$(VENV)/python:
	scripts/install --test

clean: ## Remove caches and build output (keeps .venv, node_modules, hub.db and hub-demo.env)
	rm -rf .pytest_cache .mypy_cache .ruff_cache build dist *.egg-info bench/out
	find . -path ./.venv -prune -o -path ./node_modules -prune -o \
		-name __pycache__ -type d -exec rm -rf {} +
