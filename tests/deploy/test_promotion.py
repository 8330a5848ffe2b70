"""Promotion by thresholds: the pure verdict (against MLflow's own MetricThreshold validation),
``[tool.nbops.promote]``'s checks, and ``nbops promote`` on a real MLflow SQLite registry."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nbops.config import PromoteConfig, load_config
from nbops.deploy.promotion import VERDICT_ARTIFACT, judge
from nbops.errors import ConfigError


def thresholds(**kw: Any) -> PromoteConfig:
    return PromoteConfig(metric="accuracy", **kw)


# ----------------------------------------------------------------- the pure verdict


def test_the_issue_example_holds_on_the_absolute_change_and_says_so() -> None:
    verdict = judge(thresholds(min_value=0.85, min_absolute_change=0.01), 0.91, 0.906,
                    has_champion=True)
    assert verdict.status == "HOLD"
    assert [j.threshold for j in verdict.failed] == ["min-absolute-change"]
    assert verdict.summary() == ("HOLD: accuracy 0.91 >= min-value 0.85: ok; +0.004 vs champion "
                                 "0.906 < min-absolute-change 0.01: HOLD")


def test_a_clear_improvement_passes_every_threshold() -> None:
    verdict = judge(thresholds(min_value=0.85, min_absolute_change=0.01, min_relative_change=0.01),
                    0.93, 0.91, has_champion=True)
    assert verdict.status == "PASS", verdict.summary()
    assert "+0.02 vs champion 0.91 >= min-absolute-change 0.01: ok" in verdict.summary()


def test_without_a_champion_only_min_value_applies() -> None:
    config = thresholds(min_value=0.85, min_absolute_change=0.5)
    assert judge(config, 0.86, None, has_champion=False).status == "PASS"
    low = judge(config, 0.80, None, has_champion=False)
    assert low.status == "HOLD" and [j.threshold for j in low.failed] == ["min-value"]


def test_lower_is_better_flips_every_comparison() -> None:
    config = PromoteConfig(metric="rmse", greater_is_better=False, min_value=1.0,
                           min_absolute_change=0.1)
    assert judge(config, 0.7, 0.9, has_champion=True).status == "PASS"
    assert judge(config, 0.85, 0.9, has_champion=True).status == "HOLD"  # not 0.1 better
    assert judge(config, 1.2, None, has_champion=False).status == "HOLD"  # above min-value


def test_missing_metrics_and_missing_thresholds_hold() -> None:
    assert judge(PromoteConfig(), 0.9, None, has_champion=False).status == "HOLD"
    missing = judge(thresholds(min_value=0.5), None, None, has_champion=False)
    assert missing.status == "HOLD" and "has no metric 'accuracy'" in missing.summary()
    no_baseline = judge(thresholds(min_absolute_change=0.01), 0.9, None, has_champion=True)
    assert no_baseline.status == "HOLD" and "champion's run has no metric" in no_baseline.summary()


def test_mlflow_documented_examples() -> None:
    # MetricThreshold's docstring: >= baseline + min_absolute_change; >= baseline + rel*|baseline|
    # (the magnitude: an R2 below 0); a baseline of 0 needs a value above it
    assert judge(thresholds(min_relative_change=0.05), 1.05, 1.0, has_champion=True).passed
    assert not judge(thresholds(min_relative_change=0.05), 1.04, 1.0, has_champion=True).passed
    assert judge(thresholds(min_relative_change=0.5), -0.5, -1.0, has_champion=True).passed
    assert not judge(thresholds(min_relative_change=0.5), -0.6, -1.0, has_champion=True).passed
    assert judge(thresholds(min_relative_change=0.5), 1e-9, 0.0, has_champion=True).passed
    assert not judge(thresholds(min_relative_change=0.5), 0.0, 0.0, has_champion=True).passed


def _mlflow_passes(config: PromoteConfig, value: float, baseline: float) -> bool:
    from mlflow.models import MetricThreshold
    from mlflow.models.evaluation.validation import ModelValidationFailedException, _validate

    threshold = MetricThreshold(threshold=config.min_value,
                                min_absolute_change=config.min_absolute_change,
                                min_relative_change=config.min_relative_change,
                                greater_is_better=config.greater_is_better)
    try:
        _validate({"m": threshold}, {"m": value}, {"m": baseline})
    except ModelValidationFailedException:
        return False
    return True


finite = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(value=finite, baseline=finite, greater=st.booleans(),
       minimum=st.none() | finite,
       absolute=st.none() | st.floats(min_value=1e-9, max_value=1e3),
       relative=st.none() | st.floats(min_value=0.0, max_value=1.0))
def test_the_verdict_is_mlflows_on_any_values(value: float, baseline: float, greater: bool,
                                              minimum: float | None, absolute: float | None,
                                              relative: float | None) -> None:
    if minimum is None and absolute is None and relative is None:
        minimum = 0.0
    config = PromoteConfig("m", greater, minimum, absolute, relative)
    ours = judge(config, value, baseline, has_champion=True).passed
    assert ours == _mlflow_passes(config, value, baseline)


# ----------------------------------------------------------------- [tool.nbops.promote]


def config_from(tmp_path: Path, table: str) -> PromoteConfig:
    (tmp_path / "pyproject.toml").write_text(f"[tool.nbops.promote]\n{table}\n")
    return load_config(tmp_path).promote


def test_the_promote_table_is_read(tmp_path: Path) -> None:
    got = config_from(tmp_path, 'metric = "rmse"\ngreater-is-better = false\nmin-value = 3\n'
                                "min-absolute-change = 0.1\nmin-relative-change = 0.02")
    assert got == PromoteConfig("rmse", False, 3.0, 0.1, 0.02)
    (tmp_path / "pyproject.toml").write_text("[tool.nbops]\n")
    assert load_config(tmp_path).promote == PromoteConfig()


@pytest.mark.parametrize(("table", "words"), [
    ('metric = "a"\nmin-value = "high"', "min-value must be a number"),
    ('metric = "a"\nmin-valu = 1', "unknown key(s) in [tool.nbops.promote]: min-valu"),
    ('metric = "a"\ngreater-is-better = "yes"', "greater-is-better must be true or false"),
    ('metric = "a"\nmin-absolute-change = 0', "min-absolute-change must be above 0"),
    ('metric = "a"\nmin-relative-change = 5', "min-relative-change must be between 0 and 1"),
    ("min-value = 0.5", "has thresholds but no metric"),
    ('metric = "a"', "has no threshold"),
    ("metric = 3\nmin-value = 1", "metric must be a metric's name"),
])
def test_a_bad_promote_table_is_a_config_error_naming_the_key(tmp_path: Path, table: str,
                                                              words: str) -> None:
    with pytest.raises(ConfigError) as info:
        config_from(tmp_path, table)
    assert words in info.value.message
    assert info.value.path is not None and info.value.path.endswith("pyproject.toml")
    assert not Path(info.value.path).is_absolute()  # messages never show absolute paths


# ----------------------------------------------------------------- nbops promote, for real

PROMOTE = '[project]\nname = "iris"\n\n[tool.nbops.promote]\nmetric = "accuracy"\n' \
          "min-value = 0.8\nmin-absolute-change = 0.01\n"


def nbops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    return subprocess.run([sys.executable, "-m", "nbops", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=env, check=False)


def logged_run(root: Path, accuracy: float) -> str:
    """A finished run with an ``accuracy`` metric and a tiny sklearn model, in root's store."""
    from sklearn.linear_model import LogisticRegression

    from nbops import tracking_api
    from nbops.run.tracking import MlflowTracker, default_tracking_uri

    tracker = MlflowTracker(default_tracking_uri(root))
    run_id = tracker.start_run("iris", "nb", {}, {})
    with pytest.MonkeyPatch.context() as mp:
        for key, value in tracker.kernel_env(run_id).items():
            mp.setenv(key, value)
        model = LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])
        tracking_api.log_model(model, pip_requirements=["scikit-learn"])
    tracker.log_metric(run_id, "accuracy", accuracy)
    tracker.end_run(run_id, "FINISHED")
    return run_id


