"""A fake GitHub and GitLab REST API on localhost, for the forge adapter tests.

One real HTTP server (``ThreadingHTTPServer`` on a free port, in a thread) serves both:
GitHub's REST API under ``/github`` (like a GitHub Enterprise ``/api/v3`` root) and GitLab's
v4 API under ``/gitlab/api/v4``. It implements only the endpoints the adapters call, the way
the public API references describe them:

GitHub (docs.github.com/rest): ``GET/POST /repos/{owner}/{repo}/pulls``,
``PATCH /repos/{owner}/{repo}/pulls/{number}``,
``POST /repos/{owner}/{repo}/pulls/{number}/requested_reviewers``; errors as
``{"message", "errors": [{"resource", "field", "code"} | {"code": "custom", "message"}],
"documentation_url"}``; 401 "Bad credentials" / "Requires authentication"; 404 for a repository
the token cannot see; 422 "Validation Failed" (missing fields, an unknown branch, "A pull
request already exists for owner:branch."); ``Link`` pagination; the primary rate limit as 403
with ``x-ratelimit-remaining: 0`` and ``x-ratelimit-reset``, the secondary as 429 with
``retry-after``; a ``head`` filter without ``owner:`` is ignored (as on GitHub); requests
without a ``User-Agent`` are refused.

GitLab (docs.gitlab.com/api): ``GET/POST /projects/:id/merge_requests``,
``PUT /projects/:id/merge_requests/:iid``, ``GET /users?username=``; ``:id`` is the URL-encoded
project path or its number; errors as ``{"message": ...}`` (a string or a list) or
``{"error": ...}`` (parameter validation, 400); 401 ``"401 Unauthorized"``; 404
``"404 Project Not Found"``; 409 "Another open merge request already exists for this source
branch: !N"; ``x-next-page`` / ``Link`` pagination; 429 ``Retry later`` with ``Retry-After``
and ``RateLimit-*`` headers.

The server forces a small page size (``page_size``) so that pagination is exercised, and
records every request (``requests``) so tests can check what was sent.
"""

from __future__ import annotations

import email.utils
import json
import re
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

TOKEN = "nbops-secret-token-4f1c9e7a2b"  # recognisable: tests assert it never shows up
GH_DOCS = "https://docs.github.com/rest/pulls/pulls"
GH_API_VERSIONS = ("2022-11-28",)


@dataclass
class Recorded:
    method: str
    path: str  # as sent, still percent-encoded
    query: dict[str, str]
    headers: dict[str, str]  # lower-cased names
    body: Any
    host: str


@dataclass
class Reply:
    status: int
    body: Any = None  # JSON-encoded unless it is bytes or str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class GitHubRepo:
    full_name: str
    branches: set[str]
    collaborators: set[str]
    teams: set[str]
    pulls: list[dict[str, Any]] = field(default_factory=list)
    author: str = "nbops-bot"  # the token's user: opens every pull request


@dataclass
class GitLabProject:
    id: int
    path: str
    branches: set[str]
    merge_requests: list[dict[str, Any]] = field(default_factory=list)


