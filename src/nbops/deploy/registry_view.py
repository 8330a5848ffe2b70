"""The Models view's read model: a project's registered models as the Lab shows them.

:func:`read_models` lists the registered models of a store (at most :data:`MAX_MODELS`, by
name), each with its versions newest first (at most :data:`MAX_VERSIONS`, ``truncated`` says
when there are more): the version's run, its metrics, the release tags ``nbops release``
wrote, the artifacts that can be downloaded (the executed notebook and its HTML render,
``logs/``, the model card and gate report, the verdict), the ``champion`` and ``challenger``
aliases and the last comparison (``promotion/verdict.json`` of the newest judged version).
:func:`artifact` reads one of those artifacts, and only those: a name not listed for the
version is not served. :func:`promote_version` is ``nbops promote NAME@VERSION``.

No absolute path is in an answer: runs are named by their id, artifacts by their path in the
run. Every function takes an open :class:`~nbops.run.tracking.MlflowTracker`.
"""

from __future__ import annotations

import datetime as _dt
import json
import math
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from nbops import api_types
from nbops.config import PromoteConfig
from nbops.deploy.promotion import CHAMPION, VERDICT_ARTIFACT, VERDICT_TAG, promote
from nbops.errors import AccessError, NotFoundError, UsageError

__all__ = [
    "MAX_ARTIFACT_BYTES",
    "MAX_MODELS",
    "MAX_VERSIONS",
    "artifact",
    "promote_version",
    "read_model",
    "read_models",
    "thresholds_json",
]

MAX_MODELS = 50
MAX_VERSIONS = 50
MAX_ARTIFACTS = 20  # per version
MAX_ARTIFACT_BYTES = 50 * 1024 * 1024
CHALLENGER = "challenger"
# the run's folders whose files can be downloaded, and what a file there is
_FOLDERS = ("notebook", "logs", "release", "promotion")


def _kind(path: str) -> str | None:
    """What the artifact at ``path`` is, or None when it is not one the view serves."""
    folder, _, name = path.partition("/")
    if not name or "/" in name:
        return None
    if folder == "notebook":
        return "notebook" if name.endswith(".ipynb") else "report" if name.endswith(".html") else None
    if folder == "promotion":
        return "verdict" if path == VERDICT_ARTIFACT else None
    return folder if folder in ("logs", "release") else None


def _finite(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _iso(ms: Any) -> str | None:
    if not isinstance(ms, (int, float)) or not ms:
        return None
    return _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.timezone.utc).isoformat()


def _tag(tags: dict[str, str], key: str) -> str | None:
    value = tags.get(key)
    return str(value) if value is not None else None


def thresholds_json(config: PromoteConfig) -> api_types.PromoteThresholds:
    """``[tool.nbops.promote]`` as the view shows it."""
    return {
        "metric": config.metric,
        "greater_is_better": config.greater_is_better,
        "min_value": config.min_value,
        "min_absolute_change": config.min_absolute_change,
        "min_relative_change": config.min_relative_change,
    }


def _repository(client: Any, run: Any) -> Any:
    """The artifact repository of ``run`` (listing through it reads the run once, not per call)."""
    from mlflow.store.artifact.artifact_repository_registry import get_artifact_repository

    try:
        return get_artifact_repository(run.info.artifact_uri, tracking_uri=client.tracking_uri)
    except TypeError:  # an MLflow whose registry takes the URI only
        return get_artifact_repository(run.info.artifact_uri)


def _artifacts(client: Any, run: Any) -> list[api_types.ModelArtifact]:
    """The downloadable files of the run (:func:`_kind`), at most :data:`MAX_ARTIFACTS`."""
    found: list[api_types.ModelArtifact] = []
    try:
        repository = _repository(client, run)
        present = {str(e.path) for e in repository.list_artifacts(None) if e.is_dir}
        for folder in (f for f in _FOLDERS if f in present):
            for entry in repository.list_artifacts(folder):
                kind = None if entry.is_dir else _kind(str(entry.path))
                if kind is not None:
                    size = entry.file_size if isinstance(entry.file_size, int) else None
                    found.append({"path": str(entry.path), "kind": kind,  # type: ignore[typeddict-item]
                                  "size": size})
    except Exception:  # noqa: BLE001 - an artifact store that cannot be listed: nothing to offer
        return found[:MAX_ARTIFACTS]
    return found[:MAX_ARTIFACTS]


