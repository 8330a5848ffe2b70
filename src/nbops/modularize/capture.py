"""Capture the values of named variables to a file inside a run, and load them back elsewhere.

``nbops verify`` runs a notebook (in a Jupyter kernel) and its generated pipeline (in a
subprocess); in each it exec's :data:`CAPTURE_SOURCE` and calls
``__nbops_capture__(path, names, namespace)`` after a step, then loads both files here with
:func:`load_capture` and hands the values to :mod:`nbops.modularize.compare`.

The file is a pickle of an envelope that only holds builtins::

    {"format": "nbops-capture", "version": 1, "errors": [str, ...],
     "values": {name: ("pickle", bytes)          # the value, pickled on its own
                    | ("missing", None)           # the name was not defined
                    | ("unpicklable", {"__nbops_unpicklable__": True,
                                       "type": "module.QualName", "repr": str, "error": str})}}

Each value is pickled on its own, when captured (later mutation cannot change it), so one
value that fails to pickle or to load never costs the others.
"""

from __future__ import annotations

import io
import os
import pickle
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = [
    "CAPTURE_FORMAT",
    "CAPTURE_SOURCE",
    "MISSING",
    "Missing",
    "StandIn",
    "Unpicklable",
    "load_capture",
]

CAPTURE_FORMAT = "nbops-capture"

# Exec'd in the user's kernel or in the pipeline's process: standard library only, no nbops.
# Everything it needs is imported inside the function, so the only name it adds to the
# namespace is ``__nbops_capture__`` itself.
CAPTURE_SOURCE = r'''
def __nbops_capture__(path, names, namespace):
    """nbops verify: pickle each of ``names`` found in ``namespace`` to the file ``path``.

    Never raises (except on KeyboardInterrupt): a failing capture must not break the run.
    """
    import os
    import pickle

    protocol = min(max(pickle.HIGHEST_PROTOCOL, 4), 5)
    values = {}
    errors = []

    def describe(exc):
        try:
            return ("%s: %s" % (type(exc).__name__, exc))[:500]
        except BaseException:
            return type(exc).__name__

    def marker(value, exc):
        # what replaces a value that cannot be pickled: loads anywhere with the stdlib alone
        try:
            kind = "%s.%s" % (type(value).__module__, type(value).__qualname__)
        except BaseException:
            kind = "?"
        try:
            text = repr(value)
            text = text[:500] if isinstance(text, str) else "?"
        except BaseException as repr_exc:
            text = "<repr failed: %s>" % describe(repr_exc)
        return {"__nbops_unpicklable__": True, "type": kind, "repr": text, "error": describe(exc)}

    try:
        names = list(names)
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt):
            raise
        errors.append("names: %s" % describe(exc))
        names = []
    for name in names:
        key = name if isinstance(name, str) else "%r" % (name,)
        try:
            if name not in namespace:
                values[key] = ("missing", None)
                continue
            value = namespace[name]
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            error = "could not be read from the namespace: " + describe(exc)
            values[key] = ("unpicklable", {"__nbops_unpicklable__": True, "type": "?",
                                           "repr": "", "error": error})
            continue
        try:
            # pickled now, to bytes: the snapshot later code cannot mutate
            values[key] = ("pickle", pickle.dumps(value, protocol))
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                raise
            values[key] = ("unpicklable", marker(value, exc))

    envelope = {"format": "nbops-capture", "version": 1, "values": values, "errors": errors}
    tmp = None
    try:
        data = pickle.dumps(envelope, protocol)
        folder = os.path.dirname(os.path.abspath(path))
        os.makedirs(folder, exist_ok=True)
        # write then rename: a reader never sees half a file
        tmp = "%s.%d.tmp" % (os.fspath(path), os.getpid())
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except Exception:
        try:
            if tmp is not None and os.path.exists(tmp):
                os.remove(tmp)
        except Exception:
            pass
'''


