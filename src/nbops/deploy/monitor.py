"""``nbops monitor``: one health check of a registered model on new data, recorded in MLflow.

:func:`check` loads the model version's reference data (``reference/`` of the run that logged
it: ``profile.json`` and ``sample.parquet``/``.csv``, see docs/deploy.md), reads the current
data in chunks of :data:`CHUNK_ROWS` rows (a CSV, a Parquet file, or the JSON lines of
``nbops serve --log-predictions``: detected), and per chunk counts each feature against the
reference (:mod:`nbops.deploy.drift`), checks the rows against the model's signature (the
share of invalid rows), predicts the valid rows (the drift of the predictions against the
model's predictions on the reference sample) and, with ``labels``, scores them (accuracy and
macro F1 for classifiers, RMSE and MAE for regressors). Memory is bounded by the chunk and the
reference, not by the rows. The triggers (:mod:`nbops.deploy.health`) give the verdict; the
JSON and HTML reports are written to a folder and, with the metrics and the verdict as tags,
recorded as a run of the experiment ``nbops-health/<model>``: :func:`history` reads them
back, newest first.
"""

from __future__ import annotations

import json
import math
import re
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from nbops.deploy.drift import CategoryDrift, NumberDrift
from nbops.deploy.health import Trigger, Verdict, judge
from nbops.deploy.models import LoadedModel, ResolvedModel, shown_path
from nbops.errors import MissingPackageError, NotFoundError, UsageError, WriteError

__all__ = [
    "CHUNK_ROWS",
    "EXPERIMENT",
    "REPORT_FORMAT",
    "HealthCheck",
    "Reference",
    "check",
    "default_report_dir",
    "history",
    "load_reference",
    "read_chunks",
]

CHUNK_ROWS = 100_000
REPORT_FORMAT = "nbops.health/1"
EXPERIMENT = "nbops-health/{model}"
TAG = "nbops.health."
_SHOWN_PROBLEMS = 20
_METRIC_KEY = re.compile(r"[^\w\-. /:]")


# ------------------------------------------------------------------------------ reference


@dataclass
class Reference:
    """The reference data of a model version: its profile and its sample (a DataFrame)."""

    profile: dict[str, Any]
    sample: Any

    @property
    def columns(self) -> list[dict[str, Any]]:
        return list(self.profile.get("columns", []))


def load_reference(resolved: ResolvedModel) -> Reference:
    """``reference/`` of the run that logged ``resolved``; ``NotFoundError`` when there is none."""
    import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

    from nbops.run.tracking import import_mlflow

    mlflow = import_mlflow()
    missing = NotFoundError(
        f"model {resolved.label} has no reference data to compare with",
        hint="log the model with its training inputs, nbops.log_model(model, X), and "
        "release it again (docs/deploy.md, 'Reference data')",
    )
    if not resolved.run_id:
        raise missing
    with tempfile.TemporaryDirectory(prefix="nbops-reference-") as tmp:
        try:
            local = Path(mlflow.artifacts.download_artifacts(
                run_id=resolved.run_id, artifact_path="reference", dst_path=tmp,
                tracking_uri=resolved.tracking_uri,
            ))
        except Exception as exc:  # MLflow raises its own types (or OSError) for a missing path
            raise missing from exc
        profile_file = local / "profile.json"
        if not profile_file.is_file():
            raise missing
        profile = json.loads(profile_file.read_text(encoding="utf-8"))
        name = str(profile.get("sample", {}).get("file", "sample.parquet"))
        sample_file = local / Path(name).name
        if not sample_file.is_file():
            raise missing
        if sample_file.suffix == ".csv":
            texts = {c["name"]: "string" for c in profile.get("columns", [])
                     if c.get("kind") == "category" and c.get("dtype") in ("object", "string")}
            sample = pd.read_csv(sample_file, dtype=texts or None)
        else:
            sample = pd.read_parquet(sample_file)
    sample.columns = [str(c) for c in sample.columns]
    return Reference(profile, sample)


# --------------------------------------------------------------------------- current data


