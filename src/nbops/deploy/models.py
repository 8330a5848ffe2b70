"""Registered models for serving and scoring: ``MODEL[@alias|/version]`` resolved, loaded, checked.

:func:`parse_spec` reads ``NAME``, ``NAME@alias``, ``NAME/3`` (or the same after
``models:/``); :func:`resolve` finds the version in the project's store (a bare ``NAME`` is its
``champion``, else its latest version); :func:`load` downloads it and loads it with
``mlflow.pyfunc`` once (with the acceptance threshold stored with its run, when it has one:
:mod:`nbops.deploy.acceptance`). :class:`InputCheck` checks a frame against the model's signature
(column-based signatures; a tensor signature is left to MLflow's own enforcement): a missing
column, a missing required value, a value that cannot be converted to the column's type are
:class:`Problem` s with their 1-based row number; the rest is converted to the exact types the
signature names, so MLflow's own enforcement in ``predict`` then passes. ``nbops serve`` refuses
a request with any problem; ``nbops score`` reports the bad rows and scores the others.
"""

from __future__ import annotations

import importlib.util
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbops import extras
from nbops.deploy.acceptance import raw_model
from nbops.errors import MissingPackageError, NotFoundError, ToolError, UsageError
from nbops.run.acceptance import Acceptance, Decisions, decide

__all__ = [
    "Column",
    "InputCheck",
    "LoadedModel",
    "ModelSpec",
    "Problem",
    "ResolvedModel",
    "load",
    "parse_spec",
    "require",
    "resolve",
    "shown_path",
]

CHAMPION = "champion"
_NAME = re.compile(r"^(?P<name>[^@/]+?)(?:@(?P<alias>[^@/]+)|/(?P<version>[^@/]+))?$")


def require(what: str) -> None:
    """MLflow and pandas (what ``mlflow.pyfunc`` needs), or a ``MissingPackageError`` naming
    ``what`` (``"nbops serve"``) and the install line."""
    extras.require("run", what, modules=["mlflow"])
    if importlib.util.find_spec("pandas") is None:
        raise MissingPackageError(
            f"{what} needs pandas (MLflow's light distribution does not install it)",
            hint=extras.install_line("ui"),
        )


def shown_path(path: Path | str) -> str:
    """``path`` relative to the current directory when it is inside it (never a server's
    absolute path in a message)."""
    here = Path.cwd().resolve()
    try:
        return Path(path).resolve().relative_to(here).as_posix()
    except ValueError:
        return Path(path).name


@dataclass(frozen=True)
class ModelSpec:
    """``NAME``, ``NAME@alias`` or ``NAME/version``."""

    name: str
    alias: str | None = None
    version: int | None = None

    def __str__(self) -> str:
        if self.alias:
            return f"{self.name}@{self.alias}"
        return f"{self.name}/{self.version}" if self.version is not None else self.name


def parse_spec(text: str) -> ModelSpec:
    """``MODEL[@alias|/version]`` (``models:/`` in front allowed), or a ``UsageError``."""
    raw = text.strip().removeprefix("models:/")
    match = _NAME.match(raw)
    hint = "MODEL, MODEL@alias (MODEL@champion) or MODEL/version (MODEL/3)"
    if not match or not match["name"].strip():
        raise UsageError(f"not a model: {text!r}", hint=hint)
    version: int | None = None
    if match["version"] is not None:
        if not match["version"].isdigit() or int(match["version"]) < 1:
            raise UsageError(f"{text!r}: the version must be a number from 1", hint=hint)
        version = int(match["version"])
    return ModelSpec(match["name"].strip(), match["alias"], version)


@dataclass(frozen=True)
class ResolvedModel:
    """One version of a registered model: ``name``, ``version``, its ``aliases``, the run
    that logged it and where its files are (``source``)."""

    name: str
    version: int
    aliases: tuple[str, ...]
    run_id: str | None
    source: str
    tracking_uri: str

    @property
    def label(self) -> str:
        """``NAME/version``."""
        return f"{self.name}/{self.version}"


def _store_exists(uri: str) -> Path | None:
    """The SQLite file of a local store, ``None`` for other stores; NotFoundError when the
    file is not there (never create an empty store to look a model up in it)."""
    from nbops.run.tracking import _sqlite_path

    db = _sqlite_path(uri)
    if db is not None and not db.is_file():
        raise NotFoundError(
            f"no MLflow tracking store at {shown_path(db)}",
            hint="run the notebook (nbops run) and register its model (nbops promote RUN "
            "--model NAME) first, or set MLFLOW_TRACKING_URI / tracking-uri in "
            "[tool.nbops.run] to the team's store",
        )
    return db


def _versions(client: Any, name: str) -> list[Any]:
    return list(client.search_model_versions(f"name = '{name}'"))


