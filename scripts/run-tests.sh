#!/usr/bin/env bash
# Runs the whole suite on SQLite, then again on PostgreSQL, with the browser tests in Chromium.
# POPID_REQUIRE_POSTGRES=1 / POPID_REQUIRE_BROWSER=1 turn "skip with a message" into failure (CI).
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${POPID_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/popid}"
# Live-server request threads must not keep PostgreSQL sessions open past the test, or the test
# database cannot be dropped at teardown.
export POPID_DB_CONN_MAX_AGE=0
status=0

echo "== ruff"
$BIN/ruff check src tests benchmarks || status=1

echo "== import rules (import-linter, .importlinter)"
$BIN/lint-imports || status=1

echo "== types (mypy; no error beyond mypy-baseline.txt)"
$BIN/python scripts/mypy_baseline.py || status=1

# --- Debian packages the suite runs against (Java for Spark local mode, Tesseract + Vietnamese) ---
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  want=()
  command -v java >/dev/null || want+=(openjdk-17-jre-headless)
  tesseract --list-langs 2>/dev/null | grep -qx vie || want+=(tesseract-ocr tesseract-ocr-vie)
  if [ ${#want[@]} -gt 0 ]; then
    echo "== installing Debian's ${want[*]}"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${want[@]}") >/dev/null 2>&1 || true
  fi
fi

# --- browser --------------------------------------------------------------------------
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "== installing Debian's chromium for the browser tests"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 || true
fi
MARK=()
if [ -x /usr/bin/chromium ]; then
  export POPID_BROWSER=/usr/bin/chromium
else
  if [ "${POPID_REQUIRE_BROWSER:-0}" = "1" ]; then echo "FAIL: /usr/bin/chromium missing"; exit 1; fi
  echo "!! /usr/bin/chromium not found: browser tests are SKIPPED in this run"
  MARK=(-m "not browser")
fi

run_pytest() {
  $BIN/pytest -q -p no:cacheprovider --durations=25 "${MARK[@]}" "$@"
  local rc=$?
  [ $rc -eq 5 ] && { echo "no tests collected"; return 1; }
  return $rc
}

# The SQLite and PostgreSQL runs are independent (own data directory, own database, own Redis
# database numbers: tests/conftest.py redis_test_url): they run side by side, one per core, each
# into its own log printed when it ends. POPID_TEST_SERIAL=1 runs them one after the other.
LOGS="$(mktemp -d)"
PG_OK=0
if $BIN/python - "$PG_URL" <<'PY' 2>/dev/null
import sys, urllib.parse, psycopg
# Reachability of the server (its maintenance database), whatever database the URL names: the
# test database is test_<name>, so two checkouts can share a server with different names.
url = urllib.parse.urlsplit(sys.argv[1])
psycopg.connect(urllib.parse.urlunsplit(url._replace(path="/postgres")), connect_timeout=3).close()
PY
then
  PG_OK=1
elif [ "${POPID_REQUIRE_POSTGRES:-0}" = "1" ]; then
  echo "FAIL: PostgreSQL not reachable at $PG_URL"; exit 1
fi

echo "== tests on SQLite"
POPID_DATA_DIR="$(mktemp -d)" run_pytest >"$LOGS/sqlite.log" 2>&1 &
sqlite_pid=$!
if [ "${POPID_TEST_SERIAL:-0}" = "1" ]; then wait $sqlite_pid || status=1; sqlite_pid=""; fi
if [ $PG_OK = 1 ]; then
  echo "== tests on PostgreSQL ($PG_URL)"
  # Then the replica tests (marker `replica`): the same primary with its streaming standby
  # (deploy/replica/setup-replica.sh, port 5433) as the `replica` alias; in the main run they skip.
  REPLICA_URL="${POPID_TEST_REPLICA_URL:-$(echo "$PG_URL" | sed -E 's#:[0-9]+/#:5433/#')}"
  (
    POPID_DATA_DIR="$(mktemp -d)" POPID_DATABASE_URL="$PG_URL" run_pytest; rc=$?
    echo "== replica tests (primary $PG_URL, standby $REPLICA_URL)"
    POPID_DATA_DIR="$(mktemp -d)" POPID_DATABASE_URL="$PG_URL" POPID_REPLICA_DATABASE_URL="$REPLICA_URL" \
      run_pytest -m replica tests/ops/test_ops_replica.py || rc=1
    exit $rc
  ) >"$LOGS/postgres.log" 2>&1 &
  pg_pid=$!
else
  echo "!! PostgreSQL not reachable at $PG_URL: the PostgreSQL run is SKIPPED"
  pg_pid=""
fi
if [ -n "$sqlite_pid" ]; then wait $sqlite_pid || status=1; fi
echo "== SQLite run"; cat "$LOGS/sqlite.log"
if [ -n "$pg_pid" ]; then
  wait $pg_pid || status=1
  echo "== PostgreSQL run"; cat "$LOGS/postgres.log"
fi
exit $status
