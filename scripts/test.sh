#!/usr/bin/env bash
# One command to install what the tests need and run the whole suite: first on SQLite, then on
# PostgreSQL when one answers at $TEST_PG_URL (default postgresql://postgres@127.0.0.1:5432/test).
# CI (.ci/run) calls exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh "[test]"
# The console's browser tests drive Debian's Chromium (Playwright's own browser download cannot work
# on machines without internet access).
if [ ! -x /usr/bin/chromium ]; then
  echo "== installing Debian's chromium for the browser tests"
  SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
  $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 || { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium; }
fi
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false
PG=${TEST_PG_URL:-postgresql://postgres@127.0.0.1:5432/test}
# One pass per engine. The two run side by side (each uses about 1.2 of the 2 cores on its own, much
# of a test's time being waits on processes, sockets and the database), their lines prefixed with
# the engine's name; the command fails when either pass fails.
pass_on() {  # NAME [ENV=VALUE ...]: one pass of the suite, its output lines prefixed with [NAME]
  local name=$1; shift
  ( set -o pipefail; env "$@" .venv/bin/python -m pytest -q -p no:cacheprovider "${PYTEST_ARGS[@]}" 2>&1 \
      | sed -u "s/^/[$name] /" )
}
PYTEST_ARGS=("$@")
kill_tree() {  # PID: the process and everything it started (pytest, the services its tests run)
  local child
  for child in $(pgrep -P "$1" 2>/dev/null); do kill_tree "$child"; done
  kill -TERM "$1" 2>/dev/null || true
}
if .venv/bin/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$PG" 2>/dev/null; then
  echo "== test suite on SQLite and on PostgreSQL ($PG), side by side"
  pass_on sqlite & sqlite_pass=$!
  pass_on postgresql TEST_DATABASE_URL="$PG" & pg_pass=$!
  # Interrupted or stopped (Ctrl-C, a CI timeout): take both passes down, not only this script.
  trap 'trap - INT TERM; kill_tree $sqlite_pass; kill_tree $pg_pass; exit 130' INT TERM
  status=0
  wait $sqlite_pass || { status=$?; echo "== the SQLite pass failed (exit $status)"; }
  wait $pg_pass || { status=$?; echo "== the PostgreSQL pass failed (exit $status)"; }
  exit $status
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $PG, and CI must test it" >&2; exit 1
else
  echo "== PostgreSQL not reachable at $PG: the suite on SQLite only"
  .venv/bin/python -m pytest -q "$@"
fi
