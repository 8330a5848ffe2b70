"""``POST /nbops/modularize`` on a real Jupyter server: plan, write, conflicts, security.

Each answer is also checked against docs/rest-api.yaml by the ``api`` fixture (conftest).
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from authz import ReadOnly, config_with
from traitlets.config import Config

ROOT = Path(__file__).resolve().parents[2]
WINE = ROOT / "examples" / "wine_classifier.ipynb"
BAD = ROOT / "tests" / "notebooks" / "bad"
NOTEBOOK = "proj/wine_classifier.ipynb"
ENDPOINT = "nbops/modularize"

Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py

PLAN_KEYS = {
    "version",
    "notebook",
    "package",
    "module",
    "strategy",
    "dry_run",
    "written",
    "parameters",
    "steps",
    "functions",
    "globals_to_parameters",
    "requirements",
    "files",
    "problems",
}


def _tree(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` (symlinks not followed) with the hash of its content."""
    return {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.is_symlink()
    }


@pytest.fixture
def proj(root: Path) -> Path:
    """``proj/wine_classifier.ipynb`` in the server root (no pyproject.toml anywhere above)."""
    folder = root / "proj"
    folder.mkdir()
    shutil.copy(WINE, folder / "wine_classifier.ipynb")
    return folder


def _files(plan: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {f["kind"]: f for f in plan["files"]}


# --------------------------------------------------------------------------- plan and write


async def test_dry_run_returns_the_plan_and_writes_nothing(
    api: Api, root: Path, proj: Path
) -> None:
    before = _tree(root)
    reply = await api("POST", ENDPOINT, {"path": NOTEBOOK})  # dry_run defaults to true
    assert reply.status == 200, reply.body
    plan = reply.body
    assert set(plan) == PLAN_KEYS
    assert plan["notebook"] == NOTEBOOK
    assert plan["module"] == "wine_classifier"
    assert plan["package"] == "wine_classifier"  # no pyproject: the notebook's name
    assert plan["dry_run"] is True and plan["written"] is False
    assert plan["steps"], "the notebook has headings: one step per section"
    for step in plan["steps"]:
        assert step["name"] and isinstance(step["cells"], list)
        assert all(isinstance(c, int) and c >= 1 for c in step["cells"])
        assert all(isinstance(c, int) and c >= 1 for c in step["exploration"])
        assert isinstance(step["lines"], int) and step["lines"] >= 1
    # the first step returns a frozen dataclass of its two values, named with its fields
    data = plan["steps"][0]
    assert (data["returns"], data["fields"]) == ("DataResult", ["features", "target"])
    assert "SEED" in {p["name"] for p in plan["parameters"]}
    files = _files(plan)
    assert set(files) == {"module", "init", "tests", "notebook"}
    assert files["module"]["path"] == "proj/src/wine_classifier/wine_classifier.py"
    assert files["init"]["path"] == "proj/src/wine_classifier/__init__.py"
    assert files["tests"]["path"] == "proj/tests/test_wine_classifier.py"
    assert files["notebook"]["path"] == "proj/wine_classifier_slim.ipynb"
    assert {f["action"] for f in plan["files"]} == {"create"}
    assert str(root) not in reply.raw.decode()  # root-relative only
    assert _tree(root) == before
    explicit = await api("POST", ENDPOINT, {"path": NOTEBOOK, "dry_run": True, "force": True})
    assert explicit.body == plan
    assert _tree(root) == before


async def test_real_run_writes_the_files_of_the_plan(api: Api, root: Path, proj: Path) -> None:
    notebook_before = (proj / "wine_classifier.ipynb").read_bytes()
    plan = (await api("POST", ENDPOINT, {"path": NOTEBOOK})).body
    reply = await api("POST", ENDPOINT, {"path": NOTEBOOK, "dry_run": False})
    assert reply.status == 200, reply.body
    done = reply.body
    assert done["dry_run"] is False and done["written"] is True
    assert [f["path"] for f in done["files"]] == [f["path"] for f in plan["files"]]
    assert done["steps"] == plan["steps"]
    for entry in done["files"]:
        assert (root / entry["path"]).is_file(), entry
    module = (root / _files(done)["module"]["path"]).read_text(encoding="utf-8")
    assert "def run(" in module and "PIPELINE" in module
    assert (proj / "wine_classifier.ipynb").read_bytes() == notebook_before  # only read
    # nothing changed since: the next plan writes the same content again
    again = await api("POST", ENDPOINT, {"path": NOTEBOOK})
    assert {f["action"] for f in again.body["files"]} <= {"unchanged", "overwrite"}
    assert "conflict" not in {f["action"] for f in again.body["files"]}


async def test_package_and_out(api: Api, root: Path, proj: Path) -> None:
    body = {"path": NOTEBOOK, "package": "winelib", "out": "build/lib", "dry_run": False}
    reply = await api("POST", ENDPOINT, body)
    assert reply.status == 200, reply.body
    files = _files(reply.body)
    assert reply.body["package"] == "winelib"
    assert files["module"]["path"] == "build/lib/src/winelib/wine_classifier.py"
    assert files["tests"]["path"] == "build/lib/tests/test_wine_classifier.py"
    assert files["notebook"]["path"] == "build/lib/wine_classifier_slim.ipynb"  # under out
    assert (root / files["module"]["path"]).is_file()
    dot = await api("POST", ENDPOINT, {"path": NOTEBOOK, "out": ".", "package": "winelib"})
    assert _files(dot.body)["module"]["path"] == "src/winelib/wine_classifier.py"


async def test_conflict_is_409_with_the_plan_and_force_overwrites(
    api: Api, root: Path, proj: Path
) -> None:
    module = proj / "src" / "wine_classifier" / "wine_classifier.py"
    module.parent.mkdir(parents=True)
    module.write_text("# my own code, not nbops'\n", encoding="utf-8")
    plan = (await api("POST", ENDPOINT, {"path": NOTEBOOK})).body  # a dry run never raises
    actions = {f["kind"]: f["action"] for f in plan["files"]}
    assert actions["module"] == "conflict"
    before = _tree(root)

    reply = await api("POST", ENDPOINT, {"path": NOTEBOOK, "dry_run": False})
    assert reply.status == 409, reply.body
    assert reply.body["error"] == "ConflictError"
    assert reply.body["hint"]  # tells what to do (force)
    conflict = reply.body["plan"]
    assert set(conflict) == PLAN_KEYS
    assert conflict["written"] is False
    conflicted = [f["path"] for f in conflict["files"] if f["action"] == "conflict"]
    assert conflicted == ["proj/src/wine_classifier/wine_classifier.py"]
    assert str(root) not in reply.raw.decode()
    assert _tree(root) == before  # nothing written at all

    forced = await api("POST", ENDPOINT, {"path": NOTEBOOK, "dry_run": False, "force": True})
    assert forced.status == 200, forced.body
    assert forced.body["written"] is True
    assert "my own code" not in module.read_text(encoding="utf-8")


# --------------------------------------------------------------------------- errors


async def test_missing_notebook_is_404(api: Api, root: Path) -> None:
    reply = await api("POST", ENDPOINT, {"path": "proj/missing.ipynb", "dry_run": False})
    assert reply.status == 404
    assert reply.body["error"] == "NotFoundError"
    assert reply.body["path"] == "proj/missing.ipynb"
    assert not (root / "proj").exists()


async def test_unreadable_notebook_is_422(api: Api, root: Path) -> None:
    before = _tree(root)
    reply = await api("POST", ENDPOINT, {"path": "broken.ipynb", "dry_run": False})
    assert reply.status == 422
    assert reply.body["error"] == "NotebookReadError"
    assert _tree(root) == before


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({}, "'path' is required"),
        ({"path": "notes.txt"}, ".ipynb"),
        ({"path": NOTEBOOK, "dry_run": "no"}, "'dry_run'"),
        ({"path": NOTEBOOK, "force": 1}, "'force'"),
        ({"path": NOTEBOOK, "package": 3}, "'package'"),
        ({"path": NOTEBOOK, "package": " "}, "'package'"),
        ({"path": NOTEBOOK, "out": 3}, "'out'"),
        ({"path": NOTEBOOK, "out": ""}, "'out'"),
        ({"path": NOTEBOOK, "out": "proj/wine_classifier.ipynb"}, "not a folder"),
        ({"path": NOTEBOOK, "content": {}}, "unknown field"),
        ({"path": NOTEBOOK, "package": "not a name!"}, ""),  # modularize's own UsageError
    ],
)
async def test_bad_bodies_are_400(
    api: Api, root: Path, proj: Path, body: dict[str, Any], fragment: str
) -> None:
    before = _tree(root)
    reply = await api("POST", ENDPOINT, {"dry_run": False, **body})  # a bug would write
    assert reply.status == 400, reply.body
    assert reply.body["error"] == "UsageError"
    assert fragment in reply.body["message"] + (reply.body["hint"] or "")
    assert _tree(root) == before


