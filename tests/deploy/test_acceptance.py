"""The acceptance threshold of a released model: declared with nbops.log_model (or
[tool.nbops.serve]), stored with the model, applied by a real nbops serve on 127.0.0.1 and by
nbops score, refused where it cannot apply. A real SQLite store, a real LogisticRegression."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from deployproject import training_frame
from hypothesis import given
from hypothesis import strategies as st

from nbops import tracking_api
from nbops.config import BELOW, load_config
from nbops.deploy import acceptance
from nbops.deploy.models import load, parse_spec, resolve
from nbops.errors import ConfigError, ToolError, UsageError

NBOPS = [sys.executable, "-m", "nbops"]
THRESHOLD = 0.8


@dataclass
class Store:
    root: Path
    uri: str
    model: Any
    frame: Any
    runs: dict[str, str]  # registered model -> the run that logged it


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}


def _log(tracker: Any, name: str, model: Any, *args: Any, **kwargs: Any) -> str:
    """A run that logs ``model`` with nbops.log_model, registered as ``name``'s champion."""
    with pytest.MonkeyPatch.context() as mp:
        run_id = tracker.start_run(name, "nb", {}, {})
        for key, value in tracker.kernel_env(run_id).items():
            mp.setenv(key, value)
        tracking_api.log_model(model, *args, pip_requirements=["scikit-learn"], **kwargs)
        tracker.end_run(run_id, "FINISHED")
    version = tracker.promote(run_id, name)
    tracker.client.set_registered_model_alias(name, "champion", str(version))
    return str(run_id)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    from sklearn.linear_model import LogisticRegression

    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    root = tmp_path_factory.mktemp("acceptance project")
    (root / "pyproject.toml").write_text('[project]\nname = "wine"\n', encoding="utf-8")
    frame = training_frame(200)
    rng = __import__("numpy").random.default_rng(3)  # noisy labels: probabilities in between
    target = (frame["alcohol"] + frame["acidity"] + rng.normal(0, 0.8, len(frame)) > 15)
    model = LogisticRegression().fit(frame, target.astype(int))
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        tracker = MlflowTracker(default_tracking_uri(root))
    runs = {
        "wine": _log(tracker, "wine", model, frame, threshold=THRESHOLD),
        "triage": _log(tracker, "triage", model, frame, threshold=THRESHOLD, below="route"),
        "plain": _log(tracker, "plain", model, frame),
    }
    return Store(root, tracker.tracking_uri, model, frame, runs)


def _expected(model: Any, frame: Any) -> tuple[list[int], list[float], list[bool]]:
    """Labels, max probabilities and acceptance, computed here from predict_proba."""
    proba = model.predict_proba(frame)
    labels = [int(model.classes_[row.argmax()]) for row in proba]
    best = [float(row.max()) for row in proba]
    return labels, best, [p >= THRESHOLD for p in best]


# ------------------------------------------------------------------------- stored


def test_the_threshold_is_stored_with_the_model_and_counts_the_reference_sample(
    store: Store,
) -> None:
    from nbops.run.tracking import mlflow_client

    client = mlflow_client(store.uri)
    found = acceptance.read(client, store.runs["wine"])
    assert found is not None
    assert (found.threshold, found.below, found.source) == (THRESHOLD, "abstain", "log_model")
    _, _, accepted = _expected(store.model, store.frame)  # 200 rows: the sample is all of it
    assert found.reference_rows == 200
    assert found.reference_below == accepted.count(False) > 0
    tags = client.get_run(store.runs["triage"]).data.tags
    assert tags["nbops.acceptance.threshold"] == "0.8"
    assert tags["nbops.acceptance.below"] == "route"
    assert acceptance.read(client, store.runs["plain"]) is None
    line = found.card_line()
    assert "0.8" in line and "abstain" in line
    assert f"({found.reference_below} of 200 rows)" in line


def test_the_loaded_model_decides_as_its_predict_proba_says(store: Store) -> None:
    loaded = load(resolve(parse_spec("wine"), store.uri))
    assert loaded.acceptance is not None
    decided = loaded.decide(store.frame)
    labels, best, accepted = _expected(store.model, store.frame)
    assert decided.labels.tolist() == labels
    assert decided.probabilities.tolist() == pytest.approx(best)
    assert decided.decisions == ["accept" if a else "abstain" for a in accepted]
    assert decided.answered() == [label if a else None for label, a in zip(labels, accepted)]
    plain = load(resolve(parse_spec("plain"), store.uri))
    assert plain.acceptance is None and plain.raw is None


