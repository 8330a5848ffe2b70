#!/usr/bin/env bash
# The main job on the examples: set up nbops in .venv (with its JupyterLab extension), lint
# examples/, then take the wine example through modularize and verify (in build/demo/, so
# examples/ is never touched).
# (As nbops grows this goes on to a tracked run and a submit for review.) Needs Python 3.10+
# and PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${NBOPS_VENV:-.venv}"

if [ ! -x "$VENV/bin/python" ]; then
  "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[examples,tracking]"
"$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
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
DEMO=build/demo
echo "== nbops modularize $DEMO/wine_classifier.ipynb   (library module, pipeline, tests, slim notebook)"
rm -rf "$DEMO"
mkdir -p "$DEMO"
cp examples/wine_classifier.ipynb "$DEMO/"
"$NBOPS" modularize "$DEMO/wine_classifier.ipynb" --package wine --out "$DEMO"

echo
echo "== nbops verify $DEMO/wine_classifier.ipynb   (the notebook and the pipeline, same parameters, every step output compared)"
"$NBOPS" verify "$DEMO/wine_classifier.ipynb" --package wine --out "$DEMO"

echo
echo "== the generated tests"
PY="$(cd "$VENV" && pwd)/bin/python"
(cd "$DEMO" && "$PY" -m pytest -q -p no:cacheprovider tests)

echo
echo "== nbops run $DEMO/wine_classifier.ipynb -p C 0.5   (papermill, tracked in .nbops/mlflow.db)"
"$NBOPS" run "$DEMO/wine_classifier.ipynb" -p C 0.5

echo
echo "Where to look:"
echo "  - in JupyterLab:             $VENV/bin/jupyter lab examples/   (the nbops panel is in the right sidebar)"
echo "  - the rule catalogue:        $NBOPS rules   (or docs/rules.md)"
echo "  - one rule explained:        $NBOPS rule NB205"
echo "  - apply the safe fixes:      $NBOPS fix examples/   (backups go to examples/.nbops_backup/)"
echo "  - machine-readable findings: $NBOPS lint examples/ --format json"
echo "  - the generated library:     $DEMO/src/wine/wine_classifier.py   (run it: PYTHONPATH=$DEMO/src $VENV/bin/python -m wine.wine_classifier --help)"
echo "  - the slim notebook:         $DEMO/wine_classifier_slim.ipynb   (open it in JupyterLab; \"Modularize\" is in the nbops panel)"
echo "  - the tracked runs:          $NBOPS runs   (executed notebooks in .nbops/runs/; the MLflow UI: $NBOPS ui)"
echo "  - the plan as JSON:          $NBOPS modularize examples/house_prices_regression.ipynb --out $DEMO --dry-run --format json"
