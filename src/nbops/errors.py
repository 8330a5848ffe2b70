"""The one error hierarchy of nbops and its single mapping to CLI exit codes and HTTP statuses.

Every failure a user can cause (a broken notebook, a bad option, a missing tool) is an
``NbopsError`` subclass that knows the file and, where it applies, the cell. Fronts never
invent their own error types: they call :func:`exit_code` or :func:`http_status`, and write
the paths in a message relative to their folder (the CLI's working directory, the server's
root) with :func:`relative_text`.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

__all__ = [
    "AccessError",
    "CellError",
    "ConfigError",
    "ConflictError",
    "MissingPackageError",
    "NbopsError",
    "NotFoundError",
    "NotebookReadError",
    "ToolError",
    "UsageError",
    "WriteError",
    "exit_code",
    "http_status",
    "relative_text",
]


class NbopsError(Exception):
    """Root of every error nbops raises on purpose.

    ``path`` names the file, ``cell`` the 0-based cell index (``None`` when the error is not
    about one cell) and ``hint`` tells the user what to do about it.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        cell: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.cell = cell
        self.hint = hint

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = self.path
            if self.cell is not None:
                where += f": cell {self.cell + 1}"
            where += ": "
        text = where + self.message
        if self.hint:
            text += f" ({self.hint})"
        return text

    def to_json(self) -> dict[str, object]:
        """The error as the JSON object the CLI and the REST API return."""
        return {
            "error": type(self).__name__,
            "message": self.message,
            "path": self.path,
            "cell": self.cell,
            "hint": self.hint,
        }


class UsageError(NbopsError):
    """A bad command line or request: unknown rule code, missing path, bad option value."""


class ConfigError(NbopsError):
    """A ``[tool.nbops]`` table that cannot be used."""


class NotebookReadError(NbopsError):
    """A file that cannot be read as a notebook at all (bad JSON, bad encoding, not a notebook)."""


class CellError(NbopsError):
    """A problem confined to one cell (a syntax error a command cannot work around)."""


class ToolError(NbopsError):
    """An external tool (ruff, black, a kernel) failed or is missing."""


class MissingPackageError(ToolError):
    """An optional package the request needs (MLflow) is not installed; ``hint`` installs it.
    HTTP 503: the server cannot do it until someone installs the package."""


class WriteError(NbopsError):
    """A notebook could not be written back safely."""


class AccessError(NbopsError):
    """A path the caller may not use: absolute, ``..``, or outside the served root."""


class NotFoundError(NbopsError):
    """Something named by a request does not exist (a notebook file, a rule code)."""


class ConflictError(NbopsError):
    """A command would overwrite a file it did not write (or one edited since); ``--force``."""

    def __init__(
        self,
        message: str,
        *,
        plan: object = None,
        path: str | Path | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, path=path, hint=hint)
        self.plan = plan  # what the command would have done, for fronts that show it


_EXIT_CODES: dict[type[NbopsError], int] = {
    UsageError: 2,
    ConfigError: 2,
    NotebookReadError: 2,
    CellError: 2,
    ToolError: 3,
    WriteError: 4,
    AccessError: 2,
    NotFoundError: 2,
    ConflictError: 4,
}

_HTTP_STATUSES: dict[type[NbopsError], int] = {
    UsageError: 400,
    ConfigError: 400,
    NotebookReadError: 422,
    CellError: 422,
    ToolError: 502,
    WriteError: 409,
    AccessError: 403,
    NotFoundError: 404,
    ConflictError: 409,
}


def _lookup(table: dict[type[NbopsError], int], error: BaseException, default: int) -> int:
    for cls in type(error).__mro__:
        if cls in table:
            return table[cls]
    return default


def exit_code(error: BaseException) -> int:
    """CLI exit code for an error: 2 for bad input or usage, 3 tool failure, 4 write failure."""
    return _lookup(_EXIT_CODES, error, 2 if isinstance(error, NbopsError) else 70)


def http_status(error: BaseException) -> int:
    """HTTP status for an error raised while serving a request."""
    return _lookup(_HTTP_STATUSES, error, 400 if isinstance(error, NbopsError) else 500)


# --------------------------------------------------------------------------- forges (nbops submit)


class ForgeError(ToolError):
    """A forge (GitHub, GitLab) failed or refused a request: network, permission, validation.

    ``host`` names the forge's host and ``status`` the HTTP status (``None``: no answer).
    Messages never carry the token.
    """

    def __init__(
        self,
        message: str,
        *,
        host: str | None = None,
        status: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.host = host
        self.status = status

    def to_json(self) -> dict[str, object]:
        """The error as JSON, with the forge's host and HTTP status."""
        return {**super().to_json(), "host": self.host, "status": self.status}


class ForgeAuthError(ForgeError):
    """The forge rejected the token (401), or an API call needs a token and none was found."""


class ForgeRateLimitError(ForgeError):
    """The forge's rate limit was hit; ``retry_after`` is the wait in seconds when known."""

    def __init__(
        self,
        message: str,
        *,
        host: str | None = None,
        status: int | None = None,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message, host=host, status=status, hint=hint)
        self.retry_after = retry_after

    def to_json(self) -> dict[str, object]:
        """The error as JSON, with the seconds to wait before retrying."""
        return {**super().to_json(), "retry_after": self.retry_after}


_EXIT_CODES.update({ForgeError: 3, ForgeAuthError: 3, ForgeRateLimitError: 3})
_HTTP_STATUSES.update({ForgeError: 502, ForgeAuthError: 502, ForgeRateLimitError: 503})
_HTTP_STATUSES[MissingPackageError] = 503


def relative_text(folder: str | Path, text: str) -> str:
    """``text`` with the paths under ``folder`` (absolute) written relative to it: ``folder/x``
    becomes ``x`` and ``folder`` itself ``.``; a path that merely starts with the same letters
    (``folder2/x``, ``folder.txt``, ``x/folder``) and any other path stay as they are, and so
    does the text when ``folder`` is the file system's root."""
    forms = {Path(folder).as_posix(), str(folder)}
    for form in sorted(forms, key=len, reverse=True):
        prefix = form.rstrip("/" + os.sep)
        if not prefix or len(prefix) <= 2 and prefix.endswith(":"):  # "/", "C:\\"
            return text
        ends = re.escape("/" + os.sep)
        text = re.sub(rf"(?<![\w.~-]){re.escape(prefix)}([{ends}]|(?![\w-]|\.\w))",
                      lambda m: "" if m.group(1) else ".", text)
    return text
