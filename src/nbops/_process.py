"""What nbops does to a process of its own as it starts (the console script, a LocalCluster's
workers): never to a kernel, a Jupyter server or a program that imports nbops."""

from __future__ import annotations

import sys

__all__ = ["without_iri_grammars"]


def without_iri_grammars() -> None:
    """Keep jsonschema from loading the optional ``rfc3987_syntax`` package in this process.

    When it is installed (Jupyter's tooling brings it), jsonschema builds its ~38 grammars on
    import: ~1 s of CPU on the first notebook nbformat validates, for an "iri" format the
    notebook schema never uses. jsonschema skips that check when the package cannot be
    imported; a process that imported jsonschema already keeps what it has."""
    sys.modules.setdefault("rfc3987_syntax", None)  # type: ignore[arg-type]
