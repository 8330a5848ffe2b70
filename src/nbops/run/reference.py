"""Reference data of a logged model: a sample and a profile of the inputs it was trained on.

``nbops.log_model(model, X)`` never logs ``X`` whole. It logs, with the model's run, a seeded
random sample of at most :data:`SAMPLE_ROWS` rows (``reference/sample.parquet``, or ``.csv``
when pyarrow is missing or cannot store a column) and a profile (``reference/profile.json``):
per column its dtype, counts, summary statistics and, for numbers, a histogram with fixed
bin edges; for other values the most frequent ones. The health checks compare new data with
it. The format is written down in docs/deploy.md ("Reference data").

The profile reads user data: it never raises on NaN, infinities, empty frames or object
columns mixing types (values it cannot order are described by their text), and it holds
only finite numbers (strict JSON). pandas and numpy are imported by the functions (they come
with MLflow, the ``run`` extra).
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

__all__ = [
    "HISTOGRAM_BINS",
    "PROFILE_FORMAT",
    "QUANTILES",
    "SAMPLE_ROWS",
    "TOP_VALUES",
    "as_frame",
    "profile",
    "sample",
    "write_reference",
]

PROFILE_FORMAT = "nbops.reference.profile/1"
SAMPLE_ROWS = 1000  # at most this many rows are kept
SAMPLE_SEED = 0
HISTOGRAM_BINS = 10
QUANTILES = (0.01, 0.05, 0.25, 0.5, 0.75, 0.95, 0.99)
TOP_VALUES = 20
_TEXT_LIMIT = 200  # characters kept of a category's text


def as_frame(data: Any) -> Any:
    """``data`` (DataFrame, Series, 1-D/2-D ndarray, list of dicts) as a DataFrame with text
    column names; ``TypeError`` for anything else (the caller words it for the user)."""
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

    if isinstance(data, pd.DataFrame):
        frame = data
    elif isinstance(data, pd.Series):
        frame = data.to_frame(name=str(data.name) if data.name is not None else "0")
    elif isinstance(data, np.ndarray):
        if data.ndim not in (1, 2):
            raise TypeError(f"a {data.ndim}-D array (only tables, 1-D or 2-D, are profiled)")
        frame = pd.DataFrame(data.reshape(len(data), -1) if data.ndim == 1 else data)
    elif isinstance(data, list) and all(isinstance(row, dict) for row in data):
        frame = pd.DataFrame.from_records(data)
    else:
        raise TypeError(
            f"a {type(data).__name__} (give a DataFrame, an ndarray or a list of dicts)"
        )
    frame = frame.copy(deep=False)
    frame.columns = [str(c) for c in frame.columns]
    return frame


def sample(frame: Any, rows: int = SAMPLE_ROWS, seed: int = SAMPLE_SEED) -> Any:
    """At most ``rows`` rows of ``frame``, drawn without replacement with ``seed``, in their
    original order (the same frame and seed always give the same sample)."""
    import numpy as np

    if len(frame) <= rows:
        return frame
    picked = np.sort(np.random.default_rng(seed).choice(len(frame), size=rows, replace=False))
    return frame.iloc[picked]


def _finite(value: Any) -> float | None:
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - user objects: a broken __str__ is described by its type
        text = f"<{type(value).__name__}>"
    return text[:_TEXT_LIMIT]


def _numbers(column: Any, entry: dict[str, Any]) -> None:
    import numpy as np

    values = column.dropna().to_numpy(dtype="float64", na_value=np.nan)
    values = values[~np.isnan(values)]
    finite = values[np.isfinite(values)]
    entry["infinite"] = int(len(values) - len(finite))
    if len(finite) == 0:
        entry.update(min=None, max=None, mean=None, std=None, quantiles=None, histogram=None)
        return
    low, high = float(finite.min()), float(finite.max())
    with np.errstate(all="ignore"):  # a mean of huge numbers may overflow: then None
        mean = _finite(finite.mean())
        std = _finite(finite.std(ddof=1)) if len(finite) > 1 else None
    entry.update(min=low, max=high, mean=mean, std=std)
    entry["quantiles"] = {
        str(q): _finite(v) for q, v in zip(QUANTILES, np.quantile(finite, QUANTILES), strict=True)
    }
    if low == high or not math.isfinite(high - low):
        edges = [low, high]
        counts = [len(finite)]
    else:
        edges_array = np.linspace(low, high, HISTOGRAM_BINS + 1)
        counts = [int(c) for c in np.histogram(finite, bins=edges_array)[0]]
        edges = [float(e) for e in edges_array]
    entry["histogram"] = {"edges": edges, "counts": counts}


def _categories(column: Any, entry: dict[str, Any]) -> None:
    present = column[column.notna()]
    counted: dict[str, int] = {}
    for value in present:
        key = _text(value)
        counted[key] = counted.get(key, 0) + 1
    ranked = sorted(counted.items(), key=lambda item: (-item[1], item[0]))
    total = len(present)
    entry["unique"] = len(counted)
    entry["top"] = [
        {"value": value, "count": count, "frequency": count / total}
        for value, count in ranked[:TOP_VALUES]
    ]
    entry["other"] = total - sum(count for _, count in ranked[:TOP_VALUES])


def _is_number(column: Any) -> bool:
    from pandas.api import types  # type: ignore[import-untyped]

    return bool(
        types.is_numeric_dtype(column.dtype)
        and not types.is_bool_dtype(column.dtype)
        and not types.is_complex_dtype(column.dtype)
    )


def profile(frame: Any) -> dict[str, Any]:
    """The profile of ``frame`` (the format of docs/deploy.md, "Reference data")."""
    columns: list[dict[str, Any]] = []
    for position, name in enumerate(frame.columns):
        column = frame.iloc[:, position]
        missing = int(column.isna().sum())
        number = _is_number(column)
        entry: dict[str, Any] = {
            "name": str(name),
            "dtype": str(column.dtype),
            "kind": "number" if number else "category",
            "count": len(column) - missing,
            "missing": missing,
        }
        (_numbers if number else _categories)(column, entry)
        columns.append(entry)
    return {"format": PROFILE_FORMAT, "rows": len(frame), "columns": columns}


def write_reference(frame: Any, folder: Path) -> list[Path]:
    """Write the sample (Parquet, else CSV) and the profile of ``frame`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    kept = sample(frame)
    written = folder / "sample.parquet"
    try:
        kept.to_parquet(written, index=False)
    except (ImportError, ValueError, TypeError, ArithmeticError, NotImplementedError):
        # no pyarrow, or a column it cannot store (mixed object values): CSV keeps the text
        written.unlink(missing_ok=True)
        written = folder / "sample.csv"
        kept.to_csv(written, index=False)
    described = profile(frame)
    described["sample"] = {"file": written.name, "rows": len(kept), "seed": SAMPLE_SEED}
    path = folder / "profile.json"
    path.write_text(json.dumps(described, indent=1, allow_nan=False) + "\n", encoding="utf-8")
    return [written, path]