# ------------------------------------------------------------------------- refused


def test_bad_values_and_a_model_without_probabilities_are_refused_at_log_time(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sklearn.linear_model import LinearRegression
    from sklearn.svm import SVC

    frame = store.frame
    for threshold, below, words in ((0, "abstain", "in (0, 1]"), (1.5, "abstain", "in (0, 1]"),
                                    (math.nan, "abstain", "in (0, 1]"), ("0.7", None, "'0.7'"),
                                    (True, None, "True"), (0.7, "drop", "abstain, route")):
        with pytest.raises(UsageError, match=r"nbops.log_model: .*") as info:
            tracking_api.log_model(store.model, frame, threshold=threshold, below=below)
        assert words in info.value.message
    with pytest.raises(UsageError, match="below= needs a threshold="):
        tracking_api.log_model(store.model, frame, below="route")
    target = frame["alcohol"] > 12
    for model, kind in ((LinearRegression().fit(frame, frame["acidity"]), "LinearRegression"),
                        (SVC().fit(frame, target), "SVC")):
        with pytest.raises(UsageError, match=f"a sklearn.*{kind} has no predict_proba"):
            tracking_api.log_model(model, frame, threshold=0.7)

    mlflow_pyfunc = pytest.importorskip("mlflow.pyfunc")

    class Constant(mlflow_pyfunc.PythonModel):  # type: ignore[misc]
        def predict(self, context: Any, model_input: Any) -> Any:
            return [1] * len(model_input)

    with pytest.raises(UsageError, match=r"pyfunc model \(Constant\) gives none"):
        tracking_api.log_model(Constant(), frame, threshold=0.7)


def test_a_model_whose_flavor_gives_no_probabilities_cannot_be_served_with_one(
    store: Store,
) -> None:
    loaded = load(resolve(parse_spec("plain"), store.uri))

    class NoRaw:
        def get_raw_model(self) -> Any:
            raise NotImplementedError

    with pytest.raises(ToolError, match="declares an acceptance threshold but gives no "
                       "probabilities"):
        acceptance.raw_model(NoRaw(), "plain/1")
    assert acceptance.raw_model(loaded.pyfunc, "plain/1") is not None  # sklearn: it does


def _pyproject(folder: Path, table: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "pyproject.toml").write_text(f"[tool.nbops.serve]\n{table}\n", encoding="utf-8")
    return folder


def test_the_config_value_is_read_and_checked(tmp_path: Path) -> None:
    config = load_config(_pyproject(tmp_path / "ok", 'threshold = 0.7\nbelow = "route"'))
    assert (config.serve.threshold, config.serve.below) == (0.7, "route")
    assert load_config(_pyproject(tmp_path / "default", "threshold = 1")).serve.below == "abstain"
    for name, table, words in (("zero", "threshold = 0", "in (0, 1]"),
                               ("text", 'threshold = "high"', "'high'"),
                               ("below", 'threshold = 0.5\nbelow = "drop"', "abstain, route"),
                               ("alone", 'below = "route"', "below but no threshold"),
                               ("key", "threshold = 0.5\ncutoff = 1", "unknown key(s)")):
        with pytest.raises(ConfigError, match=r"\[tool.nbops.serve\]") as info:
            load_config(_pyproject(tmp_path / name, table))
        assert words in info.value.message
        assert not str(info.value.path).startswith("/")  # never an absolute path


@given(threshold=st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-3, 3),
                           st.booleans(), st.text(max_size=5)),
       below=st.one_of(st.sampled_from(BELOW), st.text(max_size=8)))
def test_a_threshold_is_accepted_exactly_when_it_is_a_number_in_0_1(
    threshold: Any, below: str
) -> None:
    from nbops.config import _serve_table

    good = (not isinstance(threshold, (bool, str)) and 0 < threshold <= 1 and below in BELOW)
    try:
        parsed = _serve_table({"threshold": threshold, "below": below}, Path("pyproject.toml"))
    except ConfigError as exc:
        assert not good, exc
    else:
        assert good and parsed.threshold == float(threshold) and parsed.below == below


# ------------------------------------------------------------------------- serve


