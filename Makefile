# PopID: `make run` starts the demo on SQLite, `make test` runs every test suite.
VENV ?= .venv
PYTHON ?= python3
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
DEMO_PERSONS ?= 3000

.PHONY: install run test lint bench bench-http clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

# Commands outside a request (seeded issuer URLs, demo calls, popid verify) use this address.
export POPID_BASE_URL ?= http://$(HOST):$(PORT)

run: install
	@$(BIN)/python -m popid.core.portcheck $(HOST) $(PORT)
	$(BIN)/popid migrate --noinput
	$(BIN)/popid seed --if-empty --persons $(DEMO_PERSONS) --seed 1 --error-rate 0.02 --duplicate-rate 0.02 --demo-commune-share 0.06
	$(BIN)/popid quality run --quiet
	$(BIN)/popid match registry
	$(BIN)/popid analytics seed-history --if-empty
	$(BIN)/popid analytics refresh
	$(BIN)/popid analytics forecast --jobs 2 --alert-weeks 26
	@echo "PopID officer console:   http://$(HOST):$(PORT)/"
	@echo "Citizen account pages:   http://$(HOST):$(PORT)/tai-khoan/"
	@echo "Demo public service (OIDC relying party): http://$(HOST):$(PORT)/demo-rp/"
	@echo "Online public services (citizens):        http://$(HOST):$(PORT)/dich-vu-cong/"
	@echo "Dossier queue and statistics (officers):  http://$(HOST):$(PORT)/services/dossiers/  /services/statistics/"
	@echo "Document wallet / verifier:               http://$(HOST):$(PORT)/vi-giay-to/  /giay-to/xac-minh/"
	@echo "My data-access history (verifiable):      http://$(HOST):$(PORT)/so-cai/lich-su-truy-cap/"
	@echo "Data-sharing consents / agency admin:     http://$(HOST):$(PORT)/chia-se/dong-y/  /chia-se/quan-tri/"
	@echo "Security situation, hot spots, forecasts:  http://$(HOST):$(PORT)/phan-tich/"
	@echo "Crime reports (public) / police console:  http://$(HOST):$(PORT)/to-giac/  /cong-an/tin-bao/  /cong-an/vu-viec/"
	@echo "Digitised records and search (police):     http://$(HOST):$(PORT)/cong-an/so-hoa/  /cong-an/tim-kiem/"
	@echo "Hotels' guest declarations / immigration:  http://$(HOST):$(PORT)/luu-tru/  /xuat-nhap-canh/"
	@echo "Traffic fines (citizens / officers):       http://$(HOST):$(PORT)/phat-nguoi/cua-toi/  /phat-nguoi/can-bo/"
	@echo "Duplicate review (record matching):        http://$(HOST):$(PORT)/so-khop/"
	@echo "Failed background tasks (supervisors):    http://$(HOST):$(PORT)/van-hanh/tac-vu-loi/   health: /healthz /readyz"
	@echo "Logins are printed above and kept in var/demo-accounts.json; SMS OTPs go to var/outbox/messages.jsonl"
	@echo "Web server + background worker (webhooks, ledger, statuses, periodic jobs); Ctrl-C stops both."
	$(BIN)/python -m popid.core.supervise "$(BIN)/popid runserver $(HOST):$(PORT)" "$(BIN)/popid worker --with-scheduler"

test: install
	bash scripts/run-tests.sh

lint: install
	$(BIN)/ruff check src tests benchmarks

bench: install
	bash benchmarks/run_all.sh

clean:
	rm -rf $(VENV) var .pytest_cache

# Hot paths over HTTP against the framework floor (issue #18): popid serve (Granian) on PostgreSQL +
# Redis, wrk (apt: wrk) and pgbench; results in benchmarks/results/http.{json,md}.
bench-http: install
	$(BIN)/python benchmarks/bench_http.py