def _detect(path: Path) -> str:
    """``csv``, ``parquet`` or ``prediction-log`` (JSON lines with ``inputs``)."""
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return "csv"
    if suffix in (".parquet", ".pq"):
        return "parquet"
    try:
        with path.open(encoding="utf-8") as handle:
            for line in handle:
                if line.strip():
                    first = json.loads(line)
                    if isinstance(first, dict) and isinstance(first.get("inputs"), list):
                        return "prediction-log"
                    break
    except (UnicodeDecodeError, ValueError):
        pass
    raise UsageError(
        f"{shown_path(path)}: not a .csv or .parquet file, nor a prediction log",
        hint="give a CSV (.csv), a Parquet file (.parquet) or the file of nbops serve "
        "--log-predictions (JSON lines with 'inputs')",
    )


def read_chunks(path: Path, texts: list[str], rows: int = CHUNK_ROWS) -> tuple[str, Iterator[Any]]:
    """The kind of ``path`` and its rows as DataFrames of at most ``rows`` rows (``texts``:
    the columns a CSV's values are kept as text in)."""
    import pandas as pd

    if not path.is_file():
        raise NotFoundError(f"no such file: {shown_path(path)}", hint="--current DATA")
    kind = _detect(path)
    if kind == "parquet":
        try:
            import pyarrow.parquet as pq  # type: ignore[import-untyped]  # no stubs installed
        except ImportError as exc:
            raise MissingPackageError(f"{shown_path(path)}: Parquet needs pyarrow",
                                      hint="pip install pyarrow") from exc
        try:
            # pre_buffer (the default) keeps what was read: memory would grow with the file
            parquet = pq.ParquetFile(path, pre_buffer=False)
        except (OSError, ValueError) as exc:
            raise UsageError(f"{shown_path(path)}: cannot be read as parquet: {exc}") from exc
        return kind, (b.to_pandas() for b in parquet.iter_batches(batch_size=rows))
    if kind == "csv":
        def csv_chunks() -> Iterator[Any]:
            try:
                yield from pd.read_csv(path, chunksize=rows,
                                       dtype=dict.fromkeys(texts, "object") or None)
            except (OSError, ValueError, pd.errors.ParserError) as exc:
                raise UsageError(f"{shown_path(path)}: cannot be read as csv: {exc}") from exc
        return kind, csv_chunks()

    def log_chunks() -> Iterator[Any]:
        records: list[Any] = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except ValueError:
                    raise UsageError(f"{shown_path(path)}: line {number} is not JSON",
                                     hint="a prediction log has one JSON object per line") \
                        from None
                inputs = entry.get("inputs") if isinstance(entry, dict) else None
                if not isinstance(inputs, list):
                    raise UsageError(f"{shown_path(path)}: line {number} has no 'inputs' list")
                records.extend(r if isinstance(r, dict) else {} for r in inputs)
                if len(records) >= rows:
                    yield pd.DataFrame.from_records(records)
                    records = []
        if records:
            yield pd.DataFrame.from_records(records)
    return kind, log_chunks()


# ---------------------------------------------------------------------------- performance


def _key(value: Any) -> str:
    from nbops.deploy.drift import as_text

    return as_text(value)


class _Performance:
    """Streamed performance: a confusion count (classifier) or error sums (regressor)."""

    def __init__(self, classifier: bool) -> None:
        self.classifier = classifier
        self.pairs: dict[tuple[str, str], int] = {}
        self.rows = 0
        self.squared = 0.0
        self.absolute = 0.0

    def add(self, truth: Any, predicted: Any) -> None:
        import numpy as np
        import pandas as pd

        known = ~pd.isna(truth)
        truth, predicted = truth[known], predicted[known]
        self.rows += len(truth)
        if self.classifier:
            pairs = pd.DataFrame({"t": [_key(v) for v in truth],
                                  "p": [_key(v) for v in predicted]}).value_counts()
            for (t, p), count in pairs.items():
                self.pairs[(t, p)] = self.pairs.get((t, p), 0) + int(count)
        else:
            errors = (pd.to_numeric(pd.Series(truth), errors="coerce").to_numpy(dtype="float64")
                      - np.asarray(predicted, dtype="float64"))
            errors = errors[np.isfinite(errors)]
            self.rows -= len(truth) - len(errors)
            self.squared += float(np.sum(errors ** 2))
            self.absolute += float(np.sum(np.abs(errors)))

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"task": "classification" if self.classifier else "regression",
                               "rows": self.rows}
        if not self.rows:
            return out
        if not self.classifier:
            out.update(rmse=math.sqrt(self.squared / self.rows), mae=self.absolute / self.rows)
            return out
        classes = sorted({t for t, _ in self.pairs} | {p for _, p in self.pairs})
        right = sum(c for (t, p), c in self.pairs.items() if t == p)
        scores = []
        for label in classes:
            tp = self.pairs.get((label, label), 0)
            fp = sum(c for (t, p), c in self.pairs.items() if p == label and t != label)
            fn = sum(c for (t, p), c in self.pairs.items() if t == label and p != label)
            scores.append(2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 0.0)
        out.update(accuracy=right / self.rows, f1=sum(scores) / len(scores))
        return out


