"""[tool.nbops.health]: parsed strictly (errors name the key), and the verdict of the triggers."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbops.config import load_config
from nbops.deploy.health import DEFAULTS, METRICS, Trigger, judge, parse_health
from nbops.errors import ConfigError

_THRESHOLD = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@st.composite
def _entry(draw: st.DrawFn) -> tuple[str, dict[str, Any], float | None, float | None]:
    metric = draw(st.sampled_from(sorted(METRICS)))
    direction = METRICS[metric][0]
    a, b = sorted(draw(st.lists(_THRESHOLD, min_size=2, max_size=2)))
    warn, alert = (b, a) if direction == "below" else (a, b)  # warn comes first
    keep = draw(st.sampled_from(["both", "warn", "alert", "none"]))
    warn = warn if keep in ("both", "warn") else None
    alert = alert if keep in ("both", "alert") else None
    suffix = draw(st.sampled_from(["", f"-{direction}"]))
    table: dict[str, Any] = {}
    if warn is not None:
        table["warn" + suffix] = int(warn) if draw(st.booleans()) and warn.is_integer() else warn
    if alert is not None:
        table["alert" + suffix] = alert
    return metric, table, warn, alert


@given(st.lists(_entry(), max_size=6, unique_by=lambda e: e[0]))
def test_a_valid_table_gives_its_triggers_over_the_defaults(entries: list[Any]) -> None:
    triggers = parse_health({metric: table for metric, table, _, _ in entries})
    named = {metric for metric, _, _, _ in entries}
    for metric, _, warn, alert in entries:
        if warn is None and alert is None:
            assert metric not in triggers  # {} turns a metric off
        else:
            assert triggers[metric] == Trigger(metric, warn, alert)
    for metric, default in DEFAULTS.items():
        if metric not in named:
            assert triggers[metric] == default


@given(st.one_of(st.text(), st.booleans(), st.lists(st.integers()), st.none(),
                 st.just(math.nan), st.just(math.inf)))
def test_a_threshold_that_is_not_a_number_is_refused_by_key(value: Any) -> None:
    with pytest.raises(ConfigError, match=r"\[tool.nbops.health\] psi.alert must be a number"):
        parse_health({"psi": {"alert": value}})


@given(st.text(min_size=1).filter(lambda k: k not in METRICS))
def test_an_unknown_metric_is_refused_by_name(metric: str) -> None:
    with pytest.raises(ConfigError, match="unknown metric") as caught:
        parse_health({metric: {"warn": 1}})
    assert repr(metric) in str(caught.value)


@pytest.mark.parametrize(("table", "message"), [
    ({"psi": 0.2}, r"psi must be a table of thresholds"),
    ({"psi": {"critical": 0.2}}, r"unknown key 'critical' in \[tool.nbops.health\] psi"),
    ({"accuracy": {"alert-above": 0.8}}, r"accuracy.alert-above: accuracy fires below"),
    ({"psi": {"warn": 0.3, "alert": 0.2}}, r"psi: warn 0.3 is past alert 0.2"),
    ({"accuracy": {"warn": 0.7, "alert": 0.8}}, r"accuracy: warn 0.7 is past alert 0.8"),
    ({"psi": {"warn": 0.1, "warn-above": 0.1}}, r"psi gives warn twice"),
])
def test_bad_tables_name_the_key(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_health(table)


def test_the_table_is_read_from_the_pyproject(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        "[tool.nbops.health]\npsi = {warn = 0.05, alert = 0.3}\n"
        "accuracy = {alert-below = 0.8}\nks-pvalue = {}\n", encoding="utf-8")
    config = load_config(tmp_path)
    triggers = parse_health(config.health, tmp_path / "pyproject.toml")
    assert triggers["psi"] == Trigger("psi", 0.05, 0.3)
    assert triggers["accuracy"] == Trigger("accuracy", None, 0.8)
    assert "ks-pvalue" not in triggers
    (tmp_path / "pyproject.toml").write_text("[tool.nbops]\nhealth = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"\[tool.nbops.health\] must be a table"):
        load_config(tmp_path)


def test_the_verdict_is_the_worst_level_with_its_reasons() -> None:
    triggers = parse_health({"accuracy": {"alert-below": 0.8}})
    verdict = judge(triggers, [
        ("psi", "alcohol", 0.15), ("psi", "hue", 0.05), ("psi", "proline", None),
        ("accuracy", None, 0.75), ("invalid-rows", None, 0.0),
    ])
    assert verdict.level == "ALERT"
    assert [str(r) for r in verdict.reasons] == [
        "ALERT: accuracy 0.75 < alert 0.8", "WARN: psi of 'alcohol' 0.15 > warn 0.1",
    ]
    assert verdict.drifted == ["alcohol"]
    assert judge(triggers, [("psi", "hue", 0.05), ("accuracy", None, 0.9)]).level == "OK"
    assert judge(triggers, [("prediction-psi", "predictions", 0.5)]).drifted == []


def test_retrain_parameter_is_a_setting_not_a_trigger() -> None:
    from nbops.deploy.health import DEFAULTS, parse_health
    from nbops.errors import ConfigError

    assert set(parse_health({"retrain-parameter": "data_path"})) == {
        k for k, t in DEFAULTS.items() if t.warn is not None or t.alert is not None
    }
    for bad in (3, "data path", ""):
        with pytest.raises(ConfigError, match="retrain-parameter must be a parameter's name"):
            parse_health({"retrain-parameter": bad})
