"""The forge interface: open or update one pull request, plus the forge registry and detection.

A :class:`Forge` talks to one repository on one forge over its REST API (``urllib`` only).
:data:`FORGES` maps names to implementations: ``"github"`` and ``"gitlab"`` are built in, other
packages add theirs through the ``nbops.forges`` entry point group::

    [project.entry-points."nbops.forges"]
    gitea = "nbops_gitea:GiteaForge"

:func:`forge_for` picks the forge of a remote URL and its token from the environment.

**The token** never leaves the ``Authorization``-type header of requests to the forge's own
API origin: it is in no message, exception, log line or ``repr``; a redirect or a pagination
link to another host is refused rather than followed with it.
"""

from __future__ import annotations

import abc
import datetime as _dt
import email.utils
import http.client
import json
import logging
import os
import re
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import IO, Any, ClassVar

from nbops._version import version
from nbops.errors import (
    ConfigError,
    ForgeAuthError,
    ForgeError,
    ForgeRateLimitError,
    UsageError,
)
from nbops.review.forges.remote import RemoteInfo, parse_remote
from nbops.run.plugins import PluginRegistry

__all__ = [
    "FORGES",
    "ApiResponse",
    "Forge",
    "ForgeRegistry",
    "PullRequest",
    "PullRequestExists",
    "forge_for",
]

log = logging.getLogger("nbops.review.forges")

_MAX_PAGES = 50  # a filtered list is one page in practice; this only stops a runaway server
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# what a token (rather than a variable name) looks like: GitHub and GitLab token prefixes
_TOKEN_PREFIXES = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-", "gldt-")
_STATES = {"opened": "open", "open": "open", "closed": "closed", "merged": "merged"}


@dataclass(frozen=True)
class PullRequest:
    """A pull (or merge) request after :meth:`Forge.open_or_update`.

    ``state`` is ``open``, ``closed``, ``merged`` (or the forge's own word); ``created`` says
    whether this call opened it (False: an open one was updated); ``warnings`` lists what did
    not stop the submit but the user should know (a reviewer who could not be requested).
    """

    number: int
    url: str
    state: str
    created: bool
    forge: str
    warnings: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        """The pull request as JSON-ready data."""
        return {
            "number": self.number,
            "url": self.url,
            "state": self.state,
            "created": self.created,
            "forge": self.forge,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class ApiResponse:
    """One HTTP answer: status, headers (lower-cased names), parsed JSON (``None`` if the body
    is not JSON) and the body text."""

    status: int
    headers: Mapping[str, str]
    data: Any
    text: str
    url: str


class PullRequestExists(ForgeError):
    """The forge refused to open a pull request because one is already open for the branch.

    A forge's ``_create`` raises it; :meth:`Forge.open_or_update` then updates that one."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urllib.parse.urlsplit(url)
    default = {"http": 80, "https": 443}.get(parts.scheme)
    try:
        port = parts.port or default
    except ValueError:
        port = None
    return parts.scheme, (parts.hostname or "").lower(), port


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follows a redirect only for GET, to the same origin, carrying the auth headers along
    (urllib drops "unredirected" headers on every redirect). Anything else is not followed:
    the 3xx reaches :meth:`Forge._error`."""

    def __init__(self, auth: Mapping[str, str]) -> None:
        super().__init__()
        self._auth = dict(auth)

    def __repr__(self) -> str:
        return f"<{type(self).__name__}>"

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if req.get_method() not in ("GET", "HEAD") or _origin(newurl) != _origin(req.full_url):
            return None
        new = super().redirect_request(req, fp, code, msg, headers, newurl)
        if new is not None:
            for key, value in self._auth.items():
                new.add_unredirected_header(key, value)
        return new


def _wait_text(seconds: float) -> str:
    """``in 42 seconds`` / ``after 14:05 UTC (in 12 minutes)``."""
    seconds = max(0.0, seconds)
    if seconds < 120:
        return f"in {int(seconds + 0.999)} seconds"
    at = _dt.datetime.now(_dt.timezone.utc) + _dt.timedelta(seconds=seconds)
    return f"after {at:%H:%M} UTC (in {int(seconds / 60 + 0.999)} minutes)"


def _seconds_until(value: str | None, *, epoch: bool) -> float | None:
    """A ``Retry-After`` (seconds or HTTP date) or an epoch-seconds reset header as a wait."""
    if not value:
        return None
    text = value.strip()
    try:
        number = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=_dt.timezone.utc)
        return max(0.0, (when - _dt.datetime.now(_dt.timezone.utc)).total_seconds())
    return max(0.0, number - time.time()) if epoch else max(0.0, number)


