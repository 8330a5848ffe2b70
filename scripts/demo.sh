#!/usr/bin/env bash
# The main job on the examples: set up nbops in .venv (with its JupyterLab extension), lint
# examples/, then take the wine example through modularize, verify, a tracked run, the review
# gate and a submit to a local review remote, a sweep on a local Dask cluster, the merge and
# the release CI runs after it (a model version promoted by thresholds), nbops serve answering
# a request, nbops score scoring a file, the model card's explanation and two health checks
# (nbops monitor: the same wines, then wines shifted on purpose: ALERT). All of it happens in
# build/demo/ (a git repository of its own with a bare remote, build/demo-remote.git), so
# examples/ and this checkout are never touched. Needs Python 3.10+, git, PyPI and the npm registry.
#
# NBOPS_DEMO_BUILD=DIR puts the demo repository and its remote in DIR instead of build/, and
# NBOPS_DEMO_SKIP_INSTALL=1 uses the venv as it is (tests/test_demo.py runs the demo this way
# with the test environment).
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON="${PYTHON:-python3}"
VENV="${NBOPS_VENV:-.venv}"

if [ "${NBOPS_DEMO_SKIP_INSTALL:-0}" != 1 ]; then
  if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
  fi
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[examples,all]"
  "$VENV/bin/python" -m ipykernel install --sys-prefix --name python3 >/dev/null
fi
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
BUILD="${NBOPS_DEMO_BUILD:-build}"
DEMO="$BUILD/demo"
REMOTE="$BUILD/demo-remote.git"
echo "== a team repository in $DEMO with the wine example, its review remote in $REMOTE"
rm -rf "$DEMO" "$REMOTE"
mkdir -p "$DEMO"
git init --quiet --bare "$REMOTE"
git init --quiet -b main "$DEMO"
cp examples/wine_classifier.ipynb "$DEMO/"
printf '[project]\nname = "wine"\nversion = "0.1.0"\ndependencies = ["pandas", "scikit-learn", "matplotlib", "nbops"]\n\n[tool.ruff]\nline-length = 100\n\n[tool.nbops.promote]\nmetric = "accuracy"\nmin-value = 0.9\nmin-absolute-change = 0.005\n' > "$DEMO/pyproject.toml"
printf '.nbops/\nnbops-runs/\n__pycache__/\n' > "$DEMO/.gitignore"
git -C "$DEMO" add .
git -C "$DEMO" -c user.name="nbops demo" -c user.email=demo@example.com commit --quiet -m "Wine classifier notebook"
git -C "$DEMO" config user.name "nbops demo"
git -C "$DEMO" config user.email demo@example.com
git -C "$DEMO" remote add origin "$(cd "$REMOTE" && pwd)"
git -C "$DEMO" push --quiet origin main

echo
echo "== nbops modularize $DEMO/wine_classifier.ipynb   (library module, pipeline, tests, slim notebook)"
"$NBOPS" modularize "$DEMO/wine_classifier.ipynb" --package wine --out "$DEMO"

echo
echo "== nbops verify $DEMO/wine_classifier.ipynb   (notebook vs pipeline: every step output; notebook vs slim notebook: what it shows)"
"$NBOPS" verify "$DEMO/wine_classifier.ipynb" --package wine --out "$DEMO"

echo
echo "== the generated tests"
PY="$(cd "$VENV" && pwd)/bin/python"
(cd "$DEMO" && "$PY" -m pytest -q -p no:cacheprovider tests)

echo
echo "== nbops run $DEMO/wine_classifier.ipynb -p C 0.5   (papermill, tracked in $DEMO/.nbops/mlflow.db)"
"$NBOPS" run "$DEMO/wine_classifier.ipynb" -p C 0.5

echo
echo "== nbops check examples/churn_classifier.ipynb   (the review gate blocks a notebook that is not ready)"
"$NBOPS" check examples/churn_classifier.ipynb || true

