# neuronet: `make demo` runs the main job, `make test` the full test suite. Both start from nothing.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip

# The extras each target installs into $(VENV). A new extra is one more word on one of these lines.
DEV_EXTRAS := dev,plot,fast
TEST_EXTRAS := $(DEV_EXTRAS),torch,onnx,mpi
DEV_STAMP := $(VENV)/.installed-dev
TEST_STAMP := $(VENV)/.installed-test

.PHONY: demo test quick lint bench clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(DEV_STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet -e ".[$(DEV_EXTRAS)]"
	touch $(DEV_STAMP)

# torch==2.13.0 is the parity oracle of ~3,800 tests; `make test` installs it rather than skip them.
$(TEST_STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet -e ".[$(TEST_EXTRAS)]"
	touch $(TEST_STAMP) $(DEV_STAMP)

demo: $(PY)
	$(PIP) install --quiet -e ".[plot,fast]"
	$(VENV)/bin/neuronet train

lint: $(DEV_STAMP)
	$(PY) -m ruff check src tests benchmarks tools
	$(PY) tools/filesize.py src/neuronet

# Two test workers with one BLAS thread each: oversubscribed OpenBLAS threads spin-wait and make
# small matrix products a hundred times slower.
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1

# The full suite: every op on its reference, NumPy and numba paths (tests/support/paths.py),
# parity with PyTorch, the models' quality bars, the CLI, and the docstring examples; then the
# layers and models once more as a pure-NumPy install runs them (--no-numba).
test: $(TEST_STAMP) lint
	$(ONE_THREAD) $(PY) -m pytest -n 2 --dist loadgroup tests
	$(ONE_THREAD) $(PY) -m pytest -n 2 -q --no-numba -m "not slow" tests/nn tests/models
	$(PY) -m pytest -q --doctest-modules src/neuronet -p no:cacheprovider

# The inner loop: no torch install, no models trained to a quality bar (parity tests run if
# torch happens to be installed, and skip with the reason otherwise).
quick: $(DEV_STAMP) lint
	$(ONE_THREAD) $(PY) -m pytest -n 2 --dist loadgroup -m "not slow" tests

bench: $(DEV_STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache build dist
