"""The drift statistics, streamed in chunks, against scipy's on small samples."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nbops.deploy.drift import EPSILON, MAX_POINTS, PSI_BINS, CategoryDrift, NumberDrift, psi


def _numbers(reference: np.ndarray, current: np.ndarray, chunks: int = 3) -> dict[str, object]:
    drift = NumberDrift.of(reference)
    for part in np.array_split(current, chunks):
        drift.add(pd.Series(part))
    return drift.result()


@pytest.mark.parametrize("seed", range(40))
def test_ks_is_scipy_s_two_sample_test(seed: int) -> None:
    rng = np.random.default_rng(seed)
    # rounded: ties inside and across the samples, the hard case of the statistic
    reference = np.round(rng.normal(0, 1, int(rng.integers(1, 80))), 1)
    current = np.round(rng.normal(rng.uniform(-1, 1), rng.uniform(0.5, 2),
                                  int(rng.integers(1, 120))), 1)
    got = _numbers(reference, current)
    expected = stats.ks_2samp(reference, current, method="asymp")
    assert got["ks"] == pytest.approx(expected.statistic, abs=1e-12)
    assert got["ks_pvalue"] == pytest.approx(expected.pvalue, rel=1e-9, abs=1e-12)
    assert got["count"] == len(current)


def test_values_outside_the_reference_range_count() -> None:
    got = _numbers(np.array([1.0, 2.0, 3.0]), np.array([10.0, 11.0, 12.0, -5.0]))
    expected = stats.ks_2samp([1.0, 2.0, 3.0], [10.0, 11.0, 12.0, -5.0], method="asymp")
    assert got["ks"] == pytest.approx(expected.statistic)


def test_psi_over_reference_deciles_with_epsilon() -> None:
    reference = np.arange(1.0, 101.0)  # deciles (lower): 10, 20, ..., 90
    current = np.concatenate([np.full(50, 5.0), np.full(50, 95.0)])
    got = _numbers(reference, current)
    ref = np.full(10, 0.1)
    cur = np.array([0.5, 0, 0, 0, 0, 0, 0, 0, 0, 0.5])
    cur_clipped = np.clip(cur, EPSILON, None)
    expected = float(np.sum((cur_clipped - ref) * np.log(cur_clipped / ref)))
    assert got["psi"] == pytest.approx(expected)
    assert psi([10, 10], [10, 10]) == 0.0


def test_missing_invalid_and_infinite_values_are_counted_apart() -> None:
    drift = NumberDrift.of(pd.Series([1.0, 2.0, 3.0]))
    drift.add(pd.Series([1.0, None, "abc", "2", math.inf], dtype=object))
    got = drift.result()
    assert (got["rows"], got["missing"], got["invalid"], got["nonfinite"], got["count"]) == \
        (5, 1, 1, 1, 2)


def test_a_reference_without_values_gives_no_statistics() -> None:
    drift = NumberDrift.of(pd.Series([None, None], dtype="float64"))
    drift.add(pd.Series([1.0]))
    assert not drift.usable
    assert drift.result()["psi"] is None


def test_categories_psi_and_chi_square_of_the_2_by_k_table() -> None:
    reference = pd.Series(["red"] * 30 + ["white"] * 60 + ["rose"] * 10 + [None] * 5)
    current = pd.Series(["red"] * 50 + ["white"] * 40 + ["orange"] * 10 + [None] * 3)
    drift = CategoryDrift.of(reference)
    drift.add(current.iloc[:40])
    drift.add(current.iloc[40:])
    got = drift.result()
    # categories: red, white, rose (the reference's), then the new bucket
    table = np.array([[30, 60, 10, 0], [50, 40, 0, 10]])
    chi2, pvalue, _, _ = stats.chi2_contingency(table, correction=False)
    assert got["chi2"] == pytest.approx(chi2)
    assert got["chi2_pvalue"] == pytest.approx(pvalue)
    assert got["psi"] == pytest.approx(psi(table[0], table[1]))
    assert (got["missing"], got["new"], got["new_values"]) == (3, 10, {"orange": 10})


def test_same_categories_are_no_drift_and_numbers_compare_as_text() -> None:
    drift = CategoryDrift.of(pd.Series([1, 2, 2]))
    drift.add(pd.Series([1.0, 2.0, 2.0]))  # read back as floats: the same values
    got = drift.result()
    assert got["psi"] == pytest.approx(0.0)
    assert got["chi2_pvalue"] == pytest.approx(1.0)
    assert got["new"] == 0


def test_histograms_are_proportions_for_the_report() -> None:
    drift = NumberDrift.of(np.arange(10.0))
    drift.add(np.arange(10.0) + 100)  # far beyond: counted in the last bin
    plot = drift.histogram()
    assert len(plot["edges"]) == len(plot["reference"]) + 1
    assert sum(plot["reference"]) == pytest.approx(1.0)
    assert plot["current"][-1] == pytest.approx(1.0)


def test_a_large_reference_is_compared_at_its_quantiles_within_their_spacing() -> None:
    rng = np.random.default_rng(7)
    reference = rng.normal(0, 1, 1000)  # 1,000 distinct values: 256 quantiles kept
    current = rng.normal(0.3, 1.2, 5000)
    drift = NumberDrift.of(reference)
    assert len(drift.points) <= MAX_POINTS + PSI_BINS
    drift.add(current)
    got = drift.result()
    expected = stats.ks_2samp(reference, current).statistic
    assert expected - 1 / 200 <= got["ks"] <= expected + 1e-12
    # the PSI bins are still the reference's exact deciles
    assert got["psi"] == pytest.approx(psi(*_deciles(reference, current)))


def _deciles(reference: np.ndarray, current: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Counts in (-inf, e1], (e1, e2], ..., (e9, inf) of the reference's deciles."""
    edges = np.quantile(reference, np.arange(1, PSI_BINS) / PSI_BINS, method="lower")
    ref = np.bincount(np.searchsorted(edges, reference, side="left"), minlength=PSI_BINS)
    cur = np.bincount(np.searchsorted(edges, current, side="left"), minlength=PSI_BINS)
    return ref, cur
