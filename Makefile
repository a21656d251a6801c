# lingodex: the two commands of README.md are `make demo` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
NODES  ?= 3
# pip extras: on a GPU host `make setup EXTRAS=gpu,export,train,aws,test` (onnxruntime-gpu instead of onnxruntime)
EXTRAS ?= cpu,export,train,aws,test

.PHONY: help setup demo test lint unit-test deploy-tools \
        opensearch-up opensearch-down opensearch-status \
        opensearch-cluster-up opensearch-cluster-down opensearch-cluster-status \
        redis-up redis-down redis-status services-down clean

help:  ## list targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 28

setup: $(VENV)/.installed  ## virtualenv with lingodex and its test tools

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "lingodex needs Python >= 3.11"'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[$(EXTRAS)]'
	touch $@

demo: setup opensearch-up  ## the main job end to end: index a multilingual catalog, answer hybrid queries
	$(BIN)/lingodex demo

test: setup deploy-tools opensearch-up redis-up  ## lint, layer contract and types, then every test, against the real node, Redis and worker processes
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy
	$(BIN)/pytest

deploy-tools:  ## helm and the docker compose plugin, built from the Go module proxy into .tools/ (deploy/ checks)
	bash deploy/tools.sh

lint: setup  ## ruff (unused names, likely bugs), the layer contract (import-linter) and types (mypy)
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	$(BIN)/mypy

unit-test: setup  ## only the tests that need no services
	$(BIN)/pytest tests/unit

opensearch-up:  ## fetch (once, from Maven Central) and start a local single-node OpenSearch on :9200
	bash deploy/local/opensearch.sh up

opensearch-down:  ## stop it
	bash deploy/local/opensearch.sh down

opensearch-status:  ## health and nodes
	bash deploy/local/opensearch.sh status

opensearch-cluster-up:  ## a $(NODES)-node cluster on :9201.. for reliability tests
	bash deploy/local/opensearch.sh up --nodes $(NODES)

opensearch-cluster-down:
	bash deploy/local/opensearch.sh down --nodes $(NODES)

opensearch-cluster-status:
	bash deploy/local/opensearch.sh status --nodes $(NODES)

redis-up:  ## Redis from Debian on 127.0.0.1:6379
	bash deploy/local/redis.sh up

redis-down:
	bash deploy/local/redis.sh down

redis-status:
	bash deploy/local/redis.sh status

services-down: opensearch-down redis-down  ## stop everything started above

clean: services-down  ## remove the virtualenv and local state (OpenSearch install, data, broker files)
	rm -rf $(VENV) .lingodex