# ---------------------------------------------------------------------------------- check


@dataclass
class HealthCheck:
    """One check: the report (the JSON written), the verdict, where the reports are, the run."""

    report: dict[str, Any]
    verdict: Verdict
    folder: Path
    run_id: str | None


def _column(predictions: Any) -> Any:
    import numpy as np

    values = predictions.to_numpy() if hasattr(predictions, "to_numpy") else np.asarray(predictions)
    return values[:, 0] if values.ndim == 2 else values


def _prediction_kind(values: Any) -> str:
    import numpy as np

    if values.dtype.kind == "f" and len(values) and not np.all(np.mod(values[np.isfinite(values)], 1) == 0):
        return "number"
    return "number" if values.dtype.kind == "f" and len(np.unique(values)) > 20 else "category"


def _is_classifier(pyfunc: Any, kind: str) -> bool:
    """By the model's type when it is a scikit-learn estimator, else by its predictions."""
    try:
        raw = pyfunc.get_raw_model()
        from sklearn.base import is_classifier, is_regressor  # type: ignore[import-untyped]

        if is_classifier(raw) or is_regressor(raw):
            return bool(is_classifier(raw))
    except Exception:  # noqa: BLE001, S110 - no raw model or no sklearn: the predictions say
        pass
    return kind == "category"


def _predict(loaded: LoadedModel, frame: Any, max_problems: int = 0) -> tuple[Any, Any, list[str]]:
    """``(good mask, predictions of the good rows, problems)`` of ``frame`` under the
    signature (at most ``max_problems`` listed)."""
    import numpy as np

    problems: list[str] = []
    if loaded.check is None:
        good_mask = np.ones(len(frame), dtype=bool)
        good = frame
    else:
        converted, bad, found = loaded.check.check(frame, max_problems=max_problems)
        problems = [str(p) for p in found[:max_problems]]
        good_mask = ~bad
        good = loaded.check.good(converted, bad)
    if not len(good):
        return good_mask, np.zeros(0), problems
    try:
        return good_mask, _column(loaded.predict(good)), problems
    except Exception as exc:  # the model's own errors, on the user's data
        raise _PredictFailed(f"{type(exc).__name__}: {str(exc)[:300]}", good_mask,
                             problems) from exc


class _PredictFailed(Exception):
    """The model raised an error predicting: the check goes on without predictions (the
    rows' check against the signature is kept)."""

    def __init__(self, message: str, mask: Any, problems: list[str]) -> None:
        super().__init__(message)
        self.mask, self.problems = mask, problems


def _accumulator(entry: Mapping[str, Any], values: Any) -> NumberDrift | CategoryDrift:
    return NumberDrift.of(values) if entry.get("kind") == "number" else CategoryDrift.of(values)


