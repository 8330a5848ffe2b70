"""``nbops tracking-server`` for real: MLflow's server as a subprocess on a free port, a run
logged through it from another project (artifacts uploaded through the server), Ctrl-C."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from nbops.core.snippets import notebook_from_snippet

pytestmark = pytest.mark.slow
pytest.importorskip("flask")  # the server needs the full mlflow (nbops[ui])

NOTEBOOK = """
# %% tags=parameters
alpha = 0.5
# %%
import nbops
nbops.log_metric("score", alpha * 3)
"""


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    env.update(extra)
    return env


def _nbops(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbops", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=300, env=_env(**env), check=False)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _get(url: str, body: dict[str, Any] | None = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        raw = answer.read()
    return json.loads(raw) if body is not None or url.split("?")[0].endswith(
        ("search", "list")) else raw


def _marked(mark: str) -> set[int]:
    """Live processes whose environment holds ``mark`` (all of the server's descendants)."""
    found = set()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            if mark.encode() in environ.read_bytes():
                stat = Path(environ.parent / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if stat != "Z":
                    found.add(int(environ.parent.name))
    return found


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, subprocess.Popen[str], str, Path]]:
    """``nbops tracking-server`` in a project of its own, as a terminal starts it (its own
    process group, which Ctrl-C signals whole)."""
    root = tmp_path / "server"
    root.mkdir()
    (root / "pyproject.toml").write_text('[project]\nname = "team"\n')
    port = _free_port()
    mark = uuid.uuid4().hex
    proc = subprocess.Popen(
        [sys.executable, "-m", "nbops", "tracking-server", "--port", str(port)], cwd=root,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
        env=_env(NBOPS_TRACKING_SERVER_TEST=mark),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the tracking server never answered /health"
            with contextlib.suppress(OSError):
                if _get(f"{url}/health") == b"OK":
                    break
            time.sleep(0.3)
        yield url, proc, mark, root
    finally:
        for pid in _marked(mark):  # what a failed test leaves behind
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process tree from /proc")
def test_a_run_is_tracked_through_the_server_and_ctrl_c_stops_it(
    server: tuple[str, subprocess.Popen[str], str, Path], tmp_path: Path
) -> None:
    url, proc, mark, root = server
    client = tmp_path / "client"  # another project: it never sees the server's folders
    client.mkdir()
    (client / "pyproject.toml").write_text(f'[tool.nbops.run]\ntracking-uri = "{url}"\n')
    (client / "toy.ipynb").write_text(notebook_from_snippet(NOTEBOOK).dumps())

    by_config = _nbops(client, "run", "toy.ipynb", "-p", "alpha", "2", "--format", "json")
    assert by_config.returncode == 0, by_config.stdout + by_config.stderr
    (first,) = json.loads(by_config.stdout)["runs"]  # stdout is the report only
    by_env = _nbops(client, "run", "toy.ipynb", "-p", "alpha", "3", "--format", "json",
                    MLFLOW_TRACKING_URI=url)
    assert by_env.returncode == 0, by_env.stdout + by_env.stderr
    (second,) = json.loads(by_env.stdout)["runs"]

    experiments = _get(f"{url}/api/2.0/mlflow/experiments/search", {"max_results": 10})
    (toy,) = [e for e in experiments["experiments"] if e["name"] == "toy"]
    assert toy["artifact_location"].startswith("mlflow-artifacts:/")  # served, not a path
    found = _get(f"{url}/api/2.0/mlflow/runs/search", {"experiment_ids": [toy["experiment_id"]]})
    runs = {r["info"]["run_id"]: r for r in found["runs"]}
    assert set(runs) == {first["run_id"], second["run_id"]}
    run = runs[first["run_id"]]
    assert run["info"]["status"] == "FINISHED"
    assert {p["key"]: p["value"] for p in run["data"]["params"]}["alpha"] == "2.0"
    assert {m["key"]: m["value"] for m in run["data"]["metrics"]} == {"score": 6.0}

    listed = _get(f"{url}/api/2.0/mlflow/artifacts/list?run_id={first['run_id']}&path=notebook")
    (executed,) = [f["path"] for f in listed["files"] if f["path"].endswith(".ipynb")]
    served = run["info"]["artifact_uri"].removeprefix("mlflow-artifacts:/")
    notebook = json.loads(_get(f"{url}/api/2.0/mlflow-artifacts/artifacts/{served}/{executed}"))
    assert any("alpha = 2" in "".join(c["source"]) for c in notebook["cells"])
    assert (root / ".nbops" / "mlartifacts").is_dir()  # the server wrote it, not the client
    assert not (client / ".nbops" / "mlartifacts").exists()
    assert "tracking store: " + url in _nbops(client, "run", "toy.ipynb").stdout

    assert len(_marked(mark)) > 2  # nbops, mlflow server, its uvicorn workers
    os.killpg(proc.pid, signal.SIGINT)  # Ctrl-C in the terminal: the whole group
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert f'tracking-uri = "{url}"' in out and f"MLFLOW_TRACKING_URI={url}" in out
    deadline = time.monotonic() + 15
    while _marked(mark):
        assert time.monotonic() < deadline, "the server's workers outlived nbops"
        time.sleep(0.2)
    port = int(url.rsplit(":", 1)[1])
    with socket.socket() as s:  # nothing listens on the port any more
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_a_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _nbops(tmp_path, "tracking-server", "--port", str(port))
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in proc.stderr and "--port" in proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""


def test_an_unreadable_store_is_a_clear_error_with_a_relative_path(tmp_path: Path) -> None:
    (tmp_path / "runs.db").write_text("this is not a database\n" * 50)
    proc = _nbops(tmp_path, "tracking-server", "--port", str(_free_port()), "--store", "runs.db")
    assert proc.returncode == 2, proc.stderr
    assert "cannot open the tracking store runs.db" in proc.stderr
    assert str(tmp_path) not in proc.stderr and "Traceback" not in proc.stderr
