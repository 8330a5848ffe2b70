"""The pip requirements of a logged model, read off its pickle instead of loading it in a subprocess.

MLflow infers a model's requirements by saving it, loading it in a fresh Python and recording
what that imports (seconds per model). The modules a picklable model needs are the globals of
its pickle, so :func:`pip_requirements` pickles it (protocol 5, numpy arrays and other buffers
left out of band, so the scan stays small for a big model) with cloudpickle's pickler, as MLflow
saves it, reads the ``GLOBAL`` / ``STACK_GLOBAL`` operands and the modules cloudpickle's
``subimport`` names for a function pickled by value, maps their top-level names to installed
distributions and pins them, then adds the flavor's defaults and ``mlflow`` as MLflow does.

A module that belongs to no installed distribution (a local or editable module of the project)
cannot be pinned, by this or by MLflow's inference (which drops it silently): the function then
returns None and the caller lets MLflow infer as before.
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import io
import pickle
import pickletools
import re
import sys
from typing import Any

__all__ = ["FLAVORS", "distributions_of", "pickle_globals", "pickled_modules", "pip_requirements"]

# flavors whose models are plain picklable Python objects
FLAVORS = frozenset({"sklearn", "xgboost", "lightgbm", "statsmodels"})
# flavors whose get_default_pip_requirements takes the serialization format
_FORMAT_FLAVORS = frozenset({"sklearn", "lightgbm"})
# never requirements of a model: what MLflow leaves out too (mlflow is pinned on its own)
_SKIPPED = frozenset({"__main__", "mlflow", "setuptools", "pkg_resources"})
_STRING_OPS = frozenset({"UNICODE", "BINUNICODE", "SHORT_BINUNICODE", "BINUNICODE8",
                         "STRING", "BINSTRING", "SHORT_BINSTRING"})
_PUT_OPS = frozenset({"PUT", "BINPUT", "LONG_BINPUT"})
_GET_OPS = frozenset({"GET", "BINGET", "LONG_BINGET"})
_NORMALIZE = re.compile(r"[-_.]+")


class _Global(tuple[str, str]):
    """A global pushed on the unpickler's stack: ``(module, name)``."""


def pip_requirements(model: Any, flavor: str, *,
                     serialization_format: str | None = None) -> list[str] | None:
    """``name==version`` for each distribution ``model`` needs, sorted, or None to let MLflow infer.

    ``flavor`` is MLflow's (``"sklearn"``...); ``serialization_format`` what the flavor's
    ``log_model`` is given (None: MLflow's default). None when the flavor is not one of
    :data:`FLAVORS`, the model cannot be pickled, or a module it needs belongs to no
    installed distribution.
    """
    if flavor not in FLAVORS:
        return None
    try:
        modules = pickled_modules(model)
    except Exception:  # noqa: BLE001 - any object's reducer may raise: MLflow will say why
        return None
    tops = {m.split(".")[0] for m in modules} - set(sys.stdlib_module_names) - _SKIPPED
    names: set[str] = set()
    for top in tops:
        found = distributions_of(top)
        if not found:
            return None
        names.update(found)
    pins = {f"{name}=={_version(name)}" for name in names}
    pins.update(_flavor_defaults(model, flavor, serialization_format))
    environment = importlib.import_module("mlflow.utils.environment")
    pins.add(environment._generate_mlflow_version_pinning())
    by_name: dict[str, str] = {}
    for pin in sorted(pins):  # one pin per distribution (the flavor's defaults agree with ours)
        by_name.setdefault(_normalize(pin.split("==")[0].split("[")[0]), pin)
    return sorted(by_name.values())


def pickled_modules(obj: Any) -> set[str]:
    """The modules unpickling ``obj`` imports: its pickle's globals' modules and the modules
    cloudpickle's ``subimport`` names (a function pickled by value uses them)."""
    return {module for module, _name in pickle_globals(_dumps(obj))}


def pickle_globals(data: bytes) -> set[tuple[str, str]]:
    """``(module, name)`` of every global the pickle ``data`` loads, and ``(module, "")`` for the
    modules it imports through cloudpickle's ``subimport``."""
    found: set[tuple[str, str]] = set()
    memo: dict[int, object] = {}
    recent: list[object] = []  # the last values pushed (None: not a string nor a global)
    for opcode, arg, _pos in pickletools.genops(data):
        name = opcode.name
        if name in _STRING_OPS:
            text = arg.decode("latin-1") if isinstance(arg, bytes) else str(arg)
            if recent and _is_subimport(recent[-1]):
                found.add((text, ""))
            recent.append(text)
        elif name == "MEMOIZE":
            memo[len(memo)] = recent[-1] if recent else None
        elif name in _PUT_OPS:
            memo[int(str(arg))] = recent[-1] if recent else None
        elif name in _GET_OPS:
            recent.append(memo.get(int(str(arg))))
        elif name == "GLOBAL":
            module, _, attr = str(arg).partition(" ")
            found.add((module, attr))
            recent.append(_Global((module, attr)))
        elif name == "STACK_GLOBAL":
            pair = recent[-2:]
            if len(pair) == 2 and all(isinstance(v, str) for v in pair):
                module, attr = str(pair[0]), str(pair[1])
                found.add((module, attr))
                del recent[-2:]
                recent.append(_Global((module, attr)))
            else:  # not what a pickler writes: the operands were not pushed just before
                raise ValueError("STACK_GLOBAL without its two strings")
        elif name not in ("FRAME", "PROTO"):
            recent.append(None)
        del recent[:-3]
    return found