# --------------------------------------------------------------------------- the interface


class Forge(abc.ABC):
    """One repository on one forge, reached through the forge's REST API.

    Subclasses set the class attributes, say how requests authenticate
    (:meth:`_auth_headers`), where the API lives (:meth:`default_api_url`), map error answers
    to :class:`~nbops.errors.ForgeError` (:meth:`_error`) and implement the four steps of
    :meth:`open_or_update`. Constructed as ``cls(remote, token, api_url=None, timeout=30)``.
    """

    name: ClassVar[str] = "forge"
    title: ClassVar[str] = "Forge"  # for messages: "GitHub"
    noun: ClassVar[str] = "pull request"  # GitLab: "merge request"
    hosts: ClassVar[tuple[str, ...]] = ()  # public hosts: ("github.com",)
    host_aliases: ClassVar[Mapping[str, str]] = {}  # SSH front ends: ssh.github.com -> github.com
    keyword: ClassVar[str] = ""  # a self-hosted host naming this (gitlab.example.com) matches
    token_env_vars: ClassVar[tuple[str, ...]] = ()  # where forge_for looks for a token
    accept: ClassVar[str] = "application/json"

    def __init__(
        self,
        remote: RemoteInfo,
        token: str | None,
        api_url: str | None = None,
        timeout: float = 30,
        *,
        token_source: str | None = None,
    ) -> None:
        if remote.host is None:
            raise UsageError(
                f"{remote.path!r} is a local remote: there is no {self.title} behind it"
            )
        alias = self.host_aliases.get(remote.host)
        if alias:
            remote = remote.on_host(alias)
        if timeout <= 0:
            raise UsageError("the forge timeout must be positive")
        self.remote = remote
        self.host: str = remote.host or ""
        self.api_url = (api_url or self.default_api_url(remote)).rstrip("/")
        if urllib.parse.urlsplit(self.api_url).scheme not in ("http", "https"):
            raise UsageError(
                f"the {self.title} API URL must start with https:// (or http://)",
                hint=f"for example {self.default_api_url(remote)}",
            )
        self.api_host = _origin(self.api_url)[1]
        self.timeout = float(timeout)
        self.token_source = token_source  # the variable the token came from, for messages
        self._token = token or None
        self._opener = urllib.request.build_opener(_SameOriginRedirects(self._auth_headers()))

    def __repr__(self) -> str:
        token = "set" if self._token else "none"
        return (
            f"<{type(self).__name__} {self.host}/{self.remote.path} api={self.api_url} "
            f"token={token}>"
        )

    @property
    def has_token(self) -> bool:
        """Whether API calls can be made (without a token: print :meth:`compare_url`)."""
        return self._token is not None

    @property
    def web_url(self) -> str:
        """The repository's web page."""
        return self.remote.web_url

    # ----------------------------------------------------------------- detection

    @classmethod
    def matches(cls, remote: RemoteInfo) -> bool:
        """Whether ``remote`` looks like this forge: a public host, or a self-hosted one whose
        name contains :attr:`keyword` (``gitlab.example.com``)."""
        host = remote.host
        if host is None:
            return False
        if host in cls.hosts or host in cls.host_aliases:
            return True
        return bool(cls.keyword) and cls.keyword in host

    @classmethod
    @abc.abstractmethod
    def default_api_url(cls, remote: RemoteInfo) -> str:
        """The API root for ``remote`` when no ``api_url`` is configured."""

    @classmethod
    def missing_token_hint(cls) -> str:
        """What to tell a user who has no token for this forge."""
        names = " or ".join(cls.token_env_vars) or "a token variable"
        return (
            f"set {names} (or name another variable in [tool.nbops.submit] token-env) to "
            f"open the {cls.noun} automatically"
        )

    # ----------------------------------------------------------------- the one operation

    def open_or_update(
        self,
        *,
        head: str,
        base: str,
        title: str,
        body: str,
        reviewers: Sequence[str] = (),
    ) -> PullRequest:
        """Open a pull request from ``head`` into ``base``, or update the open one for
        ``head`` (title, body, target branch), then request ``reviewers``.

        Idempotent: re-submitting the same branch never opens a second pull request, also
        when the forge reports one already exists that the list did not show. A reviewer who
        cannot be requested is a warning in the result, not a failure.
        """
        self._require_token()
        if isinstance(reviewers, str):  # one name, not its characters
            reviewers = [reviewers]
        names = [r.strip().lstrip("@") for r in reviewers if r.strip().lstrip("@")]
        existing = self._find_open(head, base)
        created = False
        if existing is None:
            try:
                raw, notes = self._create(head=head, base=base, title=title, body=body,
                                          reviewers=names)
                created = True
            except PullRequestExists as exc:
                existing = self._find_open(head, base)
                if existing is None:
                    raise ForgeError(
                        f"{exc.message}, but no open {self.noun} from {head!r} was found",
                        host=self.host,
                        status=exc.status,
                        hint=f"open {self.web_url} and close or update it by hand",
                    ) from None
        if existing is not None:
            raw, notes = self._update(existing, base=base, title=title, body=body,
                                      reviewers=names)
        return self._pull_request(raw, created=created, warnings=tuple(notes))

    @abc.abstractmethod
    def compare_url(self, head: str, base: str) -> str:
        """The web page that opens a pull request from ``head`` into ``base`` by hand."""

    @abc.abstractmethod
    def _find_open(self, head: str, base: str) -> dict[str, Any] | None:
        """The open pull request whose source branch is ``head`` (all pages), or None."""

    @abc.abstractmethod
    def _create(
        self, *, head: str, base: str, title: str, body: str, reviewers: Sequence[str]
    ) -> tuple[dict[str, Any], list[str]]:
        """Open the pull request and request reviewers; (its JSON, warnings). Raises
        ``PullRequestExists`` when the forge says one is already open."""

    @abc.abstractmethod
    def _update(
        self,
        pull: dict[str, Any],
        *,
        base: str,
        title: str,
        body: str,
        reviewers: Sequence[str],
    ) -> tuple[dict[str, Any], list[str]]:
        """Update ``pull`` and request reviewers; (its new JSON, warnings)."""

    @abc.abstractmethod
    def _pull_request(
        self, raw: dict[str, Any], *, created: bool, warnings: tuple[str, ...]
    ) -> PullRequest:
        """``raw`` (the forge's JSON) as a :class:`PullRequest`."""

    # ----------------------------------------------------------------- errors

    @abc.abstractmethod
    def _auth_headers(self) -> dict[str, str]:
        """The headers that carry the token (empty without one)."""

    @abc.abstractmethod
    def _error(self, action: str, response: ApiResponse) -> ForgeError:
        """The error for a non-success ``response`` to the request doing ``action``."""

    def _require_token(self) -> None:
        if self._token is None:
            raise ForgeAuthError(
                f"no {self.title} token: cannot open the {self.noun} on {self.host}",
                host=self.host,
                hint=self.missing_token_hint(),
            )

    def _redact(self, text: str) -> str:
        if self._token and self._token in text:
            text = text.replace(self._token, "***")
        return text

    def _err(
        self,
        cls: type[ForgeError],
        message: str,
        response: ApiResponse | None = None,
        *,
        hint: str | None = None,
        retry_after: float | None = None,
    ) -> ForgeError:
        """A ``cls`` error with the token scrubbed from everything the server sent back."""
        status = response.status if response is not None else None
        text = self._redact(message)
        safe_hint = self._redact(hint) if hint else None
        if issubclass(cls, ForgeRateLimitError):
            return cls(text, host=self.host, status=status, hint=safe_hint,
                       retry_after=retry_after)
        return cls(text, host=self.host, status=status, hint=safe_hint)

    def _token_hint(self) -> str:
        if self.token_source:
            return (
                f"the token in {self.token_source} was rejected: replace it with a valid, "
                f"unexpired {self.title} token"
            )
        return self.missing_token_hint().replace("set ", "set a valid token in ", 1)

    def _rate_limited(
        self, action: str, response: ApiResponse, reset_header: str, default_wait: float | None
    ) -> ForgeError:
        wait = _seconds_until(response.headers.get("retry-after"), epoch=False)
        if wait is None:
            wait = _seconds_until(response.headers.get(reset_header), epoch=True)
        if wait is None:
            wait = default_wait
        when = _wait_text(wait) if wait is not None else "later"
        return self._err(
            ForgeRateLimitError,
            f"{self.title} rate limit reached on {self.host} while trying to {action}",
            response,
            hint=f"retry {when}; nothing was lost: re-running the submit updates the "
            f"same {self.noun}",
            retry_after=wait,
        )

    def _moved(self, action: str, response: ApiResponse) -> ForgeError:
        location = response.headers.get("location", "").split("?", 1)[0]
        where = f" to {location}" if location else ""
        return self._err(
            ForgeError,
            f"{self.title} answered {response.status} (moved{where}) while trying to {action}: "
            "the repository was probably renamed or moved",
            response,
            hint="update the remote URL (git remote set-url) or the configured api-url",
        )

    # ----------------------------------------------------------------- HTTP

    def _url(self, path: str, query: Mapping[str, str] | None = None) -> str:
        url = path if path.startswith(("http://", "https://")) else self.api_url + path
        if query:
            url += ("&" if "?" in url else "?") + urllib.parse.urlencode(query)
        return url

    def _extra_headers(self) -> dict[str, str]:
        return {}

    def _send(self, method: str, url: str, body: Any = None) -> ApiResponse:
        if _origin(url) != _origin(self.api_url):
            raise self._err(
                ForgeError,
                f"refusing to send the {self.title} token to {_origin(url)[1]}, "
                f"which is not the API host {self.api_host}",
            )
        request = urllib.request.Request(url, method=method)
        request.add_header("Accept", self.accept)
        request.add_header("User-Agent", f"nbops/{version()}")
        for key, value in self._extra_headers().items():
            request.add_header(key, value)
        if body is not None:
            request.data = json.dumps(body).encode("utf-8")
            request.add_header("Content-Type", "application/json")
        for key, value in self._auth_headers().items():
            request.add_unredirected_header(key, value)  # never copied to a redirect
        try:
            with self._opener.open(request, timeout=self.timeout) as answer:
                return self._parse(answer.status, answer.headers, answer.read(), url)
        except urllib.error.HTTPError as exc:
            try:
                raw = exc.read()
            except (OSError, http.client.HTTPException):
                raw = b""
            finally:
                exc.close()
            return self._parse(exc.code, exc.headers, raw, url)
        except TimeoutError:
            raise self._timeout() from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError):
                raise self._timeout() from None
            raise self._err(
                ForgeError,
                f"cannot reach {self.title} at {self.api_host}: {exc.reason}",
                hint="check the network connection, a proxy (HTTPS_PROXY), or the "
                "configured api-url",
            ) from None
        except (OSError, http.client.HTTPException) as exc:
            raise self._err(
                ForgeError,
                f"the connection to {self.api_host} failed: {exc or type(exc).__name__}",
                hint="check the network connection and retry",
            ) from None

    def _timeout(self) -> ForgeError:
        return self._err(
            ForgeError,
            f"{self.title} at {self.api_host} did not answer within {self.timeout:g} seconds",
            hint="check the network connection and retry",
        )

    @staticmethod
    def _parse(status: int, headers: Any, raw: bytes, url: str) -> ApiResponse:
        names = {str(k).lower(): str(v) for k, v in (headers.items() if headers else [])}
        text = raw.decode("utf-8", "replace")
        try:
            data = json.loads(text) if text.strip() else None
        except ValueError:
            data = None
        return ApiResponse(status, names, data, text, url)

    def _call(
        self,
        action: str,
        method: str,
        path: str,
        *,
        query: Mapping[str, str] | None = None,
        body: Any = None,
        ok: Sequence[int] = (200, 201),
    ) -> ApiResponse:
        """One request; the answer when its status is in ``ok``, else :meth:`_error`'s error."""
        url = self._url(path, query)
        started = time.monotonic()
        response = self._send(method, url, body)
        log.debug("%s %s -> %s (%.2fs)", method, url, response.status,
                  time.monotonic() - started)
        if response.status not in ok:
            raise self._error(action, response)
        if response.data is None and response.text.strip():
            raise self._err(
                ForgeError,
                f"{self.title} at {self.api_host} answered {action!r} with something that is "
                "not JSON",
                response,
                hint="check the configured api-url: it must be the API root, not the web page",
            )
        return response

    def _paginate(
        self, action: str, path: str, query: Mapping[str, str] | None = None
    ) -> Iterator[Any]:
        """The items of every page of a list (``Link: rel="next"``, else ``x-next-page``)."""
        url = self._url(path, query)
        for _ in range(_MAX_PAGES):
            response = self._call(action, "GET", url, ok=(200,))
            if not isinstance(response.data, list):
                raise self._err(ForgeError, f"{self.title} answered {action!r} with no list",
                                response)
            yield from response.data
            following = self._next_page(response, url)
            if following is None:
                return
            url = following
        log.debug("%s: stopped after %d pages", action, _MAX_PAGES)

    @staticmethod
    def _next_page(response: ApiResponse, url: str) -> str | None:
        link = response.headers.get("link", "")
        for found in re.finditer(r"<([^>]*)>([^<]*)", link):
            rel = re.search(r'rel\s*=\s*"?([^";]*)"?', found.group(2))
            if rel and "next" in rel.group(1).split():
                return urllib.parse.urljoin(url, str(found.group(1)))
        page = response.headers.get("x-next-page", "").strip()
        if page.isdigit():
            parts = urllib.parse.urlsplit(url)
            query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
            query["page"] = page
            return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))
        return None


