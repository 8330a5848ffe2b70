"""``POST /nbops/runs/validate`` on a real Jupyter server: the Run tab's form checked as
``POST /nbops/runs`` checks it, errors per field, the request to send; it writes nothing and
starts nothing. Every answer is checked against docs/rest-api.yaml by the ``api`` fixture
(conftest); a real run started with the returned request closes the loop.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from authz import NoKernels, ReadOnly, config_with
from jupyter_server.auth.authorizer import Authorizer
from traitlets.config import Config

import nbops.run.form
from nbops.core.snippets import notebook_from_snippet

VALIDATE, RUNS = "nbops/runs/validate", "nbops/runs"
TOY = "proj/toy.ipynb"
Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py

NOTEBOOK = """
# %% tags=parameters
alpha = 0.5  # smoothing
label = "x"
cols = [1, 2]
when = len("abc")  # computed
# %%
import nbops
nbops.log_metric("score", alpha * 2)
"""


@pytest.fixture
def proj(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``proj/`` in the server root: a project with the toy notebook, and a notebook without a
    parameters cell."""
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)  # the project's own store
    folder = root / "proj"
    folder.mkdir()
    (folder / "pyproject.toml").write_text('[project]\nname = "toy"\n', encoding="utf-8")
    (folder / "toy.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps(), encoding="utf-8")
    bare = notebook_from_snippet("# %%\nx = 1\n")
    (folder / "bare.ipynb").write_text(bare.dumps(), encoding="utf-8")
    return folder


def tree(folder: Path) -> set[Path]:
    return set(folder.rglob("*"))


async def validate(api: Api, body: dict[str, Any], status: int = 200) -> Any:
    reply = await api("POST", VALIDATE, body)
    assert reply.status == status, reply.body
    return reply.body


async def test_a_valid_run_and_the_defaults(api: Api, proj: Path) -> None:
    before = tree(proj)
    answer = await validate(api, {"path": TOY, "mode": "run", "fields": {
        "alpha": "0.5", "label": "y", "cols": "[1, 2]", "when": "len(\"abc\")",
    }})  # fmt: skip
    assert answer["ok"] and answer["errors"] == {} and answer["runs"] == 1
    assert answer["request"] == {"path": TOY, "parameters": {"label": "y"}}
    assert answer["fields"] == {
        "alpha": {"value": 0.5, "values": None, "changed": False},
        "label": {"value": "y", "values": None, "changed": True},
        "cols": {"value": [1, 2], "values": None, "changed": False},
        "when": {"value": "len(\"abc\")", "values": None, "changed": False},
    }
    assert tree(proj) == before  # nothing written, nothing started
    assert (await api("GET", RUNS, params={"path": TOY})).body["jobs"] == []


async def test_errors_per_field(api: Api, proj: Path) -> None:
    answer = await validate(api, {
        "path": "./proj//toy.ipynb", "mode": "sweep",
        "fields": {"alpha": "0.1, x", "cols": "[1,", "labl": "z"},
        "parallel": "99", "timeout": "-1", "kernel": "nosuch",
    })  # fmt: skip
    assert (answer["ok"], answer["request"], answer["runs"]) == (False, None, 0)
    errors = answer["errors"]
    assert errors["alpha"] == (
        "parameter 'alpha' expects a number (float), not 'x' (for example: -p alpha 0.5)"
    )
    assert errors["cols"].startswith("parameter 'cols' expects a list (list: JSON or a Python")
    assert errors["labl"] == (
        "unknown parameter 'labl' (did you mean 'label'?); the notebook's parameters: "
        "alpha, label, cols, when"
    )
    assert errors["parallel"] == "parallel runs must be a whole number from 1 to 64, not '99'"
    assert errors["timeout"].startswith("the cell timeout must be a number of seconds above 0")
    assert errors["kernel"].startswith("no Jupyter kernel named 'nosuch'")
    assert "python3" in errors["kernel"]  # the installed ones
    assert set(errors) == {"alpha", "cols", "labl", "parallel", "timeout", "kernel"}


async def test_a_sweep_of_one_value_is_a_form_error(api: Api, proj: Path) -> None:
    answer = await validate(api, {"path": TOY, "mode": "sweep", "fields": {"alpha": "0.2"}})
    assert answer["errors"] == {
        "": "a sweep needs at least one field with two or more values (separated by commas)"
    }
    assert answer["fields"]["alpha"] == {"value": 0.2, "values": [0.2], "changed": True}


async def test_no_parameters_cell(api: Api, proj: Path) -> None:
    bare = "proj/bare.ipynb"
    answer = await validate(api, {"path": bare, "mode": "run", "fields": {}})
    assert answer == {"ok": True, "errors": {}, "request": {"path": bare}, "runs": 1, "fields": {}}
    answer = await validate(api, {"path": bare, "mode": "run", "fields": {"x": "2"}})
    assert answer["errors"]["x"].startswith(
        "unknown parameter 'x': proj/bare.ipynb has no parameters cell"
    )


async def test_the_returned_request_runs_as_checked(api: Api, proj: Path) -> None:
    """The sweep's request, posted as it is to /nbops/runs, runs the values the form showed."""
    answer = await validate(api, {
        "path": TOY, "mode": "sweep", "fields": {"alpha": "0.25, 1", "label": '["a,b"]'},
        "parallel": "2", "timeout": "120", "kernel": " python3 ",
    })  # fmt: skip
    assert answer["ok"], answer["errors"]
    assert answer["request"] == {
        "path": TOY, "parameters": {"label": "a,b"}, "grid": {"alpha": ["0.25", "1"]},
        "parallel": 2, "kernel": "python3", "timeout": 120.0,
    }  # fmt: skip
    assert answer["runs"] == 2
    started = await api("POST", RUNS, answer["request"])
    assert started.status == 202, started.body
    job = started.body["job"]
    assert job["total"] == 2
    deadline = time.monotonic() + 240
    while job["state"] == "running":
        assert time.monotonic() < deadline, job
        await asyncio.sleep(0.3)
        job = (await api("GET", f"nbops/runs/jobs/{job['id']}")).body
    assert job["state"] == "finished", (job["error"], job["runs"])
    ran = sorted((r["parameters"]["alpha"], r["parameters"]["label"]) for r in job["runs"])
    assert ran == [(0.25, "a,b"), (1.0, "a,b")]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"mode": "run", "fields": {}}, "'path' is required"),
        ({"path": TOY, "fields": {}}, "'mode' must be \"run\", \"sweep\" or \"pipeline\", not None"),
        ({"path": TOY, "mode": "Run", "fields": {}}, "'mode' must be"),
        ({"path": TOY, "mode": "run"}, "'fields' must be an object of parameter names and texts"),
        ({"path": TOY, "mode": "run", "fields": ["alpha"]}, "'fields' must be an object"),
        ({"path": TOY, "mode": "run", "fields": {"alpha": 0.5}}, "'fields' must be an object"),
        ({"path": TOY, "mode": "run", "fields": {}, "parallel": 2}, "'parallel' must be a text"),
        ({"path": TOY, "mode": "run", "fields": {}, "timeout": 5}, "'timeout' must be a text"),
        ({"path": TOY, "mode": "run", "fields": {}, "kernel": False}, "'kernel' must be a text"),
        ({"path": TOY, "mode": "run", "fields": {}, "grid": {}}, "unknown field(s): grid"),
        ({"path": "proj/notes.txt", "mode": "run", "fields": {}}, "only .ipynb notebooks"),
    ],
)
async def test_bad_bodies_are_400(api: Api, proj: Path, body: dict[str, Any], words: str) -> None:
    reply = await api("POST", VALIDATE, body)
    assert reply.status == 400, reply.body
    assert words in reply.body["message"]


