"""Progress on stderr (nbops.progress) and what the long commands show with it: a tqdm bar on a
terminal (a real pseudo-terminal as the command's stderr), nothing through a pipe, ``nbops
run``'s JSON lines unchanged; and stderr without the other tools' noise (papermill's black
warning in sweeps, Starlette's deprecation under ``nbops ui``) while the user's own warnings
still show."""

from __future__ import annotations

import contextlib
import fcntl
import io
import json
import os
import pty
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import termios
import time
import urllib.request
from pathlib import Path

import pytest

from nbops.core.snippets import notebook_from_snippet
from nbops.progress import Progress, interactive

ROOT = Path(__file__).resolve().parents[1]

NOTEBOOK = """
# %% [markdown]
# Toy model
# %% tags=parameters
alpha = 0.5  # smoothing
n = 3
# %%
import warnings
score = alpha * n
warnings.warn("the user's own warning")
# %%
print(score)
"""


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


# --------------------------------------------------------------------------- the module


def test_json_lines_are_the_run_jobs_format_key_for_key() -> None:
    out = io.StringIO()
    progress = Progress("json", 3, unit="run", stream=out)
    progress.update(0, failed=0, running=2)
    progress.update(1, failed=1, running=1)
    progress.close()
    assert out.getvalue().splitlines() == [
        '{"done": 0, "failed": 0, "running": 2, "total": 3}',
        '{"done": 1, "failed": 1, "running": 1, "total": 3}',
    ]


def test_auto_draws_on_a_terminal_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "xterm")
    piped, terminal = io.StringIO(), _Terminal()
    for stream in (piped, terminal):
        progress = Progress("auto", 4, unit="cell", desc="toy", stream=stream)
        progress.update(2, desc="toy [x = 1]")
        progress.close()
    assert piped.getvalue() == ""
    assert "2/4" in terminal.getvalue() and "toy [x = 1]" in terminal.getvalue()
    quiet = _Terminal()
    Progress("none", 4, unit="cell", stream=quiet).update(1)
    assert quiet.getvalue() == ""


