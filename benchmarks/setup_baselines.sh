#!/usr/bin/env bash
# Create the baseline tool venvs used by benchmarks/run.py.  Idempotent: an
# existing venv whose pinned packages are already installed is left alone.
#
#   benchmarks/.venv-tools     ruff, black[jupyter], nbqa        (pinned)
#   benchmarks/.venv-pynblint  pynblint + click<8.2 (+ its own pins)
#
# Usage: bash benchmarks/setup_baselines.sh [PYTHON]   (default: python3)
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
PY="${1:-${PYTHON:-python3}}"

# --- pinned versions (bump deliberately; record in docs/benchmarks.md) -------
RUFF_VERSION="0.17.6"
BLACK_VERSION="26.10.1"
NBQA_VERSION="1.9.1"
PYNBLINT_VERSION="0.1.6"

TOOLS_REQS=(
  "ruff==${RUFF_VERSION}"
  "black[jupyter]==${BLACK_VERSION}"
  "nbqa==${NBQA_VERSION}"
)
# pynblint 0.1.6 pins typer<0.13, which breaks with click >= 8.2 (typer 0.12
# calls click APIs that changed); click<8.2 is the fix.  Its own setup also
# leaves black / ruff unpinned, it does not need them: it lints by itself.
PYNBLINT_REQS=(
  "pynblint==${PYNBLINT_VERSION}"
  "click<8.2"
)

make_venv() {   # make_venv DIR REQ...
  local dir="$1"; shift
  local stamp="$dir/.requirements"
  local want
  want="$(printf '%s\n' "$@")"
  if [[ -x "$dir/bin/python" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
    echo "[setup_baselines] $dir is up to date"
    return 0
  fi
  echo "[setup_baselines] creating $dir"
  [[ -x "$dir/bin/python" ]] || "$PY" -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "$@"
  printf '%s\n' "$want" > "$stamp"
}

make_venv "$HERE/.venv-tools" "${TOOLS_REQS[@]}"
make_venv "$HERE/.venv-pynblint" "${PYNBLINT_REQS[@]}"

# --- smoke test: every tool must actually run on one notebook ----------------
SMOKE="$(mktemp -d)"
trap 'rm -rf "$SMOKE"' EXIT
cat > "$SMOKE/smoke.ipynb" <<'EOF'
{
 "cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Smoke test"]},
  {"cell_type": "code", "execution_count": 1, "metadata": {}, "outputs": [],
   "source": ["import os\n", "x = 1\n", "print(x)"]}
 ],
 "metadata": {
  "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
  "language_info": {"name": "python"}
 },
 "nbformat": 4,
 "nbformat_minor": 5
}
EOF

T="$HERE/.venv-tools/bin"
P="$HERE/.venv-pynblint/bin"
ok=1
check() {   # check NAME CMD...  (exit 0 or 1 = ran; anything else = broken)
  local name="$1"; shift
  local rc=0
  ( cd "$SMOKE" && "$@" ) >"$SMOKE/out.txt" 2>&1 || rc=$?
  # pynblint exits 0 with findings and 1 when it crashes (e.g. the click 8.2+
  # start-up TypeError), so for it only 0 without a traceback counts
  if [[ "$name" == pynblint* ]] && { [[ $rc -ne 0 ]] || grep -q "Traceback" "$SMOKE/out.txt"; }; then
    rc=$(( rc > 1 ? rc : 99 ))
  fi
  if [[ $rc -le 1 ]]; then
    echo "[setup_baselines] ok   $name (exit $rc)"
  else
    echo "[setup_baselines] FAIL $name (exit $rc):"; sed 's/^/    /' "$SMOKE/out.txt" | tail -20
    ok=0
  fi
}
check "ruff $("$T/ruff" --version)"            "$T/ruff" check --no-cache smoke.ipynb
check "black $("$T/black" --version | head -1)" "$T/black" --check smoke.ipynb
check "nbqa ruff"                              "$T/nbqa" ruff smoke.ipynb
check "nbqa black"                             "$T/nbqa" black --check smoke.ipynb
check "pynblint $PYNBLINT_VERSION"              "$P/pynblint" smoke.ipynb
if [[ $ok != 1 ]]; then
  echo "[setup_baselines] some baseline tools do not run; see above" >&2
  exit 1
fi
echo "[setup_baselines] all baseline tools run"