@pytest.fixture(scope="module")
def served(store: Store) -> Iterator[tuple[str, Path]]:
    log = store.root / "predictions.jsonl"
    process = subprocess.Popen(
        [*NBOPS, "serve", "wine", "--port", "0", "--log-predictions", log.name],
        cwd=store.root, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert process.stdout is not None
    line = process.stdout.readline()
    if " on http://127.0.0.1:" not in line:
        process.kill()
        raise AssertionError(f"no announcement: {line!r} {process.communicate()}")
    yield line.split(" on ", 1)[1].split()[0], log
    process.terminate()
    process.wait(30)


def _post(url: str, rows: Any) -> Any:
    body = json.dumps({"dataframe_records": json.loads(rows.to_json(orient="records"))})
    request = urllib.request.Request(url + "/invocations", data=body.encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.loads(answer.read())


def test_serve_answers_the_decisions_computed_in_process(
    store: Store, served: tuple[str, Path]
) -> None:
    url, log = served
    rows = store.frame.head(40)
    labels, best, accepted = _expected(store.model, rows)
    assert 0 < accepted.count(False) < len(rows)  # both decisions are exercised
    answer = _post(url, rows)
    assert answer["decisions"] == ["accept" if a else "abstain" for a in accepted]
    assert answer["predictions"] == [label if a else None for label, a in zip(labels, accepted)]
    assert answer["probabilities"] == pytest.approx(best)
    assert (answer["threshold"], answer["below"]) == (THRESHOLD, "abstain")
    deadline = time.monotonic() + 10  # written after the answer is sent
    while not (log.is_file() and log.read_text(encoding="utf-8").strip()):
        assert time.monotonic() < deadline, "nothing logged"
        time.sleep(0.05)
    entry = json.loads(log.read_text(encoding="utf-8").splitlines()[-1])
    assert entry["decisions"] == answer["decisions"]
    assert entry["outputs"] == labels  # the model's labels, abstained ones too
    assert entry["probabilities"] == pytest.approx(best)


# ------------------------------------------------------------------------- score


@pytest.mark.parametrize(("model", "partitions"), [("wine", "1"), ("triage", "3")])
def test_score_writes_probability_and_decision_and_a_summary(
    store: Store, model: str, partitions: str
) -> None:
    import pandas as pd

    folder = store.root / f"score-{model}"
    folder.mkdir()
    rows = store.frame.head(30)
    rows.to_csv(folder / "data.csv", index=False)
    done = subprocess.run([*NBOPS, "score", model, f"score-{model}/data.csv", "-o",
                           f"score-{model}/out.csv", "--partitions", partitions,
                           "--progress", "none"],
                          cwd=store.root, env=_env(), capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    out = pd.read_csv(folder / "out.csv")
    labels, best, accepted = _expected(store.model, rows)
    below = "abstain" if model == "wine" else "route"
    assert list(out["decision"]) == ["accept" if a else below for a in accepted]
    assert list(out["probability"]) == pytest.approx(best)
    shown = [None if math.isnan(v) else int(v) for v in out["prediction"]]
    assert shown == [lbl if a or below == "route" else None for lbl, a in zip(labels, accepted)]
    n_below = accepted.count(False)
    words = "abstained" if model == "wine" else "routed to a human"
    assert f"threshold 0.8: {len(rows) - n_below} accepted, {n_below} {words}" in done.stdout


def test_a_config_threshold_is_counted_on_the_reference_sample_or_refused(
    store: Store, tmp_path: Path
) -> None:
    from sklearn.linear_model import LinearRegression

    from nbops.run.tracking import MlflowTracker

    tracker = MlflowTracker(store.uri)
    found = acceptance.from_config(tracker, store.runs["plain"], THRESHOLD, "route")
    _, _, accepted = _expected(store.model, store.frame)
    assert (found.source, found.below, found.reference_rows) == ("config", "route", 200)
    assert found.reference_below == accepted.count(False)
    regressor = LinearRegression().fit(store.frame, store.frame["acidity"])
    run_id = _log(tracker, "regressor", regressor, store.frame)
    with pytest.raises(UsageError, match=r"\[tool.nbops.serve\] threshold = 0.8 needs "
                       r"probabilities, and the model of run \w+ \(\w+\) gives none"):
        acceptance.from_config(tracker, run_id, THRESHOLD, "abstain")
