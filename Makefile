# The two quick-start commands (`make demo`, `make test`) each build .venv first, so a fresh
# machine needs only Python 3.11 or 3.12 and make. .venv gets the versions of constraints.txt, the
# lock the Dockerfile's image installs from too; `make lock` writes it again from .venv.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed

.PHONY: demo up test test-services bench lint format lock clean

$(INSTALLED): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --constraint constraints.txt -e '.[embedded,loadtest,test]'
	touch $(INSTALLED)

demo: $(INSTALLED)
	$(BIN)/onsale demo

up: $(INSTALLED)
	$(BIN)/onsale up

test: $(INSTALLED)
	$(BIN)/python -m pytest

bench: $(INSTALLED)
	$(BIN)/python -m loadtests.bench all

# mypy reads its packages and its strictness from pyproject.toml.
lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# After a change of pyproject.toml's dependencies: what they newly need joins .venv, unpinned, and
# the lock is written again from .venv: every package but the project and pip (which the install
# step upgrades).
lock: $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[embedded,loadtest,test]'
	$(BIN)/python -m pip freeze --all --exclude onsale --exclude pip > constraints.txt

clean:
	rm -rf $(VENV) var .pytest_cache .hypothesis