# --------------------------------------------------------------------------- security


async def test_paths_leaving_the_root_are_403(
    api: Api, root: Path, proj: Path, outside: Path
) -> None:
    (root / "link.ipynb").symlink_to(outside / "secret.ipynb")
    (root / "linkdir").symlink_to(outside, target_is_directory=True)
    shutil.copy(WINE, outside / "wine.ipynb")
    outside_before = _tree(outside)
    root_before = _tree(root)
    bodies: list[dict[str, Any]] = [
        {"path": "../outside/wine.ipynb"},
        {"path": "proj/../../outside/wine.ipynb"},
        {"path": "..\\outside\\wine.ipynb"},
        {"path": str(outside / "wine.ipynb")},
        {"path": "link.ipynb"},
        {"path": "linkdir/wine.ipynb"},
        {"path": NOTEBOOK, "out": "../outside"},
        {"path": NOTEBOOK, "out": "proj/../../outside"},
        {"path": NOTEBOOK, "out": str(outside)},
        {"path": NOTEBOOK, "out": "linkdir"},
        {"path": NOTEBOOK, "out": "linkdir/deeper"},
    ]
    for body in bodies:
        for dry_run in (True, False):
            reply = await api("POST", ENDPOINT, {**body, "dry_run": dry_run, "force": True})
            assert reply.status == 403, (body, reply.body)
            assert reply.body["error"] == "AccessError"
            assert "plan" not in reply.body and "steps" not in reply.body
            text = reply.raw.decode()
            assert str(outside) not in text and str(root) not in text
    assert _tree(outside) == outside_before
    assert _tree(root) == root_before