def _run(client: Any, run_id: str | None) -> Any:
    if not run_id:
        return None
    try:
        return client.get_run(run_id)
    except Exception:  # noqa: BLE001 - deleted, or its store is gone: shown without it
        return None


def _version(client: Any, entry: Any, aliases: dict[str, int]) -> api_types.ModelVersion:
    number = int(entry.version)
    tags = {str(k): str(v) for k, v in dict(entry.tags or {}).items()}
    run = _run(client, entry.run_id or None)
    metrics = {str(k): _finite(v) for k, v in dict(run.data.metrics).items()} if run else {}
    return {
        "version": number,
        "run_id": str(run.info.run_id) if run else None,
        "created": _iso(entry.creation_timestamp),
        "aliases": sorted(a for a, v in aliases.items() if v == number),
        "run_status": str(run.info.status) if run else None,
        "metrics": metrics,
        "commit": _tag(tags, "nbops.git.commit"),
        "pr": _tag(tags, "nbops.release.pr"),
        "branch": _tag(tags, "nbops.release.branch"),
        "gate": _tag(tags, "nbops.gate"),
        "verdict": _tag(tags, VERDICT_TAG),
        "verdict_summary": _tag(tags, f"{VERDICT_TAG}.summary"),
        "artifacts": _artifacts(client, run) if run else [],
    }


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _verdict(data: Any) -> api_types.Verdict | None:
    if not isinstance(data, dict) or data.get("status") not in ("PASS", "HOLD"):
        return None
    judgements: list[api_types.VerdictJudgementsItem] = [
        {"threshold": str(j.get("threshold", "")), "ok": bool(j.get("ok")),
         "text": str(j.get("text", ""))}
        for j in data.get("judgements") or [] if isinstance(j, dict)
    ]
    return {
        "status": data["status"],
        "metric": data["metric"] if isinstance(data.get("metric"), str) else None,
        "value": _finite(data.get("value")),
        "champion": _finite(data.get("champion")),
        "has_champion": bool(data.get("has_champion")),
        "judgements": judgements,
        "summary": str(data.get("summary", "")),
    }


def _comparison(client: Any, versions: list[api_types.ModelVersion]) -> api_types.Comparison | None:
    """``promotion/verdict.json`` of the newest version that was judged (None: none was, or
    its file cannot be read)."""
    judged = next((v for v in versions if v["verdict"] and v["run_id"]), None)
    if judged is None or judged["run_id"] is None:
        return None
    with tempfile.TemporaryDirectory(prefix="nbops-verdict-") as folder:
        try:
            local = client.download_artifacts(judged["run_id"], VERDICT_ARTIFACT, folder)
            data = json.loads(Path(local).read_text(encoding="utf-8"))
        except Exception:  # noqa: BLE001 - not recorded (judged by another tool), or unreadable
            return None
    verdict = _verdict(data.get("verdict")) if isinstance(data, dict) else None
    if verdict is None:
        return None
    before, after = _int_or_none(data.get("champion_before")), _int_or_none(data.get("champion_after"))
    return {
        "version": judged["version"],
        "run_id": judged["run_id"],
        "verdict": verdict,
        "champion_before": before,
        "champion_after": after,
        "moved": before != after,
        "time": data["time"] if isinstance(data.get("time"), str) else None,
    }


def _registered(client: Any, name: str) -> Any:
    try:
        return client.get_registered_model(name)
    except Exception as exc:
        if str(getattr(exc, "error_code", "")) != "RESOURCE_DOES_NOT_EXIST":
            raise
        names = sorted(m.name for m in client.search_registered_models(max_results=MAX_MODELS))
        raise NotFoundError(
            f"no registered model {name!r}",
            hint=f"registered: {', '.join(names)}" if names else "nothing is registered yet",
        ) from None


def _entries(client: Any, name: str) -> tuple[list[Any], bool]:
    quoted = name.replace("\\", "\\\\").replace("'", "\\'")
    found = list(client.search_model_versions(
        f"name = '{quoted}'", max_results=MAX_VERSIONS + 1, order_by=["version_number DESC"]
    ))
    found.sort(key=lambda v: int(v.version), reverse=True)  # whatever order the store gave
    return found[:MAX_VERSIONS], len(found) > MAX_VERSIONS


