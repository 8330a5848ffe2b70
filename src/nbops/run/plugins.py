"""A registry of pluggable classes by name: built-ins plus a group of entry points.

The way papermill registers its engines: other packages declare their classes in an entry
point group (``[project.entry-points."nbops.executors"]``) and nbops finds them on first
lookup, not at import. One that fails to load, or is not a subclass of the registry's base
class, is skipped with a warning, so a broken plugin never breaks nbops; one registered under a
built-in's name replaces it. Executors, trackers and forges use it.
"""

from __future__ import annotations

import importlib
import threading
import warnings
from typing import Generic, TypeVar

from nbops.errors import UsageError

__all__ = ["PluginRegistry"]

T = TypeVar("T")


class PluginRegistry(Generic[T]):
    """Classes of ``kind`` (``"executor"``) by name; ``hint`` lists the choices in the error
    for an unknown name (``"choose one of: {}"``); a plugin that is not a subclass of ``base``
    (when given) is skipped."""

    def __init__(self, group: str, kind: str, hint: str, *, base: type | None = None) -> None:
        self.group, self.kind, self.hint, self.base = group, kind, hint, base
        self._classes: dict[str, type[T] | str] = {}
        self._loaded = False
        self._lock = threading.Lock()

    def register(self, name: str, cls: type[T] | str) -> None:
        """Register (or replace) ``name``: a class, or its ``"module:Class"`` path (imported
        when it is asked for)."""
        self._classes[name] = cls

    def register_entry_points(self) -> None:
        """Register the classes other packages declare in the registry's group."""
        from importlib.metadata import entry_points

        for entry in entry_points(group=self.group):
            if entry.name in self._classes and entry.value == self._classes[entry.name]:
                continue  # a built-in, declared in nbops' own metadata too
            try:
                loaded = entry.load()
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not break nbops
                self._skip(entry.name, entry.value, f"failed to load: {exc}")
                continue
            if self.base is not None and not (
                isinstance(loaded, type) and issubclass(loaded, self.base)
            ):
                self._skip(entry.name, entry.value, f"is not a nbops {self.base.__name__} subclass")
                continue
            self.register(entry.name, loaded)

    def _skip(self, name: str, value: str, why: str) -> None:
        warnings.warn(f"nbops: {self.kind} plugin {name!r} ({value}) {why}", RuntimeWarning,
                      stacklevel=4)

    def _ensure_loaded(self) -> None:
        with self._lock:
            if not self._loaded:
                self._loaded = True
                self.register_entry_points()

    def names(self) -> list[str]:
        """The registered names, sorted."""
        self._ensure_loaded()
        return sorted(self._classes)

    def get(self, name: str) -> type[T]:
        """The class called ``name``; a UsageError naming the choices otherwise."""
        self._ensure_loaded()
        found = self._classes.get(name)
        if found is None:
            raise UsageError(
                f"no {self.kind} named {name!r}",
                hint=self.hint.format(", ".join(sorted(self._classes))),
            )
        return self._resolve(name, found)

    def classes(self) -> list[type[T]]:
        """Every registered class, imported, in the order registered (built-ins first)."""
        self._ensure_loaded()
        return [self._resolve(name, found) for name, found in list(self._classes.items())]

    def _resolve(self, name: str, found: type[T] | str) -> type[T]:
        if isinstance(found, str):
            module, _, attr = found.partition(":")
            loaded: type[T] = getattr(importlib.import_module(module), attr)
            self._classes[name] = found = loaded
        return found