class Missing:
    """The name was not defined in that run (use the :data:`MISSING` instance)."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<not defined>"


MISSING = Missing()


@dataclass(frozen=True)
class Unpicklable:
    """A value that could not be pickled in its run (or not be loaded here), as captured.

    ``type`` is ``module.QualName`` (or ``"unknown"``), ``repr`` the value's repr (at most 500
    characters), ``error`` why it could not be pickled or loaded.
    """

    type: str
    repr: str
    error: str


class StandIn:
    """What a class (or function) of ``__main__``, of a local module, or of a module that
    cannot be imported here becomes on loading.

    The class itself stands in for a reference (a function, a class pickled by name): it has
    ``module`` and ``qualname``. Instances stand in for objects of that class and record what
    pickle rebuilds them from: ``args``/``kwargs`` (``__reduce__`` or ``__new__`` arguments),
    ``state`` (the ``__dict__`` / ``__setstate__`` payload), ``items`` (list items) and
    ``dictitems`` (dict items), so two objects of "the same" class from two runs compare by
    ``qualname`` and what they hold.
    """

    __slots__ = ("args", "dictitems", "items", "kwargs", "state")

    module: ClassVar[str] = ""
    qualname: ClassVar[str] = ""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    state: Any
    items: list[Any]
    dictitems: dict[Any, Any]

    def __new__(cls, *args: Any, **kwargs: Any) -> Self:
        # NEWOBJ calls cls.__new__(cls, *args); REDUCE calls cls(*args): either way, here
        self = super().__new__(cls)
        self.args, self.kwargs = args, kwargs
        self.state, self.items, self.dictitems = None, [], {}
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Arguments were recorded by ``__new__``."""

    def __setstate__(self, state: Any) -> None:
        self.state = state

    # what pickle calls to rebuild list and dict subclasses
    def append(self, item: Any) -> None:
        self.items.append(item)

    def extend(self, items: Iterable[Any]) -> None:
        self.items.extend(items)

    def __setitem__(self, key: Any, value: Any) -> None:
        self.dictitems[key] = value

    def __repr__(self) -> str:
        return f"<stand-in {self.module}.{self.qualname} object>"


def _stand_in_class(module: str, qualname: str) -> type[StandIn]:
    attrs = {
        "__slots__": (),
        "module": module,
        "qualname": qualname,
        "__qualname__": qualname,
    }
    cls: type[StandIn] = type(
        qualname.rpartition(".")[2] or "StandIn", (StandIn,), attrs
    )
    return cls


class _EnvelopeUnpickler(pickle.Unpickler):
    """The envelope holds builtins only: refuse any global (a corrupt or foreign file)."""

    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"unexpected global {module}.{name}")


class _ValueUnpickler(pickle.Unpickler):
    """Maps classes and functions of ``__main__``, of the local modules and of modules that
    cannot be imported here to :class:`StandIn` subclasses (one per name, shared by a file).
    """

    def __init__(
        self,
        file: io.BytesIO,
        local: frozenset[str],
        cache: dict[tuple[str, str], type[StandIn]],
    ) -> None:
        super().__init__(file)
        self._local = local
        self._cache = cache

    def find_class(self, module: str, name: str) -> Any:
        if module == "__main__" or any(
            module == m or module.startswith(m + ".") for m in self._local
        ):
            return self._stand_in(module, name)
        try:
            return super().find_class(module, name)
        except Exception:  # noqa: BLE001
            # not importable here (any error), or no such name
            return self._stand_in(module, name)

    def _stand_in(self, module: str, name: str) -> type[StandIn]:
        key = (module, name)
        if key not in self._cache:
            self._cache[key] = _stand_in_class(module, name)
        return self._cache[key]


def load_capture(
    path: str | os.PathLike[str], local_modules: Iterable[str] = ()
) -> dict[str, Any]:
    """The values captured at ``path``: name -> value, :data:`MISSING` or :class:`Unpicklable`.

    Classes and functions of ``__main__`` and of ``local_modules`` (e.g. the generated module
    ``"pkg.mod"``, and its submodules), and of modules not importable here, load as
    :class:`StandIn`. A value that fails to load becomes an :class:`Unpicklable` saying why.
    Raises ``OSError`` when the file cannot be read, ``ValueError`` when it is not a capture.
    """
    with open(path, "rb") as f:
        data = f.read()
    try:
        envelope = _EnvelopeUnpickler(io.BytesIO(data)).load()
    except Exception as exc:
        raise ValueError(
            f"{os.fspath(path)}: not an nbops capture file ({exc})"
        ) from exc
    if not (
        isinstance(envelope, dict)
        and envelope.get("format") == CAPTURE_FORMAT
        and isinstance(envelope.get("values"), dict)
    ):
        raise ValueError(f"{os.fspath(path)}: not an nbops capture file")

    local = frozenset(local_modules)
    cache: dict[tuple[str, str], type[StandIn]] = {}
    values: dict[str, Any] = {}
    for name, entry in envelope["values"].items():
        kind, payload = (
            entry if isinstance(entry, tuple) and len(entry) == 2 else ("?", None)
        )
        if kind == "missing":
            values[name] = MISSING
        elif kind == "unpicklable" and isinstance(payload, dict):
            values[name] = Unpicklable(
                type=str(payload.get("type", "unknown")),
                repr=str(payload.get("repr", "")),
                error=str(payload.get("error", "")),
            )
        elif kind == "pickle" and isinstance(payload, bytes):
            try:
                values[name] = _ValueUnpickler(io.BytesIO(payload), local, cache).load()
            except Exception as exc:  # noqa: BLE001
                # a value that fails to load costs only itself
                error = f"could not be loaded: {type(exc).__name__}: {exc}"[:500]
                values[name] = Unpicklable(type="unknown", repr="", error=error)
        else:
            values[name] = Unpicklable(
                type="unknown", repr="", error="malformed capture entry"
            )
    return values