# --------------------------------------------------------------------------- the registry


_BUILT_INS = {
    "github": "nbops.review.forges.github:GitHubForge",
    "gitlab": "nbops.review.forges.gitlab:GitLabForge",
}


class ForgeRegistry(PluginRegistry[Forge]):
    """Forge implementations by name: built-ins plus the ``nbops.forges`` entry points
    (:class:`~nbops.run.plugins.PluginRegistry`: loaded on first lookup, a plugin that fails
    to load or is not a :class:`Forge` subclass skipped with a warning, one registered under a
    built-in's name replacing it), and which one a remote belongs to."""

    def __init__(self, *, built_ins: bool = True) -> None:
        super().__init__("nbops.forges", "forge", "known forges: {}", base=Forge)
        if built_ins:
            for name, path in _BUILT_INS.items():
                self.register(name, path)

    def detect(self, remote: RemoteInfo) -> type[Forge] | None:
        """The forge ``remote`` belongs to: one listing its host exactly first, then one whose
        :meth:`Forge.matches` accepts it (in registration order); None when none does."""
        if remote.host is None:
            return None
        candidates = [cls for cls in self.classes() if cls.matches(remote)]
        for cls in candidates:
            if remote.host in cls.hosts or remote.host in cls.host_aliases:
                return cls
        return candidates[0] if candidates else None


