#!/usr/bin/env bash
# Reruns every benchmark against the local PostgreSQL; JSON results land in benchmarks/results/.
# PERSONS=100000 bash benchmarks/run_all.sh for a quicker run.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
PERSONS="${PERSONS:-1000000}"
$PY benchmarks/bench_bulk_load.py --persons "$PERSONS"
$PY benchmarks/bench_search.py
$PY benchmarks/bench_api_lookup.py
$PY benchmarks/bench_quality.py
$PY benchmarks/bench_oidc.py
$PY benchmarks/bench_submissions.py
$PY benchmarks/bench_ekyc.py
$PY benchmarks/bench_ledger.py
$PY benchmarks/bench_wallet.py
$PY benchmarks/bench_tasks.py
$PY benchmarks/bench_analytics.py
$PY benchmarks/bench_http.py  # own database popid_perf_bench (seeds 100,000 persons when empty)
