"""The GitHub forge: pull requests through the REST API (github.com and GitHub Enterprise).

Requests carry ``Accept: application/vnd.github+json``, ``X-GitHub-Api-Version: 2022-11-28``
and ``Authorization: Bearer <token>``. The API is ``https://api.github.com`` for github.com
and ``https://HOST/api/v3`` for GitHub Enterprise Server (or the configured ``api-url``).
Endpoints: list, create and update pull requests, request reviewers (docs/forges.md).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from nbops.errors import ForgeAuthError, ForgeError, UsageError
from nbops.review.forges.base import ApiResponse, Forge, PullRequest, PullRequestExists
from nbops.review.forges.remote import RemoteInfo

__all__ = ["API_VERSION", "GitHubForge"]

API_VERSION = "2022-11-28"
_PERMISSION_HINT = (
    "the token needs write access to pull requests: a fine-grained token with "
    "'Pull requests: Read and write' on the repository, or a classic token with the 'repo' "
    "scope ('public_repo' for public repositories)"
)


def _quote(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


class GitHubForge(Forge):
    """github.com, ``ssh.github.com`` and GitHub Enterprise hosts (names containing "github")."""

    name = "github"
    title = "GitHub"
    noun = "pull request"
    hosts = ("github.com",)
    host_aliases: ClassVar[Mapping[str, str]] = {
        "ssh.github.com": "github.com",
        "www.github.com": "github.com",
    }
    keyword = "github"
    token_env_vars = ("GITHUB_TOKEN", "GH_TOKEN")
    accept = "application/vnd.github+json"

    def __init__(
        self,
        remote: RemoteInfo,
        token: str | None,
        api_url: str | None = None,
        timeout: float = 30,
        *,
        token_source: str | None = None,
    ) -> None:
        super().__init__(remote, token, api_url, timeout, token_source=token_source)
        owner, _, repo = self.remote.path.partition("/")
        if not owner or not repo or "/" in repo:
            raise UsageError(
                f"{self.remote.path!r} is not an owner/repo path: GitHub repositories live at "
                f"https://{self.host}/OWNER/REPO",
                hint="check the remote URL (git remote -v)",
            )
        self.owner, self.repo = owner, repo
        self._repo_api = f"/repos/{_quote(owner)}/{_quote(repo)}"

    @classmethod
    def default_api_url(cls, remote: RemoteInfo) -> str:
        host = cls.host_aliases.get(remote.host or "", remote.host)
        if host in cls.hosts:
            return "https://api.github.com"
        return f"{remote.web_origin}/api/v3"  # GitHub Enterprise Server

    def compare_url(self, head: str, base: str) -> str:
        """``https://HOST/OWNER/REPO/compare/BASE...HEAD?expand=1`` (the "open a pull request"
        form, filled in)."""
        quote = urllib.parse.quote
        return f"{self.web_url}/compare/{quote(base, safe='/')}...{quote(head, safe='/')}?expand=1"

    def _auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"} if self._token else {}

    def _extra_headers(self) -> dict[str, str]:
        return {"X-GitHub-Api-Version": API_VERSION}

    # ----------------------------------------------------------------- the steps

    def _find_open(self, head: str, base: str) -> dict[str, Any] | None:
        # head must be "owner:branch": GitHub ignores an unqualified head filter
        query = {"state": "open", "head": f"{self.owner}:{head}", "per_page": "100"}
        pulls = self._paginate("list the open pull requests", f"{self._repo_api}/pulls", query)
        other_base: dict[str, Any] | None = None
        for pull in pulls:
            if not isinstance(pull, dict) or pull.get("state") != "open":
                continue
            source, target = pull.get("head"), pull.get("base")
            if not isinstance(source, dict) or source.get("ref") != head:
                continue
            label = source.get("label")
            if isinstance(label, str) and label.lower() != f"{self.owner}:{head}".lower():
                continue  # a fork's branch of the same name
            if isinstance(target, dict) and target.get("ref") == base:
                return pull
            other_base = other_base or pull  # into another base: retargeted by _update
        return other_base

    def _create(
        self, *, head: str, base: str, title: str, body: str, reviewers: Sequence[str]
    ) -> tuple[dict[str, Any], list[str]]:
        response = self._call(
            f"open a pull request from {head!r} into {base!r}",
            "POST",
            f"{self._repo_api}/pulls",
            body={"title": title, "head": head, "base": base, "body": body},
            ok=(201,),
        )
        pull = self._object(response, "open a pull request")
        return pull, self._request_reviewers(pull, reviewers)

    def _update(
        self,
        pull: dict[str, Any],
        *,
        base: str,
        title: str,
        body: str,
        reviewers: Sequence[str],
    ) -> tuple[dict[str, Any], list[str]]:
        number = self._number(pull)
        changes: dict[str, Any] = {"title": title, "body": body}
        target = pull.get("base")
        if isinstance(target, dict) and target.get("ref") not in (None, base):
            changes["base"] = base
        response = self._call(
            f"update pull request #{number}",
            "PATCH",
            f"{self._repo_api}/pulls/{number}",
            body=changes,
            ok=(200,),
        )
        updated = self._object(response, f"update pull request #{number}")
        return updated, self._request_reviewers(updated, reviewers)

    def _request_reviewers(self, pull: dict[str, Any], reviewers: Sequence[str]) -> list[str]:
        """Request reviews; ``org/team`` names a team. A refusal (422: not a collaborator, the
        author, an unknown team) is a warning: the pull request itself is fine."""
        if not reviewers:
            return []
        number = self._number(pull)
        users = [r for r in reviewers if "/" not in r]
        teams = [r.split("/", 1)[1] for r in reviewers if "/" in r]
        payload: dict[str, Any] = {"reviewers": users}
        if teams:
            payload["team_reviewers"] = teams
        try:
            self._call(
                f"request reviewers for pull request #{number}",
                "POST",
                f"{self._repo_api}/pulls/{number}/requested_reviewers",
                body=payload,
                ok=(200, 201),
            )
        except ForgeError as exc:
            if exc.status not in (404, 422) or isinstance(exc, ForgeAuthError):
                raise
            return [f"GitHub did not request reviews from {', '.join(reviewers)}: {exc.message}"]
        return []

    def _pull_request(
        self, raw: dict[str, Any], *, created: bool, warnings: tuple[str, ...]
    ) -> PullRequest:
        url = raw.get("html_url")
        if not isinstance(url, str):
            url = f"{self.web_url}/pull/{self._number(raw)}"
        state = str(raw.get("state") or "open")
        if raw.get("merged") is True:
            state = "merged"
        return PullRequest(self._number(raw), url, state, created, self.name, warnings)

    def _object(self, response: ApiResponse, action: str) -> dict[str, Any]:
        if not isinstance(response.data, dict) or "number" not in response.data:
            raise self._err(ForgeError, f"GitHub answered {action!r} without a pull request",
                            response)
        return response.data

    def _number(self, pull: Mapping[str, Any]) -> int:
        number = pull.get("number")
        if isinstance(number, bool) or not isinstance(number, int):
            raise self._err(ForgeError, "GitHub sent a pull request without a number")
        return number

    # ----------------------------------------------------------------- errors

    @staticmethod
    def _messages(response: ApiResponse) -> tuple[str, list[str]]:
        """The body's ``message`` and one line per ``errors[]`` entry."""
        data = response.data
        if not isinstance(data, dict):
            return response.text.strip()[:300], []
        message = str(data.get("message") or "").strip()
        details: list[str] = []
        for item in data.get("errors") or []:
            if isinstance(item, dict):
                text = item.get("message")
                if not text:
                    bits = [str(item[k]) for k in ("resource", "field", "code") if item.get(k)]
                    text = " ".join(bits)
                details.append(str(text))
            elif item:
                details.append(str(item))
        return message, details

    def _error(self, action: str, response: ApiResponse) -> ForgeError:
        status, headers = response.status, response.headers
        message, details = self._messages(response)
        said = f" ({message})" if message else ""
        where = f"{self.owner}/{self.repo} on {self.host}"
        if status == 401:
            return self._err(
                ForgeAuthError,
                f"GitHub rejected the token while trying to {action}{said}",
                response,
                hint=self._token_hint(),
            )
        limited = (
            headers.get("x-ratelimit-remaining") == "0"
            or "retry-after" in headers
            or "rate limit" in message.lower()
        )
        if status in (403, 429) and limited:
            secondary = "secondary" in message.lower()
            # the docs: without retry-after or a spent primary limit, wait at least a minute
            return self._rate_limited(action, response, "x-ratelimit-reset",
                                      60.0 if secondary or status == 429 else None)
        if status == 403:
            return self._err(ForgeError, f"GitHub refused to {action} in {where}{said}",
                             response, hint=_PERMISSION_HINT)
        if status == 404:
            return self._err(
                ForgeError,
                f"repository {where} not found, or the token cannot see it "
                f"(while trying to {action})",
                response,
                hint="check the remote URL and that the token has access to the repository "
                "(GitHub answers 404, not 403, when a token may not see a private repository)",
            )
        if status == 422:
            text = "; ".join(t for t in [message, *details] if t) or "validation failed"
            lowered = text.lower()
            if "pull request already exists" in lowered:
                return self._err(PullRequestExists, f"GitHub says {text}", response)
            hint = None
            if "no commits between" in lowered:
                hint = "the review branch has no commits the base branch lacks"
            elif data_url := self._documentation_url(response):
                hint = f"see {data_url}"
            return self._err(ForgeError, f"GitHub refused to {action}: {text}", response,
                             hint=hint)
        if 300 <= status < 400:
            return self._moved(action, response)
        return self._err(
            ForgeError,
            f"GitHub answered {status} while trying to {action}{said}",
            response,
            hint="GitHub had a problem: retry in a few minutes" if status >= 500 else None,
        )

    @staticmethod
    def _documentation_url(response: ApiResponse) -> str | None:
        data = response.data
        url = data.get("documentation_url") if isinstance(data, dict) else None
        return url if isinstance(url, str) and url.startswith("https://") else None
