"""A git remote URL read into host, port and repository path: what forge detection works from.

Every form ``git remote`` accepts: ``https://`` (credentials in the URL are dropped, never
kept), ``ssh://[user@]host[:port]/path``, scp-like ``[user@]host:path``, ``git://``, and local
paths or ``file://`` URLs (``host`` is ``None``: no forge).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote, urlsplit

from nbops.errors import UsageError

__all__ = ["RemoteInfo", "parse_remote"]

_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
# git's rule: a colon before the first slash makes [user@]host:path an scp-like address
_SCP = re.compile(r"^(?:[^@/]+@)?(\[[^\]/]+\]|[^@/:\[\]]+):(.*)$")
_WINDOWS_DRIVE = re.compile(r"^[A-Za-z]:[\\/]")
_SCHEMES = {
    "https": "https",
    "http": "http",
    "ssh": "ssh",
    "git+ssh": "ssh",
    "ssh+git": "ssh",
    "git": "git",
}


@dataclass(frozen=True)
class RemoteInfo:
    """Where a remote points. ``path`` is the repository path without ``.git`` (``owner/repo``,
    ``group/sub/repo``; for a local remote, the local path); ``web_url`` its web page
    (``""`` for local remotes); ``scheme`` the transport: https, http, ssh, git or file."""

    host: str | None
    port: int | None
    path: str
    web_url: str
    scheme: str

    @property
    def is_local(self) -> bool:
        """True for a local path or ``file://`` remote: there is no forge behind it."""
        return self.host is None

    @property
    def namespace(self) -> str:
        """Everything before the repository name: the owner, or ``group/sub``."""
        return self.path.rpartition("/")[0]

    @property
    def name(self) -> str:
        """The repository name (the last path segment)."""
        return self.path.rpartition("/")[2]

    def on_host(self, host: str) -> RemoteInfo:
        """The same repository on ``host`` (default port): ``ssh.github.com`` -> ``github.com``."""
        scheme = "https" if self.scheme == "http" else self.scheme
        return RemoteInfo(host, None, self.path, _web_url(host, None, self.path, "https"), scheme)

    @property
    def web_origin(self) -> str:
        """``scheme://host[:port]`` of the web UI (``""`` for local remotes)."""
        if self.host is None:
            return ""
        return _web_origin(self.host, self.port, self.scheme)


def _repo_path(raw: str, original: str) -> str:
    path = raw.strip().strip("/")
    if path.endswith(".git"):
        path = path[: -len(".git")].rstrip("/")
    segments = [s for s in path.split("/") if s]
    if not segments or any(s in (".", "..") for s in segments):
        raise UsageError(
            f"the remote {_safe(original)!r} names no repository",
            hint="a remote looks like https://host/owner/repo.git or git@host:owner/repo.git",
        )
    return "/".join(segments)


def _safe(url: str) -> str:
    """``url`` with any ``user:password@`` part replaced: safe to show in a message."""
    return re.sub(r"//[^/@]*@", "//***@", url)


def _web_origin(host: str, port: int | None, scheme: str) -> str:
    netloc = f"[{host}]" if ":" in host else host
    if scheme in ("http", "https"):  # the web UI lives where the HTTP remote does
        return f"{scheme}://{netloc}" + (f":{port}" if port is not None else "")
    return f"https://{netloc}"  # an SSH or git:// port says nothing of the web UI's


def _web_url(host: str, port: int | None, path: str, scheme: str) -> str:
    return f"{_web_origin(host, port, scheme)}/{quote(path, safe='/')}"


def parse_remote(url: str) -> RemoteInfo:
    """Read a git remote URL. Raises ``UsageError`` for an empty or malformed one."""
    text = url.strip()
    if not text:
        raise UsageError("the remote URL is empty", hint="git remote -v lists the remotes")
    match = _URL.match(text)
    if match:
        scheme = match.group(1).lower()
        if scheme == "file":
            local = unquote(urlsplit(text).path)
            return RemoteInfo(None, None, local, "", "file")
        if scheme not in _SCHEMES:
            raise UsageError(
                f"unsupported remote URL scheme {scheme!r} in {_safe(text)!r}",
                hint="use an https, ssh or local remote",
            )
        parts = urlsplit(text)  # .hostname and .port leave any user:password behind
        try:
            port = parts.port
        except ValueError:
            raise UsageError(f"bad port in the remote URL {_safe(text)!r}") from None
        host = (parts.hostname or "").lower()
        if not host:
            raise UsageError(f"the remote URL {_safe(text)!r} names no host")
        kind = _SCHEMES[scheme]
        path = _repo_path(unquote(parts.path), text)
        return RemoteInfo(host, port, path, _web_url(host, port, path, kind), kind)
    if not _WINDOWS_DRIVE.match(text):
        scp = _SCP.match(text)
        if scp:
            host = scp.group(1).strip("[]").lower()
            path = _repo_path(scp.group(2), text)
            return RemoteInfo(host, None, path, _web_url(host, None, path, "ssh"), "ssh")
    return RemoteInfo(None, None, text, "", "file")
