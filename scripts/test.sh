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
echo "== test suite on SQLite"
.venv/bin/python -m pytest -q "$@"
if .venv/bin/python -c "import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()" "$PG" 2>/dev/null; then
  echo "== test suite on PostgreSQL ($PG)"
  TEST_DATABASE_URL=$PG .venv/bin/python -m pytest -q "$@"
elif [ "${CI:-}" = "true" ]; then
  echo "PostgreSQL is not reachable at $PG, and CI must test it" >&2; exit 1
else
  echo "== PostgreSQL not reachable at $PG: skipped the PostgreSQL pass"
fi
