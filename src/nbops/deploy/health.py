"""Health triggers: ``[tool.nbops.health]`` parsed strictly, and a check's verdict with its reasons.

Each key of the table is a metric of the check (:data:`METRICS`) with its thresholds::

    [tool.nbops.health]
    psi = {warn = 0.1, alert = 0.2}        # any feature's PSI above: WARN / ALERT
    ks-pvalue = {alert = 0.01}             # any number feature's KS p-value below
    accuracy = {alert-below = 0.8}         # with --labels
    invalid-rows = {alert = 0.05}          # the share of rows failing the signature

A metric fires in its own direction (:data:`METRICS`: above for PSI and errors, below for
p-values and scores); ``warn`` / ``alert`` use it, ``warn-above`` / ``alert-above`` or
``warn-below`` / ``alert-below`` say it explicitly (the wrong direction is an error). A metric
named in the table replaces its default (:data:`DEFAULTS`) whole; ``ks-pvalue = {}`` turns it
off. The verdict is the worst level any trigger reached: OK, WARN or ALERT.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nbops.errors import ConfigError

__all__ = [
    "DEFAULTS",
    "LEVELS",
    "METRICS",
    "Reason",
    "Trigger",
    "Verdict",
    "judge",
    "parse_health",
]

Level = Literal["OK", "WARN", "ALERT"]
LEVELS: tuple[Level, ...] = ("OK", "WARN", "ALERT")

# metric -> (direction it fires in, what it is, scope: "feature", "prediction" or "check")
METRICS: dict[str, tuple[str, str, str]] = {
    "psi": ("above", "population stability index of a feature", "feature"),
    "ks": ("above", "Kolmogorov-Smirnov statistic of a number feature", "feature"),
    "ks-pvalue": ("below", "Kolmogorov-Smirnov p-value of a number feature", "feature"),
    "chi2-pvalue": ("below", "chi-square p-value of a category feature", "feature"),
    "missing": ("above", "share of a feature's values missing", "feature"),
    "prediction-psi": ("above", "population stability index of the predictions", "prediction"),
    "invalid-rows": ("above", "share of rows failing the model's signature", "check"),
    "accuracy": ("below", "accuracy (classifiers, with --labels)", "check"),
    "f1": ("below", "macro F1 (classifiers, with --labels)", "check"),
    "rmse": ("above", "root mean squared error (regressors, with --labels)", "check"),
    "mae": ("above", "mean absolute error (regressors, with --labels)", "check"),
}
_HINT = ("e.g. psi = {warn = 0.1, alert = 0.2}; accuracy = {alert-below = 0.8}; "
         "see docs/configuration.md")


@dataclass(frozen=True)
class Trigger:
    """The thresholds of one metric; ``below``: it fires when the value is under them."""

    metric: str
    warn: float | None = None
    alert: float | None = None

    @property
    def below(self) -> bool:
        return METRICS[self.metric][0] == "below"

    def level(self, value: float) -> tuple[Level, float | None]:
        """The level ``value`` reaches and the threshold it crossed."""
        for level, threshold in (("ALERT", self.alert), ("WARN", self.warn)):
            if threshold is None:
                continue
            if (value < threshold) if self.below else (value > threshold):
                return level, threshold  # type: ignore[return-value]  # literal from the tuple
        return "OK", None

    def to_json(self) -> dict[str, Any]:
        return {"metric": self.metric, "direction": METRICS[self.metric][0],
                "warn": self.warn, "alert": self.alert}


DEFAULTS: dict[str, Trigger] = {
    "psi": Trigger("psi", warn=0.1, alert=0.2),
    "ks-pvalue": Trigger("ks-pvalue", warn=0.001),
    "chi2-pvalue": Trigger("chi2-pvalue", warn=0.001),
    "prediction-psi": Trigger("prediction-psi", warn=0.1, alert=0.2),
    "invalid-rows": Trigger("invalid-rows", warn=0.01, alert=0.05),
}


def _where(file: Path | None) -> Path | None:
    if file is None:
        return None
    try:  # shown relative to the working directory, never as an absolute path
        import os

        return Path(os.path.relpath(file))
    except ValueError:
        return Path(file.name)


def parse_health(table: Any, file: Path | None = None) -> dict[str, Trigger]:
    """The triggers of ``[tool.nbops.health]`` (``table``) over the defaults; a
    ``ConfigError`` naming the key for anything else."""
    shown = _where(file)
    where = "[tool.nbops.health]"
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where} must be a table", path=shown, hint=_HINT)
    triggers = dict(DEFAULTS)
    for metric, entry in table.items():
        if metric == "retrain-parameter":  # a setting of `nbops monitor --retrain`, no trigger
            if not isinstance(entry, str) or not entry.isidentifier():
                raise ConfigError(f"{where} retrain-parameter must be a parameter's name, "
                                  f"not {entry!r}", path=shown,
                                  hint='retrain-parameter = "data_path"')
            continue
        if metric not in METRICS:
            raise ConfigError(f"unknown metric {metric!r} in {where}", path=shown,
                              hint="known: " + ", ".join(METRICS))
        direction = METRICS[metric][0]
        key_where = f"{where} {metric}"
        if not isinstance(entry, Mapping):
            raise ConfigError(f"{key_where} must be a table of thresholds, not {entry!r}",
                              path=shown, hint=f"{metric} = {{warn = ..., alert = ...}}")
        levels: dict[str, float] = {}
        for key, value in entry.items():
            level, _, side = str(key).partition("-")
            if level not in ("warn", "alert") or side not in ("", "above", "below"):
                raise ConfigError(f"unknown key {key!r} in {key_where}", path=shown,
                                  hint=f"warn, alert (or warn-{direction}, alert-{direction})")
            if side and side != direction:
                raise ConfigError(
                    f"{key_where}.{key}: {metric} fires {direction} its thresholds",
                    path=shown, hint=f"use {level} or {level}-{direction}",
                )
            if level in levels:
                raise ConfigError(f"{key_where} gives {level} twice", path=shown)
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value)):
                raise ConfigError(f"{key_where}.{key} must be a number, not {value!r}",
                                  path=shown, hint=_HINT)
            levels[level] = float(value)
        warn, alert = levels.get("warn"), levels.get("alert")
        if warn is not None and alert is not None and (
            (warn < alert) if direction == "below" else (warn > alert)
        ):
            raise ConfigError(
                f"{key_where}: warn {warn:g} is past alert {alert:g}", path=shown,
                hint=f"{metric} fires {direction} its thresholds: warn comes first",
            )
        triggers[metric] = Trigger(metric, warn, alert)
    return {k: v for k, v in triggers.items() if v.warn is not None or v.alert is not None}


@dataclass(frozen=True)
class Reason:
    """One trigger that fired: the metric, on which ``subject`` (a feature, ``predictions``,
    or ``None`` for the whole check), its value and the threshold crossed."""

    level: Level
    metric: str
    subject: str | None
    value: float
    threshold: float

    def __str__(self) -> str:
        on = f" of {self.subject!r}" if self.subject and self.subject != "predictions" else (
            " of the predictions" if self.subject else "")
        sign = "<" if METRICS[self.metric][0] == "below" else ">"
        return (f"{self.level}: {self.metric}{on} {self.value:.4g} {sign} "
                f"{self.level.lower()} {self.threshold:g}")

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "metric": self.metric, "subject": self.subject,
                "value": self.value, "threshold": self.threshold, "text": str(self)}


@dataclass(frozen=True)
class Verdict:
    """OK / WARN / ALERT and the reasons, worst first."""

    level: Level
    reasons: tuple[Reason, ...]

    @property
    def drifted(self) -> list[str]:
        """The features a drift trigger fired on, in order, once each."""
        seen: list[str] = []
        for reason in self.reasons:
            if (reason.subject and reason.subject != "predictions"
                    and reason.subject not in seen):
                seen.append(reason.subject)
        return seen

    def to_json(self) -> dict[str, Any]:
        return {"level": self.level, "reasons": [r.to_json() for r in self.reasons],
                "drifted": self.drifted}


def judge(
    triggers: Mapping[str, Trigger],
    values: Iterable[tuple[str, str | None, float | None]],
) -> Verdict:
    """The verdict of ``values`` (``(metric, subject, value)``; ``None`` values are skipped)."""
    reasons: list[Reason] = []
    for metric, subject, value in values:
        trigger = triggers.get(metric)
        if trigger is None or value is None or not math.isfinite(value):
            continue
        level, threshold = trigger.level(value)
        if level != "OK" and threshold is not None:
            reasons.append(Reason(level, metric, subject, value, threshold))
    reasons.sort(key=lambda r: -LEVELS.index(r.level))
    worst: Level = reasons[0].level if reasons else "OK"
    return Verdict(worst, tuple(reasons))
