# Two commands matter: `make run` and `make test`. Both set up what is missing first.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
export PYTHONPATH := $(CURDIR)
export TF_CPP_MIN_LOG_LEVEL := 2
export RASA_TELEMETRY_ENABLED := false

.DEFAULT_GOAL := help
.PHONY: help setup run chat train evaluate test test-fast validate lint bench cluster purge clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

setup: ## Create .venv with the pinned packages (idempotent)
	@bash scripts/setup.sh

run: setup ## Set up, train if needed, start the assistant on 127.0.0.1 (Ctrl-C stops)
	@$(BIN)/bot run

chat: setup ## Chat with the running assistant in this terminal
	@$(BIN)/bot chat

train: setup ## Train the model if data, config or components changed
	@$(BIN)/bot train

evaluate: setup ## Held-out NLU figures and the safety sets' figures (sealed: figures only)
	@$(BIN)/bot evaluate

validate: setup ## rasa data validate
	@$(BIN)/rasa data validate --domain domain.yml --data data/nlu data/rules --fail-on-warnings

test: setup ## All tests: unit, content, NLU evaluation, Rasa stories, servers, browser
	@bash scripts/setup-browser.sh
	@bash scripts/setup-services.sh
	@$(BIN)/python -m pytest

test-fast: setup ## Tests that need no trained model
	@$(BIN)/python -m pytest -m "not slow"

lint: setup ## ruff check (the rules in pyproject.toml)
	@$(BIN)/ruff check bot actions tests bench

bench: setup ## Benchmarks: model vs stock pipeline; maintainer retrain-evaluate-promote cycle
	@$(BIN)/python bench/benchmark.py
	@$(BIN)/python bench/maintainer_cycle.py

cluster: setup ## Two Rasa servers behind nginx with PostgreSQL and Redis on 127.0.0.1 (installs them)
	@bash scripts/cluster.sh

purge: setup ## Delete patient data older than CLINIC_RETENTION_DAYS (default 365); schedule daily
	@$(BIN)/bot retention purge

clean: ## Remove trained models and test artifacts (keeps .venv and var/)
	rm -rf models .cache test-artifacts .pytest_cache
