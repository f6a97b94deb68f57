# The two commands: `make book` builds the whole book, `make test` runs the test suite.
# Both create .venv and install the project on first use; data comes from the cache, the mirror
# directories in SSLTS_DATA_MIRROR (default ../shared/data when it exists) or the public URLs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
TORCH_PIN := torch==2.13.0
PROFILE ?= quick

# Mirror directories, made absolute so chapter kernels (which run elsewhere) find them too.
ifneq ($(strip $(SSLTS_DATA_MIRROR)),)
export SSLTS_DATA_MIRROR := $(shell $(PYTHON) -c 'import os,sys; print(os.pathsep.join(os.path.abspath(p) for p in sys.argv[1].split(os.pathsep) if p))' '$(SSLTS_DATA_MIRROR)')
else ifneq ($(wildcard ../shared/data),)
export SSLTS_DATA_MIRROR := $(abspath ../shared/data)
endif

.PHONY: book test data reference clean venv

venv: $(STAMP)

# torch first, pinned: here that is a CPU wheel from local disk; an unpinned torch would pull a
# multi-GB CUDA build. GPU users: see the README.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(TORCH_PIN)
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

data: $(STAMP)
	$(BIN)/sslts fetch uwave har

book: data
	$(BIN)/sslts book --profile $(PROFILE)

test: $(STAMP)
	$(BIN)/python -m pytest tests src/sslts --nbval-lax --nbval-current-env -q -rs

reference: $(STAMP)
	$(BIN)/sslts reference

clean:
	rm -rf _build build/executed
