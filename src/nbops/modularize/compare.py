"""Judge whether a value from the notebook's run equals the same value from the generated
pipeline's run, and say in one line how it differs.

:func:`compare_values` returns a :class:`Comparison`: ``equal``, ``differs`` (the detail says
how, naming where: ``['scores'][2]: 0.5 vs 0.7``, ``column 'price': 3 of 120 values
differ, ...``) or ``not comparable`` (the detail says why). The rules, kind by kind:

- numbers: integers exactly; otherwise within tolerance, as ``math.isclose`` (NaN equals NaN).
  ``3`` equals ``3.0``; a bool never equals a non-bool number (``True`` vs ``1`` differs).
- numpy arrays: shape, then values with the same tolerance (symmetric, as ``math.isclose``,
  not ``np.allclose``'s); integers exactly; object arrays element by element. Only values
  are judged: int64 vs float64 arrays of equal values are equal (the detail says so).
- pandas DataFrame/Series/Index: judged by ``pandas.testing`` (``check_exact=False``, dtypes
  and names checked), then integer columns and labels exactly; the detail names the first
  difference in one line.
- estimators (``get_params`` and ``fit``): class name, ``get_params(deep=False)``, then, when
  fitted, predictions on the probes that fit the model, else the fitted ``*_`` attributes.
- dicts, lists, tuples, sets: recursively (list vs tuple differs); strings, bytes, None: ``==``.
- paths ``tempfile`` made (str or pathlib, under the temporary folder, its random 8
  characters in the first component): equal when they agree apart from those characters.
- :class:`~nbops.modularize.capture.StandIn` objects, and plain objects (no ``__eq__``): class
  name (not module: ``__main__.Foo`` is ``pkg.mod.Foo``) and state, recursively. Functions
  and classes compare by name.
- :class:`~nbops.modularize.capture.Missing` on one side differs, on both is equal.
- :class:`~nbops.modularize.capture.Unpicklable` on either side is not comparable, unless
  both have the same type and the same whole repr with no memory address (" at 0x").
- matplotlib objects, objects that compare by identity only, ``==`` that raises or does not
  return a bool: not comparable. Other objects: ``==``.

numpy and pandas are imported only when such a value is seen: this module imports with the
standard library alone.
"""

from __future__ import annotations

import cmath
import importlib
import math
import numbers
import re
import reprlib
import tempfile
import types
import warnings
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any, Literal

from nbops.modularize.capture import MISSING, Missing, StandIn, Unpicklable

__all__ = ["Comparison", "Status", "compare_values"]

Status = Literal["equal", "differs", "not comparable"]

MAX_DEPTH = 100  # nesting levels compared before giving up ("not comparable")
MAX_DETAIL = 300  # characters of detail
MAX_PROBES = 5  # probes an estimator is run on
MAX_PROBE_ROWS = 10_000  # rows of each probe predicted


@dataclass(frozen=True)
class Comparison:
    """The verdict on one value, with a short human sentence saying how it was reached."""

    status: Status
    detail: str = ""


def compare_values(
    original: Any,
    generated: Any,
    *,
    rtol: float = 1e-7,
    atol: float = 1e-9,
    probes: Sequence[Any] | Mapping[str, Any] = (),
) -> Comparison:
    """Compare ``original`` (the notebook's value) with ``generated`` (the pipeline's).

    ``probes`` are inputs estimators are compared on (the other values of the run: those that
    are 2-D arrays or DataFrames of the model's width are used); a mapping name -> value lets
    the detail name them (``predict(X_test): ...``). Never raises.
    """
    try:
        result = _Comparer(rtol, atol, probes).compare(original, generated, "", 0)
    except Exception as exc:  # noqa: BLE001
        # a bug, or RecursionError on a pathological value
        result = Comparison("not comparable", f"comparison failed: {_describe(exc)}")
    if len(result.detail) > MAX_DETAIL:
        result = Comparison(result.status, result.detail[: MAX_DETAIL - 1] + "…")
    return result


# --- helpers ---------------------------------------------------------------------------

EQUAL = Comparison("equal")

_SIMPLE = (
    int,
    float,
    str,
    bytes,
    bool,
    type(None),
)  # == is our rule when types are the same

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxset = _REPR.maxfrozenset = 5
_REPR.maxdict = 4
_REPR.maxlevel = 2

# kinds whose values are data (fitted estimator attributes of these kinds are compared)
_DATA_KINDS = frozenset(
    (
        "none",
        "str",
        "bytes",
        "bool",
        "number",
        "array",
        "npscalar",
        "frame",
        "series",
        "index",
    )
    + ("mapping", "sequence", "set")
)


def _np() -> Any:
    return importlib.import_module("numpy")


def _pd() -> Any:
    return importlib.import_module("pandas")


def _at(path: str, message: str) -> str:
    if len(path) > 80:  # deep paths: their two ends say enough
        path = path[:40] + "…" + path[-39:]
    return f"{path}: {message}" if path else message


def _join(path: str, part: str) -> str:
    """``['a']`` + ``[0]`` -> ``['a'][0]``; ``m`` + ``params`` -> ``m.params``."""
    if part.startswith(("[", ".")):
        return path + part
    return f"{path}.{part}" if path else part


