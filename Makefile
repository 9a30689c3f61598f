# The two commands of the README: `make run` (the app with the demo project) and `make test`.
VENV    := .venv
PY      := $(VENV)/bin/python
PROJECT ?= data/demo.db
PORT    ?= 8501

.PHONY: run test bench clean chromium office

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first and pinned: otherwise a later dependency pulls a multi-GB CUDA build
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(PY) -m pip install --quiet -e ".[test]"
	touch $@

run: $(VENV)/.installed
	CODEWERK_PROJECT=$(PROJECT) $(PY) -m coding --project $(PROJECT) demo
	CODEWERK_PROJECT=$(PROJECT) $(VENV)/bin/streamlit run app.py \
		--server.address localhost --server.port $(PORT) --server.headless true \
		--browser.gatherUsageStats false

# Browser tests drive Debian's Chromium (never a browser download by a test tool).
chromium:
	@command -v chromium >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The export tests open the Word synthesis in LibreOffice and render its pages (poppler's pdftoppm).
office:
	@command -v soffice >/dev/null && command -v pdftoppm >/dev/null || { apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libreoffice-writer-nogui poppler-utils; }

test: $(VENV)/.installed-test chromium office
	$(PY) -m pytest

# Every benchmark, each writing its section of BENCHMARKS.md (about 1.5 hours on 2 cores with nothing
# cached: the suggestion and embedding benchmarks embed thousands of texts with the default model).
bench: $(VENV)/.installed-test
	$(PY) bench/import_speed.py
	$(PY) bench/ui_speed.py
	$(PY) bench/embed_speed.py
	$(PY) bench/suggest_quality.py
	$(PY) bench/themes_quality.py
	$(PY) bench/export_figures.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
