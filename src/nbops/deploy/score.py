"""``nbops score``: a CSV or Parquet file scored by a registered model, checked first, in partitions.

The input is read whole (CSV: the signature's text columns as text, the others as pandas
parses them; Parquet: as typed), checked against the model's signature
(:class:`nbops.deploy.models.InputCheck`): the bad rows are reported with their row numbers
(1 is the first data row) on stderr and in ``OUT.errors.csv`` (``row, column, problem,
value``), never dropped silently; the good rows are split into partitions and scored, locally
by a process pool (the model loaded once per worker) or on Dask (``--executor dask``); ``OUT``
has the good rows' input columns, their ``row`` number and a ``prediction`` column (with an
acceptance threshold, :mod:`nbops.deploy.acceptance`, also ``probability`` and ``decision``,
and ``prediction`` is empty where the model abstains).
"""

from __future__ import annotations

import csv
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nbops.deploy.models import InputCheck, LoadedModel, Problem, ResolvedModel, load, shown_path
from nbops.errors import MissingPackageError, NotFoundError, UsageError, WriteError

__all__ = ["ScoreResult", "errors_path", "read_table", "score_file"]

Executor = Literal["local", "dask"]
ROW = "row"
PREDICTION = "prediction"
PROBABILITY = "probability"
DECISION = "decision"


def errors_path(out: Path) -> Path:
    """``OUT.errors.csv``: where the bad rows of ``OUT`` are listed."""
    return out.with_name(out.name + ".errors.csv")