FORGES = ForgeRegistry()


def _check_env_name(token_env: str) -> str:
    name = token_env.strip()
    if name.startswith(_TOKEN_PREFIXES) or not _ENV_NAME.fullmatch(name):
        # never echo the value: it may be the token itself
        raise ConfigError(
            "[tool.nbops.submit] token-env must be the NAME of an environment variable "
            "(like GITHUB_TOKEN), never a token",
            hint="put the token in the environment and the variable's name in token-env",
        )
    return name


def forge_for(
    remote_url: str,
    *,
    forge: str | None = None,
    api_url: str | None = None,
    token_env: str | None = None,
    env: Mapping[str, str] = os.environ,
    timeout: float = 30,
) -> Forge | None:
    """The forge behind ``remote_url``, or None (a local remote, or a host no forge knows).

    ``forge`` names the implementation (``"github"``, ``"gitlab"``, a plugin's); without it the
    host decides (:meth:`ForgeRegistry.detect`). The token comes from the variable
    ``token_env`` names when given, else from the forge's own variables (GitHub:
    ``GITHUB_TOKEN``, ``GH_TOKEN``; GitLab: ``GITLAB_TOKEN``, ``GL_TOKEN``). Without one the
    forge is still returned (``has_token`` is False): print :meth:`Forge.compare_url` instead
    of calling the API.
    """
    remote = parse_remote(remote_url)
    if remote.host is None:
        return None
    chosen = (forge or "").strip().lower()
    cls = FORGES.get(chosen) if chosen else FORGES.detect(remote)
    if cls is None:
        return None
    names = (_check_env_name(token_env),) if token_env and token_env.strip() else cls.token_env_vars
    token: str | None = None
    source: str | None = None
    for name in names:
        value = (env.get(name) or "").strip()
        if value:
            token, source = value, name
            break
    return cls(remote, token, api_url=api_url or None, timeout=timeout, token_source=source)