def _is_subimport(value: object) -> bool:
    return (isinstance(value, _Global) and value[1] == "subimport"
            and value[0].split(".")[0] == "cloudpickle")


def _dumps(obj: Any) -> bytes:
    """The in-band pickle stream of ``obj`` (protocol 5, buffers out of band and dropped)."""
    try:
        import cloudpickle  # type: ignore[import-untyped]  # no stubs installed

        pickler_class: Any = cloudpickle.Pickler
    except ImportError:
        pickler_class = pickle.Pickler
    out = io.BytesIO()
    pickler_class(out, protocol=5, buffer_callback=lambda _buffer: False).dump(obj)
    return out.getvalue()


def distributions_of(top: str) -> list[str]:
    """The normalised names of the installed distributions providing top-level module ``top``:
    from their ``top_level.txt``, else the distribution named like it, else from their
    ``RECORD`` files; [] when none does."""
    by_top, by_name, _ = _index()
    if top in by_top:
        module = sys.modules.get(top)
        if module is not None and getattr(module, "__file__", None) is None:
            # a namespace package (google): distributions without top_level.txt share it too
            return sorted(by_top[top].union(_from_records(top)))
        return sorted(by_top[top])
    if _normalize(top) in by_name:
        return [_normalize(top)]
    return _from_records(top)


@functools.cache
def _from_records(top: str) -> list[str]:
    _, _, dists = _index()
    owns = re.compile(rf"(?m)^{re.escape(top)}(/|\.py,|\.[^/,]*\.(so|pyd),)")
    found = set()
    for name, dist in dists:
        record = dist.read_text("RECORD")
        if record and owns.search(record):
            found.add(name)
    return sorted(found)


@functools.cache
def _index() -> tuple[dict[str, set[str]], set[str],
                      list[tuple[str, importlib.metadata.Distribution]]]:
    """Per process: top-level module -> distributions (``top_level.txt``), the distributions'
    names, and the distributions without ``top_level.txt`` (first in the ``RECORD`` search)."""
    by_top: dict[str, set[str]] = {}
    names: set[str] = set()
    without: list[tuple[str, importlib.metadata.Distribution]] = []
    with_top: list[tuple[str, importlib.metadata.Distribution]] = []
    for dist in importlib.metadata.distributions():
        name = _dist_name(dist)
        if not name:
            continue
        names.add(name)
        top_level = dist.read_text("top_level.txt")
        if top_level is None:
            without.append((name, dist))
            continue
        with_top.append((name, dist))
        for line in top_level.split():
            by_top.setdefault(line.strip().replace("/", "."), set()).add(name)
    return by_top, names, without + with_top


def _dist_name(dist: importlib.metadata.Distribution) -> str:
    """The normalised name, from the ``.dist-info`` folder's name when it has one (no
    METADATA parsed)."""
    path = getattr(dist, "_path", None)
    folder = getattr(path, "name", "")
    if folder.endswith((".dist-info", ".egg-info")):
        return _normalize(folder.split("-")[0])
    return _normalize(dist.metadata["Name"] or "")


def _normalize(name: str) -> str:
    return _NORMALIZE.sub("-", name).lower()


def _version(name: str) -> str:
    """The installed version without a local label, as MLflow pins it."""
    return importlib.metadata.version(name).split("+")[0]


def _flavor_defaults(model: Any, flavor: str, serialization_format: str | None) -> list[str]:
    """The flavor's ``get_default_pip_requirements`` for the format its ``save_model`` uses."""
    module: Any = importlib.import_module(f"mlflow.{flavor}")
    if flavor not in _FORMAT_FLAVORS:
        return list(module.get_default_pip_requirements())
    fmt = serialization_format or module._get_default_serialization_format()
    pickled = not (flavor == "lightgbm" and type(model).__name__ == "Booster")
    return list(module.get_default_pip_requirements(
        include_cloudpickle=pickled and fmt == "cloudpickle",
        include_skops=pickled and fmt == "skops"))
