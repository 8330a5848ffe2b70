"""The reference data of a logged model: the seeded sample and the profile of the inputs."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbops.run import reference

np = pytest.importorskip("numpy")
pd = pytest.importorskip("pandas")


def test_the_profiles_numbers_are_right_on_a_small_frame() -> None:
    frame = pd.DataFrame(
        {
            "x": [1.0, 2.0, 3.0, 4.0, np.nan, np.inf],
            "colour": ["red", "blue", "red", None, "red", "blue"],
            "flag": [True, False, True, True, True, False],
        }
    )
    profile = reference.profile(frame)
    assert profile["format"] == reference.PROFILE_FORMAT and profile["rows"] == 6
    x, colour, flag = profile["columns"]
    assert x["name"] == "x" and x["kind"] == "number" and x["dtype"] == "float64"
    assert (x["count"], x["missing"], x["infinite"]) == (5, 1, 1)
    assert (x["min"], x["max"], x["mean"]) == (1.0, 4.0, 2.5)
    assert x["std"] == pytest.approx(np.std([1, 2, 3, 4], ddof=1))
    assert x["quantiles"]["0.5"] == 2.5 and x["quantiles"]["0.25"] == 1.75
    assert x["histogram"]["edges"] == pytest.approx(list(np.linspace(1, 4, 11)))
    assert sum(x["histogram"]["counts"]) == 4
    assert x["histogram"]["counts"][0] == 1 and x["histogram"]["counts"][-1] == 1
    assert colour["kind"] == "category" and (colour["count"], colour["missing"]) == (5, 1)
    assert colour["unique"] == 2 and colour["other"] == 0
    assert colour["top"] == [
        {"value": "red", "count": 3, "frequency": 0.6},
        {"value": "blue", "count": 2, "frequency": 0.4},
    ]
    assert flag["kind"] == "category" and flag["top"][0] == {
        "value": "True", "count": 4, "frequency": 4 / 6
    }


def test_a_constant_column_has_one_bin_and_no_std_for_one_value() -> None:
    (only,) = reference.profile(pd.DataFrame({"c": [7]}))["columns"]
    assert only["histogram"] == {"edges": [7.0, 7.0], "counts": [1]}
    assert only["std"] is None and only["mean"] == 7.0


def test_the_sample_is_capped_seeded_and_in_the_original_order() -> None:
    frame = pd.DataFrame({"i": range(5000)})
    first = reference.sample(frame)
    assert len(first) == reference.SAMPLE_ROWS
    assert first.equals(reference.sample(frame))  # same seed, same rows
    assert not first.equals(reference.sample(frame, seed=1))
    assert list(first["i"]) == sorted(first["i"]) and first["i"].nunique() == 1000
    small = pd.DataFrame({"i": range(10)})
    assert reference.sample(small).equals(small)


def test_inputs_become_frames_with_text_column_names() -> None:
    assert list(reference.as_frame(np.zeros((3, 2))).columns) == ["0", "1"]
    assert list(reference.as_frame(np.zeros(3)).columns) == ["0"]
    assert list(reference.as_frame([{"a": 1}, {"b": 2}]).columns) == ["a", "b"]
    assert list(reference.as_frame(pd.Series([1, 2], name="y")).columns) == ["y"]
    for bad in ("data.csv", np.zeros((2, 2, 2)), [1, 2]):
        with pytest.raises(TypeError):
            reference.as_frame(bad)


def test_a_mixed_column_falls_back_to_csv(tmp_path: Path) -> None:
    frame = pd.DataFrame({"mixed": [1, "two", 3.5, None]})
    sample, profile = reference.write_reference(frame, tmp_path)
    assert sample.name == "sample.csv" and not (tmp_path / "sample.parquet").exists()
    written = json.loads(profile.read_text())
    assert written["sample"] == {"file": "sample.csv", "rows": 4, "seed": 0}
    assert [t["value"] for t in written["columns"][0]["top"]] == ["1", "3.5", "two"]


def _finite_json(value: Any) -> None:
    if isinstance(value, float):
        assert math.isfinite(value)
    elif isinstance(value, dict):
        for item in value.values():
            _finite_json(item)
    elif isinstance(value, list):
        for item in value:
            _finite_json(item)


_cells = st.one_of(
    st.none(),
    st.floats(allow_nan=True, allow_infinity=True),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.text(max_size=5),
    st.booleans(),
    st.lists(st.integers(), max_size=2),
)
_columns = st.one_of(
    st.lists(st.floats(allow_nan=True, allow_infinity=True), max_size=30),
    st.lists(st.integers(min_value=-(2**63), max_value=2**63 - 1), max_size=30),
    st.lists(_cells, max_size=30),
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_columns, max_size=4))
def test_the_profile_of_any_frame_never_raises_and_is_strict_json(columns: list[list[Any]]) -> None:
    rows = max((len(c) for c in columns), default=0)
    frame = pd.DataFrame(
        {f"c{i}": pd.Series(c + [None] * (rows - len(c)), dtype=object if not c else None)
         for i, c in enumerate(columns)}
    )
    profile = reference.profile(frame)
    json.dumps(profile, allow_nan=False)
    _finite_json(profile)
    assert profile["rows"] == len(frame) and len(profile["columns"]) == len(columns)
    for entry in profile["columns"]:
        assert entry["count"] + entry["missing"] == len(frame)
        if entry["kind"] == "number" and entry["histogram"] is not None:
            assert sum(entry["histogram"]["counts"]) == entry["count"] - entry["infinite"]
