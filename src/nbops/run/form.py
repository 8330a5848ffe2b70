"""The Run tab's form checked as ``nbops run`` would check it: errors per field, or the request.

:func:`check_form` takes the texts the user typed (one per parameter, plus the sweep's
parallel runs, the kernel, the cell timeout, the executor and its scheduler) and reads them with :mod:`nbops.run.params`
(:func:`~nbops.run.params.parse_value`, the ``--grid`` splitting,
:func:`~nbops.run.params.check_run_request`) and checks the executor with the checks of
:mod:`nbops.run.executors`, so each message is the CLI's. The answer is
the body of ``POST /nbops/runs/validate`` (docs/rest-api.yaml, ``RunFormCheck``): ``errors``
by field, and when there are none the exact ``POST /nbops/runs`` body and its number of runs.

Every parameter value of that body is a string ``nbops run -p`` reads back to exactly the
value checked here (a JSON number would lose digits in a browser, and a JSON string is text
for a ``str`` parameter but a literal for the others).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any, Final, Literal

from nbops.api_types import RunFormCheck, RunRequest
from nbops.api_types import RunFormField as FieldReading
from nbops.config import RunConfig
from nbops.errors import NbopsError, UsageError
from nbops.run.executors import EXECUTORS, check_scheduler_for, require_executor
from nbops.run.params import (
    NotebookParameters,
    ParamSpec,
    _check,
    _grid_values,
    _json_value,
    _parse_structure,
    check_run_request,
    parse_value,
    unknown_parameter,
)

__all__ = [
    "FORM",
    "MAX_PARALLEL",
    "MAX_TIMEOUT_S",
    "FormMode",
    "check_form",
    "default_text",
    "split_values",
]

FormMode = Literal["run", "sweep", "pipeline"]  # pipeline: one run of the generated module
FORM: Final = ""  # the errors key of a problem of the form as a whole
MAX_PARALLEL: Final = 64  # runs at a time in a sweep (the server's POST /nbops/runs limit)
MAX_TIMEOUT_S: Final = 1e7  # seconds a cell may run (the server's limit)
# characters of Python literals with structure: for a `none`/`expression` parameter such a
# text is one value in a sweep, never split on its commas
_STRUCTURE: Final = re.compile(r"""[\[\]{}()'"]""")
_SWEEP_NEEDS_AXIS: Final = (
    "a sweep needs at least one field with two or more values (separated by commas)"
)


def _words(exc: NbopsError) -> str:
    return f"{exc.message} ({exc.hint})" if exc.hint else exc.message


def default_text(spec: ParamSpec) -> str:
    """The text the form starts a field with: the default as the user would type it."""
    if spec.type == "bool" and isinstance(spec.default, bool):
        return "true" if spec.default else "false"
    if spec.type in ("int", "float") and isinstance(spec.default, (int, float)):
        return str(spec.default)
    if spec.type == "str" and isinstance(spec.default, str):
        return spec.default
    return spec.default_source


def _unchanged(spec: ParamSpec, text: str) -> bool:
    """The text is the default: its text, or (for a literal default) a text read as an equal
    value of the same type (``1`` for a float default ``1.0``: a browser writes it so)."""
    if spec.type == "str":
        return isinstance(spec.default, str) and text == spec.default or (
            not isinstance(spec.default, str) and text.strip() == spec.default_source.strip()
        )
    if text.strip() == default_text(spec).strip() or text.strip() == spec.default_source.strip():
        return True
    if spec.type not in ("int", "float", "bool", "list", "dict", "tuple") or spec.default is None:
        return False
    try:
        value = parse_value(spec, text)
    except UsageError:
        return False
    return repr(value) == repr(spec.default)


def _as_text(spec: ParamSpec, value: Any) -> str:
    """A value (an item of a JSON list of grid values, already checked) as the text that
    ``nbops run -p`` reads back to it."""
    if spec.type == "str" and isinstance(value, str):
        return value
    return json.dumps(value)  # Infinity and NaN included: float() and json.loads read them


def _container(spec: ParamSpec, value: Any) -> bool:
    kinds = (dict,) if spec.type == "dict" else (list, tuple)
    return isinstance(value, kinds)


def split_values(spec: ParamSpec, text: str) -> list[str]:
    """A sweep field's values, each a text ``nbops run -p`` reads, split as ``nbops run
    --grid NAME=TEXT`` splits it.

    A text starting with ``[`` is a list of the values (JSON or a Python literal); else it is
    split on commas, each piece stripped. So that one structured value stays one value: for a
    list, tuple or dict parameter the text is one value unless it is a non-empty list of
    lists (of dicts for a dict); for a ``none`` or ``expression`` parameter a text with any of
    ``[]{}()'"`` is one value. Raises :class:`~nbops.errors.UsageError` with the CLI's
    message for a text that starts with ``[`` but is not a list, an empty piece or a piece
    of the wrong type; an empty text is no values (``[]``).
    """
    stripped = text.strip()
    if spec.type in ("list", "tuple", "dict"):
        ok, parsed = _parse_structure(stripped) if stripped.startswith("[") else (False, None)
        if ok and isinstance(parsed, list) and parsed and all(_container(spec, v) for v in parsed):
            return [_as_text(spec, _check(spec, v)) for v in parsed]
        return [text]
    if spec.type in ("none", "expression") and _STRUCTURE.search(stripped):
        return [text]
    _grid_values(spec, text)  # the CLI's errors: not a list, an empty piece, a wrong type
    if stripped.startswith("["):
        _, parsed = _parse_structure(stripped)
        return [_as_text(spec, v) for v in parsed]
    return [] if not stripped else [piece.strip() for piece in text.split(",")]


def _shown(value: Any) -> Any:
    """A value for ``fields``: as JSON when JSON keeps it, else its text."""
    ok, data = _json_value(value)
    return data if ok else repr(value)


def _parallel(text: str | None, errors: dict[str, str]) -> int | None:
    word = (text or "").strip()
    if not word:
        return 1
    if re.fullmatch(r"[0-9]{1,3}", word) and 1 <= int(word) <= MAX_PARALLEL:
        return int(word)
    errors["parallel"] = (
        f"parallel runs must be a whole number from 1 to {MAX_PARALLEL}, not {word[:40]!r}"
    )
    return None


def _timeout(text: str | None, errors: dict[str, str]) -> float | None:
    word = (text or "").strip()
    if not word:
        return None
    try:
        seconds = float(word) if len(word) <= 40 else math.nan
    except ValueError:
        seconds = math.nan
    if math.isfinite(seconds) and 0 < seconds <= MAX_TIMEOUT_S:
        return seconds
    errors["timeout"] = (
        f"the cell timeout must be a number of seconds above 0 and at most "
        f"{MAX_TIMEOUT_S:,.0f}, or empty for no limit, not {word[:40]!r}"
    )
    return None


def _text(value: str | None) -> str | None:
    word = (value or "").strip()
    return word or None


def _executor(
    executor: str | None, scheduler: str | None, run: RunConfig,
    check_store: Callable[[str | None], object] | None, errors: dict[str, str],
) -> None:
    """The executor (else the project's) and its scheduler (else the project's, for dask)
    checked as ``nbops run`` checks them (:func:`nbops.run.executors.choose_executor`'s
    checks), each problem under its field."""
    name = _text(executor) or run.executor
    address = _text(scheduler)
    if len(name) > 200 or "\0" in name or (address and (len(address) > 2000 or "\0" in address)):
        errors["executor" if len(name) > 200 or "\0" in name else "scheduler"] = (
            "the executor must be a name (local or dask) and the scheduler an address "
            "(for example: tcp://HOST:8786)"
        )
        return
    try:
        EXECUTORS.get(name)  # an unknown name: the choices
        require_executor(name)  # dask not installed: the install line
    except NbopsError as exc:
        errors["executor"] = _words(exc)
        return
    try:
        check_scheduler_for(name, address)
        if name == "dask" and check_store is not None:
            check_store(address or run.scheduler)  # a local store, a remote scheduler
    except UsageError as exc:
        errors["scheduler"] = _words(exc)


def _pipeline(executor: str | None, run: RunConfig, check: Callable[[], object] | None,
               errors: dict[str, str]) -> None:
    """What ``nbops run --pipeline`` refuses: an executor other than local or dask, a notebook
    without a generated module."""
    name = _text(executor) or run.executor
    if "executor" not in errors and name not in ("local", "dask"):
        errors["executor"] = f"a pipeline runs on the local or dask executor, not {name!r}"
    if check is not None:
        try:
            check()
        except NbopsError as exc:
            errors[FORM] = _words(exc)


def check_form(
    params: NotebookParameters,
    mode: FormMode,
    fields: Mapping[str, str],
    parallel: str | None = None,
    kernel: str | None = None,
    timeout: str | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
    *,
    path: str,
    check_kernel: Callable[[str | None], object] | None = None,
    run_config: RunConfig | None = None,
    check_store: Callable[[str | None], object] | None = None,
    check_pipeline: Callable[[], object] | None = None,
) -> RunFormCheck:
    """The form checked: ``errors`` per field (a parameter's name, ``parallel``, ``timeout``,
    ``kernel``, ``executor``, ``scheduler``, or ``""`` for the form), and when there are none
    the ``POST /nbops/runs`` body for ``path`` (``request``) and the number of runs it starts
    (``runs``).

    ``executor`` and ``scheduler`` (blank: ``run_config``'s, the project's ``[tool.nbops.run]``)
    are checked as ``nbops run --executor --scheduler`` checks them; ``check_store`` (given the
    dask scheduler's address, None for a local cluster) raises the
    :func:`~nbops.run.executors.dask.check_scheduler_store` refusal of a local store.

    A field absent from ``fields`` or at its default (:func:`default_text`, or an equal
    value) is not sent. In a sweep each field is split by :func:`split_values`: one value is
    a fixed parameter, several a grid axis. ``check_kernel`` (given the kernel's name, None
    for the notebook's) raises a :class:`~nbops.errors.UsageError` when it is not installed.
    The form's mistakes are answers, never exceptions; only what ``check_kernel`` raises
    other than a UsageError propagates.

    ``pipeline`` runs the module ``nbops modularize`` generated for the notebook
    (``nbops run --pipeline``): one value per field as in ``run``, on the local or dask
    executor, no kernel (the module runs in Python, not in a kernel); ``check_pipeline``
    raises an :class:`~nbops.errors.NbopsError` when there is no generated module (the form's
    own error).
    """
    errors: dict[str, str] = {}
    readings: dict[str, FieldReading] = {}
    fixed: dict[str, str] = {}
    grid: dict[str, list[str]] = {}
    for spec in params.specs:
        text = fields.get(spec.name)
        if text is None or _unchanged(spec, text):
            ok, default = _json_value(spec.default)
            shown = default if ok and spec.type != "expression" else spec.default_source
            readings[spec.name] = {"value": shown, "values": None, "changed": False}
            continue
        readings[spec.name] = {"value": None, "values": None, "changed": True}
        try:
            pieces = split_values(spec, text) if mode == "sweep" else [text]
            if len(pieces) == 1:
                base, _, _ = check_run_request(params, {spec.name: pieces[0]}, {})
                value = base[spec.name]
                readings[spec.name]["value"] = _shown(value)
                fixed[spec.name] = pieces[0]
            else:
                check_run_request(params, {}, {spec.name: pieces})  # empty, duplicates
                grid[spec.name] = pieces
            if mode == "sweep":
                values = [parse_value(spec, piece) for piece in pieces]
                readings[spec.name]["values"] = [_shown(v) for v in values]
        except UsageError as exc:
            errors[spec.name] = _words(exc)
            readings[spec.name]["value"] = None
    for name in fields:
        if params.get(name) is None:
            errors[name] = _words(unknown_parameter(params, name))
            readings[name] = {"value": None, "values": None, "changed": True}
    if mode == "sweep" and not grid and not errors:
        errors[FORM] = _SWEEP_NEEDS_AXIS
    runs_at_once = _parallel(parallel, errors) if mode == "sweep" else 1
    seconds = _timeout(timeout, errors)
    kernel_name = (kernel or "").strip() or None
    if kernel_name is not None and ("\0" in kernel_name or len(kernel_name) > 200):
        errors["kernel"] = "the kernel must be a kernel name (for example: python3)"
    elif check_kernel is not None:
        try:
            check_kernel(kernel_name)
        except UsageError as exc:
            errors["kernel"] = _words(exc)
    _executor(executor, scheduler, run_config or RunConfig(), check_store, errors)
    if mode == "pipeline":
        _pipeline(executor, run_config or RunConfig(), check_pipeline, errors)
        kernel_name = None  # the generated module runs in Python, not in a kernel
        errors.pop("kernel", None)
    runs = 0
    request: RunRequest | None = None
    if not errors:
        try:
            _, _, runs = check_run_request(params, fixed, grid)
        except UsageError as exc:  # nothing the fields' own checks let through: kept honest
            errors[FORM] = _words(exc)
    if not errors:
        request = {"path": path}
        if fixed:
            request["parameters"] = fixed
        if grid:
            request["grid"] = grid
        if mode == "sweep" and runs_at_once is not None:
            request["parallel"] = runs_at_once
        if kernel_name is not None:
            request["kernel"] = kernel_name
        if mode == "pipeline":
            request["pipeline"] = True
        if seconds is not None:
            request["timeout"] = seconds
        if _text(executor) is not None:
            request["executor"] = _text(executor)
        if _text(scheduler) is not None:
            request["scheduler"] = _text(scheduler)
    return {
        "ok": not errors,
        "errors": errors,
        "request": request,
        "runs": runs if not errors else 0,
        "fields": readings,
    }
