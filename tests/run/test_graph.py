"""Generated pipelines on Dask (nbops.run.graph): a real LocalCluster, real modules that
``nbops modularize`` wrote from small notebooks, the generated command line in a subprocess,
and ``nbops run --pipeline --executor dask`` tracked in a real MLflow store."""

from __future__ import annotations

import importlib
import json
import logging
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from nbops.core.snippets import notebook_from_snippet
from nbops.errors import NbopsError, UsageError
from nbops.modularize import ModularizeOptions, modularize
from nbops.run.graph import StepTiming, run_graph

pytestmark = pytest.mark.slow

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

BRANCHES = """
# %% tags=parameters
pause = 1.0
# %% [markdown]
# ## Data
# %%
import time
numbers = list(range(10))
# %% [markdown]
# ## Left
# %%
time.sleep(pause)
left = sum(numbers)
# %% [markdown]
# ## Right
# %%
time.sleep(pause)
right = max(numbers)
# %% [markdown]
# ## Combine
# %%
total = left + right
"""

GENERATOR = """
# %% [markdown]
# ## Squares
# %%
squares = (i * i for i in range(4))
# %% [markdown]
# ## Total
# %%
total = sum(squares)
"""

LOCK = """
# %% [markdown]
# ## Guard
# %%
import threading
guard = threading.Lock()
# %% [markdown]
# ## Count
# %%
with guard:
    count = 1
"""


def write_package(root: Path, package: str, source: str | Path) -> str:
    """Modularize a notebook (a snippet or a file) into ``root/src/<package>``; the module's
    import name."""
    folder = root / package
    folder.mkdir()
    if isinstance(source, Path):
        notebook = folder / source.name
        shutil.copy(source, notebook)
    else:
        notebook = folder / "analysis.ipynb"
        notebook.write_text(notebook_from_snippet(source).dumps(), encoding="utf-8")
    modularize(notebook, ModularizeOptions(package=package, out=root))
    return f"{package}.{notebook.stem}"


@pytest.fixture(scope="module")
def packages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The generated modules, importable here and (sys.path is handed to spawned workers)
    by the cluster's workers."""
    root = tmp_path_factory.mktemp("graph")
    names = {
        "wine": write_package(root, "graphwine", EXAMPLES / "wine_classifier.ipynb"),
        "branches": write_package(root, "graphbranches", BRANCHES),
        "generator": write_package(root, "graphgenerator", GENERATOR),
        "lock": write_package(root, "graphlock", LOCK),
        "src": str(root / "src"),
    }
    sys.path.insert(0, names["src"])
    try:
        yield names
    finally:
        sys.path.remove(names["src"])


@pytest.fixture(scope="module")
def client(packages: dict[str, str]) -> Iterator[Any]:
    """One LocalCluster for the module: two worker processes, one thread each."""
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None, silence_logs=logging.ERROR)
    with Client(cluster) as dask_client:
        yield dask_client
    cluster.close()


