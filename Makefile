# SocialDesk: `make run` starts the desk on this machine; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# Run the demo desk in development mode unless the caller says otherwise.
export DEBUG ?= true

.PHONY: run test bench lint messages venv test-deps clean

$(BIN)/activate:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Stamps: dependencies are installed again only when pyproject.toml changes.
$(VENV)/.run-deps: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.test-deps: pyproject.toml | $(BIN)/activate
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@ $(VENV)/.run-deps

venv: $(VENV)/.run-deps

test-deps: $(VENV)/.test-deps

run: venv
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(BIN)/honcho --procfile Procfile start

test: test-deps
	$(BIN)/pytest -n auto $(PYTEST_ARGS)

bench: test-deps
	$(PY) -m bench $(BENCH_ARGS)

lint: test-deps
	$(BIN)/ruff check .

messages: test-deps
	$(PY) manage.py makemessages --all --ignore='.venv/*' --ignore='var/*' --ignore='tests/*' --ignore='bench/*'
	$(PY) manage.py compile_catalogues

clean:
	rm -rf $(VENV) var