def _kind(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet", ".pq"):
        return "parquet" if suffix != ".csv" else "csv"
    raise UsageError(f"{shown_path(path)}: not a .csv or .parquet file",
                     hint="nbops score reads and writes CSV (.csv) and Parquet (.parquet)")


def _parquet(path: Path) -> None:
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        raise MissingPackageError(f"{shown_path(path)}: Parquet needs pyarrow",
                                  hint="pip install pyarrow")


def read_table(path: Path, check: InputCheck | None) -> Any:
    """The file as a frame (CSV: the signature's text columns as text, the rest parsed)."""
    import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

    if not path.is_file():
        raise NotFoundError(f"no such file: {shown_path(path)}")
    kind = _kind(path)
    # text columns as text ("007" stays "007"); the others as pandas parses them: a numeric
    # column with a bad value comes as text, and the check says which rows
    texts = [c.name for c in check.columns if c.type in ("string", "binary")] if check else []
    try:
        if kind == "parquet":
            _parquet(path)
            return pd.read_parquet(path)
        frame = pd.read_csv(path, dtype=dict.fromkeys(texts, "string") or None)
    except (OSError, ValueError, pd.errors.ParserError) as exc:
        raise UsageError(f"{shown_path(path)}: cannot be read as {kind}: {exc}") from exc
    for name in texts:
        if name in frame.columns:  # pandas' string dtype to plain objects, None for missing
            frame[name] = frame[name].astype(object).where(frame[name].notna(), None)
    return frame


@dataclass
class ScoreResult:
    """What ``score_file`` did: rows read, scored and refused, and the problems."""

    rows: int
    scored: int
    rejected: int
    problems: list[Problem]
    errors_file: Path | None
    decisions: dict[str, int] | None = None  # with an acceptance threshold: rows per decision


# one loaded model per worker process
_WORKER: dict[str, LoadedModel] = {}


def _init_worker(resolved: ResolvedModel) -> None:
    if "model" not in _WORKER:  # a forked worker has the parent's already
        _WORKER["model"] = load(resolved)


def _predict_part(frame: Any) -> Any:
    return _score_part(_WORKER["model"], frame)


def _score_part(model: LoadedModel, frame: Any) -> Any:
    """The predictions of one partition; with an acceptance threshold a frame of the
    answered label, its probability and the decision."""
    if model.acceptance is None:
        return model.predict(frame)
    import pandas as pd

    decided = model.decide(frame)
    return pd.DataFrame({PREDICTION: pd.Series(decided.answered(), dtype=object),
                         PROBABILITY: decided.probabilities, DECISION: decided.decisions})


def _dask_part(resolved: ResolvedModel, part: Any) -> Any:
    """One partition on a Dask worker (the model loaded once per worker process)."""
    _init_worker(resolved)
    return _predict_part(part)


def _parts(frame: Any, partitions: int) -> list[Any]:
    size = max(1, -(-len(frame) // partitions))
    return [frame.iloc[i:i + size] for i in range(0, len(frame), size)]


def _dask_predict(
    resolved: ResolvedModel, parts: list[Any], done: Callable[[int], None], address: str | None
) -> list[Any]:
    from nbops.run.dask_client import connected, distributed

    what = "nbops score --executor dask"
    dask = distributed(what)  # the install line when the dask extra is missing
    workers = min(len(parts), os.cpu_count() or 1)
    with connected(address, workers, what=what,
                   hint="--scheduler, [tool.nbops.run] scheduler") as client:
        futures = client.map(_dask_part, [resolved] * len(parts), parts, pure=False)
        results: dict[Any, Any] = {}
        for future in dask.as_completed(futures):
            results[future.key] = future.result()
            done(len(results))
        return [results[f.key] for f in futures]


def score_file(
    loaded: LoadedModel,
    data: Path,
    out: Path,
    *,
    partitions: int = 1,
    executor: Executor = "local",
    scheduler: str | None = None,
    report: Callable[[Problem], None] = lambda p: None,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> ScoreResult:
    """Check ``data`` against the model's signature, score the good rows into ``out``
    (``scheduler``: the Dask scheduler's address with ``executor="dask"``; None: a local
    cluster)."""
    import numpy as np
    import pandas as pd

    if partitions < 1:
        raise UsageError(f"--partitions must be at least 1, not {partitions}")
    out_kind = _kind(out)
    if out_kind == "parquet":
        _parquet(out)
    frame = read_table(data, loaded.check)
    rows = len(frame)
    problems: list[Problem] = []
    if loaded.check is not None:
        converted, bad, problems = loaded.check.check(frame)
        good = loaded.check.good(converted, bad)
    else:
        bad, good = np.zeros(rows, dtype=bool), frame
    numbers = np.flatnonzero(~bad) + 1
    for problem in problems:
        report(problem)
    parts = _parts(good, partitions) if len(good) else []
    progress(0, len(parts))
    if not parts:
        predictions: list[Any] = []
    elif executor == "dask":
        predictions = _dask_predict(
            loaded.resolved, parts, lambda n: progress(n, len(parts)), scheduler
        )
    elif partitions == 1:
        predictions = [_score_part(loaded, parts[0])]
        progress(1, 1)
    else:
        workers = min(len(parts), os.cpu_count() or 1)
        _WORKER["model"] = loaded  # inherited by forked workers: not loaded again
        with ProcessPoolExecutor(workers, initializer=_init_worker,
                                 initargs=(loaded.resolved,)) as pool:
            futures = [pool.submit(_predict_part, part) for part in parts]
            predictions = []
            for i, future in enumerate(futures):
                predictions.append(future.result())
                progress(i + 1, len(parts))
    result = good.copy()
    result.insert(0, ROW, numbers)
    counts: dict[str, int] | None = None
    if loaded.acceptance is not None:
        columns = (PREDICTION, PROBABILITY, DECISION)
        decided = (pd.concat(predictions, ignore_index=True) if predictions
                   else pd.DataFrame({c: pd.Series([], dtype=object) for c in columns}))
        for name in columns:
            result[name] = decided[name].to_numpy()
        counts = {str(k): int(v) for k, v in decided[DECISION].value_counts().items()}
    elif predictions:
        joined = np.concatenate([_column(p) for p in predictions])
        result[PREDICTION] = joined
    else:
        result[PREDICTION] = pd.Series([], dtype=object)
    errors_file = _write(result, out, out_kind, problems)
    return ScoreResult(rows, len(good), int(bad.sum()), problems, errors_file, counts)


def _column(predictions: Any) -> Any:
    import numpy as np

    if hasattr(predictions, "to_numpy"):
        values = predictions.to_numpy()
        return values[:, 0] if values.ndim == 2 else values
    values = np.asarray(predictions)
    return values[:, 0] if values.ndim == 2 else values


def _write(result: Any, out: Path, kind: str, problems: Sequence[Problem]) -> Path | None:
    sidecar = errors_path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if kind == "parquet":
            result.to_parquet(out, index=False)
        else:
            result.to_csv(out, index=False)
        if not problems:
            sidecar.unlink(missing_ok=True)  # no stale list from an earlier run
            return None
        with sidecar.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(["row", "column", "problem", "value"])
            for p in problems:
                writer.writerow(["" if p.row is None else p.row, p.column, p.problem,
                                 "" if p.value is None else p.value])
    except OSError as exc:
        raise WriteError(f"cannot write {shown_path(out)}: {exc.strerror}") from exc
    return sidecar