async def test_usual_errors(api: Api, root: Path, proj: Path, outside: Path) -> None:
    form = {"mode": "run", "fields": {}}
    assert (await api("POST", VALIDATE, raw=b"{nope")).status == 400
    assert (await api("POST", VALIDATE, {"path": TOY, **form}, auth=False)).status == 403
    (root / "escape.ipynb").symlink_to(outside / "secret.ipynb")
    for path in ("../x.ipynb", "/etc/x.ipynb", "escape.ipynb"):
        reply = await api("POST", VALIDATE, {"path": path, **form})
        assert reply.status == 403, (path, reply.body)
        assert str(outside) not in reply.raw.decode() and str(root) not in reply.raw.decode()
    missing = await api("POST", VALIDATE, {"path": "proj/missing.ipynb", **form})
    assert missing.status == 404 and missing.body["path"] == "proj/missing.ipynb"
    broken = await api("POST", VALIDATE, {"path": "broken.ipynb", **form})
    assert broken.status == 422 and broken.body["path"] == "broken.ipynb"


async def test_an_unparsable_parameters_cell_is_422(api: Api, root: Path) -> None:
    nb = notebook_from_snippet("# %% tags=parameters\nalpha = (\n")
    (root / "bad.ipynb").write_text(nb.dumps(), encoding="utf-8")
    reply = await api("POST", VALIDATE, {"path": "bad.ipynb", "mode": "run", "fields": {}})
    assert reply.status == 422, reply.body
    assert reply.body["error"] == "CellError" and reply.body["path"] == "bad.ipynb"
    assert "the parameters cell does not parse" in reply.body["message"]


HOSTILE_TEXTS = [
    "[" * 100_000,
    "[" * 5000 + "]" * 5000,
    "9" * 5000,
    "1e999",
    "-inf, nan, inf",
    "NaN",
    "Infinity",
    "\0",
    "\ud7ff\ue000",
    "x" * 200_000,
    ",",
    "{'a': {1, 2}}",
    "__import__('os').system('false')",
    "(" * 300 + ")" * 300,
]


@pytest.mark.parametrize("mode", ["run", "sweep"])
async def test_hostile_texts_get_answers_never_500(api: Api, proj: Path, mode: str) -> None:
    for text in HOSTILE_TEXTS:
        fields = {name: text for name in ("alpha", "label", "cols", "when")}
        reply = await api("POST", VALIDATE, {
            "path": TOY, "mode": mode, "fields": fields, "parallel": text, "timeout": text,
            "kernel": text,
        })  # fmt: skip
        assert reply.status == 200, (text[:40], reply.body)  # strict JSON: checked by `api`
        assert not reply.body["ok"]  # no hostile text is a valid parallel, timeout or kernel


