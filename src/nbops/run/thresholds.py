"""Promotion thresholds: a challenger's metric against ``[tool.nbops.promote]`` and the champion.

The semantics are MLflow's ``mlflow.models.MetricThreshold`` (its ``_validate``), computed here
without ``mlflow.evaluate``:

- ``min-value`` (MLflow's ``threshold``): value >= min-value (<= when greater is not better);
- ``min-absolute-change``: value >= champion + change (<= champion - change);
- ``min-relative-change``: (value - champion) / |champion| >= change ((champion - value) /
  |champion| when greater is not better); a champion of 0 needs value >= 1e-10 (<= -1e-10).

Without a champion only ``min-value`` applies (a first release passes when it meets it); a
champion whose run lacks the metric fails the change thresholds, as in MLflow. A pure module:
the review report (below ``nbops.deploy``) shows the verdict a merge will get with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from nbops.config import PromoteConfig

__all__ = ["Judgement", "Verdict", "judge"]

Status = Literal["PASS", "HOLD"]
_ZERO_CHAMPION = 1e-10  # MLflow's fallback when the champion's value is 0


def _num(value: float) -> str:
    return f"{value:.6g}"


@dataclass(frozen=True)
class Judgement:
    """One threshold's result: ``threshold`` is its key in ``[tool.nbops.promote]``."""

    threshold: str
    ok: bool
    text: str

    def to_json(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "ok": self.ok, "text": self.text}


@dataclass(frozen=True)
class Verdict:
    """PASS or HOLD, with each threshold's result (``summary`` names the failed ones)."""

    status: Status
    metric: str | None
    value: float | None
    champion: float | None  # the champion's value (None: no champion, or it lacks the metric)
    has_champion: bool
    judgements: tuple[Judgement, ...]

    @property
    def passed(self) -> bool:
        return self.status == "PASS"

    @property
    def failed(self) -> list[Judgement]:
        return [j for j in self.judgements if not j.ok]

    def summary(self) -> str:
        """``PASS: accuracy 0.93 >= min-value 0.85: ok; ...`` on one line."""
        return f"{self.status}: " + "; ".join(j.text for j in self.judgements)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "metric": self.metric,
            "value": self.value,
            "champion": self.champion,
            "has_champion": self.has_champion,
            "judgements": [j.to_json() for j in self.judgements],
            "summary": self.summary(),
        }


def judge(config: PromoteConfig, value: float | None, champion: float | None, *,
          has_champion: bool) -> Verdict:
    """The verdict for a challenger whose metric is ``value`` (None: its run lacks it) against
    a champion whose metric is ``champion`` (``has_champion`` False: there is none yet)."""
    metric = config.metric
    out: list[Judgement] = []

    def verdict() -> Verdict:
        status: Status = "PASS" if out and all(j.ok for j in out) else "HOLD"
        return Verdict(status, metric, value, champion, has_champion, tuple(out))

    if metric is None:
        out.append(Judgement("metric", False, "no thresholds: [tool.nbops.promote] declares no "
                             "metric, so champion is never moved automatically"))
        return verdict()
    if value is None:
        out.append(Judgement("metric", False, f"the challenger's run has no metric {metric!r}"))
        return verdict()
    better = config.greater_is_better
    ge, le = (">=", "<") if better else ("<=", ">")
    if config.min_value is not None:
        ok = value >= config.min_value if better else value <= config.min_value
        out.append(Judgement("min-value", ok, f"{metric} {_num(value)} {ge if ok else le} "
                             f"min-value {_num(config.min_value)}: {'ok' if ok else 'HOLD'}"))
    changes = config.min_absolute_change is not None or config.min_relative_change is not None
    if not changes:
        return verdict()
    if not has_champion:
        out.append(Judgement("champion", True, "no champion yet: only min-value applies"))
        return verdict()
    if champion is None:
        out.append(Judgement("champion", False, f"the champion's run has no metric {metric!r} "
                             "to compare with"))
        return verdict()
    delta = value - champion
    versus = f"{delta:+.6g} vs champion {_num(champion)}"
    if config.min_absolute_change is not None:
        change = config.min_absolute_change
        ok = value >= champion + change if better else value <= champion - change
        out.append(Judgement("min-absolute-change", ok, f"{versus} {ge if ok else le} "
                             f"min-absolute-change {_num(change)}: {'ok' if ok else 'HOLD'}"))
    if config.min_relative_change is not None:
        change = config.min_relative_change
        if champion == 0:
            ok = value >= champion + _ZERO_CHAMPION if better else value <= champion - _ZERO_CHAMPION
            text = f"{versus} (champion 0: must be {'above' if better else 'below'} it)"
        else:
            relative = (delta if better else -delta) / abs(champion)
            ok = not relative < change
            text = (f"{relative:+.2%} vs champion {_num(champion)} {ge if ok else le} "
                    f"min-relative-change {change:.2%}")
        out.append(Judgement("min-relative-change", ok, f"{text}: {'ok' if ok else 'HOLD'}"))
    return verdict()
