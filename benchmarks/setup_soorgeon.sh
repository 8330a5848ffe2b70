#!/usr/bin/env bash
# Create the soorgeon venv used by benchmarks/modularize.py (the baseline of
# `nbops modularize`).  Idempotent: an existing venv whose pinned packages are
# already installed is left alone.
#
#   benchmarks/.venv-soorgeon   soorgeon + the deps it drives (pinned)
#
# Usage: bash benchmarks/setup_soorgeon.sh [PYTHON]   (default: python3)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${1:-${PYTHON:-python3}}"
VENV="$HERE/.venv-soorgeon"

# --- pinned versions (bump deliberately; recorded in docs/benchmarks-modularize.md)
SOORGEON_VERSION="0.0.20"
# soorgeon leaves its dependencies unpinned; these are the ones that shape its
# output (it reformats with black and isort, reads/writes with jupytext and
# nbformat, analyses with parso and pyflakes), pinned to what resolved when the
# benchmark was written.
REQS=(
  "soorgeon==${SOORGEON_VERSION}"
  "black==26.10.1"
  "isort==9.0.2"
  "jupytext==1.19.6"
  "nbformat==5.11.1"
  "parso==0.8.7"
  "pyflakes==4.1.0"
  "ploomber-core==0.2.27"
  "click==8.5.1"
)

want="$(printf '%s\n' "${REQS[@]}")"
stamp="$VENV/.requirements"
if [[ -x "$VENV/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "[setup_soorgeon] $VENV is up to date"
else
  echo "[setup_soorgeon] creating $VENV"
  [[ -x "$VENV/bin/python" ]] || "$PY" -m venv "$VENV"
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${REQS[@]}"
  printf '%s\n' "$want" > "$stamp"
fi

# --- smoke test: a two-section notebook must refactor into two task files ----
SMOKE="$(mktemp -d)"
trap 'rm -rf "$SMOKE"' EXIT
cat > "$SMOKE/smoke.ipynb" <<'EOF'
{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["## Load"]},
  {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
   "source": ["import math\n", "x = math.sqrt(4)"]},
  {"cell_type": "markdown", "metadata": {}, "source": ["## Use"]},
  {"cell_type": "code", "execution_count": 2, "metadata": {}, "outputs": [],
   "source": ["y = x + 1\n", "print(y)"]}
 ],
 "metadata": {
  "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
  "language_info": {"name": "python"}
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
EOF
# ploomber-core's telemetry would try the network; the benchmark turns it off too
export PLOOMBER_STATS_ENABLED=false PLOOMBER_VERSION_CHECK_DISABLED=true
rc=0
( cd "$SMOKE" && "$VENV/bin/soorgeon" refactor smoke.ipynb --file-format py ) >"$SMOKE/out.txt" 2>&1 || rc=$?
ntasks=$(find "$SMOKE/tasks" -name '*.py' 2>/dev/null | wc -l)
if [[ $rc -ne 0 || $ntasks -ne 2 || ! -f "$SMOKE/pipeline.yaml" ]]; then
  echo "[setup_soorgeon] FAIL soorgeon $SOORGEON_VERSION (exit $rc, $ntasks task files):"
  sed 's/^/    /' "$SMOKE/out.txt" | tail -20
  exit 1
fi
echo "[setup_soorgeon] ok   soorgeon $("$VENV/bin/soorgeon" --version 2>&1 | tail -1) ($ntasks task files)"