class FakeForge:
    """The server and its state. ``start()``/``stop()``; the URLs are ``github_api`` and
    ``gitlab_api``. Switches: ``rate_limit`` ("primary", "secondary", "gitlab"),
    ``read_only`` (writes get 403), ``slow`` (seconds before answering), ``not_json`` (answer
    HTML), ``hide_lists`` (the next N list calls return nothing), ``moved`` (GitHub repo ->
    new API root: answered with 301), ``single_reviewer`` (GitLab Free: keep one reviewer)."""

    def __init__(self, token: str = TOKEN, page_size: int = 2) -> None:
        self.token = token
        self.page_size = page_size
        self.rate_limit: str | None = None
        self.read_only = False
        self.slow = 0.0
        self.not_json = False
        self.hide_lists = 0
        self.single_reviewer = False
        self.moved: dict[str, str] = {}
        self.github: dict[str, GitHubRepo] = {}
        self.gitlab: dict[str, GitLabProject] = {}
        self.gitlab_users: dict[str, int] = {}
        self.requests: list[Recorded] = []
        self._lock = threading.Lock()
        self._next_id = 1000
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ----------------------------------------------------------------- lifecycle

    def start(self) -> None:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                headers = {k.lower(): v for k, v in self.headers.items()}
                reply = fake.dispatch(self.command, self.path, headers, raw)
                if isinstance(reply.body, bytes):
                    payload, kind = reply.body, "text/html; charset=utf-8"
                elif isinstance(reply.body, str):
                    payload, kind = reply.body.encode(), "text/plain; charset=utf-8"
                elif reply.body is None:
                    payload, kind = b"", "application/json"
                else:
                    payload, kind = json.dumps(reply.body).encode(), "application/json"
                self.send_response(reply.status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(payload)))
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def github_api(self) -> str:
        return f"{self.url}/github"

    @property
    def gitlab_api(self) -> str:
        return f"{self.url}/gitlab/api/v4"

    # ----------------------------------------------------------------- state

    def _id(self) -> int:
        self._next_id += 1
        return self._next_id

    def add_github_repo(
        self,
        full_name: str,
        branches: tuple[str, ...] = ("main",),
        collaborators: tuple[str, ...] = (),
        teams: tuple[str, ...] = (),
    ) -> GitHubRepo:
        repo = GitHubRepo(full_name, set(branches), set(collaborators), set(teams))
        self.github[full_name] = repo
        return repo

    def add_github_pull(
        self, full_name: str, head: str, base: str = "main", *, state: str = "open",
        title: str = "an older pull request",
    ) -> dict[str, Any]:
        repo = self.github[full_name]
        repo.branches.update({head, base})
        pull = self._github_pull(repo, head, base, title, "", state)
        repo.pulls.append(pull)
        return pull

    def add_gitlab_project(
        self, path: str, branches: tuple[str, ...] = ("main",)
    ) -> GitLabProject:
        project = GitLabProject(self._id(), path, set(branches))
        self.gitlab[path] = project
        return project

    def add_gitlab_user(self, username: str) -> int:
        self.gitlab_users[username] = user_id = self._id()
        return user_id

    def add_gitlab_mr(
        self, path: str, source: str, target: str = "main", *, state: str = "opened",
        title: str = "an older merge request", source_project_id: int | None = None,
    ) -> dict[str, Any]:
        project = self.gitlab[path]
        project.branches.update({source, target})
        request = self._gitlab_mr(project, source, target, title, "", [])
        request["state"] = state
        if source_project_id is not None:
            request["source_project_id"] = source_project_id
        project.merge_requests.append(request)
        return request

    def calls(self, method: str, contains: str = "") -> list[Recorded]:
        return [r for r in self.requests if r.method == method and contains in r.path]

    # ----------------------------------------------------------------- dispatch

    def dispatch(self, method: str, target: str, headers: dict[str, str], raw: bytes) -> Reply:
        parts = urlsplit(target)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = ValueError
        with self._lock:
            self.requests.append(
                Recorded(method, parts.path, query, headers, body, headers.get("host", ""))
            )
        if self.slow:
            time.sleep(self.slow)
        if self.not_json:
            return Reply(200, b"<!DOCTYPE html><html><body>Sign in</body></html>")
        with self._lock:
            if parts.path.startswith("/github/"):
                return self._github(method, parts.path[len("/github"):], query, headers, body)
            if parts.path.startswith("/gitlab/api/v4/"):
                return self._gitlab(method, parts.path[len("/gitlab/api/v4"):], query, headers,
                                    body)
        return Reply(404, {"message": "Not Found"})

    def _page(
        self, items: list[dict[str, Any]], query: Mapping[str, str], path: str, prefix: str
    ) -> tuple[list[dict[str, Any]], dict[str, str], int, int]:
        """One page of ``items`` (page size forced down to ``page_size``) and a Link header."""
        per_page = min(int(query.get("per_page") or 30), 100, self.page_size)
        page = max(1, int(query.get("page") or 1))
        pages = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]

        def link(number: int) -> str:
            q = dict(query)
            q["page"] = str(number)
            return f"<{self.url}{prefix}{path}?{urlencode(q)}>"

        rels = []
        if page < pages:
            rels.append(f'{link(page + 1)}; rel="next"')
        if page > 1:
            rels.append(f'{link(page - 1)}; rel="prev"')
        rels += [f'{link(1)}; rel="first"', f'{link(pages)}; rel="last"']
        return chunk, ({"Link": ", ".join(rels)} if pages > 1 or page > 1 else {}), page, pages

    # ----------------------------------------------------------------- GitHub

    def _github_pull(
        self, repo: GitHubRepo, head: str, base: str, title: str, body: str, state: str
    ) -> dict[str, Any]:
        owner = repo.full_name.split("/")[0]
        number = len(repo.pulls) + 1
        return {
            "id": self._id(),
            "number": number,
            "url": f"{self.github_api}/repos/{repo.full_name}/pulls/{number}",
            "html_url": f"https://github.test/{repo.full_name}/pull/{number}",
            "state": state,
            "title": title,
            "body": body,
            "user": {"login": repo.author},
            "head": {"label": f"{owner}:{head}", "ref": head,
                     "repo": {"full_name": repo.full_name}},
            "base": {"label": f"{owner}:{base}", "ref": base,
                     "repo": {"full_name": repo.full_name}},
            "requested_reviewers": [],
            "requested_teams": [],
            "merged": False,
            "draft": False,
        }

    def _github(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        limit = {"x-ratelimit-limit": "5000", "x-ratelimit-remaining": "4999",
                 "x-ratelimit-used": "1", "x-ratelimit-resource": "core",
                 "x-ratelimit-reset": str(int(time.time()) + 3600)}
        if not headers.get("user-agent"):
            return Reply(403, "Request forbidden by administrative rules. Please make sure your "
                              "request has a User-Agent header")
        version = headers.get("x-github-api-version")
        if version is not None and version not in GH_API_VERSIONS:
            return Reply(400, {"message": f"Unsupported 'X-GitHub-Api-Version' header {version}",
                               "documentation_url": "https://docs.github.com/rest"})
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if not scheme:
            return Reply(401, {"message": "Requires authentication",
                               "documentation_url": "https://docs.github.com/rest"})
        if scheme.lower() not in ("bearer", "token") or token != self.token:
            return Reply(401, {"message": "Bad credentials",
                               "documentation_url": "https://docs.github.com/rest",
                               "status": "401"})
        if self.rate_limit == "primary":
            reset = int(time.time()) + 1800
            return Reply(403, {"message": "API rate limit exceeded for user ID 1. If you reach "
                               "out to GitHub Support for help, please include the request ID.",
                               "documentation_url": "https://docs.github.com/rest/overview/"
                               "rate-limits-for-the-rest-api", "status": "403"},
                         {**limit, "x-ratelimit-remaining": "0", "x-ratelimit-used": "5000",
                          "x-ratelimit-reset": str(reset)})
        if self.rate_limit == "secondary":
            return Reply(429, {"message": "You have exceeded a secondary rate limit. Please wait "
                               "a few minutes before you try again.",
                               "documentation_url": "https://docs.github.com/rest/overview/"
                               "rate-limits-for-the-rest-api#about-secondary-rate-limits"},
                         {**limit, "retry-after": "30"})
        match = re.fullmatch(r"/repos/([^/]+)/([^/]+)/pulls(?:/(\d+)(/requested_reviewers)?)?",
                             path)
        if not match:
            return Reply(404, {"message": "Not Found", "documentation_url": GH_DOCS})
        full_name = f"{unquote(match[1])}/{unquote(match[2])}"
        if full_name in self.moved:
            rest = path.split("/pulls", 1)[1]
            location = f"{self.moved[full_name]}/pulls{rest}"
            if query:
                location += "?" + urlencode(query)
            return Reply(301, {"message": "Moved Permanently", "url": location,
                               "documentation_url": "https://docs.github.com/rest/guides/"
                               "best-practices-for-using-the-rest-api#follow-redirects"},
                         {"Location": location})
        repo = self.github.get(full_name)
        if repo is None:  # private repositories the token cannot see are 404 too
            return Reply(404, {"message": "Not Found", "documentation_url": GH_DOCS,
                               "status": "404"})
        if method != "GET" and self.read_only:
            return Reply(403, {"message": "Resource not accessible by personal access token",
                               "documentation_url": GH_DOCS, "status": "403"})
        if body is ValueError:
            return Reply(400, {"message": "Problems parsing JSON", "documentation_url": GH_DOCS})
        number, reviewers = match[3], match[4]
        if number is None and method == "GET":
            return self._github_list(repo, path, query, limit)
        if number is None and method == "POST":
            return self._github_create(repo, body or {}, limit)
        pull = next((p for p in repo.pulls if str(p["number"]) == number), None)
        if pull is None:
            return Reply(404, {"message": "Not Found", "documentation_url": GH_DOCS,
                               "status": "404"})
        if reviewers and method == "POST":
            return self._github_reviewers(repo, pull, body or {}, limit)
        if not reviewers and method == "PATCH":
            return self._github_update(repo, pull, body or {}, limit)
        return Reply(404, {"message": "Not Found", "documentation_url": GH_DOCS})

    def _github_list(
        self, repo: GitHubRepo, path: str, query: dict[str, str], limit: dict[str, str]
    ) -> Reply:
        state = query.get("state", "open")
        if state not in ("open", "closed", "all"):
            return Reply(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": "state", "code": "invalid"}],
                "documentation_url": GH_DOCS})
        pulls = [p for p in repo.pulls if state == "all" or p["state"] == state]
        head = query.get("head", "")
        if ":" in head:  # an unqualified head ("branch") is ignored, as GitHub does
            pulls = [p for p in pulls if p["head"]["label"] == head]
        if query.get("base"):
            pulls = [p for p in pulls if p["base"]["ref"] == query["base"]]
        if self.hide_lists:
            self.hide_lists -= 1
            pulls = []
        pulls = sorted(pulls, key=lambda p: -int(p["number"]))  # newest first
        chunk, link, _, _ = self._page(pulls, query, path, "/github")
        return Reply(200, chunk, {**limit, **link})

    def _github_create(
        self, repo: GitHubRepo, body: dict[str, Any], limit: dict[str, str]
    ) -> Reply:
        owner = repo.full_name.split("/")[0]
        missing = [f for f in ("title", "head", "base") if not body.get(f)]
        if missing:
            return Reply(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": f, "code": "missing_field"}
                for f in missing], "documentation_url": GH_DOCS + "#create-a-pull-request"})
        head = str(body["head"]).split(":")[-1]
        base = str(body["base"])
        bad = [f for f, b in (("head", head), ("base", base)) if b not in repo.branches]
        if bad:
            return Reply(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": f, "code": "invalid"} for f in bad],
                "documentation_url": GH_DOCS + "#create-a-pull-request"})
        if head == base:
            return Reply(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "code": "custom",
                 "message": f"No commits between {base} and {head}"}],
                "documentation_url": GH_DOCS + "#create-a-pull-request"})
        for pull in repo.pulls:
            if pull["state"] == "open" and pull["head"]["ref"] == head \
                    and pull["base"]["ref"] == base:
                return Reply(422, {"message": "Validation Failed", "errors": [
                    {"resource": "PullRequest", "code": "custom",
                     "message": f"A pull request already exists for {owner}:{head}."}],
                    "documentation_url": GH_DOCS + "#create-a-pull-request"})
        pull = self._github_pull(repo, head, base, str(body["title"]),
                                 str(body.get("body") or ""), "open")
        repo.pulls.append(pull)
        return Reply(201, pull, {**limit, "Location": pull["url"]})

    def _github_update(
        self, repo: GitHubRepo, pull: dict[str, Any], body: dict[str, Any],
        limit: dict[str, str],
    ) -> Reply:
        if "state" in body and body["state"] not in ("open", "closed"):
            return Reply(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": "state", "code": "invalid"}],
                "documentation_url": GH_DOCS + "#update-a-pull-request"})
        if "base" in body and body["base"] not in repo.branches:
            return Reply(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": "base", "code": "invalid"}],
                "documentation_url": GH_DOCS + "#update-a-pull-request"})
        for key in ("title", "body", "state"):
            if key in body:
                pull[key] = body[key]
        if "base" in body:
            pull["base"]["ref"] = body["base"]
        return Reply(200, pull, limit)

    def _github_reviewers(
        self, repo: GitHubRepo, pull: dict[str, Any], body: dict[str, Any],
        limit: dict[str, str],
    ) -> Reply:
        users = list(body.get("reviewers") or [])
        teams = list(body.get("team_reviewers") or [])
        if not users and not teams:
            return Reply(422, {"message": "Validation Failed", "errors": [
                {"resource": "PullRequest", "field": "reviewers", "code": "missing_field"}],
                "documentation_url": GH_DOCS})
        if repo.author in users:
            return Reply(422, {"message": "Review cannot be requested from pull request "
                               "author.", "documentation_url": GH_DOCS})
        if any(u not in repo.collaborators for u in users) or any(
            t not in repo.teams for t in teams
        ):
            return Reply(422, {"message": "Reviews may only be requested from collaborators. "
                               "One or more of the users or teams you specified is not a "
                               f"collaborator of the {repo.full_name} repository.",
                               "documentation_url": GH_DOCS})
        known = {r["login"] for r in pull["requested_reviewers"]}
        pull["requested_reviewers"] += [{"login": u} for u in users if u not in known]
        known_teams = {t["slug"] for t in pull["requested_teams"]}
        pull["requested_teams"] += [{"slug": t} for t in teams if t not in known_teams]
        return Reply(201, pull, limit)

    # ----------------------------------------------------------------- GitLab

    def _gitlab_mr(
        self, project: GitLabProject, source: str, target: str, title: str, description: str,
        reviewer_ids: list[int],
    ) -> dict[str, Any]:
        iid = len(project.merge_requests) + 1
        return {
            "id": self._id(),
            "iid": iid,
            "project_id": project.id,
            "source_project_id": project.id,
            "target_project_id": project.id,
            "title": title,
            "description": description,
            "state": "opened",
            "source_branch": source,
            "target_branch": target,
            "web_url": f"https://gitlab.test/{project.path}/-/merge_requests/{iid}",
            "author": {"id": 1, "username": "nbops-bot"},
            "reviewers": self._gitlab_people(reviewer_ids),
        }

    def _gitlab_people(self, ids: list[int]) -> list[dict[str, Any]]:
        names = {v: k for k, v in self.gitlab_users.items()}
        people = [{"id": i, "username": names[i], "name": names[i].title(), "state": "active"}
                  for i in ids if i in names]
        return people[:1] if self.single_reviewer else people

    def _gitlab(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], body: Any
    ) -> Reply:
        token = headers.get("private-token")
        if token is None and headers.get("authorization", "").lower().startswith("bearer "):
            token = headers["authorization"][len("bearer "):]
        if token != self.token:
            return Reply(401, {"message": "401 Unauthorized"})
        if self.rate_limit == "gitlab":
            reset = int(time.time()) + 45
            return Reply(429, "Retry later\n", {
                "RateLimit-Name": "throttle_authenticated_api",
                "RateLimit-Limit": "60",
                "RateLimit-Observed": "61",
                "RateLimit-Remaining": "0",
                "RateLimit-Reset": str(reset),
                "RateLimit-ResetTime": email.utils.formatdate(reset, usegmt=True),
                "Retry-After": "45",
            })
        if body is ValueError:
            return Reply(400, {"error": "The provided content-type 'application/json' is not "
                               "supported or the body is not valid JSON"})
        if path == "/users" and method == "GET":
            name = query.get("username", "")
            found = [{"id": i, "username": u, "name": u.title(), "state": "active",
                      "web_url": f"https://gitlab.test/{u}"}
                     for u, i in self.gitlab_users.items() if u.lower() == name.lower()]
            return Reply(200, found)
        match = re.fullmatch(r"/projects/([^/]+)/merge_requests(?:/(\d+))?", path)
        if not match:
            return Reply(404, {"error": "404 Not Found"})
        key = unquote(match[1])
        project = self.gitlab.get(key) or next(
            (p for p in self.gitlab.values() if str(p.id) == key), None)
        if project is None:
            return Reply(404, {"message": "404 Project Not Found"})
        if method != "GET" and self.read_only:
            return Reply(403, {"message": "403 Forbidden"})
        if match[2] is None and method == "GET":
            return self._gitlab_list(project, path, query)
        if match[2] is None and method == "POST":
            return self._gitlab_create(project, body or {})
        if match[2] is not None and method == "PUT":
            request = next((m for m in project.merge_requests if str(m["iid"]) == match[2]),
                           None)
            if request is None:
                return Reply(404, {"message": "404 Not found"})
            return self._gitlab_update(project, request, body or {})
        return Reply(405, {"error": "405 Method Not Allowed"})

    def _gitlab_list(self, project: GitLabProject, path: str, query: dict[str, str]) -> Reply:
        state = query.get("state", "all")
        if state not in ("opened", "closed", "locked", "merged", "all"):
            return Reply(400, {"error": "state does not have a valid value"})
        found = [m for m in project.merge_requests if state == "all" or m["state"] == state]
        for param in ("source_branch", "target_branch"):
            if query.get(param):
                found = [m for m in found if m[param] == query[param]]
        if self.hide_lists:
            self.hide_lists -= 1
            found = []
        found = sorted(found, key=lambda m: -int(m["iid"]))
        chunk, link, page, pages = self._page(found, query, path, "/gitlab/api/v4")
        per_page = min(int(query.get("per_page") or 20), 100, self.page_size)
        headers = {
            **link,
            "x-page": str(page),
            "x-per-page": str(per_page),
            "x-total": str(len(found)),
            "x-total-pages": str(pages),
            "x-next-page": str(page + 1) if page < pages else "",
            "x-prev-page": str(page - 1) if page > 1 else "",
        }
        return Reply(200, chunk, headers)

    def _gitlab_create(self, project: GitLabProject, body: dict[str, Any]) -> Reply:
        problems = []
        for name in ("source_branch", "target_branch", "title"):
            if name not in body:
                problems.append(f"{name} is missing")
            elif not str(body[name]).strip():
                problems.append(f"{name} is empty")
        if problems:
            return Reply(400, {"error": ", ".join(problems)})
        source, target = str(body["source_branch"]), str(body["target_branch"])
        if source == target:
            same = "You can't use same project/branch for source and target"
            return Reply(422, {"message": [same]})
        for name in (source, target):
            if name not in project.branches:
                return Reply(422, {"message": [f'Branch "{name}" does not exist']})
        for other in project.merge_requests:
            if other["state"] == "opened" and other["source_branch"] == source \
                    and other["target_branch"] == target:
                exists = ("Another open merge request already exists for this source branch: "
                          f"!{other['iid']}")
                return Reply(409, {"message": [exists]})
        request = self._gitlab_mr(project, source, target, str(body["title"]),
                                  str(body.get("description") or ""),
                                  list(body.get("reviewer_ids") or []))
        project.merge_requests.append(request)
        return Reply(201, request)

    def _gitlab_update(
        self, project: GitLabProject, request: dict[str, Any], body: dict[str, Any]
    ) -> Reply:
        allowed = ("title", "description", "target_branch", "reviewer_ids", "assignee_ids",
                   "state_event", "labels")
        if not any(k in body for k in allowed):
            return Reply(400, {"error": ", ".join(allowed) + " are missing, at least one "
                               "parameter must be provided"})
        if "target_branch" in body and body["target_branch"] not in project.branches:
            return Reply(422, {"message": [f'Branch "{body["target_branch"]}" does not exist']})
        for key in ("title", "description", "target_branch"):
            if key in body:
                request[key] = body[key]
        if "reviewer_ids" in body:
            request["reviewers"] = self._gitlab_people(list(body["reviewer_ids"] or []))
        return Reply(200, request)
