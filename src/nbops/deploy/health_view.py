"""The Health view's read model: the health checks of a project's champions as the Lab shows them.

:func:`read_health` lists the models that have checks (an experiment ``nbops-health/<model>``,
recorded by ``nbops monitor``, :mod:`nbops.deploy.monitor`) and the project's ``[tool.nbops.submit]
model``, at most :data:`MAX_MODELS` by name; per model its ``champion`` version and its checks
newest first (at most :data:`MAX_CHECKS`, ``truncated`` says when there are more): the verdict,
its reasons, the drifted features with their PSI, the metrics to plot over time. :func:`triggers`
is ``[tool.nbops.health]`` as ``nbops monitor`` applies it. :func:`report` reads one check's
``report.html`` or ``report.json``, and only a check's: a run outside the model's experiment is
not served.

No absolute path is in an answer. Every function takes an open
:class:`~nbops.run.tracking.MlflowTracker`.
"""

from __future__ import annotations

import math
import re
import tempfile
from pathlib import Path
from typing import Any

from nbops import api_types
from nbops.deploy.health import METRICS, Trigger
from nbops.deploy.monitor import EXPERIMENT, history
from nbops.deploy.promotion import CHAMPION
from nbops.errors import NotFoundError, UsageError

__all__ = [
    "MAX_CHECKS",
    "MAX_MODELS",
    "MAX_REPORT_BYTES",
    "read_health",
    "report",
    "triggers_json",
]

MAX_MODELS = 20
MAX_CHECKS = 100
MAX_REPORT_BYTES = 50 * 1024 * 1024
REPORTS = {"html": "health/report.html", "json": "health/report.json"}  # as monitor.record logs them
_PREFIX = EXPERIMENT.format(model="")
_RUN_ID = re.compile(r"[0-9a-f]{8,64}")
_STATUSES = ("OK", "WARN", "ALERT")


def triggers_json(triggers: dict[str, Trigger]) -> list[api_types.HealthTrigger]:
    """The parsed triggers as the view shows them, in the order of :data:`METRICS`."""
    return [
        {"metric": t.metric, "direction": "below" if t.below else "above", "warn": t.warn,
         "alert": t.alert, "description": METRICS[t.metric][1]}
        for t in sorted(triggers.values(), key=lambda t: list(METRICS).index(t.metric))
    ]


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _check(entry: dict[str, Any]) -> api_types.HealthCheck:
    """One entry of :func:`nbops.deploy.monitor.history` as the view shows it."""
    metrics: dict[str, Any] = entry.get("metrics") or {}
    psi = {key.partition("/")[2]: value for key, value in metrics.items()
           if key.startswith("psi/") and _finite(value) is not None}
    status = entry.get("verdict")
    return {
        "run_id": str(entry["run_id"]),
        "time": entry.get("time"),
        "version": entry.get("version"),
        "status": status if status in _STATUSES else None,
        "reasons": [str(r) for r in entry.get("reasons") or []],
        "drifted": [{"name": name, "psi": _finite(psi.get(name))}
                    for name in entry.get("drifted") or []],
        "psi": {name: float(value) for name, value in sorted(psi.items())},
        "metrics": {
            "max_psi": max(psi.values()) if psi else None,
            "prediction_psi": _finite(metrics.get("prediction/psi")),
            "rows": _finite(metrics.get("rows")),
            "invalid_rows": _finite(metrics.get("invalid_rows")),
            "accuracy": _finite(metrics.get("accuracy")),
            "f1": _finite(metrics.get("f1")),
            "rmse": _finite(metrics.get("rmse")),
            "mae": _finite(metrics.get("mae")),
        },
        "current": entry.get("current"),
    }


def _champion(client: Any, name: str) -> int | None:
    try:
        return int(client.get_model_version_by_alias(name, CHAMPION).version)
    except Exception:  # noqa: BLE001 - not registered, or no champion: shown without one
        return None


def _checked(client: Any) -> list[str]:
    """The models with an experiment of checks, by name."""
    found = client.search_experiments(filter_string=f"name LIKE '{_PREFIX}%'",
                                      max_results=1000)
    return sorted({str(e.name)[len(_PREFIX):] for e in found
                   if str(e.name).startswith(_PREFIX) and len(str(e.name)) > len(_PREFIX)})


def read_health(tracker: Any, submit_model: str | None = None
                ) -> tuple[list[api_types.HealthModel], bool]:
    """The models with checks and ``submit_model`` (at most :data:`MAX_MODELS`, by name), each
    with its champion and its checks newest first; and whether there are more models."""
    client = tracker.client
    names = set(_checked(client))
    if submit_model:
        names.add(submit_model)
    ordered = sorted(names)
    models: list[api_types.HealthModel] = []
    for name in ordered[:MAX_MODELS]:
        checks = history(name, tracker.tracking_uri, limit=MAX_CHECKS + 1)
        models.append({
            "name": name,
            "champion": _champion(client, name),
            "checks": [_check(c) for c in checks[:MAX_CHECKS]],
            "truncated": len(checks) > MAX_CHECKS,
        })
    return models, len(ordered) > MAX_MODELS


def report(tracker: Any, model: str, run_id: str, kind: str = "html") -> bytes:
    """The ``report.html`` (or ``report.json``) of the check ``run_id`` of ``model``: only a run
    of the experiment ``nbops-health/<model>``; ``NotFoundError`` for anything else."""
    if kind not in REPORTS:
        raise UsageError(f"'format' must be html or json, not {kind!r}")
    client = tracker.client
    experiment = client.get_experiment_by_name(EXPERIMENT.format(model=model))
    if experiment is None:
        raise NotFoundError(f"model {model!r} has no health checks",
                            hint=f"nbops monitor {model} --current DATA records one")
    missing = NotFoundError(f"model {model!r} has no health check {run_id!r}",
                            hint="the checks GET /nbops/health lists")
    if not _RUN_ID.fullmatch(run_id):
        raise missing
    try:
        run = client.get_run(run_id)
    except Exception as exc:  # MLflow's own error for an unknown run
        raise missing from exc
    if str(run.info.experiment_id) != str(experiment.experiment_id):
        raise missing
    wanted = REPORTS[kind]
    with tempfile.TemporaryDirectory(prefix="nbops-health-report-") as folder:
        try:
            local = Path(client.download_artifacts(run_id, wanted, folder))
        except Exception as exc:  # the check recorded no report
            raise NotFoundError(f"health check {run_id!r} of {model!r} has no {wanted}",
                                hint="the check was recorded without its reports") from exc
        if not local.is_file():
            raise NotFoundError(f"health check {run_id!r} of {model!r} has no {wanted}")
        if local.stat().st_size > MAX_REPORT_BYTES:
            raise UsageError(f"{wanted} is larger than {MAX_REPORT_BYTES // (1024 * 1024)} MiB",
                             hint="open it from the MLflow UI (nbops ui)")
        return local.read_bytes()