echo
echo "== nbops submit $DEMO/wine_classifier.ipynb   (gate, then a review branch pushed to $REMOTE)"
"$NBOPS" submit "$DEMO/wine_classifier.ipynb" --message "Demo submission of the wine classifier."
BRANCH="$(git -C "$REMOTE" for-each-ref --format='%(refname:short)' refs/heads/review/ | head -n 1)"
ABS_NBOPS="$(cd "$VENV" && pwd)/bin/nbops"
ABS_PYTHON="$(cd "$VENV" && pwd)/bin/python"  # for steps that run in another folder

echo
echo "== nbops run $DEMO/wine_classifier.ipynb --grid C=0.5,1.0 --executor dask   (a sweep on a local Dask cluster)"
"$NBOPS" run "$DEMO/wine_classifier.ipynb" --grid C=0.5,1.0 --executor dask --parallel 2

echo
CI="$BUILD/demo-ci"
echo "== the reviewer approves pull request #1: $BRANCH is merged into main; CI checks out main in $CI"
rm -rf "$CI"
git clone --quiet --branch main "$(cd "$REMOTE" && pwd)" "$CI"
git -C "$CI" -c user.name="nbops demo" -c user.email=demo@example.com merge --quiet --no-ff \
  "origin/$BRANCH" -m "Merge pull request #1 from $BRANCH"
git -C "$CI" push --quiet origin main

echo
echo "== nbops release wine_classifier.ipynb --model wine   (what the CI job runs after the merge: a tracked run of the merge commit, the model version with its card, promoted by [tool.nbops.promote])"
(cd "$CI" && "$ABS_NBOPS" release wine_classifier.ipynb --model wine)

echo
echo "== nbops serve wine@champion   (MLflow's scoring protocol; one request, then SIGTERM)"
PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
(cd "$CI" && exec "$ABS_NBOPS" serve wine@champion --port "$PORT" --log-predictions predictions.jsonl) &
SERVE_PID=$!
trap 'kill "$SERVE_PID" 2>/dev/null || true' EXIT
"$VENV/bin/python" - "$PORT" <<'PY'
import json, sys, time, urllib.error, urllib.request
from sklearn.datasets import load_wine

base = f"http://127.0.0.1:{sys.argv[1]}"
deadline = time.monotonic() + 180
while True:  # the server loads MLflow and the model first
    try:
        urllib.request.urlopen(base + "/ping", timeout=5).read()
        break
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        if time.monotonic() > deadline:
            sys.exit("nbops serve did not answer /ping within 180 s")
        time.sleep(0.5)
rows = load_wine(as_frame=True).data.head(2)
body = json.dumps({"dataframe_split": rows.to_dict(orient="split")}).encode()
request = urllib.request.Request(base + "/invocations", body, {"Content-Type": "application/json"})
print("POST /invocations (2 wines) ->", urllib.request.urlopen(request, timeout=30).read().decode())
bad = json.dumps({"dataframe_records": [{"alcohol": "strong"}]}).encode()
try:
    urllib.request.urlopen(urllib.request.Request(base + "/invocations", bad, {"Content-Type": "application/json"}), timeout=30)
except urllib.error.HTTPError as error:
    print(f"a bad request -> {error.code}:", error.read().decode()[:200])
PY
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" || true
trap - EXIT

echo
echo "== nbops score wine@champion wines.csv -o scores.csv   (batch scoring; a bad row is reported, not dropped silently)"
"$VENV/bin/python" -c 'from sklearn.datasets import load_wine; d = load_wine(as_frame=True).data.astype(object); d.loc[3, "alcohol"] = "n/a"; d.to_csv("'"$CI"'/wines.csv", index=False)'
(cd "$CI" && "$ABS_NBOPS" score wine@champion wines.csv -o scores.csv --partitions 2 --allow-bad-rows --progress none)

echo
echo "== the released model card's explanation (nbops.log_model(model, x_train, eval_data=(x_test, y_test)) in the notebook)"
(cd "$CI" && "$ABS_PYTHON" - <<'PY'
import os
import tempfile
from pathlib import Path
os.environ["MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR"] = "false"
from mlflow import MlflowClient
from nbops.run.tracking import default_tracking_uri

client = MlflowClient(default_tracking_uri(Path.cwd()))
version = client.get_model_version_by_alias("wine", "champion")
card = Path(client.download_artifacts(version.run_id, "release/model_card.md", tempfile.mkdtemp()))
lines = card.read_text(encoding="utf-8").splitlines()
start = next((i for i, line in enumerate(lines) if "Explanation" in line), None)
if start is None:
    raise SystemExit("the model card has no Explanation section")
print("\n".join(lines[start:start + 14]))
PY
)

