"""The version of nbops, in a module of its own.

Modules that report the version (lint reports, review commits, the server's API) import it
from here, not from the package root: ``nbops/__init__.py`` imports the in-notebook tracking
API (and, lazily, the server extension), which would put every layer above them.

The version comes from git tags at build time (hatch-vcs, [tool.hatch.version] in
pyproject.toml) and is read here from the installed distribution's metadata: ``1.2.0`` at the
tag ``v1.2.0``, ``1.2.1.devN+gHASH`` after it, ``0.1.0.devN+gHASH`` in a clone without tags.
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["UNKNOWN_VERSION", "__version__"]

UNKNOWN_VERSION = "0.0.0+unknown"  # nbops imported from a source tree that is not installed

try:
    __version__: str = metadata.version("nbops")
except metadata.PackageNotFoundError:
    __version__ = UNKNOWN_VERSION
