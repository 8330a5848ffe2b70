#!/usr/bin/env bash
# The main job on the examples: set up nbops in .venv (with its JupyterLab extension) and lint
# examples/.
# (As nbops grows this takes an example through lint, fix, modularize, verify, a tracked
# run and a submit for review.) Needs Python 3.10+ and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${NBOPS_VENV:-.venv}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e .
NBOPS="$VENV/bin/nbops"

echo "== nbops lint examples/   (findings are expected: the examples are messy on purpose)"
status=0
"$NBOPS" lint examples/ --no-cache || status=$?
if [ "$status" -gt 1 ]; then
  echo "nbops lint failed with exit code $status" >&2
  exit "$status"
fi

echo
echo "== nbops fix --diff examples/churn_classifier.ipynb   (what the safe fixes would change; nothing is written)"
"$NBOPS" fix --diff examples/churn_classifier.ipynb | tail -n 25 || true

echo
echo "Where to look:"
echo "  - in JupyterLab:             $VENV/bin/jupyter lab examples/   (the nbops panel is in the right sidebar)"
echo "  - the rule catalogue:        $NBOPS rules   (or docs/rules.md)"
echo "  - one rule explained:        $NBOPS rule NB205"
echo "  - apply the safe fixes:      $NBOPS fix examples/   (backups go to examples/.nbops_backup/)"
echo "  - machine-readable findings: $NBOPS lint examples/ --format json"