def registry(root: Path) -> Any:
    from mlflow.tracking import MlflowClient

    return MlflowClient(tracking_uri=f"sqlite:///{root / '.nbops' / 'mlflow.db'}")


def test_promote_moves_champion_on_pass_and_holds_naming_the_threshold(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    root = tmp_path / "a project"
    root.mkdir()
    (root / "pyproject.toml").write_text(PROMOTE)
    first, second, third = (logged_run(root, a) for a in (0.90, 0.905, 0.93))

    passed = nbops(root, "promote", first[:10], "--model", "iris")
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert "registered iris version 1; alias 'challenger' points to it" in passed.stdout
    assert "no champion yet: only min-value applies" in passed.stdout
    client = registry(root)
    assert int(client.get_model_version_by_alias("iris", "champion").version) == 1

    held = nbops(root, "promote", second, "--model", "iris")
    assert held.returncode == 1, held.stdout + held.stderr
    assert "< min-absolute-change 0.01: HOLD" in held.stdout
    assert "champion not moved (version 1): failed min-absolute-change" in held.stdout
    assert int(client.get_model_version_by_alias("iris", "champion").version) == 1
    assert int(client.get_model_version_by_alias("iris", "challenger").version) == 2
    assert client.get_model_version("iris", "2").tags["nbops.verdict"] == "HOLD"
    verdict_file = Path(client.download_artifacts(second, VERDICT_ARTIFACT, str(tmp_path)))
    verdict = json.loads(verdict_file.read_text())
    assert verdict["verdict"]["status"] == "HOLD" and verdict["champion_before"] == 1
    assert verdict["thresholds"]["min-absolute-change"] == 0.01

    dry = nbops(root, "promote", third, "--model", "iris", "--dry-run", "--format", "json")
    assert dry.returncode == 0, dry.stdout + dry.stderr
    assert json.loads(dry.stdout)["verdict"]["status"] == "PASS"
    assert len(client.search_model_versions("name = 'iris'")) == 2  # nothing registered

    again = nbops(root, "promote", "iris@challenger")  # the held version, judged again: HOLD
    assert again.returncode == 1 and "min-absolute-change" in again.stdout

    moved = nbops(root, "promote", third, "--model", "iris")
    assert moved.returncode == 0, moved.stdout + moved.stderr
    assert "champion: iris version 3 (was version 1)" in moved.stdout
    assert int(client.get_model_version_by_alias("iris", "champion").version) == 3
    assert client.get_model_version("iris", "3").tags["nbops.verdict"] == "PASS"


def test_promote_refuses_bad_input_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.nbops.promote]\nmetric = "a"\nmin-value = "x"\n')
    bad = nbops(tmp_path, "promote", "abc123", "--model", "m")
    assert bad.returncode == 2 and "pyproject.toml" in bad.stderr and "min-value" in bad.stderr
    assert "Traceback" not in bad.stderr
    (tmp_path / "pyproject.toml").write_text(PROMOTE)
    no_model = nbops(tmp_path, "promote", "abc123")
    assert no_model.returncode == 2 and "--model NAME" in no_model.stderr
    assert "Traceback" not in no_model.stderr
