#!/usr/bin/env bash
# One command from a fresh clone to a running service: install into .venv, then `kbtriage serve`,
# which on first start loads the demo help desk into SQLite under $KBTRIAGE_HOME (default
# ./var) and trains the models. Extra arguments go to `kbtriage serve` (e.g. --port 9000).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export KBTRIAGE_HOME=${KBTRIAGE_HOME:-$PWD/var} HF_HUB_OFFLINE=1
exec .venv/bin/kbtriage serve "$@"