def resolve(spec: ModelSpec, tracking_uri: str) -> ResolvedModel:
    """The version ``spec`` names in the store at ``tracking_uri``; ``NotFoundError`` (with
    what there is) when the model, alias or version does not exist."""
    from nbops.run.tracking import describe_store, mlflow_client

    _store_exists(tracking_uri)
    client = mlflow_client(tracking_uri)
    store = describe_store(tracking_uri)
    if store.startswith("/"):
        store = shown_path(store)
    try:
        registered = client.get_registered_model(spec.name)
    except Exception as exc:
        if str(getattr(exc, "error_code", "")) != "RESOURCE_DOES_NOT_EXIST":
            raise ToolError(f"cannot read the model registry of {store}: {exc}") from exc
        names = sorted(m.name for m in client.search_registered_models(max_results=50))
        raise NotFoundError(
            f"no registered model {spec.name!r} in {store}",
            hint=(f"registered: {', '.join(names)}" if names else "nothing is registered yet")
            + "; nbops promote RUN --model NAME registers a run's model",
        ) from exc
    aliases: dict[str, int] = {k: int(v) for k, v in dict(registered.aliases).items()}
    versions = sorted(int(v.version) for v in _versions(client, spec.name))
    if spec.alias is not None:
        if spec.alias not in aliases:
            known = ", ".join(f"@{a}" for a in sorted(aliases)) or "none"
            raise NotFoundError(f"model {spec.name!r} has no alias {spec.alias!r}",
                                hint=f"its aliases: {known}")
        number = aliases[spec.alias]
    elif spec.version is not None:
        if spec.version not in versions:
            raise NotFoundError(
                f"model {spec.name!r} has no version {spec.version}",
                hint=f"its versions: {', '.join(map(str, versions)) or 'none'}",
            )
        number = spec.version
    elif CHAMPION in aliases:
        number = aliases[CHAMPION]
    elif versions:
        number = versions[-1]
    else:
        raise NotFoundError(f"model {spec.name!r} has no versions")
    found = client.get_model_version(spec.name, str(number))
    source = str(client.get_model_version_download_uri(spec.name, str(number)))
    return ResolvedModel(
        name=spec.name,
        version=number,
        aliases=tuple(sorted(a for a, v in aliases.items() if v == number)),
        run_id=getattr(found, "run_id", None) or None,
        source=source,
        tracking_uri=tracking_uri,
    )


@dataclass(frozen=True)
class Column:
    """One column of a signature: ``name``, MLflow's type name, whether it is required."""

    name: str
    type: str
    required: bool


@dataclass(frozen=True)
class Problem:
    """Why an input was refused: ``column`` and ``problem``, and for one value its 1-based
    ``row`` (the first data row is 1) and the ``value`` as given (shortened)."""

    column: str
    problem: str
    row: int | None = None
    value: str | None = None

    def __str__(self) -> str:
        where = f"row {self.row}: " if self.row is not None else ""
        got = f" (got {self.value})" if self.value is not None else ""
        return f"{where}column {self.column!r}: {self.problem}{got}"

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "problem": self.problem,
                "value": self.value}


def _shown(value: Any) -> str:
    if hasattr(value, "item"):  # a numpy scalar: show it as the plain value it was
        value = value.item()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


_NUMPY = {"integer": "int32", "long": "int64", "float": "float32", "double": "float64"}
_TRUE = frozenset({"true", "1", "yes", "t", "y"})
_FALSE = frozenset({"false", "0", "no", "f", "n"})


class InputCheck:
    """The checks of a column-based signature over a pandas frame (see the module's docstring)."""

    def __init__(self, columns: Sequence[Column]) -> None:
        self.columns = list(columns)

    @classmethod
    def of(cls, schema: Any) -> InputCheck | None:
        """The check of an MLflow input schema; ``None`` for no schema or a tensor schema."""
        if schema is None or schema.is_tensor_spec() or not schema.has_input_names():
            return None
        return cls([
            Column(str(c.name), str(getattr(c.type, "name", c.type)),
                   bool(getattr(c, "required", True)))
            for c in schema.inputs
        ])

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def check(self, frame: Any, *, max_problems: int | None = None) -> tuple[Any, Any, list[Problem]]:
        """``(converted, bad, problems)``: the signature's columns converted to its types,
        a boolean array of the rows with a problem, and the problems (a missing column makes
        every row bad; at most ``max_problems`` are listed, the mask has them all)."""
        import numpy as np
        import pandas as pd  # type: ignore[import-untyped]  # no stubs installed

        rows = len(frame)
        bad = np.zeros(rows, dtype=bool)
        problems: list[Problem] = []
        out: dict[str, Any] = {}
        for column in self.columns:
            if column.name not in frame.columns:
                if column.required:
                    problems.append(Problem(column.name, "missing column (the model's "
                                            f"signature requires it: {column.type})"))
                    bad[:] = True
                out[column.name] = pd.Series([None] * rows, index=frame.index, dtype=object)
                continue
            series = frame[column.name]
            converted, failed = _convert(series, column.type)
            null = np.asarray(series.isna())
            failed = np.asarray(failed) & ~null
            missing = null & column.required
            for mask, text in ((missing, "missing required value"),
                               (failed, f"not a valid {column.type}")):
                if mask.any():
                    bad |= mask
                    for i in np.flatnonzero(mask)[: _room(max_problems, problems)]:
                        value = None if text.startswith("missing") else _shown(series.iloc[i])
                        problems.append(Problem(column.name, text, int(i) + 1, value))
            out[column.name] = converted
        converted_frame = pd.DataFrame(out, index=frame.index)
        return converted_frame, bad, problems

    def good(self, converted: Any, bad: Any) -> Any:
        """The rows without a problem, typed as the signature says (ints as ints again)."""
        frame = converted[~bad]
        for column in self.columns:
            numpy_type = _NUMPY.get(column.type)
            series = frame[column.name]
            if numpy_type and column.type in ("integer", "long") and not series.isna().any():
                frame[column.name] = series.astype(numpy_type)
        return frame


