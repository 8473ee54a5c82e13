# The few commands everyone runs. `make test` is the README's test command and what CI runs.
PY ?= python3
VENV ?= .venv
BIN = $(VENV)/bin

.PHONY: setup test test-examples test-slow lint format demo bench bench-all clean

$(BIN)/activate:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

setup: $(BIN)/activate
	$(BIN)/pip install -q -e ".[dev,data]"

test: setup
	$(BIN)/ruff check .
	$(BIN)/python -m pytest -n 2 -m "not slow" -q --durations=15

# The six notebooks (small settings), every replication's smoke preset and the benchmark scripts
# at tiny settings; CI runs it after `test`.
test-examples: setup
	$(BIN)/python -m pytest -n 2 -m slow -q tests/test_notebooks.py tests/test_replicate.py tests/test_benchmarks.py

test-slow: setup
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)
	$(BIN)/python -m pytest -n 2 -m slow -q

lint: setup
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

format: setup
	$(BIN)/ruff format . && $(BIN)/ruff check --fix .

demo: setup
	$(BIN)/rnnlab sweep experiments/odyssey_jsb.py --preset demo --workers 2 --no-progress
	$(BIN)/rnnlab analyze runs/odyssey_jsb-demo/study.db --out runs/odyssey_jsb-demo/report

bench: setup
	$(BIN)/pip install -q -e ".[bench]"
	$(BIN)/python benchmarks/bench_lstm.py
	$(BIN)/python benchmarks/bench_population.py --quick
	$(BIN)/python benchmarks/bench_scan.py

bench-all: setup
	$(BIN)/pip install -q -e ".[bench]"
	PYTHON=$(BIN)/python bash benchmarks/all.sh

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
