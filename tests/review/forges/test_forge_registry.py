"""The forge registry, detection from the remote URL, forge_for's token lookup, plugins."""

from __future__ import annotations

import importlib.metadata
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbops.errors import (
    ConfigError,
    ForgeError,
    ForgeRateLimitError,
    UsageError,
    exit_code,
    http_status,
)
from nbops.review.forges import FORGES, ForgeRegistry, PullRequest, forge_for, parse_remote
from nbops.review.forges.github import GitHubForge
from nbops.review.forges.gitlab import GitLabForge

SECRET = "ghp_0123456789abcdefghijklmnopqrstuvwxyzAB"


def test_github_and_gitlab_are_built_in() -> None:
    assert {"github", "gitlab"} <= set(FORGES.names())
    assert FORGES.get("github") is GitHubForge
    assert FORGES.get("gitlab") is GitLabForge
    with pytest.raises(UsageError, match="no forge named 'gitea'") as info:
        FORGES.get("gitea")
    assert "github" in (info.value.hint or "") and "gitlab" in (info.value.hint or "")


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://github.com/octo/analysis.git", GitHubForge),
        ("git@github.com:octo/analysis.git", GitHubForge),
        ("ssh://git@ssh.github.com:443/octo/analysis.git", GitHubForge),
        ("https://github.corp.example/octo/analysis.git", GitHubForge),
        ("git@github-enterprise.internal:octo/analysis.git", GitHubForge),
        ("https://gitlab.com/data/team/analysis.git", GitLabForge),
        ("git@gitlab.com:data/analysis.git", GitLabForge),
        ("ssh://git@altssh.gitlab.com:443/data/analysis.git", GitLabForge),
        ("https://gitlab.example.com:8443/data/team/analysis.git", GitLabForge),
        ("ssh://git@gitlab.internal:2222/data/analysis.git", GitLabForge),
        ("https://bitbucket.org/octo/analysis.git", None),
        ("https://git.example.com/octo/analysis.git", None),
        ("/srv/git/analysis.git", None),
        ("file:///srv/git/analysis.git", None),
    ],
)
def test_the_forge_is_detected_from_the_host(url: str, expected: type | None) -> None:
    assert FORGES.detect(parse_remote(url)) is expected
    found = forge_for(url, env={})
    assert (type(found) if found is not None else None) is expected


def test_an_exact_public_host_wins_over_a_keyword() -> None:
    # "github" in the name of a GitLab host: gitlab.com is GitLab's own host
    assert FORGES.detect(parse_remote("https://gitlab.com/github/mirror.git")) is GitLabForge
    assert FORGES.detect(parse_remote("https://github.com/gitlab/mirror.git")) is GitHubForge


def test_the_forge_can_be_named_for_any_host() -> None:
    forge = forge_for("https://git.example.com/data/analysis.git", forge=" GitLab ", env={},
                      api_url="https://git.example.com/gitlab/api/v4")
    assert isinstance(forge, GitLabForge)
    assert forge.api_url == "https://git.example.com/gitlab/api/v4"
    with pytest.raises(UsageError, match="no forge named 'gitee'"):
        forge_for("https://git.example.com/data/analysis.git", forge="gitee", env={})


def test_a_local_remote_has_no_forge_even_when_one_is_named() -> None:
    assert forge_for("/srv/git/analysis.git", forge="github", env={"GITHUB_TOKEN": "x"}) is None


@pytest.mark.parametrize(
    ("url", "env", "source"),
    [
        ("git@github.com:o/r.git", {"GITHUB_TOKEN": SECRET, "GH_TOKEN": "other"},
         "GITHUB_TOKEN"),
        ("git@github.com:o/r.git", {"GH_TOKEN": SECRET}, "GH_TOKEN"),
        ("git@github.com:o/r.git", {"GITHUB_TOKEN": "  ", "GH_TOKEN": SECRET}, "GH_TOKEN"),
        ("git@gitlab.com:o/r.git", {"GITLAB_TOKEN": SECRET}, "GITLAB_TOKEN"),
        ("git@gitlab.com:o/r.git", {"GL_TOKEN": f" {SECRET}\n"}, "GL_TOKEN"),
    ],
)
def test_the_token_comes_from_the_forges_variables(
    url: str, env: dict[str, str], source: str
) -> None:
    forge = forge_for(url, env=env)
    assert forge is not None and forge.has_token and forge.token_source == source
    assert forge._token == SECRET  # stripped
    assert SECRET not in repr(forge) and "token=set" in repr(forge)


def test_without_a_token_the_forge_gives_the_compare_url() -> None:
    forge = forge_for("git@github.com:octo/analysis.git", env={"GITLAB_TOKEN": SECRET})
    assert forge is not None and not forge.has_token and forge.token_source is None
    assert "token=none" in repr(forge)
    assert forge.compare_url("review/x", "main") == (
        "https://github.com/octo/analysis/compare/main...review/x?expand=1"
    )
    assert "GITHUB_TOKEN or GH_TOKEN" in forge.missing_token_hint()