echo
echo "== nbops monitor wine@champion --current wines-today.csv --labels target   (a health check: drift against the model's reference data, accuracy on labelled rows)"
"$VENV/bin/python" - "$CI" <<'PY'
import sys
from sklearn.datasets import load_wine

wine = load_wine(as_frame=True)
picked = wine.data.sample(2000, replace=True, random_state=7)  # the training distribution
today = picked.reset_index(drop=True)
today["target"] = wine.target.loc[picked.index].to_numpy()
today.to_csv(f"{sys.argv[1]}/wines-today.csv", index=False)
shifted = today.copy()  # a new supplier: stronger wines, deeper colour
shifted["alcohol"] += 1.5
shifted["color_intensity"] *= 1.6
shifted.to_csv(f"{sys.argv[1]}/wines-shifted.csv", index=False)
PY
(cd "$CI" && "$ABS_NBOPS" monitor wine@champion --current wines-today.csv --labels target -o health/today)

echo
echo "== nbops monitor wine@champion --current wines-shifted.csv --labels target   (the same wines shifted on purpose: ALERT, exit 5, the drifted features named)"
alert=0
(cd "$CI" && "$ABS_NBOPS" monitor wine@champion --current wines-shifted.csv --labels target -o health/shifted) || alert=$?
if [ "$alert" -ne 5 ]; then
  echo "expected the ALERT exit code 5, got $alert" >&2
  exit 1
fi

echo
echo "Where to look:"
echo "  - in JupyterLab:             $VENV/bin/jupyter lab examples/   (the nbops panel is in the right sidebar)"
echo "  - the rule catalogue:        $NBOPS rules   (or docs/rules.md)"
echo "  - one rule explained:        $NBOPS rule NB205"
echo "  - apply the safe fixes:      $NBOPS fix examples/   (backups go to examples/.nbops_backup/)"
echo "  - machine-readable findings: $NBOPS lint examples/ --format json"
echo "  - the generated library:     $DEMO/src/wine/wine_classifier.py   (run it: PYTHONPATH=$DEMO/src $VENV/bin/python -m wine.wine_classifier --help)"
echo "  - the slim notebook:         $DEMO/wine_classifier_slim.ipynb   (open it in JupyterLab; \"Modularize\" is in the nbops panel)"
echo "  - the tracked runs:          (cd $DEMO && $ABS_NBOPS runs)   (executed notebooks in $DEMO/nbops-runs/; the MLflow UI: cd $DEMO && $ABS_NBOPS ui)"
echo "  - the review branch:         git -C $REMOTE log --stat $BRANCH   (the report: git -C $REMOTE show $BRANCH:reviews/wine_classifier.md)"
echo "  - the review gate:           $NBOPS check examples/churn_classifier.ipynb --format markdown"
echo "  - the released model:        (cd $CI && $ABS_NBOPS serve wine@champion)   (its version, card and verdict: cd $CI && $ABS_NBOPS ui; scores in $CI/scores.csv, rejected rows in $CI/scores.csv.errors.csv)"
echo "  - the model's health:        $CI/health/shifted/report.html   (and health/today/; the checks' timeline: cd $CI && $ABS_NBOPS ui, experiment nbops-health/wine; docs/monitor.md)"
echo "  - in JupyterLab, after:      the Models tab (champion, challenger, release history, Promote) and the Health tab (the checks above) of the nbops sidebar, on $CI"
echo "  - runs on a Dask cluster:    docs/distributed.md   (--executor dask --scheduler tcp://HOST:8786; a team tracking server: nbops tracking-server)"
echo "  - the plan as JSON:          $NBOPS modularize examples/house_prices_regression.ipynb --out $DEMO --dry-run --format json"
