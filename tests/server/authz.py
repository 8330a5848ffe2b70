"""Authorizers for the server tests of restricted users, and the server config that uses one.

Jupyter's Authorizer decides per action (``read``, ``write``, ``execute``) and resource
(``contents``, ``kernels``, ...); nbops asks it before every change (docs/server.md).
"""

from __future__ import annotations

from typing import Any

from jupyter_server.auth.authorizer import Authorizer
from traitlets.config import Config


class NoKernels(Authorizer):
    """Lets every authenticated user read and write files, and execute no code."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return resource != "kernels"


class ReadOnly(Authorizer):
    """Lets every authenticated user read, and nobody write."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return action != "write"


def config_with(authorizer: type[Authorizer]) -> Config:
    """The test server's config (the nbops extension on) with ``authorizer``."""
    return Config(
        {"ServerApp": {"jpserver_extensions": {"nbops": True}, "authorizer_class": authorizer}}
    )
