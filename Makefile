# The two commands of the README: `make run` (the app with the demo project) and `make test`.
VENV    := .venv
PY      := $(VENV)/bin/python
PROJECT ?= data/demo.db
PORT    ?= 8501

.PHONY: run test bench clean chromium

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

test: $(VENV)/.installed-test chromium
	$(PY) -m pytest

bench: $(VENV)/.installed-test
	$(PY) bench/import_speed.py

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