def _differs(path: str, message: str) -> Comparison:
    return Comparison("differs", _at(path, message))


def _not_comparable(path: str, message: str) -> Comparison:
    return Comparison("not comparable", _at(path, message))


def _describe(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip().splitlines()
    return text[0][:150] if text else type(exc).__name__


def _short(x: Any) -> str:
    """A repr of at most 80 characters (numbers as ``str``: ``0.5``, not ``np.float64(0.5)``)."""
    try:
        if isinstance(x, (str, bytes)):  # also numpy's str_: 'b', not np.str_('b')
            text = _REPR.repr(str(x) if isinstance(x, str) else bytes(x))
        elif _kind(x) in ("bool", "number", "npscalar"):
            text = str(x)
        else:
            text = _REPR.repr(x)
    except Exception:  # noqa: BLE001 - a user's __repr__ may raise anything
        text = f"<{type(x).__name__}>"
    return text if len(text) <= 80 else text[:79] + "…"


def _root(x: Any) -> str:
    """The top-level package of ``x``'s class: ``numpy``, ``pandas``, ``builtins``..."""
    module = getattr(type(x), "__module__", None)
    return module.partition(".")[0] if isinstance(module, str) else ""


def _is_bool(x: Any) -> bool:
    return isinstance(x, bool) or (
        _root(x) == "numpy" and type(x).__name__ in ("bool", "bool_")
    )


def _is_complex(x: Any) -> bool:
    return isinstance(x, numbers.Complex) and not isinstance(x, numbers.Real)


def _type_name(x: Any) -> str:
    if isinstance(x, StandIn):
        return x.qualname
    return type(x).__qualname__


def _ref_name(x: Any) -> str:
    """The name a function or class is known by (module left out)."""
    if isinstance(x, type) and issubclass(x, StandIn):
        return x.qualname
    return str(
        getattr(x, "__qualname__", None) or getattr(x, "__name__", None) or _short(x)
    )


_TEMP_PATH = re.compile(
    "^(?:"
    + "|".join(re.escape(r) for r in sorted({tempfile.gettempdir().rstrip("/\\"), "/tmp", "/var/tmp"}))
    + r")[/\\](?P<prefix>[^/\\]*?)[a-z0-9_]{8}(?P<rest>(?:[/\\].*)?)$"
)


def _temp_key(x: Any) -> tuple[str, str, str] | None:
    """A path ``tempfile`` made (``/tmp/tmpab12cd34/out.csv``: str or pathlib), without its
    random part: ``(type, "tmp", "/out.csv")``; None for anything else."""
    if not isinstance(x, (str, PurePath)):
        return None
    match = _TEMP_PATH.match(str(x))
    if match is None:
        return None
    return type(x).__name__, match["prefix"], match["rest"]


def _kind(x: Any) -> str:
    """Which rule compares ``x``."""
    if isinstance(x, Missing):
        return "missing"
    if isinstance(x, Unpicklable):
        return "unpicklable"
    if isinstance(x, StandIn):
        return "object"
    if isinstance(
        x, (type, types.FunctionType, types.BuiltinFunctionType, types.MethodType)
    ):
        return "reference"
    if x is None:
        return "none"
    if isinstance(x, str):
        return "str"
    if isinstance(x, (bytes, bytearray, memoryview)):
        return "bytes"
    if _is_bool(x):
        return "bool"
    if isinstance(x, numbers.Number):
        return "number"
    root = _root(x)
    if root == "numpy":
        np = _np()
        if isinstance(x, np.ndarray):
            return "array"
        if isinstance(x, np.ufunc):  # np.log1p: a function
            return "reference"
        if isinstance(x, np.generic):
            return "npscalar"  # datetime64, timedelta64, void...
        if isinstance(
            x, (np.random.RandomState, np.random.Generator, np.random.BitGenerator)
        ):
            return "rng"
    elif root == "pandas":
        pd = _pd()
        for cls, kind in (
            (pd.DataFrame, "frame"),
            (pd.Series, "series"),
            (pd.Index, "index"),
        ):
            if isinstance(x, cls):
                return kind
        if isinstance(x, pd.api.extensions.ExtensionArray):
            return "extarray"
        if type(x).__name__ in ("NAType", "NaTType"):
            return "na"
    elif root == "matplotlib":
        return "figure"
    if callable(getattr(type(x), "get_params", None)) and callable(
        getattr(type(x), "fit", None)
    ):
        return "estimator"
    if isinstance(x, Mapping):
        return "mapping"
    if isinstance(x, (list, tuple)):
        return "sequence"
    if isinstance(x, (set, frozenset)):
        return "set"
    return "other"


def _view(x: Any) -> tuple[str, dict[str, Any]] | None:
    """Class name and what an object holds, for StandIns and plain objects (no ``__eq__``,
    default pickling); None for other objects."""
    if isinstance(x, StandIn):
        parts = {"args": x.args, "kwargs": x.kwargs, "state": x.state}
        parts.update(items=x.items, dictitems=x.dictitems)
    else:
        t = type(x)
        if _overrides(t, "__eq__", "__reduce_ex__", "__reduce__") or not hasattr(
            x, "__dict__"
        ):
            return None
        getstate = getattr(x, "__getstate__", None)  # what pickle would record (3.11+)
        state = getstate() if callable(getstate) else vars(x)
        parts = {"args": (), "kwargs": {}, "state": state, "items": [], "dictitems": {}}
    if parts["state"] is None:  # pickle records an empty __dict__ as no state
        parts["state"] = {}
    return _type_name(x), parts


def _overrides(cls: type, *names: str) -> bool:
    """Whether ``cls`` (or a base other than ``object``) defines one of ``names``."""
    return any(name in vars(base) for base in cls.__mro__[:-1] for name in names)


def _equals(a: Any, b: Any) -> bool:
    """Whether ``a == b`` is a real True (a bool or numpy bool, not an array)."""
    try:
        same = a == b
        return _is_bool(same) and bool(same)
    except Exception:  # noqa: BLE001 - a user's __eq__ may raise anything
        return False


def _fitted_attributes(model: Any) -> dict[str, Any]:
    """The public attributes an estimator learnt (``coef_``, ``classes_``...)."""
    attrs = getattr(model, "__dict__", None)
    if not isinstance(attrs, dict):
        return {}
    return {k: v for k, v in attrs.items() if k.endswith("_") and not k.startswith("_")}


def _is_fitted(model: Any) -> bool:
    """sklearn's convention: a fitted model has ``n_features_in_`` or learnt ``*_`` attributes."""
    try:
        has_width = hasattr(model, "n_features_in_")
    except Exception:  # noqa: BLE001 - a property may raise anything
        has_width = False
    return has_width or bool(_fitted_attributes(model))


def _call(model: Any, method: str, X: Any) -> tuple[Any, str | None]:
    """``model.method(X)``, or the error it raised."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return getattr(model, method)(X), None
    except Exception as exc:  # noqa: BLE001 - any failure is reported, never raised
        return None, _describe(exc)


def _first_line(exc: BaseException) -> str:
    for line in str(exc).splitlines():
        if line.strip():
            return line.strip()
    return type(exc).__name__


# --- the comparer ------------------------------------------------------------------------


class _Comparer:
    def __init__(
        self, rtol: float, atol: float, probes: Sequence[Any] | Mapping[str, Any]
    ) -> None:
        self.rtol = rtol
        self.atol = atol
        pairs: Iterable[tuple[Any, Any]] = (
            probes.items()
            if isinstance(probes, Mapping)
            else ((f"probe {i + 1}", p) for i, p in enumerate(probes))
        )
        self.probes = [(str(label), value) for label, value in pairs]
        self.active: set[tuple[int, int]] = set()  # pairs being compared: cycles

    def compare(self, a: Any, b: Any, path: str, depth: int) -> Comparison:
        """The verdict on ``a`` (original) vs ``b`` (generated) at ``path`` (``['k'][0]``)."""
        if depth > MAX_DEPTH:
            return _not_comparable(path, f"nested deeper than {MAX_DEPTH} levels")
        if type(a) is type(b) and type(a) in _SIMPLE and a == b:
            return EQUAL  # the quick common case
        ka, kb = _kind(a), _kind(b)
        if "missing" in (ka, kb):
            return self._missing(a, b, path)
        if "unpicklable" in (ka, kb):
            return self._unpicklable(a, b, path)
        if a is b:  # the same object: a function or a singleton loaded by reference
            return EQUAL
        key = _temp_key(a)
        if key is not None and key == _temp_key(b):
            return Comparison("equal", _at(path, "temporary paths (each run makes its own)"))
        if {ka, kb} <= {"bool", "number"}:
            return self._number(a, b, path)
        if "object" in (ka, kb):  # a StandIn: vs another, or vs a plain object
            va, vb = _view(a), _view(b)
            if va is None or vb is None:
                return _differs(path, f"type {_type_name(a)} vs {_type_name(b)}")
            return self._guarded(a, b, lambda: self._object(va, vb, path, depth))
        if ka != kb or (
            ka in ("mapping", "sequence", "set", "array", "other")
            and _type_name(a) != _type_name(b)
        ):
            return _differs(path, f"type {_type_name(a)} vs {_type_name(b)}")

        if ka == "none":
            return EQUAL
        if ka == "str":
            return self._text(a, b, path)
        if ka == "bytes":
            return self._text(bytes(a), bytes(b), path)
        if ka == "reference":  # functions and classes: by name (module left out)
            na, nb = _ref_name(a), _ref_name(b)
            if na == nb:
                return Comparison("equal", _at(path, "same name"))
            return _differs(path, f"{na} vs {nb}")
        if ka == "array":
            return self._array(a, b, path, depth)
        if ka == "npscalar":
            np = _np()
            return self._array(np.asarray(a), np.asarray(b), path, depth)
        if ka == "rng":
            return self.compare(
                _rng_state(a), _rng_state(b), _join(path, "state"), depth + 1
            )
        if ka in ("frame", "series", "index"):
            return self._pandas(a, b, ka, path, depth)
        if ka == "extarray":
            pd = _pd()
            return self._pandas(pd.Series(a), pd.Series(b), "series", path, depth)
        if ka == "na":  # pd.NA, pd.NaT
            if type(a) is type(b):
                return EQUAL
            return _differs(path, f"{a!r} vs {b!r}")
        if ka == "figure":
            return _not_comparable(
                path, f"matplotlib {type(a).__name__} objects are not compared"
            )
        if ka == "estimator":
            return self._guarded(a, b, lambda: self._estimator(a, b, path, depth))
        if ka == "mapping":
            return self._guarded(a, b, lambda: self._mapping(a, b, path, depth))
        if ka == "sequence":
            return self._guarded(a, b, lambda: self._sequence(a, b, path, depth))
        if ka == "set":
            return self._guarded(a, b, lambda: self._set(a, b, path, depth))
        return self._guarded(a, b, lambda: self._other(a, b, path, depth))

    def _guarded(self, a: Any, b: Any, compare: Callable[[], Comparison]) -> Comparison:
        """Run ``compare`` unless this pair is already being compared (a cycle: equal so far)."""
        key = (id(a), id(b))
        if key in self.active:
            return EQUAL
        self.active.add(key)
        try:
            return compare()
        finally:
            self.active.discard(key)

    def _all(self, pairs: Iterable[tuple[Any, Any, str]], depth: int) -> Comparison:
        """The first difference among ``(a, b, path)`` pairs, else the first "not comparable"."""
        first_unknown: Comparison | None = None
        for a, b, path in pairs:
            result = self.compare(a, b, path, depth + 1)
            if result.status == "differs":
                return result
            if result.status == "not comparable" and first_unknown is None:
                first_unknown = result
        return first_unknown or EQUAL

    # --- missing and unpicklable values

    def _missing(self, a: Any, b: Any, path: str) -> Comparison:
        if isinstance(a, Missing) and isinstance(b, Missing):
            return Comparison("equal", _at(path, "not defined in either run"))
        side = "generated" if isinstance(a, Missing) else "original"
        return _differs(path, f"defined in the {side} run only")

    def _unpicklable(self, a: Any, b: Any, path: str) -> Comparison:
        if isinstance(a, Unpicklable) and isinstance(b, Unpicklable):
            # a repr is evidence only when it is whole and shows no memory address
            if (
                a.type == b.type
                and a.repr == b.repr
                and a.repr
                and " at 0x" not in a.repr
                and len(a.repr) < 500
            ):
                return Comparison(
                    "equal", _at(path, f"judged by repr (unpicklable {a.type})")
                )
            return _not_comparable(
                path, f"neither run could capture it ({a.type}: {a.error})"
            )
        side, value = (
            ("original", a) if isinstance(a, Unpicklable) else ("generated", b)
        )
        return _not_comparable(
            path, f"the {side} run could not capture it ({value.error})"
        )

    # --- scalars

    def _number(self, a: Any, b: Any, path: str) -> Comparison:
        if _is_bool(a) != _is_bool(b):
            return _differs(path, f"type {_type_name(a)} vs {_type_name(b)}")
        if _is_bool(a):
            return EQUAL if bool(a) == bool(b) else _differs(path, f"{a} vs {b}")
        if _equals(a, b):  # exactly: also 3 vs 3.0, Decimal and Fraction
            return EQUAL
        if isinstance(a, numbers.Integral) and isinstance(b, numbers.Integral):
            return _differs(path, f"{a} vs {b}")  # counts and ids: no tolerance
        try:
            if _is_complex(a) or _is_complex(b):
                x, y = complex(a), complex(b)
                if cmath.isnan(x) and cmath.isnan(y):
                    return EQUAL
                close = cmath.isclose(x, y, rel_tol=self.rtol, abs_tol=self.atol)
                diff = abs(x - y)
            else:
                fx, fy = float(a), float(b)
                if math.isnan(fx) and math.isnan(fy):
                    return EQUAL
                close = math.isclose(fx, fy, rel_tol=self.rtol, abs_tol=self.atol)
                diff = abs(fx - fy)
        except (TypeError, ValueError, OverflowError):
            return _differs(path, f"{_short(a)} vs {_short(b)}")
        if close:
            return Comparison(
                "equal", _at(path, f"equal within tolerance (diff {diff:.3g})")
            )
        suffix = f" (diff {diff:.3g})" if math.isfinite(diff) else ""
        return _differs(path, f"{_short(a)} vs {_short(b)}{suffix}")

    def _text(self, a: str | bytes, b: str | bytes, path: str) -> Comparison:
        if a == b:
            return EQUAL
        if len(a) <= 40 and len(b) <= 40:
            return _differs(path, f"{a!r} vs {b!r}")
        i = next(
            (i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b))
        )
        start = max(0, i - 10)
        return _differs(
            path,
            f"differ at position {i}: {_short(a[start : i + 20])} vs {_short(b[start : i + 20])}"
            + (f" (length {len(a)} vs {len(b)})" if len(a) != len(b) else ""),
        )

    # --- containers and objects

    def _mapping(
        self,
        a: Mapping[Any, Any],
        b: Mapping[Any, Any],
        path: str,
        depth: int,
        attrs: bool = False,
    ) -> Comparison:
        """Keys as sets, then values key by key (``attrs``: paths ``.x``, not ``['x']``)."""
        only_a, only_b = [k for k in a if k not in b], [k for k in b if k not in a]
        if only_a or only_b:
            what = "attributes" if attrs else "keys"
            parts = [f"{what} only in original: {_short(only_a)}"] if only_a else []
            parts += [f"{what} only in generated: {_short(only_b)}"] if only_b else []
            return _differs(path, "; ".join(parts))

        def step(key: Any) -> str:
            return _join(
                path,
                f".{key}" if attrs and isinstance(key, str) else f"[{_short(key)}]",
            )

        return self._all(((a[k], b[k], step(k)) for k in a), depth)

    def _sequence(
        self, a: Sequence[Any], b: Sequence[Any], path: str, depth: int
    ) -> Comparison:
        if len(a) != len(b):
            return _differs(path, f"length {len(a)} vs {len(b)}")
        return self._all(
            ((x, y, _join(path, f"[{i}]")) for i, (x, y) in enumerate(zip(a, b))), depth
        )

    def _set(self, a: Any, b: Any, path: str, depth: int) -> Comparison:
        only_a, only_b = [x for x in a if x not in b], [y for y in b if y not in a]
        # items equal by our rules but not by hash (1.0 vs 1.0000000001): pair them up
        if len(only_a) == len(only_b) <= 50:
            left = list(only_b)
            for x in only_a:
                match = next(
                    (j for j, y in enumerate(left) if self._same(x, y, depth)), None
                )
                if match is None:
                    break
                left.pop(match)
            else:
                return EQUAL
        parts = [f"items only in original: {_short(only_a)}"] if only_a else []
        parts += [f"items only in generated: {_short(only_b)}"] if only_b else []
        return _differs(path, "; ".join(parts))

    def _same(self, a: Any, b: Any, depth: int) -> bool:
        return self.compare(a, b, "", depth + 1).status == "equal"

    def _object(
        self,
        va: tuple[str, dict[str, Any]],
        vb: tuple[str, dict[str, Any]],
        path: str,
        depth: int,
    ) -> Comparison:
        """Objects by class name (not module) and what they hold."""
        (name_a, parts_a), (name_b, parts_b) = va, vb
        if name_a != name_b:
            return _differs(path, f"class {name_a} vs {name_b}")
        base = path or name_a.rpartition(".")[2]
        state_a, state_b = parts_a.pop("state"), parts_b.pop("state")
        if isinstance(state_a, dict) and isinstance(state_b, dict):
            state = self._mapping(state_a, state_b, base, depth + 1, attrs=True)
        else:
            state = self.compare(state_a, state_b, _join(base, ".state"), depth + 1)
        if state.status == "differs":
            return state
        rest = self._all(
            ((parts_a[k], parts_b[k], _join(base, f".{k}")) for k in parts_a), depth
        )
        if rest.status != "equal":
            return rest
        return state

    def _other(self, a: Any, b: Any, path: str, depth: int) -> Comparison:
        va, vb = _view(a), _view(b)
        if va is not None and vb is not None:
            return self._object(va, vb, path, depth)
        if not _overrides(type(a), "__eq__"):
            return _not_comparable(
                path, f"{_type_name(a)} objects compare by identity only"
            )
        try:
            same = a == b
        except Exception as exc:  # noqa: BLE001 - a user's __eq__ may raise anything
            return _not_comparable(path, f"== raised {_describe(exc)}")
        # a bool or numpy bool; anything else (an array...) is no verdict
        if not _is_bool(same):
            return _not_comparable(
                path, f"== returned a {type(same).__name__}, not a bool"
            )
        return EQUAL if bool(same) else _differs(path, f"{_short(a)} vs {_short(b)}")

    # --- numpy

    def _array(self, a: Any, b: Any, path: str, depth: int) -> Comparison:
        if a.shape != b.shape:
            return _differs(path, f"shape {a.shape} vs {b.shape}")
        np, shape = _np(), a.shape

        def where(i: int) -> str:
            return (
                "[" + ", ".join(str(int(j)) for j in np.unravel_index(i, shape)) + "]"
            )

        result = self._values_diff(a.ravel(), b.ravel(), where, depth)
        if result is not None:
            return Comparison(result.status, _at(path, result.detail))
        if a.dtype != b.dtype:
            return Comparison(
                "equal", _at(path, f"equal values, dtype {a.dtype} vs {b.dtype}")
            )
        return EQUAL

    def _values_diff(
        self, a: Any, b: Any, where: Callable[[int], str], depth: int
    ) -> Comparison | None:
        """None when two 1-D arrays of the same length hold equal values, else how they differ
        (``where(i)`` names position ``i``)."""
        np = _np()
        ka, kb = a.dtype.kind, b.dtype.kind
        if (ka == "b") != (kb == "b"):
            return Comparison("differs", f"dtype {a.dtype} vs {b.dtype}")
        size = len(a)
        max_diff: float | int | None = None
        first_detail: str | None = None
        if ka in "biu" and kb in "biu":  # integers (and bools): exactly
            bad = np.flatnonzero(a != b)
            if bad.size and ka != "b":  # as Python ints: exact, even for int64 extremes
                max_diff = np.abs(a[bad].astype(object) - b[bad].astype(object)).max()
        elif ka in "biufc" and kb in "biufc":
            # floats: within tolerance, NaN equals NaN
            dtype = "complex128" if "c" in (ka, kb) else "float64"
            x, y = a.astype(dtype), b.astype(dtype)
            with np.errstate(all="ignore"):
                diff = np.abs(x - y)
                tol = np.maximum(
                    self.atol, self.rtol * np.maximum(np.abs(x), np.abs(y))
                )
                ok = (x == y) | (diff <= tol) | (np.isnan(x) & np.isnan(y))
            bad = np.flatnonzero(~ok)
            finite = diff[bad][np.isfinite(diff[bad])]
            max_diff = float(finite.max()) if finite.size else None
        elif ka == kb and ka in "mM":  # datetimes: NaT equals NaT
            bad = np.flatnonzero(~((a == b) | (np.isnat(a) & np.isnat(b))))
        elif ka == kb and ka in "US":
            bad = np.flatnonzero(a != b)
        else:  # objects (or mixed kinds): element by element, by these rules
            x, y = a.astype(object), b.astype(object)
            try:  # quick pass with ==, then our rules where == did not say True
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    quick = np.asarray(x == y)
                if quick.shape != x.shape or quick.dtype.kind != "b":
                    raise TypeError
            except Exception:  # noqa: BLE001 - an element's == raised: no quick pass
                quick = np.zeros(x.shape, dtype=bool)
            differing: list[int] = []
            unknown: tuple[int, Comparison] | None = None
            for i in np.flatnonzero(~quick):
                result = self.compare(x[i], y[i], "", depth + 1)
                if result.status == "differs":
                    differing.append(int(i))
                    if first_detail is None:
                        first_detail = result.detail
                elif result.status == "not comparable" and unknown is None:
                    unknown = (int(i), result)
            if not differing and unknown is not None:
                i, result = unknown
                return Comparison(
                    "not comparable", f"value at {where(i)}: {result.detail}"
                )
            bad = np.asarray(differing, dtype=int)
        if not bad.size:
            return None
        i = int(bad[0])
        first = first_detail or f"{_short(a[i])} vs {_short(b[i])}"
        if size == 1:
            return Comparison("differs", first)
        message = f"{bad.size} of {size} values differ"
        if max_diff is not None:
            shown = max_diff if isinstance(max_diff, int) else f"{max_diff:.3g}"
            message += f", max abs diff {shown}"
        return Comparison("differs", f"{message}, first at {where(i)}: {first}")

    # --- pandas

    def _pandas(self, a: Any, b: Any, kind: str, path: str, depth: int) -> Comparison:
        """pandas.testing judges; the detail is ours (pandas' message is several lines)."""
        testing = _pd().testing
        check, summarise = {
            "frame": (testing.assert_frame_equal, self._frame_diff),
            "series": (testing.assert_series_equal, self._series_diff),
            "index": (testing.assert_index_equal, self._index_diff),
        }[kind]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                check(a, b, check_exact=False, rtol=self.rtol, atol=self.atol)
        except AssertionError as exc:
            try:
                summary = summarise(a, b, depth)
            except Exception:  # noqa: BLE001
                # the summary is best effort: pandas' verdict stands
                summary = None
            return _differs(path, summary or _first_line(exc))
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            return _not_comparable(
                path, f"pandas could not compare them: {_describe(exc)}"
            )
        try:
            exact = self._integers_diff(a, b, kind, depth)
        except Exception:  # noqa: BLE001 - best effort: pandas' verdict stands
            exact = None
        return _differs(path, exact) if exact else EQUAL

    def _integers_diff(self, a: Any, b: Any, kind: str, depth: int) -> str | None:
        """pandas applies rtol to integers too; ours are exact (ids, counts, epoch times)."""
        parts: list[tuple[str, Any, Any]] = []
        if kind in ("frame", "series"):
            parts.append(("index labels", a.index, b.index))
        if kind == "frame":
            parts.append(("columns", a.columns, b.columns))
            parts += [
                (f"column {_short(label)}", a.iloc[:, i], b.iloc[:, i])
                for i, label in enumerate(a.columns)
            ]
        else:
            parts.append(("labels" if kind == "index" else "", a, b))
        for what, x, y in parts:
            if x.dtype.kind in "iu" and y.dtype.kind in "iu":
                result = self._values_diff(_ints(x), _ints(y), _where(x), depth)
                if result is not None:
                    return _at(what, result.detail)
        return None

    def _frame_diff(self, a: Any, b: Any, depth: int) -> str | None:
        columns = self._index_diff(a.columns, b.columns, depth, "columns")
        if a.shape != b.shape:
            return f"shape {a.shape} vs {b.shape}" + (f"; {columns}" if columns else "")
        if columns:
            return columns
        index = self._index_diff(a.index, b.index, depth, "index labels")
        if index:
            return index
        for i in range(a.shape[1]):
            column = self._series_diff(
                a.iloc[:, i], b.iloc[:, i], depth, check_index=False
            )
            if column:
                return f"column {_short(a.columns[i])}: {column}"
        return None

    def _series_diff(
        self, a: Any, b: Any, depth: int, check_index: bool = True
    ) -> str | None:
        if len(a) != len(b):
            return f"length {len(a)} vs {len(b)}"
        if check_index:
            index = self._index_diff(a.index, b.index, depth, "index labels")
            if index:
                return index
        if a.dtype != b.dtype:
            da, db = str(a.dtype), str(b.dtype)
            if da == db:  # category vs category: show the categories
                da, db = _short(a.dtype), _short(b.dtype)
            return f"dtype {da} vs {db}"
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _pd().testing.assert_series_equal(
                    a, b, check_index=False, check_names=False, check_exact=False,
                    rtol=self.rtol, atol=self.atol,
                )  # fmt: skip
        except AssertionError as exc:
            return self._series_values(a, b, depth) or _first_line(exc)
        if check_index and a.name != b.name:
            return f"name {_short(a.name)} vs {_short(b.name)}"
        return None

    def _series_values(self, a: Any, b: Any, depth: int) -> str | None:
        """How the values of two Series of the same length differ, by row label."""
        np, api = _np(), _pd().api.types
        kinds = {a.dtype.kind, b.dtype.kind}
        if kinds <= set("iu"):
            x, y = _ints(a), _ints(b)  # integers, exactly
        elif kinds <= set("iuf") and not any(map(api.is_bool_dtype, (a, b))):
            x = a.to_numpy(dtype="float64", na_value=np.nan)
            y = b.to_numpy(dtype="float64", na_value=np.nan)
        else:  # anything else as objects, NA equal to NA
            x, y = a.to_numpy(dtype=object), b.to_numpy(dtype=object)
            both_missing = a.isna().to_numpy(dtype=bool) & b.isna().to_numpy(dtype=bool)
            x[both_missing] = y[both_missing] = None
        result = self._values_diff(x, y, _where(a), depth)
        return result.detail if result else None

    def _index_diff(
        self, a: Any, b: Any, depth: int, what: str = "labels"
    ) -> str | None:
        pd = _pd()
        try:
            pd.testing.assert_index_equal(
                a, b, check_exact=False, rtol=self.rtol, atol=self.atol
            )
            return None
        except AssertionError:
            pass
        try:  # which labels are new or gone
            set_a, set_b = set(a), set(b)
        except TypeError:
            set_a = set_b = set()
        only_a, only_b = [x for x in a if x not in set_b], [
            x for x in b if x not in set_a
        ]
        if only_a or only_b:
            parts = [f"{what} only in original: {_short(only_a)}"] if only_a else []
            parts += [f"{what} only in generated: {_short(only_b)}"] if only_b else []
            return "; ".join(parts)
        if len(a) == len(b) and list(a) != list(b) and set_a == set_b:
            return (
                f"{what} in a different order: {_short(list(a))} vs {_short(list(b))}"
            )
        if list(a.names) != list(b.names):
            return f"{what} names {list(a.names)} vs {list(b.names)}"
        if a.dtype != b.dtype:
            return f"{what} dtype {a.dtype} vs {b.dtype}"
        if type(a) is not type(b):
            return f"{what} type {type(a).__name__} vs {type(b).__name__}"
        if len(a) == len(b):
            result = self._values_diff(
                a.to_numpy(), b.to_numpy(), lambda i: f"position {i}", depth
            )
            if result is not None:
                return f"{what}: {result.detail}"
        return f"{what} differ"

    # --- estimators

    def _estimator(self, a: Any, b: Any, path: str, depth: int) -> Comparison:
        """Class name, params, then (when fitted) predictions on probes or fitted attributes."""
        if type(a).__qualname__ != type(b).__qualname__:
            return _differs(
                path, f"class {type(a).__qualname__} vs {type(b).__qualname__}"
            )
        try:
            params_a, params_b = a.get_params(deep=False), b.get_params(deep=False)
        except Exception as exc:  # noqa: BLE001 - reported, never raised
            return _not_comparable(path, f"get_params() raised {_describe(exc)}")
        params = self._mapping(params_a, params_b, _join(path, "params"), depth + 1)
        if params.status != "equal":
            return params
        fitted_a, fitted_b = _is_fitted(a), _is_fitted(b)
        if fitted_a != fitted_b:
            return _differs(
                path,
                f"fitted in the {'original' if fitted_a else 'generated'} run only",
            )
        if not fitted_a:
            return Comparison("equal", _at(path, "same params (not fitted)"))

        for attr in (
            "n_features_in_",
            "feature_names_in_",
        ):  # same inputs, before predicting
            shape = self.compare(
                getattr(a, attr, MISSING),
                getattr(b, attr, MISSING),
                _join(path, attr),
                depth + 1,
            )
            if shape.status == "differs":
                return shape

        methods = [m for m in ("predict", "predict_proba") if _has_method(a, b, m)]
        methods = methods or [m for m in ("transform",) if _has_method(a, b, m)]
        used: list[str] = []
        failures: list[str] = []
        for label, X in self._probe_inputs(a):
            compared = False
            for method in methods:
                result_a, error_a = _call(a, method, X)
                result_b, error_b = _call(b, method, X)
                if error_a and error_b:  # this probe does not suit the model
                    failures.append(f"{method}({label}) failed: {error_a}")
                    continue
                if error_a or error_b:
                    side = "original" if error_a else "generated"
                    reason = f"{method}({label}) failed for the {side} model only: "
                    return _not_comparable(path, reason + (error_a or error_b or ""))
                result = self.compare(
                    result_a, result_b, _join(path, f"{method}({label})"), depth + 1
                )
                if result.status != "equal":
                    return result
                compared = True
            if compared:
                used.append(label)
        if used:
            on = (
                f"{len(used)} probe"
                + ("s" if len(used) > 1 else "")
                + f" ({', '.join(used)})"
            )
            return Comparison(
                "equal", _at(path, f"same params and same predictions on {on}")
            )
        note = f" ({failures[0]})" if failures else ""
        return self._fitted(a, b, path, depth, note)

    def _probe_inputs(self, model: Any) -> list[tuple[str, Any]]:
        """The probes the model can take: 2-D, its width, its feature names (DataFrames)."""
        try:
            width = getattr(model, "n_features_in_", None)
            names = getattr(model, "feature_names_in_", None)
            names = None if names is None else [str(n) for n in names]
        except Exception:  # noqa: BLE001 - a property may raise anything
            return []
        if not isinstance(width, numbers.Integral):
            return []
        inputs: list[tuple[str, Any]] = []
        seen: set[int] = set()
        for label, probe in self.probes:
            kind = _kind(probe)
            if id(probe) in seen or not (
                kind in ("frame", "array") or _root(probe) == "scipy"
            ):
                continue
            shape = getattr(probe, "shape", None)
            if not (isinstance(shape, tuple) and len(shape) == 2 and shape[1] == width):
                continue
            if kind == "frame":
                if names is not None and [str(c) for c in probe.columns] != names:
                    continue
                inputs.append((label, probe.iloc[:MAX_PROBE_ROWS]))
            elif names is None and (kind != "array" or probe.dtype.kind in "biuf"):
                inputs.append((label, probe[:MAX_PROBE_ROWS]))
            else:
                continue
            seen.add(id(probe))
            if len(inputs) == MAX_PROBES:
                break
        return inputs

    def _fitted(self, a: Any, b: Any, path: str, depth: int, note: str) -> Comparison:
        """No probe fits: compare what the models learnt (the data-like ``*_`` attributes)."""
        attrs_a, attrs_b = _fitted_attributes(a), _fitted_attributes(b)
        only_a = sorted(set(attrs_a) - set(attrs_b))
        only_b = sorted(set(attrs_b) - set(attrs_a))
        if only_a or only_b:
            parts = [f"fitted attributes only in original: {only_a}"] if only_a else []
            parts += (
                [f"fitted attributes only in generated: {only_b}"] if only_b else []
            )
            return _differs(path, "; ".join(parts))
        compared: list[str] = []
        for name in sorted(attrs_a):
            x, y = attrs_a[name], attrs_b[name]
            if _kind(x) not in _DATA_KINDS or _kind(y) not in _DATA_KINDS:
                continue
            result = self.compare(x, y, _join(path, name), depth + 1)
            if result.status == "differs":
                return result
            if result.status == "equal":
                compared.append(name)
        if not compared:
            message = "same params; no probe fits and no fitted attributes to compare"
            return Comparison("equal", _at(path, message + note))
        names = ", ".join(compared[:4]) + (", ..." if len(compared) > 4 else "")
        return Comparison(
            "equal", _at(path, f"same params and fitted attributes ({names}){note}")
        )


def _has_method(a: Any, b: Any, name: str) -> bool:
    try:  # sklearn hides methods a model lacks behind AttributeError (available_if)
        return callable(getattr(a, name, None)) and callable(getattr(b, name, None))
    except Exception:  # noqa: BLE001 - a property may raise anything
        return False


def _where(x: Any) -> Callable[[int], str]:
    """How to name position ``i`` of a Series (its row label) or of an Index."""
    if hasattr(x, "index"):
        return lambda i: f"row {_short(x.index[i])}"
    return lambda i: f"position {i}"


def _ints(x: Any) -> Any:
    """A pandas integer Index/Series as a numpy array (objects when it holds NA)."""
    return x.to_numpy(dtype=object) if x.hasnans else x.to_numpy()


def _rng_state(x: Any) -> Any:
    """What a numpy random generator will draw next depends on."""
    if hasattr(x, "get_state"):
        return x.get_state(legacy=False)  # RandomState
    if hasattr(x, "bit_generator"):
        return x.bit_generator.state  # Generator
    return x.state  # BitGenerator