def _room(limit: int | None, problems: list[Problem]) -> int | None:
    return None if limit is None else max(0, limit - len(problems))


def _convert(series: Any, kind: str) -> tuple[Any, Any]:
    """``(converted, failed)`` for one column: ``failed`` marks the values that cannot be
    converted (nulls are not failures here)."""
    import numpy as np
    import pandas as pd

    if kind in _NUMPY:
        if series.dtype == bool:  # true/false is not a number of a numeric column
            return series.astype("float64"), pd.Series(True, index=series.index)
        numbers = pd.to_numeric(series, errors="coerce")
        if series.dtype == object:  # a Python bool in JSON is not a number of a column
            numbers[series.map(lambda v: isinstance(v, bool))] = np.nan
        failed = numbers.isna()
        if kind in ("integer", "long"):
            whole = numbers.isna() | (numbers == np.floor(numbers))
            failed = failed | ~whole
            numbers = numbers.where(whole)
        return numbers.astype("float64" if kind in ("integer", "long") else _NUMPY[kind]), failed
    if kind == "boolean":
        if series.dtype == bool:
            return series, pd.Series(False, index=series.index)
        text = series.map(lambda v: str(v).strip().lower() if v is not None else None)
        values = text.map(lambda v: True if v in _TRUE else (False if v in _FALSE else None))
        return values.astype(object), values.isna()
    if kind == "string":
        return series.map(lambda v: v if v is None or isinstance(v, str) else str(v)), \
            pd.Series(False, index=series.index)
    if kind == "datetime":
        stamps = pd.to_datetime(series, errors="coerce")
        return stamps, stamps.isna()
    return series, pd.Series(False, index=series.index)  # binary: as given


@dataclass
class LoadedModel:
    """A resolved version loaded with ``mlflow.pyfunc``, and its input check (``None``:
    the model has no column signature, MLflow enforces what it has); with an acceptance
    threshold (:mod:`nbops.deploy.acceptance`), the flavor's own model that gives the
    probabilities (``raw``)."""

    resolved: ResolvedModel
    pyfunc: Any
    check: InputCheck | None
    acceptance: Acceptance | None = None
    raw: Any = None

    def predict(self, frame: Any) -> Any:
        return self.pyfunc.predict(frame)

    def decide(self, frame: Any) -> Decisions:
        """Labels, probabilities and decisions under the model's acceptance threshold."""
        if self.acceptance is None:
            raise ValueError(f"model {self.resolved.label} has no acceptance threshold")
        return decide(self.raw, self.acceptance, frame)


def load(resolved: ResolvedModel, *, dst: Path | None = None) -> LoadedModel:
    """Download the version's files (into ``dst``, else a temporary folder) and load them."""
    from nbops.run.tracking import import_mlflow

    mlflow = import_mlflow()
    import_mlflow("mlflow.pyfunc")
    target = dst or Path(tempfile.mkdtemp(prefix="nbops-model-"))
    try:
        local = mlflow.artifacts.download_artifacts(
            artifact_uri=resolved.source, dst_path=str(target),
            tracking_uri=resolved.tracking_uri,
        )
        pyfunc = mlflow.pyfunc.load_model(local)
    except Exception as exc:
        raise ToolError(
            f"cannot load model {resolved.label}: {type(exc).__name__}: {exc}",
            hint="check that its flavor's package (scikit-learn, ...) is installed here",
        ) from exc
    from nbops.deploy import acceptance
    from nbops.run.tracking import mlflow_client

    accepting = acceptance.read(mlflow_client(resolved.tracking_uri), resolved.run_id)
    raw = raw_model(pyfunc, resolved.label) if accepting is not None else None
    return LoadedModel(resolved, pyfunc, InputCheck.of(pyfunc.metadata.get_input_schema()),
                       accepting, raw)