def check(
    loaded: LoadedModel,
    current: Path,
    *,
    triggers: Mapping[str, Trigger],
    labels: str | None = None,
    reference: Reference | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> tuple[dict[str, Any], Verdict]:
    """The report and verdict of ``current`` against the model's reference (nothing written)."""
    import pandas as pd
    from pandas.api import types  # type: ignore[import-untyped]

    resolved = loaded.resolved
    ref = reference or load_reference(resolved)
    columns = [c for c in ref.columns if str(c.get("name")) != labels]
    feature = {str(c["name"]): _accumulator(c, ref.sample[str(c["name"])])
               for c in columns if str(c["name"]) in ref.sample.columns}
    texts = [n for n, c in ((str(c["name"]), c) for c in columns)
             if c.get("kind") == "category" and c.get("dtype") in ("object", "string")]
    if loaded.check is not None:
        texts += [c.name for c in loaded.check.columns if c.type in ("string", "binary")]
    kind, chunks = read_chunks(current, texts, chunk_rows)

    findings: list[str] = []
    try:
        ref_good, ref_predictions, _ = _predict(loaded, ref.sample)
    except _PredictFailed as exc:
        findings.append(f"the model could not predict its reference sample: {exc}")
        ref_good, ref_predictions = pd.Series([], dtype=bool).to_numpy(), pd.Series(
            [], dtype=object).to_numpy()
    predicting = not findings
    prediction_kind = _prediction_kind(ref_predictions)
    predicted: NumberDrift | CategoryDrift = (
        NumberDrift.of(ref_predictions) if prediction_kind == "number"
        else CategoryDrift.of(pd.Series(ref_predictions))
    )
    classifier = _is_classifier(loaded.pyfunc, prediction_kind)
    performance = _Performance(classifier) if labels else None

    rows = invalid = 0
    problems: list[str] = []
    seen: set[str] | None = None
    numeric_now: dict[str, bool] = {}
    for chunk in chunks:
        chunk.columns = [str(c) for c in chunk.columns]
        if seen is None:
            seen = set(chunk.columns)
            if labels is not None and labels not in seen:
                raise UsageError(f"{shown_path(current)}: no labels column {labels!r}",
                                 hint="--labels names the column of the true values")
        rows += len(chunk)
        for name, acc in feature.items():
            if name in chunk.columns:
                acc.add(chunk[name])
                numeric_now.setdefault(name, bool(types.is_numeric_dtype(chunk[name].dtype)
                                                  and not types.is_bool_dtype(chunk[name].dtype)))
        inputs = chunk.drop(columns=[labels]) if labels is not None else chunk
        try:
            good_mask, chunk_predictions, found = _predict(
                loaded, inputs, max(0, _SHOWN_PROBLEMS - len(problems)))
        except _PredictFailed as exc:
            if predicting:
                findings.append(f"the model could not predict the current data: {exc}")
            predicting = False
            good_mask, chunk_predictions, found = exc.mask, [], exc.problems
        invalid += int((~good_mask).sum())
        problems.extend(found)
        if predicting and len(chunk_predictions):
            predicted.add(pd.Series(chunk_predictions) if prediction_kind == "category"
                          else chunk_predictions)
            if performance is not None and labels is not None:
                performance.add(chunk[labels].to_numpy()[good_mask], chunk_predictions)
    if seen is None:
        raise UsageError(f"{shown_path(current)}: no rows to check")

    features: list[dict[str, Any]] = []
    for entry in columns:
        name = str(entry["name"])
        out: dict[str, Any] = {"name": name, "kind": entry.get("kind"),
                               "dtype": entry.get("dtype")}
        known = feature.get(name)
        if name not in seen:
            out["status"] = "missing"
            findings.append(f"column {name!r} is missing from the current data")
        elif known is None or not known.usable:
            out["status"] = "no-reference"
            findings.append(f"column {name!r} has no reference values to compare with")
        else:
            acc = known
            result = acc.result()
            out.update(result)
            out["missing_share"] = result["missing"] / result["rows"] if result["rows"] else None
            retyped_number = (isinstance(acc, NumberDrift) and result["count"] == 0
                              and result["invalid"] > 0)
            retyped_text = (isinstance(acc, CategoryDrift) and numeric_now.get(name)
                            and entry.get("dtype") in ("object", "string"))
            if retyped_number:
                out["status"] = "retyped"
                out.update(psi=None, ks=None, ks_pvalue=None)
                findings.append(f"column {name!r} was numbers in the reference, its values are "
                                "not numbers now")
            elif retyped_text:
                out["status"] = "retyped"
                findings.append(f"column {name!r} was text in the reference, it is numbers now")
            else:
                out["status"] = "compared"
                if result.get("invalid"):
                    findings.append(f"column {name!r}: {result['invalid']} values are not numbers")
                if result.get("new"):
                    findings.append(f"column {name!r}: {result['new']} values the reference "
                                    "never had")
            out["histogram"] = acc.histogram()
        features.append(out)
    compared = [f for f in features if f["status"] == "compared"]
    if not compared:
        broken = ", ".join(f"{f['name']!r} ({f['status']})" for f in features) or "none"
        raise UsageError(
            f"{shown_path(current)}: nothing to compare with the reference of "
            f"{resolved.label}: {broken}",
            hint="the current data needs the columns the model was trained on, with the "
            "same types",
        )

    prediction_result: dict[str, Any] = {"kind": prediction_kind,
                                         "reference_rows": int(ref_good.sum())}
    prediction_result.update(predicted.result())
    prediction_result["histogram"] = predicted.histogram() if predicted.usable else None
    perf = performance.result() if performance is not None else None

    values: list[tuple[str, str | None, float | None]] = []
    for f in features:
        if f["status"] not in ("compared", "retyped"):
            continue
        values += [("psi", f["name"], f.get("psi")), ("ks", f["name"], f.get("ks")),
                   ("ks-pvalue", f["name"], f.get("ks_pvalue")),
                   ("chi2-pvalue", f["name"], f.get("chi2_pvalue")),
                   ("missing", f["name"], f.get("missing_share"))]
    values.append(("prediction-psi", "predictions", prediction_result.get("psi")))
    values.append(("invalid-rows", None, invalid / rows if rows else None))
    for metric in ("accuracy", "f1", "rmse", "mae"):
        values.append((metric, None, (perf or {}).get(metric)))
    verdict = judge(triggers, values)
    report: dict[str, Any] = {
        "format": REPORT_FORMAT,
        "model": resolved.name,
        "version": resolved.version,
        "model_run": resolved.run_id,
        "time": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "current": {"file": shown_path(current), "kind": kind},
        "labels": labels,
        "rows": rows,
        "invalid_rows": invalid,
        "invalid_share": invalid / rows if rows else 0.0,
        "problems": problems,
        "verdict": verdict.to_json(),
        "findings": findings,
        "features": features,
        "predictions": prediction_result,
        "performance": perf,
        "triggers": [t.to_json() for t in triggers.values()],
        "reference": {"rows": int(ref.profile.get("rows", 0)), "sample_rows": len(ref.sample)},
    }
    return _strict(report), verdict


def _strict(value: Any) -> Any:
    """``value`` with every number finite (strict JSON): NaN and infinities become None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_strict(v) for v in value]
    return value


def default_report_dir(model: str, base: Path | None = None) -> Path:
    """``nbops-health/<model>/<UTC timestamp>/`` under ``base`` (the working directory)."""
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    folder = (base or Path.cwd()) / "nbops-health" / _METRIC_KEY.sub("_", model) / stamp
    n = 2
    candidate = folder
    while candidate.exists():
        candidate = folder.with_name(f"{stamp}-{n}")
        n += 1
    return candidate


def write_reports(report: Mapping[str, Any], folder: Path) -> list[Path]:
    """``report.json`` and ``report.html`` in ``folder``."""
    from nbops.deploy.report_html import render

    try:
        folder.mkdir(parents=True, exist_ok=True)
        data = folder / "report.json"
        data.write_text(json.dumps(report, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        page = folder / "report.html"
        page.write_text(render(report), encoding="utf-8")
    except OSError as exc:
        raise WriteError(f"cannot write the health report: {exc.strerror}",
                         path=shown_path(folder)) from exc
    return [data, page]


def _metrics(report: Mapping[str, Any]) -> list[tuple[str, float, int, int]]:
    out: list[tuple[str, float, int, int]] = []

    def add(key: str, value: Any) -> None:
        if isinstance(value, (int, float)) and math.isfinite(value):
            out.append((_METRIC_KEY.sub("_", key)[:250], float(value), 0, 0))

    for f in report["features"]:
        for stat in ("psi", "ks", "ks_pvalue", "chi2_pvalue", "missing_share"):
            add(f"{stat}/{f['name']}", f.get(stat))
    add("prediction/psi", report["predictions"].get("psi"))
    add("invalid_rows", report["invalid_share"])
    add("rows", report["rows"])
    for key, value in (report.get("performance") or {}).items():
        add(key, value)
    return out


REASONS_MAX = 4000  # characters of the reasons tag (MLflow keeps tag values up to 5000)


def encode_reasons(reasons: list[str]) -> str:
    """The reasons as the tag records them: a JSON array of whole reasons, as many as fit in
    :data:`REASONS_MAX` characters (worst first, so the ones left out are the mildest)."""
    kept = list(reasons)
    text = json.dumps(kept)
    while len(text) > REASONS_MAX:
        kept.pop()
        text = json.dumps(kept)
    return text


def decode_reasons(tag: str) -> list[str]:
    """The reasons of a recorded check: the tag's JSON array; checks recorded by an older
    nbops joined them with ``"; "``, so such a tag is split on that."""
    if tag.startswith("["):
        try:
            found = json.loads(tag)
        except ValueError:
            found = None
        if isinstance(found, list) and all(isinstance(r, str) for r in found):
            return found
    return [r.strip() for r in tag.split("; ") if r.strip()]


def record(report: Mapping[str, Any], verdict: Verdict, files: list[Path],
           resolved: ResolvedModel) -> str:
    """The check as a run of ``nbops-health/<model>``: metrics, tags, reports as artifacts."""
    from nbops.run.tracking import MlflowTracker

    tracker = MlflowTracker(resolved.tracking_uri)
    tags = {
        f"{TAG}model": resolved.name,
        f"{TAG}version": str(resolved.version),
        f"{TAG}model_run": resolved.run_id or "",
        f"{TAG}verdict": verdict.level,
        f"{TAG}drifted": ",".join(verdict.drifted),
        f"{TAG}reasons": encode_reasons([str(r) for r in verdict.reasons]),
        f"{TAG}current": str(report["current"]["file"]),
    }
    run_id = tracker.start_run(EXPERIMENT.format(model=resolved.name),
                               f"{resolved.label} {verdict.level}", {}, tags)
    try:
        tracker.log_batch(run_id, _metrics(report))
        for path in files:
            tracker.log_artifact(run_id, path, "health")
    except BaseException:
        tracker.end_run(run_id, "FAILED")
        raise
    tracker.end_run(run_id, "FINISHED")
    return run_id


def run_check(
    loaded: LoadedModel,
    current: Path,
    *,
    triggers: Mapping[str, Trigger],
    labels: str | None = None,
    folder: Path | None = None,
    save: bool = True,
) -> HealthCheck:
    """:func:`check`, its reports written to ``folder`` (default: :func:`default_report_dir`)
    and, with ``save``, recorded in the model's store."""
    report, verdict = check(loaded, current, triggers=triggers, labels=labels)
    target = folder or default_report_dir(loaded.resolved.name)
    files = write_reports(report, target)
    run_id = record(report, verdict, files, loaded.resolved) if save else None
    return HealthCheck(report, verdict, target, run_id)


def history(model: str, tracking_uri: str, *, limit: int = 100) -> list[dict[str, Any]]:
    """The recorded checks of ``model``, newest first: run, time, version, verdict, the
    drifted features, the reasons and the metrics."""
    from nbops.run.tracking import mlflow_client

    client = mlflow_client(tracking_uri)
    experiment = client.get_experiment_by_name(EXPERIMENT.format(model=model))
    if experiment is None:
        return []
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time DESC"],
                              max_results=limit)
    out: list[dict[str, Any]] = []
    for run in runs:
        tags = run.data.tags
        version = tags.get(f"{TAG}version", "")
        out.append({
            "run_id": run.info.run_id,
            "time": datetime.fromtimestamp(run.info.start_time / 1000, timezone.utc)
            .isoformat(timespec="seconds"),
            "version": int(version) if version.isdigit() else None,
            "verdict": tags.get(f"{TAG}verdict"),
            "drifted": [f for f in tags.get(f"{TAG}drifted", "").split(",") if f],
            "reasons": decode_reasons(tags.get(f"{TAG}reasons", "")),
            "current": tags.get(f"{TAG}current"),
            "metrics": dict(run.data.metrics),
        })
    return out
