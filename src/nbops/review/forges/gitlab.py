"""The GitLab forge: merge requests through the REST API v4 (gitlab.com and self-managed).

Requests carry ``PRIVATE-TOKEN: <token>``; the API is ``https://HOST/api/v4`` (or the
configured ``api-url``) and the project is addressed by its URL-encoded path
(``group%2Fsub%2Frepo``). Endpoints: list, create and update merge requests, look users up by
username to turn reviewer names into ids (docs/forges.md).
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

from nbops.errors import ForgeAuthError, ForgeError
from nbops.review.forges.base import ApiResponse, Forge, PullRequest, PullRequestExists
from nbops.review.forges.remote import RemoteInfo

__all__ = ["GitLabForge"]

_PERMISSION_HINT = (
    "the token needs the 'api' scope and at least the Developer role in the project"
)


class GitLabForge(Forge):
    """gitlab.com, ``altssh.gitlab.com`` and self-managed hosts (names containing "gitlab")."""

    name = "gitlab"
    title = "GitLab"
    noun = "merge request"
    hosts = ("gitlab.com",)
    host_aliases: ClassVar[Mapping[str, str]] = {"altssh.gitlab.com": "gitlab.com"}
    keyword = "gitlab"
    token_env_vars = ("GITLAB_TOKEN", "GL_TOKEN")
    accept = "application/json"

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
        self.project_id = urllib.parse.quote(self.remote.path, safe="")
        self._project_api = f"/projects/{self.project_id}"
        self._user_ids: dict[str, int | None] = {}

    @classmethod
    def default_api_url(cls, remote: RemoteInfo) -> str:
        host = cls.host_aliases.get(remote.host or "")
        origin = f"https://{host}" if host else remote.web_origin
        return f"{origin}/api/v4"

    def compare_url(self, head: str, base: str) -> str:
        """The "new merge request" form with both branches filled in."""
        query = urllib.parse.urlencode(
            {"merge_request[source_branch]": head, "merge_request[target_branch]": base}
        )
        return f"{self.web_url}/-/merge_requests/new?{query}"

    def _auth_headers(self) -> dict[str, str]:
        return {"PRIVATE-TOKEN": self._token} if self._token else {}

    # ----------------------------------------------------------------- the steps

    def _find_open(self, head: str, base: str) -> dict[str, Any] | None:
        # by source branch only: a re-submit that changed the target branch retargets the
        # open merge request instead of opening a second one
        query = {"state": "opened", "source_branch": head, "per_page": "100"}
        found = self._paginate(
            "list the open merge requests", f"{self._project_api}/merge_requests", query
        )
        other_target: dict[str, Any] | None = None
        for request in found:
            if not isinstance(request, dict) or request.get("state") != "opened":
                continue
            if request.get("source_branch") != head:
                continue
            source, target = request.get("source_project_id"), request.get("project_id")
            if source is not None and target is not None and source != target:
                continue  # a fork's branch of the same name
            if request.get("target_branch") == base:
                return request
            other_target = other_target or request  # into another branch: retargeted
        return other_target

    def _create(
        self, *, head: str, base: str, title: str, body: str, reviewers: Sequence[str]
    ) -> tuple[dict[str, Any], list[str]]:
        ids, notes = self._reviewer_ids(reviewers)
        payload: dict[str, Any] = {
            "source_branch": head,
            "target_branch": base,
            "title": title,
            "description": body,
        }
        if ids:
            payload["reviewer_ids"] = ids
        response = self._call(
            f"open a merge request from {head!r} into {base!r}",
            "POST",
            f"{self._project_api}/merge_requests",
            body=payload,
            ok=(201,),
        )
        request = self._object(response, "open a merge request")
        return request, notes + self._unset_reviewers(request, reviewers, ids)

    def _update(
        self,
        pull: dict[str, Any],
        *,
        base: str,
        title: str,
        body: str,
        reviewers: Sequence[str],
    ) -> tuple[dict[str, Any], list[str]]:
        iid = self._iid(pull)
        ids, notes = self._reviewer_ids(reviewers)
        changes: dict[str, Any] = {"title": title, "description": body}
        if pull.get("target_branch") not in (None, base):
            changes["target_branch"] = base
        if ids:  # keep the reviewers someone added by hand: reviewer_ids replaces the list
            current = self._reviewers_of(pull)
            changes["reviewer_ids"] = current + [i for i in ids if i not in current]
        response = self._call(
            f"update merge request !{iid}",
            "PUT",
            f"{self._project_api}/merge_requests/{iid}",
            body=changes,
            ok=(200,),
        )
        request = self._object(response, f"update merge request !{iid}")
        return request, notes + self._unset_reviewers(request, reviewers, ids)

    def _reviewer_ids(self, names: Sequence[str]) -> tuple[list[int], list[str]]:
        """The user ids of ``names`` (``GET /users?username=``); unknown names are warnings."""
        ids: list[int] = []
        notes: list[str] = []
        for name in names:
            if name not in self._user_ids:
                response = self._call(
                    f"look up the GitLab user {name!r}", "GET", "/users",
                    query={"username": name}, ok=(200,),
                )
                users = response.data if isinstance(response.data, list) else []
                match = next(
                    (u for u in users if isinstance(u, dict)
                     and str(u.get("username", "")).lower() == name.lower()
                     and isinstance(u.get("id"), int)),
                    None,
                )
                self._user_ids[name] = int(match["id"]) if match else None
            user_id = self._user_ids[name]
            if user_id is None:
                notes.append(f"no GitLab user named {name!r}: not added as a reviewer")
            elif user_id not in ids:
                ids.append(user_id)
        return ids, notes

    def _unset_reviewers(
        self, request: Mapping[str, Any], names: Sequence[str], ids: Sequence[int]
    ) -> list[str]:
        """A warning for the wanted reviewers GitLab did not keep (GitLab Free keeps one)."""
        if not ids or "reviewers" not in request:
            return []
        kept = set(self._reviewers_of(request))
        missing = [n for n in names if self._user_ids.get(n) in set(ids) - kept]
        if not missing:
            return []
        text = (
            f"GitLab did not add {', '.join(missing)} as reviewers "
            "(several reviewers need GitLab Premium; or they cannot access the project)"
        )
        return [text]

    @staticmethod
    def _reviewers_of(request: Mapping[str, Any]) -> list[int]:
        people = request.get("reviewers")
        if not isinstance(people, list):
            return []
        return [p["id"] for p in people if isinstance(p, dict) and isinstance(p.get("id"), int)]

    def _pull_request(
        self, raw: dict[str, Any], *, created: bool, warnings: tuple[str, ...]
    ) -> PullRequest:
        iid = self._iid(raw)
        url = raw.get("web_url")
        if not isinstance(url, str):
            url = f"{self.web_url}/-/merge_requests/{iid}"
        state = str(raw.get("state") or "opened")
        state = {"opened": "open"}.get(state, state)
        return PullRequest(iid, url, state, created, self.name, warnings)

    def _object(self, response: ApiResponse, action: str) -> dict[str, Any]:
        if not isinstance(response.data, dict) or "iid" not in response.data:
            raise self._err(ForgeError, f"GitLab answered {action!r} without a merge request",
                            response)
        return response.data

    def _iid(self, request: Mapping[str, Any]) -> int:
        iid = request.get("iid")
        if isinstance(iid, bool) or not isinstance(iid, int):
            raise self._err(ForgeError, "GitLab sent a merge request without an iid")
        return iid

    # ----------------------------------------------------------------- errors

    @staticmethod
    def _message(response: ApiResponse) -> str:
        """GitLab's error text: ``message`` (a string, a list, or field -> messages), or
        ``error`` (parameter validation), or the plain-text body."""
        data = response.data
        if not isinstance(data, dict):
            return response.text.strip()[:300]
        value = data.get("message", data.get("error", data.get("error_description", "")))
        if isinstance(value, list):
            return "; ".join(str(v) for v in value)
        if isinstance(value, dict):
            parts = []
            for field, problems in value.items():
                listed = problems if isinstance(problems, list) else [problems]
                parts.append(f"{field} {', '.join(str(p) for p in listed)}")
            return "; ".join(parts)
        return str(value or "").strip()

    def _error(self, action: str, response: ApiResponse) -> ForgeError:
        status = response.status
        message = self._message(response)
        said = f" ({message})" if message else ""
        where = f"{self.remote.path} on {self.host}"
        if status == 401:
            return self._err(
                ForgeAuthError,
                f"GitLab rejected the token while trying to {action}{said}",
                response,
                hint=self._token_hint(),
            )
        if status == 429:
            return self._rate_limited(action, response, "ratelimit-reset", 60.0)
        if status == 403:
            return self._err(ForgeError, f"GitLab refused to {action} in {where}{said}",
                             response, hint=_PERMISSION_HINT)
        if status == 404:
            return self._err(
                ForgeError,
                f"project {where} not found, or the token cannot see it "
                f"(while trying to {action}){said}",
                response,
                hint="check the remote URL and that the token's user is a member of the project",
            )
        if status in (409, 422) and "already exists" in message.lower():
            return self._err(PullRequestExists, f"GitLab says {message}", response)
        if status in (400, 409, 422):
            return self._err(ForgeError, f"GitLab refused to {action}: {message or status}",
                             response)
        if 300 <= status < 400:
            return self._moved(action, response)
        return self._err(
            ForgeError,
            f"GitLab answered {status} while trying to {action}{said}",
            response,
            hint="GitLab had a problem: retry in a few minutes" if status >= 500 else None,
        )
