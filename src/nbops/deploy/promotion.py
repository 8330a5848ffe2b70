"""Promotion by thresholds: a challenger version against the champion, PASS or HOLD.

``nbops promote RUN --model NAME`` registers the run's model as a new version (alias
``challenger``); ``nbops promote NAME@challenger`` (or ``NAME@3``) takes a registered version.
Either way the version's run metrics are judged against the champion's by the thresholds of
``[tool.nbops.promote]`` (:func:`nbops.run.thresholds.judge`: MLflow's MetricThreshold
semantics). On PASS the ``champion`` alias moves to the version; on HOLD it stays. The
comparison is written as the artifact ``promotion/verdict.json`` of the version's run and as
the version's tags ``nbops.verdict`` (PASS / HOLD) and ``nbops.verdict.summary``. A dry run
judges and writes nothing.
"""

from __future__ import annotations

import datetime as _dt
import json
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbops.config import PromoteConfig
from nbops.errors import UsageError
from nbops.run.thresholds import Judgement, Verdict, judge

__all__ = ["VERDICT_ARTIFACT", "VERDICT_TAG", "Judgement", "Promotion", "Verdict", "judge",
           "promote", "verdict_for"]

VERDICT_ARTIFACT = "promotion/verdict.json"
VERDICT_TAG = "nbops.verdict"
CHAMPION = "champion"


@dataclass(frozen=True)
class Promotion:
    """What ``nbops promote`` did: the version judged, the verdict, where champion is now."""

    model: str
    version: int | None  # None: a dry run of a run that was not registered
    run_id: str
    verdict: Verdict
    champion_before: int | None
    champion_after: int | None
    dry_run: bool = False

    @property
    def moved(self) -> bool:
        return self.champion_after != self.champion_before

    def to_json(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "version": self.version,
            "run_id": self.run_id,
            "verdict": self.verdict.to_json(),
            "champion_before": self.champion_before,
            "champion_after": self.champion_after,
            "moved": self.moved,
            "dry_run": self.dry_run,
        }

    def text(self) -> str:
        """What the CLI prints: the verdict and what happened to ``champion``."""
        what = f"{self.model} version {self.version}" if self.version else f"run {self.run_id}"
        lines = [f"verdict for {what}: {self.verdict.summary()}"]
        before = f"version {self.champion_before}" if self.champion_before else "none"
        if self.dry_run:
            lines.append(f"dry run: nothing registered or moved (champion: {before})")
        elif self.moved:
            lines.append(f"champion: {self.model} version {self.champion_after} (was {before})")
        else:
            failed = ", ".join(j.threshold for j in self.verdict.failed) or "none"
            lines.append(f"champion not moved ({before}): failed {failed}")
        return "\n".join(lines) + "\n"


def _target(target: str, model: str | None) -> tuple[str, str | None, str | None]:
    """(model, version ref, run id) from ``RUN`` (with ``model``) or ``MODEL@ALIAS|VERSION``."""
    if "@" in target:
        name, _, ref = target.partition("@")
        if not name or not ref.strip():
            raise UsageError(f"{target!r} is not MODEL@ALIAS", hint="e.g. wine@challenger")
        if model and model != name:
            raise UsageError(f"{target!r} names model {name!r} but --model says {model!r}",
                             hint="leave out --model with MODEL@ALIAS")
        return name, ref.strip(), None
    if not model:
        raise UsageError("promoting a run needs the registered model's name",
                         hint=f"nbops promote {target} --model NAME")
    return model, None, target


def verdict_for(tracker: Any, model: str, metrics: Mapping[str, float],
                config: PromoteConfig, *, exclude_version: int | None = None) -> tuple[Verdict, int | None]:
    """The verdict for a challenger with ``metrics`` against ``model``'s champion, and the
    champion's version (None: no champion yet)."""
    champion_version = tracker.aliases(model).get(CHAMPION)
    if champion_version is not None and champion_version == exclude_version:
        raise UsageError(f"version {champion_version} of {model!r} is already the champion")
    champion_value: float | None = None
    if champion_version is not None and config.metric:
        _, champion_run = tracker.model_version(model, champion_version)
        if champion_run:
            champion_value = tracker.get_run(champion_run).metrics.get(config.metric)
    value = metrics.get(config.metric) if config.metric else None
    verdict = judge(config, value, champion_value, has_champion=champion_version is not None)
    return verdict, champion_version


def promote(tracker: Any, target: str, config: PromoteConfig, *, model: str | None = None,
            dry_run: bool = False, tags: Mapping[str, str] | None = None) -> Promotion:
    """Judge (registering a run first) and move ``champion`` on PASS; see the module doc."""
    name, ref, run_id = _target(target, model)
    if run_id is not None:
        run = tracker.get_run(run_id)
        version: int | None = None
    else:
        version, found = tracker.model_version(name, ref or "")
        if not found:
            raise UsageError(f"version {version} of {name!r} has no run to read metrics from")
        run = tracker.get_run(found)
    verdict, champion = verdict_for(tracker, name, run.metrics, config, exclude_version=version)
    if dry_run:
        return Promotion(name, version, run.run_id, verdict, champion, champion, dry_run=True)
    if version is None:
        version = int(tracker.promote(run.run_id, name, tags=tags))
    elif tags:
        tracker.set_version_tags(name, version, tags)
    after = version if verdict.passed else champion
    record = Promotion(name, version, run.run_id, verdict, champion, after)
    _record(tracker, record, config)
    if verdict.passed:
        tracker.set_alias(name, CHAMPION, version)
    return record


def _record(tracker: Any, promotion: Promotion, config: PromoteConfig) -> None:
    """The comparison as the version run's artifact and as the version's tags."""
    data = {
        **promotion.to_json(),
        "thresholds": {
            "metric": config.metric,
            "greater-is-better": config.greater_is_better,
            "min-value": config.min_value,
            "min-absolute-change": config.min_absolute_change,
            "min-relative-change": config.min_relative_change,
        },
        "time": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
    }
    with tempfile.TemporaryDirectory(prefix="nbops-verdict-") as folder:
        path = Path(folder) / Path(VERDICT_ARTIFACT).name
        path.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n", encoding="utf-8")
        tracker.log_artifact(promotion.run_id, path, str(Path(VERDICT_ARTIFACT).parent))
    assert promotion.version is not None
    tracker.set_version_tags(promotion.model, promotion.version, {
        VERDICT_TAG: promotion.verdict.status,
        f"{VERDICT_TAG}.summary": promotion.verdict.summary(),
    })
