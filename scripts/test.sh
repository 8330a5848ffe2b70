#!/usr/bin/env bash
# Set up everything the tests need, then run all of them: mypy --strict on src/ and pytest.
# Used as-is by CI (.ci/run). Needs Python 3.10+ and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${NBOPS_VENV:-.venv}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"
# a Jupyter kernel inside the venv, for the tests that execute notebooks
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 --display-name "Python 3" >/dev/null

echo "== mypy --strict src/nbops"
"$VENV/bin/python" -m mypy

echo "== pytest"
"$VENV/bin/python" -m pytest -n "${NBOPS_TEST_WORKERS:-2}" "$@"
