#!/usr/bin/env bash
# Creates .venv (if missing) and installs kb-triage into it. Idempotent.
# torch is installed first, pinned to the CPU build 2.13.0, so that nothing later pulls a CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".${1:-}"
