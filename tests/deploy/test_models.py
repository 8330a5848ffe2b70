"""nbops.deploy.models: MODEL specs, resolving them in a real registry, loading, the signature check."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest
from deployproject import FEATURES, MODEL, Project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nbops.deploy.models import InputCheck, LoadedModel, ModelSpec, load, parse_spec, resolve
from nbops.errors import NotFoundError, UsageError


@pytest.mark.parametrize(("text", "spec"), [
    ("wine", ModelSpec("wine")),
    ("wine@champion", ModelSpec("wine", alias="champion")),
    ("wine/3", ModelSpec("wine", version=3)),
    ("models:/wine@challenger", ModelSpec("wine", alias="challenger")),
])
def test_a_model_spec_names_a_model_and_an_alias_or_a_version(text: str, spec: ModelSpec) -> None:
    assert parse_spec(text) == spec
    assert str(parse_spec(text)) == text.removeprefix("models:/")


@pytest.mark.parametrize("text", ["", "@champion", "wine/x", "wine/0", "wine@a@b", "wine/1/2"])
def test_a_bad_model_spec_is_a_usage_error_showing_the_forms(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_spec(text)
    assert "MODEL@alias" in (info.value.hint or "")


def test_a_spec_resolves_to_its_version_and_a_bare_name_to_the_champion(project: Project) -> None:
    by_alias = resolve(parse_spec(f"{MODEL}@challenger"), project.uri)
    assert (by_alias.version, by_alias.label) == (1, f"{MODEL}/1")
    assert set(by_alias.aliases) == {"challenger", "champion"}
    assert resolve(parse_spec(MODEL), project.uri).version == 1
    assert resolve(parse_spec(f"{MODEL}/1"), project.uri).run_id == by_alias.run_id


@pytest.mark.parametrize(("text", "message", "hint"), [
    ("nope", "no registered model 'nope'", f"registered: {MODEL}"),
    (f"{MODEL}@staging", "has no alias 'staging'", "@challenger, @champion"),
    (f"{MODEL}/7", "has no version 7", "its versions: 1"),
])
def test_what_does_not_exist_is_not_found_with_what_there_is(
    project: Project, text: str, message: str, hint: str
) -> None:
    with pytest.raises(NotFoundError) as info:
        resolve(parse_spec(text), project.uri)
    assert message in info.value.message
    assert hint in (info.value.hint or "")


def test_a_missing_store_is_not_created_and_is_named_relative(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    uri = "sqlite:///" + (tmp_path / ".nbops" / "mlflow.db").as_posix()
    with pytest.raises(NotFoundError) as info:
        resolve(parse_spec(MODEL), uri)
    assert str(tmp_path) not in str(info.value)
    assert ".nbops/mlflow.db" in str(info.value)
    assert "nbops promote" in (info.value.hint or "")
    assert not (tmp_path / ".nbops").exists()


@pytest.fixture(scope="module")
def loaded(project: Project) -> LoadedModel:
    return load(resolve(parse_spec(MODEL), project.uri))


def test_the_loaded_model_predicts_as_the_estimator_and_knows_its_columns(
    project: Project, loaded: LoadedModel
) -> None:
    assert loaded.check is not None
    assert [(c.name, c.type) for c in loaded.check.columns] == [
        ("alcohol", "double"), ("acidity", "double"), ("year", "long")]
    assert list(loaded.predict(project.frame)) == list(project.model.predict(project.frame))


def test_the_check_names_the_row_the_column_and_the_problem(loaded: LoadedModel) -> None:
    import pandas as pd

    assert loaded.check is not None
    frame = pd.DataFrame({"alcohol": ["12.5", "abc", None, "11"], "acidity": [3, 3, 3, 3],
                          "year": [2001, 2002, 2003, 2004.5]})
    converted, bad, problems = loaded.check.check(frame)
    assert list(bad) == [False, True, True, True]
    assert [str(p) for p in problems] == [
        "row 3: column 'alcohol': missing required value",
        "row 2: column 'alcohol': not a valid double (got 'abc')",
        "row 4: column 'year': not a valid long (got 2004.5)",
    ]
    good = loaded.check.good(converted, bad)
    assert good.dtypes.to_dict() == {"alcohol": "float64", "acidity": "float64", "year": "int64"}
    missing = loaded.check.check(frame.drop(columns=["acidity"]))
    assert list(missing[1]) == [True] * 4
    assert ("column 'acidity': missing column (the model's signature requires it: double)"
            in [str(p) for p in missing[2]])


def test_no_signature_or_a_tensor_signature_has_no_check() -> None:
    import numpy as np
    from mlflow.types import Schema, TensorSpec

    assert InputCheck.of(None) is None
    assert InputCheck.of(Schema([TensorSpec(np.dtype("float64"), (-1, 3))])) is None


_number = st.one_of(st.floats(allow_nan=False, allow_infinity=False, width=32),
                    st.integers(-10**6, 10**6))
_bad_number = st.one_of(st.text(alphabet="xyz!-", min_size=1, max_size=4), st.booleans())
_cell = st.one_of(_number.map(lambda v: ("ok", v)), _number.map(lambda v: ("ok", str(v))),
                  _bad_number.map(lambda v: ("bad", v)), st.none().map(lambda v: ("bad", v)))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(_cell, _cell, st.one_of(
    st.integers(1990, 2030).map(lambda v: ("ok", v)),
    st.floats(1990.1, 2029.9).filter(lambda v: v != math.floor(v)).map(lambda v: ("bad", v)),
    _bad_number.map(lambda v: ("bad", v)))), min_size=1, max_size=20))
def test_exactly_the_rows_with_a_bad_value_are_bad_and_the_rest_predict_as_the_estimator(
    project: Project, loaded: LoadedModel, rows: list[tuple[Any, ...]]
) -> None:
    import pandas as pd

    assert loaded.check is not None
    frame = pd.DataFrame([[value for _, value in row] for row in rows], columns=FEATURES)
    converted, bad, problems = loaded.check.check(frame)
    expected = [any(kind == "bad" for kind, _ in row) for row in rows]
    assert list(bad) == expected
    assert {p.row for p in problems} == {i + 1 for i, b in enumerate(expected) if b}
    good = loaded.check.good(converted, bad)
    if len(good):
        assert list(loaded.predict(good)) == list(project.model.predict(good))