def module(name: str) -> ModuleType:
    return importlib.import_module(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_wine_pipeline_on_dask_returns_what_run_returns(packages: dict[str, str],
                                                             client: Any) -> None:
    import numpy as np
    import pandas as pd

    wine = module(packages["wine"])
    sequential_steps: list[str] = []
    sequential = wine.run({"C": 0.5}, on_step=lambda name, _: sequential_steps.append(name))
    steps: dict[str, dict[str, Any]] = {}
    on_dask = run_graph(wine, {"C": 0.5}, client=client,
                        on_step=lambda name, values: steps.setdefault(name, values))
    assert list(on_dask) == list(sequential)  # the same names, in the same order
    assert sorted(steps) == sorted(sequential_steps)
    pd.testing.assert_frame_equal(on_dask["features"], sequential["features"])
    pd.testing.assert_series_equal(on_dask["target"], sequential["target"])
    assert on_dask["accuracy"] == sequential["accuracy"]
    np.testing.assert_array_equal(on_dask["predictions"], sequential["predictions"])
    np.testing.assert_array_equal(on_dask["confusion_matrix_"], sequential["confusion_matrix_"])
    # the model trained on a worker predicts what the one trained here does
    np.testing.assert_array_equal(on_dask["model"].predict(sequential["features"]),
                                  sequential["model"].predict(sequential["features"]))
    assert steps["data"]["features"].shape == (178, 13)


def test_independent_branches_run_at_the_same_time(packages: dict[str, str],
                                                   client: Any) -> None:
    timings: dict[str, StepTiming] = {}
    result = run_graph(packages["branches"], {"pause": 1.0}, client=client,
                       on_timing=lambda t: timings.setdefault(t.step, t))
    assert result == module(packages["branches"]).run({"pause": 0.0})
    left, right = timings["left_step"], timings["right_step"]
    assert left.ended - left.started >= 1.0 and right.ended - right.started >= 1.0
    # both sleep 1 s: each started before the other ended, on two workers
    assert max(left.started, right.started) < min(left.ended, right.ended), timings
    assert left.worker != right.worker
    combine, data = timings["combine"], timings["data"]
    assert data.ended <= min(left.started, right.started)
    assert combine.started >= max(left.ended, right.ended)


@pytest.mark.parametrize(("kind", "step", "value", "reason"), [
    ("generator", "squares_step", "squares", "cannot pickle 'generator' object"),
    ("lock", "guard_step", "guard", "cannot pickle '_thread.lock' object"),
])
def test_a_value_dask_cannot_send_is_an_error_naming_the_step_and_the_value(
    packages: dict[str, str], client: Any, kind: str, step: str, value: str, reason: str,
) -> None:
    generated = module(packages[kind])
    steps = [s["name"] for s in generated.PIPELINE["steps"]]
    assert steps[0] == step, steps
    generated.run()  # fine in one process
    with pytest.raises(NbopsError) as caught:
        run_graph(generated, client=client)
    message = str(caught.value)
    assert f"step {step!r} returned {value!r}, which cannot be sent between Dask workers" in message
    assert reason in message and "without --executor dask" in message


def test_an_unreachable_scheduler_fails_before_any_step(packages: dict[str, str]) -> None:
    address = f"tcp://127.0.0.1:{free_port()}"
    ran: list[str] = []
    started = time.monotonic()
    with pytest.raises(UsageError, match="cannot reach the Dask scheduler at tcp://127.0.0.1"):
        run_graph(packages["branches"], client=address, on_step=lambda name, _: ran.append(name))
    assert time.monotonic() - started < 15
    assert ran == []


def test_parameters_are_checked_as_run_checks_them(packages: dict[str, str]) -> None:
    with pytest.raises(TypeError, match="unknown parameters: speed"):
        run_graph(packages["branches"], {"speed": 2}, client="tcp://127.0.0.1:1")


def generated_cli(packages: dict[str, str], *args: str,
                  python: str = sys.executable) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": packages["src"]}
    return subprocess.run([python, "-m", packages["branches"], *args], env=env,
                          capture_output=True, text=True, timeout=300, check=False)


def test_the_generated_module_runs_its_graph_on_dask_from_its_command_line(
        packages: dict[str, str]) -> None:
    local = generated_cli(packages, "--pause", "0.2")
    assert local.returncode == 0, local.stderr
    on_dask = generated_cli(packages, "--pause", "0.2", "--executor", "dask")
    assert on_dask.returncode == 0, on_dask.stderr
    assert on_dask.stdout == local.stdout
    assert "total: 54" in on_dask.stdout
    address = f"tcp://127.0.0.1:{free_port()}"
    down = generated_cli(packages, "--executor", "dask", "--scheduler", address)
    assert down.returncode == 2
    assert down.stderr.startswith(f"error: cannot reach the Dask scheduler at {address}")
    assert "Traceback" not in down.stderr
    assert down.stdout == ""


@pytest.mark.skipif(not Path("/usr/bin/python3").exists(), reason="needs a Python without nbops")
def test_the_generated_module_needs_nbops_only_for_dask(packages: dict[str, str]) -> None:
    python = "/usr/bin/python3"
    bare = subprocess.run([python, "-c", "import nbops"], capture_output=True, check=False)
    if bare.returncode == 0:
        pytest.skip("/usr/bin/python3 has nbops")
    plain = generated_cli(packages, "--pause", "0", python=python)
    assert plain.returncode == 0, plain.stderr
    assert "total: 54" in plain.stdout
    wanted = generated_cli(packages, "--executor", "dask", python=python)
    assert wanted.returncode == 2
    assert wanted.stderr == "--executor dask needs nbops with Dask: pip install 'nbops[dask]'\n"


def nbops_cli(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    return subprocess.run([sys.executable, "-m", "nbops", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=600, env=env, check=False)


def test_nbops_run_pipeline_on_dask_is_tracked(tmp_path: Path) -> None:
    from mlflow.tracking import MlflowClient

    (tmp_path / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    (tmp_path / "toy.ipynb").write_text(notebook_from_snippet(BRANCHES).dumps())
    assert nbops_cli(tmp_path, "modularize", "toy.ipynb").returncode == 0
    proc = nbops_cli(tmp_path, "run", "toy.ipynb", "--pipeline", "--executor", "dask",
                     "-p", "pause", "0.5", "--format", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    (run,) = json.loads(proc.stdout)["runs"]
    assert run["status"] == "FINISHED"
    assert run["metrics"]["total"] == 54.0
    tracked = MlflowClient(f"sqlite:///{tmp_path / '.nbops' / 'mlflow.db'}").get_run(run["run_id"])
    assert tracked.data.tags["nbops.kind"] == "pipeline"
    assert tracked.data.tags["nbops.executor"] == "dask"
    assert tracked.data.tags["nbops.scheduler"] == "local"
    # a scheduler nothing listens on: refused before a run is opened
    address = f"tcp://127.0.0.1:{free_port()}"
    down = nbops_cli(tmp_path, "run", "toy.ipynb", "--pipeline", "--executor", "dask",
                     "--scheduler", address)
    assert down.returncode == 2, down.stdout + down.stderr
    assert f"cannot reach the Dask scheduler at {address}" in down.stderr
    assert "Traceback" not in down.stderr
    runs = MlflowClient(f"sqlite:///{tmp_path / '.nbops' / 'mlflow.db'}").search_runs(
        [tracked.info.experiment_id])
    assert len(runs) == 1