def test_token_env_names_the_only_variable_read() -> None:
    env = {"MY_FORGE_TOKEN": SECRET, "GITHUB_TOKEN": "not-this-one"}
    forge = forge_for("git@github.com:o/r.git", token_env="MY_FORGE_TOKEN", env=env)
    assert forge is not None and forge._token == SECRET
    assert forge.token_source == "MY_FORGE_TOKEN"
    unset = forge_for("git@github.com:o/r.git", token_env="MY_FORGE_TOKEN",
                      env={"GITHUB_TOKEN": "x"})
    assert unset is not None and not unset.has_token  # no fallback to GITHUB_TOKEN


@pytest.mark.parametrize("value", [SECRET, "glpat-abcdefghijklmnop", "not a name", "1ABC"])
def test_token_env_holding_a_token_is_refused_without_echoing_it(value: str) -> None:
    with pytest.raises(ConfigError, match="NAME of an environment variable") as info:
        forge_for("git@github.com:o/r.git", token_env=value, env={})
    assert value not in str(info.value) and value not in repr(info.value)


def test_pull_request_to_json() -> None:
    pr = PullRequest(7, "https://github.com/o/r/pull/7", "open", True, "github", ("w",))
    assert pr.to_json() == {"number": 7, "url": "https://github.com/o/r/pull/7",
                            "state": "open", "created": True, "forge": "github",
                            "warnings": ["w"]}


def test_forge_errors_map_to_exit_code_3_and_http_502_or_503() -> None:
    assert exit_code(ForgeError("x")) == 3 and http_status(ForgeError("x")) == 502
    limited = ForgeRateLimitError("x", host="github.com", status=429, retry_after=5)
    assert exit_code(limited) == 3 and http_status(limited) == 503 and limited.retry_after == 5
    assert limited.to_json() == {
        "error": "ForgeRateLimitError", "message": "x", "path": None, "cell": None,
        "hint": None, "host": "github.com", "status": 429, "retry_after": 5,
    }


# --------------------------------------------------------------------------- plugins

PLUGIN = '''
from nbops.review.forges.base import Forge


class GiteaForge(Forge):
    name = "gitea"
    title = "Gitea"
    keyword = "gitea"
    token_env_vars = ("GITEA_TOKEN",)

    @classmethod
    def default_api_url(cls, remote):
        return remote.web_origin + "/api/v1"

    def compare_url(self, head, base):
        return f"{self.web_url}/compare/{base}...{head}"

    def _auth_headers(self):
        return {"Authorization": f"token {self._token}"} if self._token else {}

    def _error(self, action, response):
        raise NotImplementedError

    def _find_open(self, head, base):
        raise NotImplementedError

    def _create(self, **kwargs):
        raise NotImplementedError

    def _update(self, pull, **kwargs):
        raise NotImplementedError

    def _pull_request(self, raw, **kwargs):
        raise NotImplementedError
'''


@pytest.fixture
def plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Three nbops.forges entry points: a working plugin, a broken one, a non-Forge one."""
    (tmp_path / "nbops_gitea_fake.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    group = "nbops.forges"
    entries = importlib.metadata.EntryPoints([
        importlib.metadata.EntryPoint("gitea", "nbops_gitea_fake:GiteaForge", group),
        importlib.metadata.EntryPoint("broken", "no_such_module_nbops:Nope", group),
        importlib.metadata.EntryPoint("notaforge", "collections:OrderedDict", group),
    ])

    def entry_points(**params: Any) -> importlib.metadata.EntryPoints:
        return entries.select(**params)

    monkeypatch.setattr(importlib.metadata, "entry_points", entry_points)
    yield
    sys.modules.pop("nbops_gitea_fake", None)


def test_forges_come_from_entry_points_and_broken_ones_are_skipped(plugins: None) -> None:
    registry = ForgeRegistry()
    with pytest.warns(RuntimeWarning) as caught:
        names = registry.names()
    assert names == ["gitea", "github", "gitlab"]
    messages = [str(w.message) for w in caught]
    assert any("'broken'" in m and "failed to load" in m for m in messages)
    assert any("'notaforge'" in m and "not a nbops Forge subclass" in m for m in messages)
    gitea = registry.get("gitea")
    assert gitea.__name__ == "GiteaForge"
    assert registry.detect(parse_remote("https://gitea.example.com/o/r.git")) is gitea
    assert registry.detect(parse_remote("https://github.com/o/r.git")) is GitHubForge


def test_forge_for_uses_plugins_and_their_token_variables(
    plugins: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    registry = ForgeRegistry()
    monkeypatch.setattr("nbops.review.forges.base.FORGES", registry)
    with pytest.warns(RuntimeWarning):
        forge = forge_for("git@gitea.example.com:o/r.git", env={"GITEA_TOKEN": "t"})
    assert forge is not None and forge.name == "gitea" and forge.has_token
    assert forge.api_url == "https://gitea.example.com/api/v1"
    expected = "https://gitea.example.com/o/r/compare/main...review/x"
    assert forge.compare_url("review/x", "main") == expected


def test_entry_points_load_once_and_lazily(plugins: None) -> None:
    registry = ForgeRegistry(built_ins=False)
    assert registry._classes == {}  # nothing loaded at construction
    with pytest.warns(RuntimeWarning):
        assert registry.names() == ["gitea"]
    assert registry.names() == ["gitea"]  # no second load (and no second warning)