async def test_a_symlinked_folder_in_the_way_is_403(
    api: Api, root: Path, proj: Path, outside: Path
) -> None:
    # out is inside the root, but its src/ leads out: checked before anything is written
    (proj / "src").symlink_to(outside, target_is_directory=True)
    before = _tree(outside)
    for dry_run in (True, False):
        reply = await api("POST", ENDPOINT, {"path": NOTEBOOK, "dry_run": dry_run})
        assert reply.status == 403, reply.body
        assert reply.body["error"] == "AccessError"
        assert "'out'" in reply.body["hint"]
    assert _tree(outside) == before
    assert not (proj / "wine_classifier_slim.ipynb").exists()


async def test_default_out_above_the_root_is_403_and_out_fixes_it(
    api: Api, root: Path, proj: Path
) -> None:
    # the nearest pyproject.toml (with [tool.nbops]) is above the server root: the default
    # out would leave it
    above = root.parent / "pyproject.toml"
    above.write_text('[project]\nname = "above"\n\n[tool.nbops]\n', encoding="utf-8")
    before = _tree(root.parent)
    for dry_run in (True, False):
        reply = await api("POST", ENDPOINT, {"path": NOTEBOOK, "dry_run": dry_run})
        assert reply.status == 403, reply.body
        assert reply.body["error"] == "AccessError"
        assert "'out'" in reply.body["hint"]
        assert str(root.parent) not in reply.raw.decode()
    assert _tree(root.parent) == before
    ok = await api("POST", ENDPOINT, {"path": NOTEBOOK, "out": "proj", "dry_run": False})
    assert ok.status == 200, ok.body
    assert all(not Path(f["path"]).is_absolute() for f in ok.body["files"])


async def test_unauthenticated_requests_get_403_and_write_nothing(
    api: Api, root: Path, proj: Path
) -> None:
    before = _tree(root)
    for headers in ({}, {"Authorization": "token wrong-token"}):
        reply = await api(
            "POST", ENDPOINT, {"path": NOTEBOOK, "dry_run": False}, auth=False, headers=headers
        )
        assert reply.status == 403, headers
        assert set(reply.body) == {"error", "message", "path", "cell", "hint", "status"}
        assert reply.body["error"] == "Forbidden"
    assert _tree(root) == before


async def test_cookie_login_posts_need_the_xsrf_token(
    api: Api,
    root: Path,
    proj: Path,
    jp_serverapp: Any,
    http_server_client: Any,
    jp_base_url: str,
) -> None:
    def cookies_of(response: Any) -> dict[str, str]:
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.get_list("Set-Cookie"):
            jar.load(header)
        return {k: v.value for k, v in jar.items()}

    form = await http_server_client.fetch(jp_base_url + "login", raise_error=False)
    xsrf = cookies_of(form)["_xsrf"]
    login = await http_server_client.fetch(
        jp_base_url + "login",
        method="POST",
        raise_error=False,
        follow_redirects=False,
        body=urlencode({"password": jp_serverapp.identity_provider.token, "_xsrf": xsrf}),
        headers={"Cookie": f"_xsrf={xsrf}"},
    )
    assert login.code == 302, login.code
    cookie = "; ".join(f"{k}={v}" for k, v in {"_xsrf": xsrf, **cookies_of(login)}.items())

    before = _tree(root)
    body = {"path": NOTEBOOK, "dry_run": False}
    refused = await api("POST", ENDPOINT, body, auth=False, headers={"Cookie": cookie})
    assert refused.status == 403
    assert "files" not in refused.body
    assert _tree(root) == before
    allowed = await api(
        "POST", ENDPOINT, body, auth=False, headers={"Cookie": cookie, "X-XSRFToken": xsrf}
    )
    assert allowed.status == 200, allowed.body
    assert allowed.body["written"] is True


class TestReadOnlyUser:
    @pytest.fixture
    def jp_server_config(self) -> Config:
        return config_with(ReadOnly)

    async def test_may_plan_but_not_write(self, api: Api, root: Path, proj: Path) -> None:
        before = _tree(root)
        plan = await api("POST", ENDPOINT, {"path": NOTEBOOK})
        assert plan.status == 200
        refused = await api("POST", ENDPOINT, {"path": NOTEBOOK, "dry_run": False})
        assert refused.status == 403
        assert refused.body["error"] == "Forbidden"
        assert "write" in refused.body["message"]
        assert _tree(root) == before
