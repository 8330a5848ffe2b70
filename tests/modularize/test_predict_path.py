"""The generated library's predict(model, frame): the notebook's prediction path replayed on
raw rows, with its generated test run for real; a path that reads a computed global gets none,
and the plan says why."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd

from tests.modularize.modularize_helpers import load_module, make

ROOT = Path(__file__).resolve().parents[2]

# a scaler fitted apart from the model, columns chosen and missing rows dropped before it
SCALER = '''
# %% tags=parameters
SEED = 0
# %%
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler
# %% [markdown]
# ## Data
# %%
rng = np.random.default_rng(0)
raw = pd.DataFrame(rng.normal(size=(120, 3)), columns=["a", "b", "noise"])
raw["label"] = (raw["a"] + raw["b"] > 0).astype(int)
raw.loc[3, "a"] = None
# %% [markdown]
# ## Features
# %%
clean = raw.dropna()
x = clean[["a", "b"]]
x_train, x_test, y_train, y_test = train_test_split(x, clean["label"], random_state=SEED)
# %% [markdown]
# ## Model
# %%
scaler = StandardScaler().fit(x_train)
model = LogisticRegression().fit(scaler.transform(x_train), y_train)
probabilities = model.predict_proba(scaler.transform(x_test))
'''

# the prediction's columns come from a value the notebook computes
COMPUTED = '''
# %%
import numpy as np
import pandas as pd
from sklearn.linear_model import LinearRegression
# %%
frame = pd.DataFrame({"a": np.arange(20.0), "b": np.arange(20.0) ** 2, "y": np.arange(20.0)})
columns = [c for c in frame.columns if c != "y"]
model = LinearRegression().fit(frame[columns], frame["y"])
fitted = model.predict(frame[columns])
'''


def run_generated_tests(folder: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests"],
        cwd=folder, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip


def test_the_wine_example_gets_predict_and_its_generated_test_passes(tmp_path: Path) -> None:
    shutil.copy(ROOT / "examples" / "wine_classifier.ipynb", tmp_path)
    made = subprocess.run(
        [sys.executable, "-m", "nbops", "modularize", "wine_classifier.ipynb", "--package", "wine",
         "--format", "json"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    plan = json.loads(made.stdout)
    assert not [p for p in plan["problems"] if "predict" in p["message"]]
    # the rows the notebook predicted are returned, so the test can find them
    step = next(s for s in plan["steps"] if s["name"] == "model_and_evaluation")
    assert "x_test" in step["results"] and "predictions" in step["results"]
    module = tmp_path / "src" / "wine" / "wine_classifier.py"
    source = module.read_text(encoding="utf-8")
    assert "def predict(model, frame):" in source
    assert "return model.predict(frame)" in source
    tests = (tmp_path / "tests" / "test_wine_classifier.py").read_text(encoding="utf-8")
    assert "def test_predict_gives_the_notebooks_predictions" in tests
    passed = run_generated_tests(tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "4 passed" in passed.stdout  # the pipeline, two steps, predict

    # the generated test can fail: a predict that changes the rows' order is caught
    module.write_text(source.replace("return model.predict(frame)", "return model.predict(frame[::-1])"))
    failed = run_generated_tests(tmp_path)
    assert failed.returncode == 1, failed.stdout + failed.stderr
    assert "test_predict_gives_the_notebooks_predictions FAILED" in failed.stdout or (
        "FAILED tests/test_wine_classifier.py::test_predict_gives_the_notebooks_predictions" in failed.stdout
    )


def test_a_separately_fitted_scaler_is_an_argument_and_the_path_is_replayed(tmp_path: Path) -> None:
    result, source = make(SCALER, tmp_path)
    assert not [p for p in result.problems if p.severity == "error"], result.problems
    assert "def predict(model, frame, *, scaler):" in source
    assert 'model.predict_proba(scaler.transform(frame.dropna()[["a", "b"]]))' in source
    module = load_module(source, tmp_path)
    values = module.run()
    # raw rows, as they come in: the same preprocessing gives the notebook's probabilities
    rows = values["raw"].loc[values["x_test"].index]
    got = module.predict(values["model"], rows, scaler=values["scaler"])
    np.testing.assert_allclose(got, values["probabilities"])
    # a new raw frame with extra columns and a missing value: selected and dropped as in the notebook
    new = pd.DataFrame({"a": [0.5, None, -1.0], "b": [0.1, 0.2, 0.3], "noise": [9.0, 9.0, 9.0]})
    assert module.predict(values["model"], new, scaler=values["scaler"]).shape == (2, 2)
    passed = run_generated_tests(tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "5 passed" in passed.stdout  # the pipeline, three steps, predict


def test_a_prediction_reading_a_computed_global_gets_no_predict_and_the_reason(tmp_path: Path) -> None:
    result, source = make(COMPUTED, tmp_path)
    assert "def predict(" not in source
    notes = [p for p in result.problems if "predict" in p.message]
    assert len(notes) == 1 and notes[0].severity == "warning"
    assert notes[0].message == (
        "no predict(model, frame) in the module: cell 2: it reads `columns`, a value the notebook "
        "computes (not a literal or a parameter)"
    )
    tests = next(f for f in result.files if f.kind == "tests").content
    assert "test_predict" not in tests
    passed = run_generated_tests(tmp_path)
    assert passed.returncode == 0, passed.stdout + passed.stderr
