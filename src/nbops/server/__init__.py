"""The Jupyter server extension hooks of nbops; the REST API itself lives in this package.

Jupyter finds the extension through ``nbops._jupyter_server_extension_points`` (enabled by
``etc/jupyter/jupyter_server_config.d/nbops.json``). Nothing else in nbops imports this
package, so nbops works without jupyter_server installed.
"""

from __future__ import annotations

from typing import Any

__all__ = ["_jupyter_server_extension_points", "_load_jupyter_server_extension"]


def _jupyter_server_extension_points() -> list[dict[str, Any]]:
    from nbops.server.app import NbopsExtension

    return [{"module": "nbops.server", "app": NbopsExtension}]


def _load_jupyter_server_extension(serverapp: Any) -> None:
    """Load the extension into a running server (for callers that bypass the app metadata)."""
    from nbops.server.app import NbopsExtension

    NbopsExtension._load_jupyter_server_extension(serverapp)  # type: ignore[no-untyped-call]
