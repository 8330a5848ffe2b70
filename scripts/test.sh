#!/usr/bin/env bash
# Set up everything the tests need, then run all of them: mypy --strict on src/, the import
# contracts (import-linter) and pytest.
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

# Debian's chromium for tests/browser (playwright, from the test extra, drives it; never
# `playwright install`). Without it those tests are skipped.
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" -eq 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "== /usr/bin/chromium missing and no root/sudo: the browser tests (tests/browser) will be skipped"
  fi
fi

echo "== mypy --strict src/nbops"
"$VENV/bin/python" -m mypy

# nbops' own code, with ruff's default rule set ([tool.ruff] in pyproject.toml)
echo "== ruff check src/nbops"
"$VENV/bin/ruff" check --no-cache src/nbops

# the layers and contracts of [tool.importlinter] in pyproject.toml (docs/architecture.md)
echo "== import-linter"
"$VENV/bin/lint-imports" --no-cache --no-logo

# the JupyterLab extension: its npm packages as the lockfile pins them (the generated-types
# test in pytest needs them too), then tsc on sources and tests, eslint, prettier and the
# unit tests of its models (vitest); docs/development.md
echo "== labextension: tsc, eslint, prettier, vitest"
(cd labextension && npm install --no-audit --no-fund --loglevel=error && npm run --silent check)

echo "== pytest"
"$VENV/bin/python" -m pytest -n "${NBOPS_TEST_WORKERS:-2}" "$@"
