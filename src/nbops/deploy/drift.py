"""Drift statistics of one column, streamed: new data counted against the reference sample.

A :class:`NumberDrift` or :class:`CategoryDrift` is built from the reference sample's values
of one column; :meth:`add` counts a chunk of current values (any number of chunks, memory
bounded by the reference, never by the rows); :meth:`result` gives the statistics.

Numbers: the points are the reference sample's distinct finite values (see KS below). Each
current value is placed among them by one ``searchsorted``, so the counts at and below each
point are exact, and from them:

- **PSI** over 10 reference-quantile bins: the edges are the reference's deciles taken as
  reference values (``method="lower"``), bins ``(-inf, e1], (e1, e2], ..., (ek, inf)``;
  ``PSI = sum((c - r) * ln(c / r))`` over the bins' proportions, a proportion below
  :data:`EPSILON` counted as :data:`EPSILON` (an empty bin would make it infinite);
- **Kolmogorov-Smirnov**: the two-sample statistic ``D = sup |F_ref - F_cur|``. With at most
  :data:`MAX_POINTS` distinct reference values it is exact (both empirical CDFs only change at
  the reference points or between them, where ``F_ref`` is constant, so the supremum is at a
  point or just below one); beyond, the points are :data:`MAX_POINTS` reference quantiles and
  the CDFs are compared at them only (``D`` can be low by at most the reference mass between
  two of them, about ``1/256``). Its p-value is Smirnov's asymptotic one,
  ``kstwo.sf(D, round(n*m/(n+m)))``, what ``scipy.stats.ks_2samp`` gives with
  ``method="asymp"``. ``n`` is the reference *sample*'s size (the test compares the current
  data with at most 1,000 training rows, not with the whole training set).

Categories (values compared as text): PSI over the reference's values plus one ``(new)``
bucket for values the reference never had (:data:`MAX_NEW` of them are named), and the
chi-square test of homogeneity of the 2 x K table reference/current counts
(``scipy.stats.chi2_contingency``).

Missing values (None, NaN) are counted apart and left out of the statistics; numbers that are
not finite too; values of a number column that are not numbers are ``invalid``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "EPSILON",
    "MAX_NEW",
    "MAX_POINTS",
    "PSI_BINS",
    "CategoryDrift",
    "NumberDrift",
    "as_text",
    "psi",
]

EPSILON = 1e-4  # the smallest proportion a PSI bin counts with
PSI_BINS = 10
_PLOT_BINS = 30
MAX_POINTS = 256  # reference points of the KS statistic: beyond, its quantiles
MAX_NEW = 20  # new category values named in a report (all are counted)
_TEXT_LIMIT = 200  # characters of a category's text (as the reference profile keeps them)


def psi(reference: Any, current: Any) -> float:
    """The population stability index of two count vectors over the same bins."""
    import numpy as np

    ref = np.asarray(reference, dtype="float64")
    cur = np.asarray(current, dtype="float64")
    if ref.sum() == 0 or cur.sum() == 0:
        return 0.0
    p = np.clip(ref / ref.sum(), EPSILON, None)
    q = np.clip(cur / cur.sum(), EPSILON, None)
    return float(np.sum((q - p) * np.log(q / p)))


def as_text(value: Any) -> str:
    """A category value as text: ``1.0`` and ``1`` are the same value, text is kept as given."""
    if hasattr(value, "item"):  # a numpy scalar
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    try:
        text = str(value)
    except Exception:  # noqa: BLE001 - user objects: a broken __str__ is described by its type
        text = f"<{type(value).__name__}>"
    return text[:_TEXT_LIMIT]


def _numbers(values: Any) -> tuple[Any, int, int]:
    """``(finite float64 values, missing, invalid)`` of a pandas Series or array."""
    import numpy as np
    import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    missing_mask = series.isna().to_numpy()
    if series.dtype == bool:
        numbers = np.full(len(series), np.nan)
    elif pd.api.types.is_numeric_dtype(series.dtype):
        numbers = series.to_numpy(dtype="float64", na_value=np.nan)
    else:
        numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype="float64",
                                                                   na_value=np.nan)
    invalid = int((np.isnan(numbers) & ~missing_mask).sum())
    finite = numbers[np.isfinite(numbers)]
    return finite, int(missing_mask.sum()), invalid


@dataclass
class NumberDrift:
    """PSI and KS of one number column (see the module's docstring)."""

    points: Any  # the reference's distinct finite values, sorted
    ref_le: Any  # reference values <= each point
    ref_eq: Any  # reference values == each point
    edges: Any  # indexes into points of the PSI bins' upper edges
    plot_edges: Any  # the report's histogram: the reference's range and half of it each side
    current_le: Any = None
    current_eq: Any = None
    current_plot: Any = None
    rows: int = 0
    missing: int = 0
    invalid: int = 0
    nonfinite: int = 0
    compared: int = 0  # finite current values
    low: float = math.inf
    high: float = -math.inf

    @classmethod
    def of(cls, reference: Any) -> NumberDrift:
        """From the reference sample's values of the column."""
        import numpy as np

        finite, _, _ = _numbers(reference)
        points, counts = np.unique(finite, return_counts=True)
        deciles = np.quantile(finite, np.arange(1, PSI_BINS) / PSI_BINS, method="lower") \
            if len(points) else np.zeros(0)
        if len(points) > MAX_POINTS:  # the reference's quantiles (as values) stand for it
            fine = np.quantile(finite, np.linspace(0, 1, MAX_POINTS), method="lower")
            kept = np.unique(np.concatenate([fine, deciles]))  # the PSI edges stay exact
            cumulative = np.searchsorted(np.sort(finite), kept, side="right")
            counts = np.diff(cumulative, prepend=0)
            points = kept
        if len(points):
            edges = np.unique(np.searchsorted(points, deciles))
            lo, hi = float(points[0]), float(points[-1])
        else:
            edges = np.zeros(0, dtype=int)
            lo, hi = 0.0, 1.0
        half = (hi - lo) / 2 if hi > lo else max(abs(lo), 1.0) / 2
        plot_edges = np.linspace(lo - half, hi + half, _PLOT_BINS + 1)
        zeros = np.zeros(len(points), dtype="int64")
        return cls(points, np.cumsum(counts), counts, edges, plot_edges, current_le=zeros,
                   current_eq=zeros.copy(), current_plot=np.zeros(_PLOT_BINS, dtype="int64"))

    @property
    def usable(self) -> bool:
        """Whether the reference has values to compare with."""
        return len(self.points) > 0

    def add(self, values: Any) -> None:
        """Count a chunk of current values."""
        import numpy as np

        rows = len(values)
        finite, missing, invalid = _numbers(values)
        self.rows += rows
        self.missing += missing
        self.invalid += invalid
        self.nonfinite += rows - missing - invalid - len(finite)
        if not len(finite) or not self.usable:
            return
        self.compared += len(finite)
        self.low = min(self.low, float(finite.min()))
        self.high = max(self.high, float(finite.max()))
        clipped = np.clip(finite, self.plot_edges[0], self.plot_edges[-1])  # ends: the rest
        self.current_plot += np.histogram(clipped, bins=self.plot_edges)[0]
        n = len(self.points)
        below = np.searchsorted(self.points, finite, side="left")  # points < value
        # value <= points[j]  <=>  below <= j: the counts at each position, summed up to j
        self.current_le += np.cumsum(np.bincount(below, minlength=n + 1)[:n])
        inside = below < n
        equal = inside.copy()
        equal[inside] = self.points[below[inside]] == finite[inside]
        self.current_eq += np.bincount(below[equal], minlength=n)[:n]

    def result(self) -> dict[str, Any]:
        """``count`` (current values compared), ``psi``, ``ks`` and ``ks_pvalue`` (``None``
        when either side has no values), and the counts of missing, invalid and
        non-finite current values."""
        import numpy as np
        from scipy import stats  # type: ignore[import-untyped]  # no stubs installed

        out: dict[str, Any] = {"rows": self.rows, "missing": self.missing,
                               "invalid": self.invalid, "nonfinite": self.nonfinite}
        n = int(self.ref_le[-1]) if self.usable else 0
        m = self.compared if self.usable else 0
        out["count"] = m
        if not n or not m:
            out.update(psi=None, ks=None, ks_pvalue=None)
            return out
        f_ref_le = self.ref_le / n
        f_cur_le = self.current_le / m
        f_ref_lt = (self.ref_le - self.ref_eq) / n
        f_cur_lt = (self.current_le - self.current_eq) / m
        d = float(max(np.abs(f_ref_le - f_cur_le).max(), np.abs(f_ref_lt - f_cur_lt).max()))
        big, small = max(n, m), min(n, m)
        en = big * small / (big + small)
        out["ks"] = d
        out["ks_pvalue"] = float(np.clip(stats.kstwo.sf(d, np.round(en)), 0, 1))
        out["psi"] = psi(*self.bins(m))
        return out

    def bins(self, total: int | None = None) -> tuple[Any, Any]:
        """The PSI bins' reference and current counts."""
        import numpy as np

        total = self.compared if total is None else total
        ref_cum = np.append(self.ref_le[self.edges], self.ref_le[-1])
        cur_cum = np.append(self.current_le[self.edges], total)
        return np.diff(ref_cum, prepend=0), np.diff(cur_cum, prepend=0)

    def histogram(self) -> dict[str, Any]:
        """Reference and current proportions over the plot's equal bins (the reference's
        range and half of it on each side; values beyond are counted in the end bins)."""
        import numpy as np

        ref_counts = np.histogram(np.clip(self.points, self.plot_edges[0], self.plot_edges[-1]),
                                  bins=self.plot_edges, weights=self.ref_eq)[0]
        ref_total = max(1, int(ref_counts.sum()))
        cur_total = max(1, int(self.current_plot.sum()))
        return {"edges": [float(e) for e in self.plot_edges],
                "reference": [float(c) / ref_total for c in ref_counts],
                "current": [float(c) / cur_total for c in self.current_plot]}


@dataclass
class CategoryDrift:
    """PSI and chi-square of one category column, values compared as text."""

    reference: dict[str, int]
    current: dict[str, int] = field(default_factory=dict)
    new: int = 0  # current values the reference never had
    new_values: dict[str, int] = field(default_factory=dict)  # up to MAX_NEW of them, named
    rows: int = 0
    missing: int = 0

    @classmethod
    def of(cls, reference: Any) -> CategoryDrift:
        """From the reference sample's values of the column."""
        counts: dict[str, int] = {}
        for value, count in _value_counts(reference).items():
            counts[value] = counts.get(value, 0) + count
        return cls(counts, dict.fromkeys(counts, 0))

    @property
    def usable(self) -> bool:
        """Whether the reference has values to compare with."""
        return bool(self.reference)

    def add(self, values: Any) -> None:
        """Count a chunk of current values (memory: the reference's values and ``MAX_NEW``)."""
        self.rows += len(values)
        counted = _value_counts(values)
        self.missing += len(values) - sum(counted.values())
        for value, count in counted.items():
            if value in self.current:
                self.current[value] += count
            else:
                self.new += count
                if value in self.new_values or len(self.new_values) < MAX_NEW:
                    self.new_values[value] = self.new_values.get(value, 0) + count

    def result(self) -> dict[str, Any]:
        """``count``, ``psi``, ``chi2``, ``chi2_pvalue`` (``None`` without values), the
        counts of missing and new values and the new values named."""
        import numpy as np
        from scipy import stats

        ref = [self.reference[k] for k in self.reference] + [0]
        cur = [self.current[k] for k in self.reference] + [self.new]
        m = sum(cur)
        out: dict[str, Any] = {"rows": self.rows, "missing": self.missing, "count": m,
                               "new": self.new, "new_values": dict(self.new_values)}
        if not sum(ref) or not m:
            out.update(psi=None, chi2=None, chi2_pvalue=None)
            return out
        out["psi"] = psi(ref, cur)
        table = np.array([ref, cur])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] < 2:
            out.update(chi2=0.0, chi2_pvalue=1.0)
        else:
            chi2, pvalue, _, _ = stats.chi2_contingency(table, correction=False)
            out.update(chi2=float(chi2), chi2_pvalue=float(pvalue))
        return out

    def histogram(self) -> dict[str, Any]:
        """Reference and current proportions per value (the 20 most frequent of either, the
        rest as ``(other)``, new values as ``(new)``) for the report's bar chart."""
        ref_total = max(1, sum(self.reference.values()))
        cur_total = max(1, sum(self.current.values()) + self.new)
        ranked = sorted(self.reference, key=lambda k: -(self.reference[k] / ref_total
                                                        + self.current[k] / cur_total))
        shown = ranked[:20]
        labels = [*shown, "(other)", "(new)"]
        ref = [self.reference[k] for k in shown]
        cur = [self.current[k] for k in shown]
        ref.append(ref_total - sum(ref))
        cur.append(sum(self.current.values()) - sum(cur))
        ref.append(0)
        cur.append(self.new)
        return {"labels": labels, "reference": [c / ref_total for c in ref],
                "current": [c / cur_total for c in cur]}


def _value_counts(values: Any) -> dict[str, int]:
    """Counts of the present values as text (None and NaN left out)."""
    import pandas as pd

    series = pd.Series(values) if not isinstance(values, pd.Series) else values
    counts = series.value_counts(dropna=True)
    out: dict[str, int] = {}
    for value, count in counts.items():
        key = as_text(value)
        out[key] = out.get(key, 0) + int(count)
    return out
