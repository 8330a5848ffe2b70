"""The version of nbops, in a module of its own, read on first use.

Modules that report the version (lint reports, review commits, the server's API) import it
from here, not from the package root: ``nbops/__init__.py`` imports the in-notebook tracking
API (and, lazily, the server extension), which would put every layer above them.

The version comes from git tags at build time (hatch-vcs, [tool.hatch.version] in
pyproject.toml) and is read from the installed distribution's metadata: ``1.2.0`` at the
tag ``v1.2.0``, ``1.2.1.devN+gHASH`` after it, ``0.1.0.devN+gHASH`` in a clone without tags.
Reading it imports :mod:`importlib.metadata` (a fifth of a cold ``nbops lint``'s start-up),
so it is read when first asked for (:func:`version`, or the attribute ``__version__`` through
the module's ``__getattr__``), not when this module is imported.
"""

from __future__ import annotations

import functools

__all__ = ["UNKNOWN_VERSION", "version"]  # and __version__, through __getattr__

UNKNOWN_VERSION = "0.0.0+unknown"  # nbops imported from a source tree that is not installed


@functools.cache
def version() -> str:
    """The installed distribution's version, or :data:`UNKNOWN_VERSION` from a bare tree."""
    from importlib import metadata

    try:
        return metadata.version("nbops")
    except metadata.PackageNotFoundError:
        return UNKNOWN_VERSION


def __getattr__(name: str) -> str:
    if name == "__version__":
        return version()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
