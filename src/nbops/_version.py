"""The version of nbops, in a module of its own.

Modules that report the version (lint reports, review commits, the server's API) import it
from here, not from the package root: ``nbops/__init__.py`` imports the in-notebook tracking
API (and, lazily, the server extension), which would put every layer above them.
"""

from __future__ import annotations

__all__ = ["__version__"]

__version__ = "0.1.0"