def _model(client: Any, registered: Any) -> api_types.RegisteredModel:
    name = str(registered.name)
    aliases = {str(k): int(v) for k, v in dict(registered.aliases or {}).items()}
    entries, truncated = _entries(client, name)
    versions = [_version(client, e, aliases) for e in entries]
    return {
        "name": name,
        "champion": aliases.get(CHAMPION),
        "challenger": aliases.get(CHALLENGER),
        "aliases": aliases,
        "versions": versions,
        "truncated": truncated,
        "comparison": _comparison(client, versions),
    }


def read_model(tracker: Any, name: str) -> api_types.RegisteredModel:
    """One registered model; ``NotFoundError`` (with the registered ones) when it is not."""
    return _model(tracker.client, _registered(tracker.client, name))


def read_models(tracker: Any) -> tuple[list[api_types.RegisteredModel], bool]:
    """The store's registered models by name (at most :data:`MAX_MODELS`) and whether there
    are more."""
    client = tracker.client
    found = list(client.search_registered_models(max_results=MAX_MODELS + 1,
                                                 order_by=["name ASC"]))
    found.sort(key=lambda m: str(m.name))
    return [_model(client, m) for m in found[:MAX_MODELS]], len(found) > MAX_MODELS


def _version_entry(client: Any, name: str, version: int) -> Any:
    _registered(client, name)
    try:
        return client.get_model_version(name, str(version))
    except Exception as exc:
        if str(getattr(exc, "error_code", "")) != "RESOURCE_DOES_NOT_EXIST":
            raise
        known = sorted(int(v.version) for v in _entries(client, name)[0])
        raise NotFoundError(f"model {name!r} has no version {version}",
                            hint=f"its versions: {', '.join(map(str, known)) or 'none'}") from None


def artifact(tracker: Any, name: str, version: int, file: str) -> tuple[str, bytes]:
    """``(file name, content)`` of the artifact ``file`` of version ``version``'s run: only
    one the view lists for it (:func:`read_model`), at most :data:`MAX_ARTIFACT_BYTES`."""
    posix = file.replace("\\", "/")
    if posix.startswith("/") or ".." in PurePosixPath(posix).parts or ":" in posix.split("/")[0]:
        raise AccessError("the artifact must be named by its path in the run, without '..'",
                          hint="use a path the Models view lists (notebook/..., logs/...)")
    client = tracker.client
    entry = _version_entry(client, name, version)
    run = _run(client, entry.run_id or None)
    listed = {a["path"]: a for a in _artifacts(client, run)} if run else {}
    found = listed.get(posix)
    if found is None:
        raise NotFoundError(
            f"version {version} of {name!r} has no artifact {file!r} to download",
            hint=f"its artifacts: {', '.join(sorted(listed)) or 'none'}",
        )
    if found["size"] is not None and found["size"] > MAX_ARTIFACT_BYTES:
        raise UsageError(f"{file!r} is larger than {MAX_ARTIFACT_BYTES // (1024 * 1024)} MiB",
                         hint="download it from the MLflow UI (nbops ui)")
    with tempfile.TemporaryDirectory(prefix="nbops-artifact-") as folder:
        local = Path(_repository(client, run).download_artifacts(posix, dst_path=folder))
        data = local.read_bytes()
    return PurePosixPath(posix).name, data


def promote_version(tracker: Any, name: str, version: int, config: PromoteConfig, *,
                    dry_run: bool = False) -> api_types.Promotion:
    """``nbops promote NAME@VERSION [--dry-run]``: the verdict, and ``champion`` moved on PASS."""
    if "@" in name:  # promote() reads NAME@VERSION: such a name cannot be addressed
        raise UsageError(f"model {name!r}: a name with '@' cannot be promoted by nbops",
                         hint="promote it in the MLflow UI")
    _version_entry(tracker.client, name, version)
    done = promote(tracker, f"{name}@{version}", config, dry_run=dry_run)
    answer = done.to_json()
    verdict = _verdict(answer["verdict"])
    assert verdict is not None and done.version is not None
    return {
        "model": done.model,
        "version": done.version,
        "run_id": done.run_id,
        "verdict": verdict,
        "champion_before": done.champion_before,
        "champion_after": done.champion_after,
        "moved": done.moved,
        "dry_run": done.dry_run,
    }
