"""parse_remote: every remote URL form git accepts, read into host, port, path and web URL."""

from __future__ import annotations

import pytest

from nbops.errors import UsageError
from nbops.review.forges.remote import RemoteInfo, parse_remote


@pytest.mark.parametrize(
    ("url", "host", "port", "path", "web_url", "scheme"),
    [
        ("https://github.com/octo/analysis.git", "github.com", None, "octo/analysis",
         "https://github.com/octo/analysis", "https"),
        ("https://github.com/octo/analysis", "github.com", None, "octo/analysis",
         "https://github.com/octo/analysis", "https"),
        ("https://github.com/octo/analysis.git/", "github.com", None, "octo/analysis",
         "https://github.com/octo/analysis", "https"),
        ("  https://GitHub.com/octo/analysis.git\n", "github.com", None, "octo/analysis",
         "https://github.com/octo/analysis", "https"),
        ("https://x-access-token:s3cr3t@github.com/octo/analysis.git", "github.com", None,
         "octo/analysis", "https://github.com/octo/analysis", "https"),
        ("https://oauth2@gitlab.com/data/team/analysis.git", "gitlab.com", None,
         "data/team/analysis", "https://gitlab.com/data/team/analysis", "https"),
        ("https://gitlab.example.com:8443/data/team/analysis.git", "gitlab.example.com", 8443,
         "data/team/analysis", "https://gitlab.example.com:8443/data/team/analysis", "https"),
        ("http://gitlab.local:8080/group/repo.git", "gitlab.local", 8080, "group/repo",
         "http://gitlab.local:8080/group/repo", "http"),
        ("ssh://git@github.com/octo/analysis.git", "github.com", None, "octo/analysis",
         "https://github.com/octo/analysis", "ssh"),
        ("ssh://git@gitlab.example.com:2222/data/analysis.git", "gitlab.example.com", 2222,
         "data/analysis", "https://gitlab.example.com/data/analysis", "ssh"),
        ("git+ssh://git@github.com/octo/analysis.git", "github.com", None, "octo/analysis",
         "https://github.com/octo/analysis", "ssh"),
        ("git@github.com:octo/analysis.git", "github.com", None, "octo/analysis",
         "https://github.com/octo/analysis", "ssh"),
        ("git@github.com:/octo/analysis.git", "github.com", None, "octo/analysis",
         "https://github.com/octo/analysis", "ssh"),
        ("github.com:octo/analysis", "github.com", None, "octo/analysis",
         "https://github.com/octo/analysis", "ssh"),
        ("deploy@gitlab.example.com:data/team/sub/analysis.git", "gitlab.example.com", None,
         "data/team/sub/analysis", "https://gitlab.example.com/data/team/sub/analysis", "ssh"),
        ("git://github.com/octo/analysis.git", "github.com", None, "octo/analysis",
         "https://github.com/octo/analysis", "git"),
        ("https://github.com/octo/my%20analysis.git", "github.com", None, "octo/my analysis",
         "https://github.com/octo/my%20analysis", "https"),
        ("https://[::1]:3000/octo/analysis.git", "::1", 3000, "octo/analysis",
         "https://[::1]:3000/octo/analysis", "https"),
    ],
)
def test_remote_urls_are_read_into_host_port_path_and_web_url(
    url: str, host: str, port: int | None, path: str, web_url: str, scheme: str
) -> None:
    info = parse_remote(url)
    assert info == RemoteInfo(host, port, path, web_url, scheme)
    assert not info.is_local


@pytest.mark.parametrize(
    "url",
    ["/srv/git/analysis.git", "../analysis.git", "./repo", "file:///srv/git/analysis.git",
     "C:\\repos\\analysis.git", "C:/repos/analysis.git", "repo.git"],
)
def test_local_paths_and_file_urls_have_no_host(url: str) -> None:
    info = parse_remote(url)
    assert info.host is None and info.is_local
    assert info.web_url == "" and info.scheme == "file"


def test_credentials_in_the_url_are_never_kept() -> None:
    info = parse_remote("https://someone:ghp_supersecret@github.com/octo/analysis.git")
    assert "ghp_supersecret" not in repr(info)
    assert "someone" not in repr(info)
    scp = parse_remote("someone:hunter2@gitlab.example.com:data/analysis.git")
    assert scp.host == "gitlab.example.com" and scp.path == "data/analysis"
    assert "hunter2" not in repr(scp)


def test_namespace_name_and_origin() -> None:
    info = parse_remote("https://gitlab.example.com:8443/data/team/analysis.git")
    assert info.namespace == "data/team"
    assert info.name == "analysis"
    assert info.web_origin == "https://gitlab.example.com:8443"


@pytest.mark.parametrize(
    ("url", "match"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("https://github.com/", "names no repository"),
        ("https://github.com/.git", "names no repository"),
        ("https://github.com:notaport/octo/analysis.git", "bad port"),
        ("svn://example.com/repo", "unsupported remote URL scheme"),
        ("https:///octo/analysis.git", "names no host"),
        ("git@github.com:", "names no repository"),
    ],
)
def test_malformed_remotes_are_usage_errors(url: str, match: str) -> None:
    with pytest.raises(UsageError, match=match):
        parse_remote(url)


def test_a_malformed_url_with_credentials_does_not_echo_them() -> None:
    with pytest.raises(UsageError) as info:
        parse_remote("svn://user:hunter2@example.com/repo")
    assert "hunter2" not in str(info.value)
