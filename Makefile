# SocialDesk: `make run` starts the desk on this machine; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python

# The demo desk, catalogues and benchmarks run in development mode unless the caller says otherwise;
# the test suite picks its own settings (socialdesk/settings_test.py), so DEBUG is not exported to it.
run messages bench: export DEBUG ?= true

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

# Refresh locale/*/LC_MESSAGES/django.po from the code and templates, then compile the .mo files.
# makemessages needs GNU gettext's xgettext/msgmerge (Debian/Ubuntu: `apt-get install gettext`);
# compiling does not (compile_catalogues uses polib). Translate new and fuzzy entries in es and ca
# (en may stay empty: the source strings are English), run `make messages` again, commit .po and .mo.
messages: test-deps
	$(PY) manage.py makemessages --all --no-obsolete --add-location=file --ignore='.venv/*' --ignore='var/*' --ignore='tests/*' --ignore='bench/*'
	$(PY) manage.py compile_catalogues

clean:
	rm -rf $(VENV) var