def test_a_dumb_terminal_gets_no_bar(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TERM", "dumb")
    assert not interactive(_Terminal())
    monkeypatch.setenv("TERM", "xterm")
    assert interactive(_Terminal()) and not interactive(io.StringIO())


# --------------------------------------------------------------------------- the commands


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    env["TERM"] = "xterm"
    return env


def _project(tmp_path: Path, snippet: str = NOTEBOOK, name: str = "toy.ipynb") -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    (tmp_path / name).write_text(notebook_from_snippet(snippet).dumps())
    return tmp_path


def on_terminal(cwd: Path, *args: str, timeout: float = 600) -> tuple[int, str, str]:
    """``nbops ARGS`` with a pseudo-terminal (100x30) as its stderr: exit code, stdout, what
    the terminal received."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))
    proc = subprocess.Popen([sys.executable, "-m", "nbops", *args], cwd=cwd, env=_env(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    received, quiet_since, deadline = bytearray(), 0.0, time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.1)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # every writer closed the terminal
                break
            if not chunk:
                break
            received += chunk
            quiet_since = 0.0
        elif proc.poll() is not None:  # ended: read what the terminal still holds
            quiet_since = quiet_since or time.monotonic()
            if time.monotonic() - quiet_since > 2:
                break
    assert proc.stdout is not None
    out = proc.stdout.read().decode()
    code = proc.wait(timeout=60)
    os.close(master)
    return code, out, received.decode("utf-8", "replace")


def piped(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbops", *args], cwd=cwd, env=_env(),
                          capture_output=True, text=True, timeout=600, check=False)


@pytest.mark.slow
def test_a_run_shows_a_bar_per_cell_on_a_terminal_and_nothing_through_a_pipe(tmp_path: Path) -> None:
    root = _project(tmp_path)
    code, out, terminal = on_terminal(root, "run", "toy.ipynb", "-p", "alpha", "2")
    assert code == 0, out + terminal
    # 5 cells: the notebook's 4 and the injected parameters; the running cell's first line
    assert "5/5" in terminal and "cell/s" in terminal
    assert "toy.ipynb [print(score)]" in terminal
    proc = piped(root, "run", "toy.ipynb", "-p", "alpha", "3")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # no bar, no warning of any tool
    # the user's own warning is still where it was: in the executed notebook
    executed = json.loads(Path(proc.stdout.split("executed notebook: ")[1].split()[0]).read_text())
    streams = [o for c in executed["cells"] for o in c.get("outputs", []) if o.get("name") == "stderr"]
    assert any("UserWarning: the user's own warning" in "".join(o["text"]) for o in streams)


@pytest.mark.slow
def test_a_sweep_shows_a_bar_per_run_and_no_black_warning(tmp_path: Path) -> None:
    pytest.importorskip("black")  # papermill formats the parameters with it when installed
    root = _project(tmp_path)
    code, out, terminal = on_terminal(root, "run", "toy.ipynb", "--grid", "n=1,2,3", "--parallel", "3")
    assert code == 0, out + terminal
    assert "3/3" in terminal and "failed=0" in terminal and "run/s" in terminal
    assert "Black encountered an error" not in terminal
    assert "[####" not in terminal  # the hand-made bar is gone
    proc = piped(root, "run", "toy.ipynb", "--grid", "n=4,5", "--parallel", "2")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""


@pytest.mark.slow
def test_progress_json_is_unchanged_for_single_runs_and_sweeps(tmp_path: Path) -> None:
    root = _project(tmp_path)
    single = piped(root, "run", "toy.ipynb", "--progress", "json")
    assert single.stderr.splitlines() == [
        '{"done": 0, "failed": 0, "running": 1, "total": 1}',
        '{"done": 1, "failed": 0, "running": 0, "total": 1}',
    ]
    sweep = piped(root, "run", "toy.ipynb", "--grid", "n=1,2", "--progress", "json")
    lines = [json.loads(line) for line in sweep.stderr.splitlines()]
    assert lines and all(list(line) == ["done", "failed", "running", "total"] for line in lines)
    assert lines[-1] == {"done": 2, "failed": 0, "running": 0, "total": 2}
    quiet = piped(root, "run", "toy.ipynb", "--grid", "n=1,2", "--progress", "bar")  # the old name
    assert quiet.returncode == 0 and quiet.stderr == ""


VERIFIED = """
# %% tags=parameters
n = 4
# %% [markdown]
## Make
# %%
base = list(range(n))
# %% [markdown]
## Summarise
# %%
total = sum(base)
print(total)
"""


@pytest.mark.slow
def test_verify_shows_its_steps(tmp_path: Path) -> None:
    root = _project(tmp_path, VERIFIED, "analysis.ipynb")
    code, out, terminal = on_terminal(root, "verify", "analysis.ipynb", "--package", "pkg")
    assert code == 0, out + terminal
    assert "running the notebook" in terminal and "5/5" in terminal and "step/s" in terminal
    proc = piped(root, "verify", "analysis.ipynb", "--package", "pkg", "--progress", "json")
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert [line["current"] for line in lines] == [
        "planning", "running the pipeline", "running the notebook", "comparing outputs",
        "running the slim notebook", "compared"]
    assert lines[-1]["done"] == lines[-1]["total"] == 5


@pytest.mark.slow
def test_hackathon_scoring_shows_teams_and_components(tmp_path: Path) -> None:
    copy = tmp_path / "hackathon"
    shutil.copytree(ROOT / "examples" / "hackathon", copy,
                    ignore=shutil.ignore_patterns(".nbops", "__pycache__"))
    code, out, terminal = on_terminal(copy, "hackathon", "score", "submissions/weak",
                                      "--team", "weak", "--no-save")
    assert code in (0, 1), out + terminal
    assert "weak: Tests passing" in terminal and "7/7" in terminal and "component/s" in terminal
    assert "weak:" in out  # the scorecard on stdout as before


@pytest.mark.slow
def test_nbops_ui_stderr_has_no_starlette_deprecation(tmp_path: Path) -> None:
    root = _project(tmp_path)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    err = tmp_path / "ui.err"
    with open(err, "wb") as stderr:
        proc = subprocess.Popen([sys.executable, "-m", "nbops", "ui", "--port", str(port)],
                                cwd=root, env=_env(), stdout=subprocess.DEVNULL, stderr=stderr)
    try:
        deadline = time.monotonic() + 180
        while True:  # the server's workers answer (they import the app, and warned doing so)
            assert proc.poll() is None and time.monotonic() < deadline, err.read_text()
            with contextlib.suppress(OSError), urllib.request.urlopen(
                f"http://127.0.0.1:{port}/health", timeout=5
            ):
                break
            time.sleep(0.5)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    text = err.read_text()
    assert "Uvicorn running" in text or "Listening" in text or "Started" in text, text
    assert "StarletteDeprecationWarning" not in text and "DeprecationWarning" not in text, text