async def test_an_internal_failure_is_the_generic_500(
    api: Api, proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("/secret/place broke")

    monkeypatch.setattr(nbops.run.form, "check_form", boom)
    reply = await api("POST", VALIDATE, {"path": TOY, "mode": "run", "fields": {}})
    assert reply.status == 500 and reply.body["error"] == "InternalError"
    assert "/secret" not in reply.raw.decode()


@pytest.mark.parametrize("authorizer", [NoKernels, ReadOnly])
class TestRestrictedUser:
    @pytest.fixture
    def jp_server_config(self, authorizer: type[Authorizer]) -> Config:
        return config_with(authorizer)

    async def test_may_check_a_form_it_may_not_run(self, api: Api, proj: Path) -> None:
        body = {"path": TOY, "mode": "run", "fields": {"alpha": "2"}}
        answer = await validate(api, body)
        assert answer["ok"] and answer["request"]["parameters"] == {"alpha": "2"}
        assert (await api("POST", RUNS, answer["request"])).status == 403


async def test_a_project_above_the_root_is_the_forms_error(
    api: Api, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # POST /nbops/runs refuses it (403): the form must not say ok and enable Run
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    (root.parent / "pyproject.toml").write_text('[project]\nname = "above"\n', encoding="utf-8")
    (root / "toy.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps(), encoding="utf-8")
    body = await validate(api, {"path": "toy.ipynb", "mode": "run", "fields": {"alpha": "0.7"}})
    assert body["ok"] is False and body["request"] is None and body["runs"] == 0
    assert "above the server root" in body["errors"][""]
    assert str(root.parent) not in str(body)
    assert not (root.parent / "nbops-runs").exists() and not (root.parent / ".nbops").exists()
    # a field's own error is still the field's
    body = await validate(api, {"path": "toy.ipynb", "mode": "run", "fields": {"alpha": "x"}})
    assert "alpha" in body["errors"] and "" not in body["errors"]


async def test_the_executor_and_scheduler_are_checked_as_the_cli_checks_them(
    api: Api, proj: Path
) -> None:
    before = tree(proj)
    run = {"path": TOY, "mode": "run", "fields": {}}
    answer = await validate(api, {**run, "executor": "dask", "scheduler": None})
    assert answer["ok"] and answer["request"] == {"path": TOY, "executor": "dask"}
    answer = await validate(api, {**run, "executor": "ray"})
    assert answer["errors"] == {"executor": "no executor named 'ray' (choose one of: dask, local)"}
    answer = await validate(api, {**run, "executor": "local", "scheduler": "tcp://h:8786"})
    assert answer["errors"] == {"scheduler": "--scheduler is for the dask executor, not 'local' "
                                "(add --executor dask (or leave out --scheduler))"}
    # a scheduler on another machine cannot write the project's SQLite store: the CLI's refusal
    answer = await validate(api, {**run, "executor": "dask", "scheduler": "tcp://10.9.8.7:8786"})
    message = answer["errors"]["scheduler"]
    assert message.startswith("the tracking store .nbops/mlflow.db is a file on this machine")
    assert "nbops tracking-server" in message and str(proj) not in message
    assert set(answer["errors"]) == {"scheduler"} and answer["request"] is None
    bad = await api("POST", VALIDATE, {**run, "executor": 3})
    assert bad.status == 400 and "'executor' must be a text" in bad.body["message"]
    assert tree(proj) == before  # nothing written, nothing started


async def test_the_projects_executor_is_the_forms_default(api: Api, proj: Path) -> None:
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "toy"\n[tool.nbops.run]\nexecutor = "dask"\n'
        'scheduler = "tcp://10.9.8.7:8786"\n', encoding="utf-8")
    answer = await validate(api, {"path": TOY, "mode": "run", "fields": {}})
    assert "tcp://10.9.8.7:8786" in answer["errors"]["scheduler"]  # the configured one
    answer = await validate(api, {"path": TOY, "mode": "run", "fields": {}, "executor": "local"})
    assert answer["ok"] and answer["request"] == {"path": TOY, "executor": "local"}
    (proj / "pyproject.toml").write_text(
        '[project]\nname = "toy"\n[tool.nbops.run]\nretries = -1\n', encoding="utf-8")
    answer = await validate(api, {"path": TOY, "mode": "run", "fields": {}})
    assert answer["errors"]["executor"].startswith(
        "proj/pyproject.toml: [tool.nbops.run] retries must be 0 or more")
    assert str(proj) not in answer["errors"]["executor"]


async def test_dask_not_installed_is_the_install_line(
    api: Api, proj: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed: no spec
    answer = await validate(api, {"path": TOY, "mode": "run", "fields": {}, "executor": "dask"})
    assert answer["errors"] == {"executor": "nbops run --executor dask needs the nbops[dask] "
                                "extra: Dask distributed is not installed (pip install "
                                "'nbops[dask]')"}
