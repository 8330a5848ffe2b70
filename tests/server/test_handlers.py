"""The REST API under /nbops/ on a real Jupyter server: every endpoint, security, big notebooks.

Each answer is also checked against docs/rest-api.yaml by the ``api`` fixture (conftest).
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from nbops import __version__
from nbops.config import load_config
from nbops.core.notebook import read_notebook
from nbops.errors import ToolError
from nbops.lint.engine import Linter
from nbops.lint.fix import FixOptions, fix_notebook

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "notebooks" / "bad"
sys.path.insert(0, str(ROOT / "tests" / "notebooks"))

from make_large import make_large_notebook

Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _cli(*args: str, cwd: Path) -> Any:
    proc = subprocess.run(
        [sys.executable, "-m", "nbops", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
        check=False,  # `nbops lint` exits 1 with findings
    )
    assert proc.stdout, proc.stderr
    return json.loads(proc.stdout)


# --------------------------------------------------------------------------- version, rules


async def test_version(api: Api) -> None:
    reply = await api("GET", "nbops/version")
    assert reply.status == 200
    assert reply.body["version"] == __version__
    # the test environment has every extra
    assert reply.body["extras"] == {
        name: {"available": True, "missing": [], "install": f"pip install 'nbops[{name}]'"}
        for name in ("lab", "run", "ui", "widgets", "dask")
    }


async def test_version_says_which_extras_are_missing(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    # a server without the run extra's MLflow: the panel disables Run and Score with this line
    monkeypatch.setitem(sys.modules, "mlflow", None)  # find_spec finds none
    reply = await api("GET", "nbops/version")
    assert reply.status == 200
    assert reply.body["extras"]["run"] == {
        "available": False, "missing": ["mlflow"], "install": "pip install 'nbops[run]'",
    }
    assert reply.body["extras"]["lab"]["available"] is True


async def test_rules_are_the_cli_catalogue(api: Api, root: Path) -> None:
    reply = await api("GET", "nbops/rules")
    assert reply.status == 200
    assert reply.body == _cli("rules", "--format", "json", cwd=root)
    assert len(reply.body) > 20


async def test_one_rule_by_code_and_by_name(api: Api, root: Path) -> None:
    expected = _cli("rule", "NB301", "--format", "json", cwd=root)
    for key in ("NB301", "nb301", "absolute-path"):
        reply = await api("GET", f"nbops/rules/{key}")
        assert reply.status == 200, key
        assert reply.body == expected


@pytest.mark.parametrize("code", ["NB999", "F401", "nonsense"])
async def test_unknown_rule_is_404_json(api: Api, code: str) -> None:
    reply = await api("GET", f"nbops/rules/{code}")
    assert reply.status == 404
    assert reply.body["error"] == "NotFoundError"
    assert code in reply.body["message"]


async def test_unknown_endpoint_and_wrong_verb_are_json(api: Api) -> None:
    missing = await api("GET", "nbops/nope")
    assert (missing.status, missing.body["error"]) == (404, "NotFoundError")
    for method, path in (("GET", "nbops/lint"), ("PUT", "nbops/fix"), ("POST", "nbops/version")):
        reply = await api(method, path, {} if method != "GET" else None)
        assert reply.status == 405, (method, path)
        assert reply.body["error"] == "MethodNotAllowed"


# --------------------------------------------------------------------------- lint


async def test_lint_equals_cli_json(api: Api, root: Path) -> None:
    reply = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb"})
    assert reply.status == 200
    cli = _cli("lint", "--format", "json", "--no-cache", "sub/churn.ipynb", cwd=root)
    assert reply.body == cli  # version, diagnostics, errors and summary alike
    assert reply.body["diagnostics"], "the example notebook has findings"
    assert {d["path"] for d in reply.body["diagnostics"]} == {"sub/churn.ipynb"}


async def test_lint_selection_options(api: Api, root: Path) -> None:
    reply = await api(
        "POST", "nbops/lint", {"path": "sub/churn.ipynb", "select": ["NB3"], "format_check": False}
    )
    assert reply.status == 200
    codes = {d["code"] for d in reply.body["diagnostics"]}
    assert codes and all(c.startswith("NB3") for c in codes)
    cli = _cli("lint", "--format", "json", "--no-cache", "--select", "NB3", "--no-format",
               "sub/churn.ipynb", cwd=root)
    assert reply.body == cli
    ignored = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb", "ignore": ["FMT", "NB3"]})
    codes = {d["code"] for d in ignored.body["diagnostics"]}
    assert codes and not any(c.startswith(("NB3", "FMT")) for c in codes)


async def test_broken_notebook_is_a_finding_not_an_error(api: Api, root: Path) -> None:
    reply = await api("POST", "nbops/lint", {"path": "broken.ipynb"})
    assert reply.status == 200
    assert [d["code"] for d in reply.body["diagnostics"]] == ["NB001"]
    assert reply.body["errors"][0]["path"] == "broken.ipynb"
    assert "broken JSON" in reply.body["errors"][0]["message"]
    assert reply.body["summary"]["unreadable"] == 1
    assert reply.body == _cli("lint", "--format", "json", "--no-cache", "broken.ipynb", cwd=root)


async def test_unsaved_content_is_linted_instead_of_the_file(api: Api, root: Path) -> None:
    content = json.loads((root / "sub" / "churn.ipynb").read_text())
    content["cells"].insert(0, {"cell_type": "code", "id": "new1", "metadata": {},
                                "execution_count": None, "outputs": [],
                                "source": "data = open('/home/ana/data.csv').read()\n"})
    on_disk = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb"})
    unsaved = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb", "content": content})
    assert unsaved.status == 200
    new_cell = [d for d in unsaved.body["diagnostics"] if d["cell_id"] == "new1"]
    assert any(d["code"] == "NB301" for d in new_cell), new_cell
    assert not any(d["cell_id"] == "new1" for d in on_disk.body["diagnostics"])
    # the file itself was not read for content, so it need not exist
    ghost = await api("POST", "nbops/lint", {"path": "sub/not-saved-yet.ipynb", "content": content})
    assert ghost.status == 200
    assert {d["path"] for d in ghost.body["diagnostics"]} == {"sub/not-saved-yet.ipynb"}


async def test_unsaved_content_same_as_file_gives_same_answer(api: Api, root: Path) -> None:
    content = json.loads((root / "sub" / "churn.ipynb").read_text())
    a = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb"})
    b = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb", "content": content})
    assert a.body == b.body


async def test_content_that_is_not_a_notebook_is_nb001(api: Api) -> None:
    reply = await api("POST", "nbops/lint", {"path": "x.ipynb", "content": {"hello": 1}})
    assert reply.status == 200
    assert [d["code"] for d in reply.body["diagnostics"]] == ["NB001"]


async def test_config_is_found_from_the_path(api: Api, root: Path) -> None:
    project = root / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[tool.nbops]\nselect = ["NB1"]\n')
    shutil.copy(root / "sub" / "churn.ipynb", project / "a.ipynb")
    reply = await api("POST", "nbops/lint", {"path": "proj/a.ipynb"})
    codes = {d["code"] for d in reply.body["diagnostics"]}
    assert codes and all(c.startswith("NB1") for c in codes)
    content = json.loads((project / "a.ipynb").read_text())
    unsaved = await api("POST", "nbops/lint", {"path": "proj/unsaved.ipynb", "content": content})
    assert {d["code"] for d in unsaved.body["diagnostics"]} == codes
    # and an edit of the config applies at once (the warm linter is keyed by config)
    (project / "pyproject.toml").write_text('[tool.nbops]\nselect = ["NB3"]\n')
    again = await api("POST", "nbops/lint", {"path": "proj/a.ipynb"})
    assert all(d["code"].startswith("NB3") for d in again.body["diagnostics"])
    assert again.body["diagnostics"]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (b"{not json", "not valid JSON"),
        (b"", "empty"),
        (b"[1, 2]", "JSON object"),
        (b'"sub/churn.ipynb"', "JSON object"),
        (b"\xff\xfe{}", "not valid JSON"),
        (json.dumps({"content": {}}).encode(), "'path' is required"),
        (json.dumps({"path": 3}).encode(), "'path'"),
        (json.dumps({"path": ""}).encode(), "'path'"),
        (json.dumps({"path": "notes.txt"}).encode(), ".ipynb"),
        (json.dumps({"path": "sub/churn.ipynb", "select": "NB3"}).encode(), "'select'"),
        (json.dumps({"path": "sub/churn.ipynb", "ignore": [1]}).encode(), "'ignore'"),
        (json.dumps({"path": "sub/churn.ipynb", "format_check": "no"}).encode(), "'format_check'"),
        (json.dumps({"path": "sub/churn.ipynb", "content": "{}"}).encode(), "'content'"),
        (json.dumps({"path": "sub/churn.ipynb", "colour": True}).encode(), "unknown field"),
        (json.dumps({"path": "sub/churn.ipynb", "select": ["NB9Z9Z"]}).encode(), "NB9Z9Z"),
    ],
)
async def test_bad_lint_bodies_are_400_json(
    api: Api, root: Path, body: bytes, fragment: str
) -> None:
    reply = await api("POST", "nbops/lint", raw=body)
    assert reply.status == 400, reply.body
    assert reply.body["error"] == "UsageError"
    assert fragment in reply.body["message"] + (reply.body["hint"] or "")


async def test_missing_notebook_is_404_json(api: Api, root: Path) -> None:
    for endpoint in ("nbops/lint", "nbops/fix"):
        reply = await api("POST", endpoint, {"path": "sub/missing.ipynb"})
        assert reply.status == 404
        assert reply.body == {
            "error": "NotFoundError", "message": "no such notebook", "path": "sub/missing.ipynb",
            "cell": None, "hint": None, "status": 404,
        }


# --------------------------------------------------------------------------- security


def _escapes(root: Path, outside: Path) -> list[str]:
    """Paths that would reach ``outside/secret.ipynb`` (or elsewhere) if they were followed."""
    (root / "link.ipynb").symlink_to(outside / "secret.ipynb")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    return [
        "../outside/secret.ipynb",
        "sub/../../outside/secret.ipynb",
        "..\\outside\\secret.ipynb",
        str(outside / "secret.ipynb"),
        "/etc/passwd.ipynb",
        "link.ipynb",
        "linkdir/secret.ipynb",
    ]


async def test_paths_leaving_the_root_are_403_json(api: Api, root: Path, outside: Path) -> None:
    before = _sha(outside / "secret.ipynb")
    for path in _escapes(root, outside):
        for endpoint, extra in (("nbops/lint", {}), ("nbops/fix", {"write": True})):
            reply = await api("POST", endpoint, {"path": path, **extra})
            assert reply.status == 403, (endpoint, path, reply.body)
            assert reply.body["error"] == "AccessError"
            assert "diagnostics" not in reply.body and "content" not in reply.body
            assert str(outside) not in reply.raw.decode() and str(root) not in reply.raw.decode()
    assert _sha(outside / "secret.ipynb") == before
    assert not (outside / ".nbops_backup").exists()


async def test_symlink_inside_the_root_is_followed(api: Api, root: Path) -> None:
    (root / "alias.ipynb").symlink_to(root / "sub" / "churn.ipynb")
    reply = await api("POST", "nbops/lint", {"path": "alias.ipynb"})
    assert reply.status == 200
    assert reply.body["diagnostics"]
    assert {d["path"] for d in reply.body["diagnostics"]} == {"alias.ipynb"}


async def test_unauthenticated_requests_get_403_and_no_data(api: Api, root: Path) -> None:
    before = _sha(root / "sub" / "churn.ipynb")
    for method, path, body in (
        ("GET", "nbops/version", None),
        ("GET", "nbops/rules", None),
        ("GET", "nbops/rules/NB301", None),
        ("POST", "nbops/lint", {"path": "sub/churn.ipynb"}),
        ("POST", "nbops/fix", {"path": "sub/churn.ipynb", "write": True}),
    ):
        for headers in ({}, {"Authorization": "token wrong-token"}):
            reply = await api(method, path, body, auth=False, headers=headers)
            assert reply.status == 403, (method, path, headers)
            assert set(reply.body) == {"error", "message", "path", "cell", "hint", "status"}
            assert reply.body["error"] == "Forbidden"
    assert _sha(root / "sub" / "churn.ipynb") == before
    assert not (root / "sub" / ".nbops_backup").exists()


async def test_token_never_in_answers_or_log(
    api: Api, root: Path, jp_serverapp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    token = jp_serverapp.identity_provider.token
    caplog.set_level(logging.DEBUG)
    replies = [
        await api("GET", "nbops/version", params={"token": token}),
        await api("POST", "nbops/lint", {"path": "sub/churn.ipynb"}, params={"token": token}),
        await api("POST", "nbops/lint", {"path": "../x.ipynb"}, params={"token": token}),
        await api("POST", "nbops/lint", raw=b"{oops", params={"token": token}),
        await api("GET", "nbops/rules/NB999"),
    ]
    assert [r.status for r in replies] == [200, 200, 403, 400, 404]
    for reply in replies:
        assert token not in reply.raw.decode()
    assert "nbops" in caplog.text  # the requests were logged...
    assert token not in caplog.text  # ...without the token


async def test_unexpected_error_is_generic_500_json(
    api: Api, root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def explode(self: Any, nb: Any) -> Any:
        raise RuntimeError("secret detail /very/private/path")

    monkeypatch.setattr(Linter, "lint_notebook", explode)
    reply = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb"})
    assert reply.status == 500
    assert reply.body["error"] == "InternalError"
    text = reply.raw.decode()
    assert "secret detail" not in text and "Traceback" not in text and "private" not in text
    assert "secret detail" in caplog.text  # the details go to the server log


async def test_tool_failure_is_502_json(
    api: Api, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: Any, nb: Any) -> Any:
        raise ToolError("ruff failed: boom", hint="pip install ruff")

    monkeypatch.setattr(Linter, "lint_notebook", fail)
    reply = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb"})
    assert reply.status == 502
    assert reply.body["error"] == "ToolError"
    assert reply.body["hint"] == "pip install ruff"


# --------------------------------------------------------------------------- fix


def _expected_fix(path: Path, **options: bool) -> dict[str, Any]:
    nb = read_notebook(path)
    fix_notebook(nb, Linter(load_config(path.parent), cache=False), FixOptions(**options))
    return nb.to_dict()


async def test_fix_without_write_leaves_the_file_alone(api: Api, root: Path) -> None:
    target = root / "sub" / "churn.ipynb"
    before, mtime = _sha(target), target.stat().st_mtime_ns
    reply = await api("POST", "nbops/fix", {"path": "sub/churn.ipynb"})
    assert reply.status == 200
    body = reply.body
    assert body["changed"] is True and body["written"] is False and body["backup"] is None
    assert body["applied"] and {"code", "cell", "cell_index", "message"} <= set(body["applied"][0])
    assert body["diff"].startswith("--- a/sub/churn.ipynb\n+++ b/sub/churn.ipynb\n")
    assert body["content"] == _expected_fix(target)
    assert _sha(target) == before and target.stat().st_mtime_ns == mtime
    assert not (root / "sub" / ".nbops_backup").exists()
    # the fixed content has no safe fixes left to make
    after = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb", "content": body["content"]})
    assert after.body["summary"]["fixable"] == 0


async def test_fix_with_write_writes_and_keeps_a_backup(api: Api, root: Path) -> None:
    target = root / "sub" / "churn.ipynb"
    original = target.read_bytes()
    expected = _expected_fix(target, clear_outputs=True)
    reply = await api("POST", "nbops/fix", {"path": "sub/churn.ipynb", "write": True,
                                            "clear_outputs": True})
    assert reply.status == 200
    assert reply.body["written"] is True and reply.body["changed"] is True
    assert any(a["code"] == "clear-outputs" for a in reply.body["applied"])
    assert json.loads(target.read_text()) == reply.body["content"] == expected
    backup = reply.body["backup"]
    assert backup.startswith("sub/.nbops_backup/churn.") and backup.endswith(".ipynb")
    assert (root / backup).read_bytes() == original
    # nothing left to do: a second write changes nothing and makes no new backup
    again = await api("POST", "nbops/fix", {"path": "sub/churn.ipynb", "write": True})
    assert again.body["changed"] is False and again.body["written"] is False
    assert again.body["diff"] == "" and again.body["applied"] == []
    assert len(list((root / "sub" / ".nbops_backup").iterdir())) == 1


async def test_fix_of_unsaved_content(api: Api, root: Path) -> None:
    content = json.loads((root / "sub" / "churn.ipynb").read_text())
    reply = await api("POST", "nbops/fix", {"path": "sub/draft.ipynb", "content": content})
    assert reply.status == 200
    assert reply.body["changed"] is True
    assert reply.body["content"] == _expected_fix(root / "sub" / "churn.ipynb")
    assert not (root / "sub" / "draft.ipynb").exists()
    refused = await api("POST", "nbops/fix", {"path": "sub/churn.ipynb", "content": content,
                                              "write": True})
    assert refused.status == 400
    assert "'write'" in refused.body["message"]


async def test_fix_unsafe_applies_more(api: Api, root: Path) -> None:
    safe = await api("POST", "nbops/fix", {"path": "sub/churn.ipynb"})
    unsafe = await api("POST", "nbops/fix", {"path": "sub/churn.ipynb", "unsafe": True})
    assert unsafe.status == 200
    assert unsafe.body["content"] == _expected_fix(root / "sub" / "churn.ipynb", unsafe=True)
    assert unsafe.body["content"] != safe.body["content"]


async def test_fix_of_unreadable_notebook_is_422_json(api: Api, root: Path) -> None:
    before = _sha(root / "broken.ipynb")
    reply = await api("POST", "nbops/fix", {"path": "broken.ipynb", "write": True})
    assert reply.status == 422
    assert reply.body["error"] == "NotebookReadError"
    assert reply.body["path"] == "broken.ipynb"  # root-relative, not the server's real path
    assert _sha(root / "broken.ipynb") == before


async def test_bad_fix_bodies_are_400_json(api: Api, root: Path) -> None:
    for body in ({"path": "sub/churn.ipynb", "write": "yes"},
                 {"path": "sub/churn.ipynb", "unsafe": 1},
                 {"path": "sub/churn.ipynb", "clear_outputs": None, "diff": True}):
        reply = await api("POST", "nbops/fix", body)
        assert reply.status == 400, body
        assert reply.body["error"] == "UsageError"


# --------------------------------------------------------------------------- big notebooks


@pytest.mark.slow
async def test_large_notebook_does_not_block_other_requests(
    api: Api, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = make_large_notebook(root / "large.ipynb", megabytes=50)
    body = json.dumps({"path": "large.ipynb", "content": json.loads(path.read_bytes())}).encode()
    # ruff and black run long on real notebooks; a pause makes the window wide enough that a
    # handler running the lint on the event loop would visibly hold the version requests up
    real = Linter.lint_notebook

    def slow(self: Linter, nb: Any) -> Any:
        time.sleep(1.5)
        return real(self, nb)

    monkeypatch.setattr(Linter, "lint_notebook", slow)
    started = time.monotonic()
    lint = asyncio.ensure_future(
        api("POST", "nbops/lint", raw=body, request_timeout=120)
    )
    latencies: list[float] = []
    answered_before_lint: list[float] = []
    while not lint.done():
        t0 = time.monotonic()
        version = await api("GET", "nbops/version")
        assert version.status == 200
        latencies.append(time.monotonic() - t0)
        if not lint.done():
            answered_before_lint.append(time.monotonic() - started)
        await asyncio.sleep(0.05)
    reply = await lint
    lint_time = time.monotonic() - started
    assert reply.status == 200
    assert reply.body["summary"]["files"] == 1 and reply.body["summary"]["unreadable"] == 0
    assert {d["path"] for d in reply.body["diagnostics"]} <= {"large.ipynb"}
    assert lint_time > 1.5
    assert len(answered_before_lint) >= 5, (answered_before_lint, lint_time)
    assert max(latencies) < 0.75, (max(latencies), lint_time)

    by_path = await api("POST", "nbops/lint", {"path": "large.ipynb"}, request_timeout=120)
    assert by_path.body == reply.body


@pytest.mark.slow
async def test_large_notebook_fix_without_write(api: Api, root: Path) -> None:
    path = make_large_notebook(root / "large.ipynb", megabytes=50)
    before = _sha(path)
    reply = await api("POST", "nbops/fix", {"path": "large.ipynb"}, request_timeout=120)
    assert reply.status == 200
    assert len(reply.body["content"]["cells"]) == len(json.loads(path.read_bytes())["cells"])
    assert _sha(path) == before



async def test_cookie_login_posts_need_the_xsrf_token(
    api: Api, root: Path, jp_serverapp: Any, http_server_client: Any, jp_base_url: str
) -> None:
    from http.cookies import SimpleCookie
    from urllib.parse import urlencode

    def cookies_of(response: Any) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_list("Set-Cookie"):
            jar.load(header)
        return {k: v.value for k, v in jar.items()}

    # log in as a browser does: the login form's _xsrf cookie, then the token as password
    form = await http_server_client.fetch(jp_base_url + "login", raise_error=False)
    xsrf = cookies_of(form)["_xsrf"]
    login = await http_server_client.fetch(
        jp_base_url + "login", method="POST", raise_error=False, follow_redirects=False,
        body=urlencode({"password": jp_serverapp.identity_provider.token, "_xsrf": xsrf}),
        headers={"Cookie": f"_xsrf={xsrf}"},
    )
    assert login.code == 302, login.code
    jar = {"_xsrf": xsrf, **cookies_of(login)}
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    assert len(jar) >= 2  # the login cookie came back

    body = {"path": "sub/churn.ipynb"}
    assert (await api("GET", "nbops/version", auth=False, headers={"Cookie": cookie})).status == 200
    refused = await api("POST", "nbops/lint", body, auth=False, headers={"Cookie": cookie})
    assert refused.status == 403
    assert "diagnostics" not in refused.body
    allowed = await api("POST", "nbops/lint", body, auth=False,
                        headers={"Cookie": cookie, "X-XSRFToken": xsrf})
    assert allowed.status == 200
    assert allowed.body["diagnostics"]


# --------------------------------------------------------------------------- hostile input

# every route that takes a notebook path: (method, endpoint, the rest of a valid request)
PATH_ROUTES = [
    ("POST", "nbops/lint", {}),
    ("POST", "nbops/fix", {}),
    ("POST", "nbops/modularize", {}),
    ("POST", "nbops/runs", {}),
    ("POST", "nbops/check", {}),
    ("POST", "nbops/submit", {}),
    ("POST", "nbops/hackathon/score", {}),
    ("GET", "nbops/params", {}),
    ("GET", "nbops/runs", {}),
    ("GET", "nbops/hackathon", {}),
]


async def _send_path(api: Api, method: str, endpoint: str, path: str, extra: dict[str, Any]) -> Any:
    if method == "GET":
        return await api("GET", endpoint, params={"path": path, **extra})
    return await api("POST", endpoint, {"path": path, **extra})


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/".join(["a"] * 3000) + "/x.ipynb", "longer than 4095 bytes"),  # 3,000 segments
        ("x" * 300 + ".ipynb", "a name longer than 255 bytes"),
        ("\U0001f642" * 64 + ".ipynb", "a name longer than 255 bytes"),  # 262 bytes in UTF-8
        ("/".join(["b" * 240] * 17) + ".ipynb", "longer than 4095 bytes"),  # 4,102 bytes
    ],
)
async def test_too_long_paths_are_400_on_every_route(
    api: Api, root: Path, path: str, fragment: str
) -> None:
    # the file system refuses them (ENAMETOOLONG): that was a 500 on every route
    for method, endpoint, extra in PATH_ROUTES:
        reply = await _send_path(api, method, endpoint, path, extra)
        assert reply.status == 400, (endpoint, reply.body)
        assert reply.body["error"] == "UsageError"
        assert fragment in reply.body["message"], reply.body
        assert len(reply.raw) < 1000  # the path is not echoed whole


async def test_a_long_path_inside_a_long_root_is_400(api: Api, root: Path) -> None:
    # every name fits and the client's path is short enough, but root + path is not
    path = "/".join(["c" * 203] * 20) + ".ipynb"  # 4,085 bytes: with the root, over 4,095
    assert len(path) <= 4095 < len(str(root / path))
    for method, endpoint, extra in PATH_ROUTES:
        reply = await _send_path(api, method, endpoint, path, extra)
        assert reply.status == 400, (endpoint, reply.body)
        assert "too long" in reply.body["message"]


async def test_symlink_loops_are_403_named_relative_to_the_root(api: Api, root: Path) -> None:
    (root / "loop.ipynb").symlink_to("loop.ipynb")
    (root / "sub" / "a.ipynb").symlink_to("b.ipynb")
    (root / "sub" / "b.ipynb").symlink_to("a.ipynb")
    for path in ("loop.ipynb", "sub/a.ipynb"):
        for method, endpoint, extra in PATH_ROUTES:
            reply = await _send_path(api, method, endpoint, path, extra)
            assert reply.status == 403, (endpoint, reply.body)
            assert reply.body["message"] == "the path is a symlink loop"
            assert reply.body["path"] == path
            # it used to say "Symlink loop from '/tmp/.../root_dir/loop.ipynb'"
            assert str(root) not in reply.raw.decode() and "/tmp" not in reply.raw.decode()
    (root / "outloop").symlink_to("outloop")
    reply = await api("POST", "nbops/modularize", {"path": "sub/churn.ipynb", "out": "outloop"})
    assert reply.status == 403
    assert (reply.body["message"], reply.body["path"]) == ("the path is a symlink loop", "outloop")


async def test_a_folder_that_cannot_be_entered_is_403_not_500(api: Api, root: Path) -> None:
    if os.geteuid() == 0:
        pytest.skip("root enters every folder")
    locked = root / "locked"
    locked.mkdir()
    shutil.copy(root / "sub" / "churn.ipynb", locked / "nb.ipynb")
    locked.chmod(0)
    try:
        for method, endpoint, extra in PATH_ROUTES:
            reply = await _send_path(api, method, endpoint, "locked/nb.ipynb", extra)
            assert reply.status in (403, 404), (endpoint, reply.body)
            assert str(root) not in reply.raw.decode()
    finally:
        locked.chmod(0o755)


@pytest.mark.parametrize("limit", ["²", "٣", "1" * 5000, "-1", "1001", "0x10"])
async def test_bad_history_limits_are_400(api: Api, root: Path, limit: str) -> None:
    # "²".isdigit() is true and int("²") raises; 5,000 digits exceed int()'s limit: both 500s
    reply = await api("GET", "nbops/runs", params={"path": "sub/churn.ipynb", "limit": limit})
    assert reply.status == 400, reply.body
    assert "'limit'" in reply.body["message"]
    assert len(reply.body["message"]) < 200


async def test_path_arguments_that_are_not_utf8_are_404(api: Api, jp_auth_header: Any) -> None:
    # sent as they are (auth=False: no quoting by jp_fetch), with the token in the header
    for endpoint in ("nbops/rules/%FF%FE", "nbops/runs/jobs/%FF", "nbops/hackathon/jobs/%C0%AF"):
        reply = await api("GET", endpoint, auth=False, headers=jp_auth_header)
        assert reply.status == 404, (endpoint, reply.body)
        assert reply.body["error"] == "NotFoundError"


async def test_error_texts_of_deeper_layers_name_no_server_path(
    api: Api, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = Path.home()

    def fail(self: Any, nb: Any) -> Any:
        raise ToolError(
            f"ruff failed on {root}/sub/churn.ipynb with {root}/ruff.toml: "
            "cannot read '/usr/lib/python3/site-packages/ruff/config.toml'",
            hint=f"check {home}/.config/ruff/ruff.toml and file:///etc/ruff.toml",
        )

    monkeypatch.setattr(Linter, "lint_notebook", fail)
    reply = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb"})
    assert reply.status == 502
    message, hint = reply.body["message"], reply.body["hint"]
    assert message == (
        "ruff failed on sub/churn.ipynb with ruff.toml: "
        "cannot read 'config.toml (outside the server root)'"
    )
    assert hint == (
        "check ruff.toml (outside the server root) and ruff.toml (outside the server root)"
    )
    assert str(root) not in reply.raw.decode() and "/usr/" not in reply.raw.decode()


@pytest.mark.parametrize(
    ("exc", "status"),
    [
        (RecursionError("maximum recursion depth exceeded"), 400),
        (OSError(errno.ENAMETOOLONG, "File name too long", "/tmp/" + "x" * 300), 400),
        (OSError(errno.ELOOP, "Too many levels of symbolic links", "/tmp/loop"), 403),
        (ValueError("Exceeds the limit (4300 digits) for integer string conversion"), 400),
        (UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"), 400),
        (KeyError("/tmp/secret"), 500),
    ],
)
async def test_bad_input_that_gets_past_the_checks_is_still_4xx(
    api: Api, root: Path, monkeypatch: pytest.MonkeyPatch, exc: Exception, status: int
) -> None:
    # the net under every layer: the request checks should have refused the input, and when
    # a layer below still chokes on it the answer is a 4xx, never a 500 (but for real bugs)
    def choke(self: Any, nb: Any) -> Any:
        raise exc

    monkeypatch.setattr(Linter, "lint_notebook", choke)
    reply = await api("POST", "nbops/lint", {"path": "sub/churn.ipynb"})
    assert reply.status == status, reply.body
    assert "/tmp" not in reply.raw.decode() and "Traceback" not in reply.raw.decode()
    assert reply.raw.startswith(b"{")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Symlink loop from '{root}/loop.ipynb'", "Symlink loop from 'loop.ipynb'"),
        ("cannot write {root}", "cannot write ."),
        ("see {root}2/x.ipynb", "see x.ipynb (outside the server root)"),
        ("bad /usr/lib/ruff.toml: line 2", "bad ruff.toml (outside the server root): line 2"),
        ("file:///etc/x.toml", "x.toml (outside the server root)"),
        ("token {token} in a URL", "token *** in a URL"),
        ("POST /nbops/runs, https://github.com/a/b, 1/2, and/or", None),  # left alone
    ],
)
def test_public_text(text: str, expected: str | None) -> None:
    from nbops.server.pool import public_text

    root = Path("/tmp/nbops-test/root_dir")
    token = "0123456789abcdef0123456789abcdef"
    given = text.format(root=root, token=token)
    assert public_text(root, given, (token,)) == (expected if expected is not None else given)


async def test_a_notebook_with_nan_and_lone_surrogates_gets_json_answers(
    api: Api, root: Path
) -> None:
    # Python's json reads NaN, Infinity and "\udcff" from a file; answers must still be JSON a
    # browser parses (NaN was sent as is, a lone surrogate failed the UTF-8 encoding: a 500)
    (root / "odd.ipynb").write_text(
        '{"cells": [{"cell_type": "code", "execution_count": null, "id": "c1", '
        '"metadata": {"tags": ["parameters"], "x": NaN}, "outputs": [], '
        '"source": "alpha = 0.5\\nname = \'\\udcff\'\\n"}], '
        '"metadata": {"w": Infinity}, "nbformat": 4, "nbformat_minor": 5}',
        encoding="utf-8",
    )

    def strict(name: str) -> None:
        raise AssertionError(f"{name} is not JSON")

    for method, endpoint in (("POST", "nbops/lint"), ("POST", "nbops/fix"),
                             ("POST", "nbops/check"), ("GET", "nbops/params")):  # fmt: skip
        reply = await _send_path(api, method, endpoint, "odd.ipynb", {})
        # 400 where the parameters cell's lone surrogate stops ast.parse (core: read_parameters)
        assert reply.status in (200, 400, 422), (endpoint, reply.body)
        json.loads(reply.raw, parse_constant=strict)
        reply.raw.decode("utf-8")


async def test_an_error_answer_that_cannot_be_built_is_still_json(
    api: Api, root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from nbops.server.handlers import NbopsHandler

    def unserializable(self: Any, exc: Any) -> Any:
        return None, {"extra": {1, 2}}  # a set: json.dumps fails inside write_error

    monkeypatch.setattr(NbopsHandler, "error_extra", unserializable)
    reply = await api("POST", "nbops/lint", {"path": "sub/missing.ipynb"})
    # the last resort: a generic JSON 500 (was tornado's empty answer, no JSON at all)
    assert reply.status == 500
    assert reply.body["error"] == "InternalError"
    assert "cannot build the error answer" in caplog.text
