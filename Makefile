# The commands a developer runs are the ones CI runs (.ci/run calls `make test`).
.PHONY: run test lint bench venv dev-venv

BACKEND := backend
VENV := $(BACKEND)/.venv
# Extra pytest arguments: make test PYTEST_ARGS="-k celery -x"
PYTEST_ARGS ?=

## run: worker, beat and the API with the dashboard (embedded broker unless REDIS_URL is set); Ctrl-C stops
run:
	scripts/run-dev.sh

## test: the whole test suite (starts throwaway PostgreSQL/Redis when none is reachable)
test: dev-venv
	cd $(BACKEND) && .venv/bin/python -m pytest $(PYTEST_ARGS)

## lint: shellcheck on scripts/, ruff (lint and format) and mypy --strict on app/
lint: dev-venv
	shellcheck scripts/*.sh
	cd $(BACKEND) && .venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy app

## bench: time demo-data and the health check (BENCH_SIZES="default 150x52x30"), then backend/benchmarks/
bench: dev-venv
	scripts/bench.sh

venv:
	scripts/ensure-venv.sh runtime

dev-venv:
	scripts/ensure-venv.sh dev
