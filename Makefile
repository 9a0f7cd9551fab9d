# make run   — start the wiki at http://127.0.0.1:5000 (creates .venv and the database first);
#              make run PORT=8080 HOST=0.0.0.0 to serve elsewhere (macOS's AirPlay takes 5000)
# make test  — run the test suite (on SQLite, then on PostgreSQL if it is there), on every core
# make test-fast — the quick part for a tight loop: SQLite only, no browser, no slow tests
# make serve — run it under Gunicorn at http://127.0.0.1:8000 (PORT and HOST as for run;
#              else WIKI_BIND, see gunicorn.conf.py)
# make bench — measure it at 1,000 and 10,000 pages (BENCH_LARGE=1: 100,000 too); see bench/;
#              DB=postgresql: on a throw-away PostgreSQL database on 127.0.0.1 (user postgres),
#              and served by two hosts; DB="sqlite postgresql": both, one after the other;
#              REVIEWS=1: the review-card rows only (make bench REVIEWS=1 DB="sqlite postgresql")
# make screenshots — retake the README's screenshots (docs/screenshots) with the browser tests:
#                    the main screens at 1280 and 360 px, light and dark (test_responsive.py)
# make mermaid — vendor Mermaid MERMAID_VERSION from npm into static/vendor/mermaid (needs npm;
#                the files are committed, so running, testing and CI never do)
VENV   := .venv
BIN    := $(VENV)/bin
PYTHON ?= python3
STAMP  := $(VENV)/.installed-stamp
DB     ?= sqlite
# HOST and PORT (make run PORT=8080): left empty, each target has its own defaults.

# The suite on every core (pytest-xdist); the browser journeys stay on one worker, in order.
PARALLEL := -n auto --dist loadgroup
# These start wikis of their own (SQLite files, throw-away PostgreSQL databases), whatever
# WIKI_TEST_DATABASE_URL says: after the SQLite pass, the PostgreSQL pass need not repeat them.
OWN_WIKIS := --ignore=tests/test_servers.py --ignore=tests/test_multihost.py

# Diagrams are drawn in the browser by this Mermaid (static/js/diagrams.js loads it).
MERMAID_VERSION := 12.3.0
MERMAID_DIR     := static/vendor/mermaid

.PHONY: install run test test-fast serve bench screenshots mermaid lint clean

install: $(STAMP)

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev,postgres,redis]'
	touch $(STAMP)

run: install
	$(BIN)/flask --app wiki init
	$(BIN)/flask --app wiki run --host $(or $(HOST),127.0.0.1) --port $(or $(PORT),5000)

# The suite on SQLite, then on PostgreSQL in a throw-away database if the machine has one
# (.ci/test-on-postgresql). With WIKI_TEST_DATABASE_URL set: one run, on that database.
test: install
ifdef WIKI_TEST_DATABASE_URL
	$(BIN)/pytest $(PARALLEL)
else
	$(BIN)/pytest $(PARALLEL)
	PYTEST=$(BIN)/pytest .ci/test-on-postgresql $(PARALLEL) $(OWN_WIKIS)
endif

test-fast: install
	env -u WIKI_TEST_DATABASE_URL $(BIN)/pytest $(PARALLEL) -m "not slow" --ignore=tests/e2e

serve: install
	$(BIN)/flask --app wiki init
	$(if $(HOST)$(PORT),WIKI_BIND=$(or $(HOST),127.0.0.1):$(or $(PORT),8000)) \
	$(BIN)/gunicorn --config gunicorn.conf.py wsgi:app

bench: install
	$(BIN)/python bench/run.py --database $(DB)$(if $(REVIEWS), --reviews-only)

screenshots: install
	WIKI_README_SCREENSHOTS=1 E2E_REQUIRED=1 $(BIN)/pytest tests/e2e

# npm pack checks the package against the registry's integrity hash; only the one-file
# browser build and the licence are kept.
mermaid:
	tmp=$$(mktemp -d) && \
	npm pack --silent --pack-destination "$$tmp" mermaid@$(MERMAID_VERSION) >/dev/null && \
	tar -xzf "$$tmp"/mermaid-$(MERMAID_VERSION).tgz -C "$$tmp" && \
	rm -rf $(MERMAID_DIR) && mkdir -p $(MERMAID_DIR) && \
	cp "$$tmp"/package/dist/mermaid.min.js "$$tmp"/package/LICENSE $(MERMAID_DIR)/ && \
	echo $(MERMAID_VERSION) > $(MERMAID_DIR)/VERSION && \
	rm -rf "$$tmp"

lint: install
	$(BIN)/ruff check .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache *.egg-info
