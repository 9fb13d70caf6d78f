# neuronet: `make demo` runs the main job, `make test` the test suite. Both start from nothing.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed-dev

.PHONY: demo test parity bench lint clean

$(PY):
	python3 -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PIP) install --quiet -e ".[dev,plot,fast]"
	touch $(STAMP)

demo: $(PY)
	$(PIP) install --quiet -e ".[plot,fast]"
	$(VENV)/bin/neuronet train

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks tools
	$(PY) tools/filesize.py src/neuronet

# Two test workers with one BLAS thread each: oversubscribed OpenBLAS threads spin-wait and make
# small matrix products a hundred times slower.
ONE_THREAD := OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 NUMBA_NUM_THREADS=1

test: $(STAMP) lint
	$(ONE_THREAD) $(PY) -m pytest -n 2 --dist loadgroup tests
	$(PY) -m pytest -q --doctest-modules src/neuronet -p no:cacheprovider

parity: $(STAMP)
	$(PIP) install --quiet -e ".[torch]"
	$(ONE_THREAD) $(PY) -m pytest -n 2 -m parity tests

bench: $(STAMP)
	$(PY) benchmarks/run.py

clean:
	rm -rf $(VENV) .pytest_cache build dist
