# Two commands: `make run` and `make test`. Everything else here is what they need.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
PROTOS := $(shell find proto -name '*.proto')
GENERATED := services/.generated

.PHONY: run test bench fuzz proto install clean federation-demo

run: install
	$(VENV)/bin/copnet up --seed demo

# A statewide hub and two regional instances with the demo network split between them (README).
federation-demo: install
	$(VENV)/bin/copnet federation-demo

test: install
	$(PY) -m pytest

bench: install
	$(PY) -m tests.bench

# The OpenAPI fuzzer of `make test`, with many more examples per operation (about 20 minutes).
fuzz: install
	COPNET_FUZZ_EXAMPLES=$${COPNET_FUZZ_EXAMPLES:-200} $(PY) -m pytest --timeout 7200 tests/integration/test_api_fuzz.py

install: $(INSTALLED) $(GENERATED)

proto: $(GENERATED)

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $@

# Python code generated from proto/: never edited by hand (tests/unit/test_generated_code.py
# fails when it is stale). Output lands beside the hand-written package, e.g.
# proto/copnet/membership/v1/membership.proto -> services/copnet/membership/v1/membership_pb2.py
$(GENERATED): $(PROTOS) $(INSTALLED) proto/generate.py
	$(PY) proto/generate.py services
	touch $@

clean:
	rm -rf $(VENV) $(GENERATED) .pytest_cache
	find services -path '*/v1/*_pb2*.py*' -delete
