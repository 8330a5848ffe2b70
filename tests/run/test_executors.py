"""The executor registry, the options that choose an executor, and the dask executor's checks
that need no cluster."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nbops.config import load_config
from nbops.errors import ConfigError, UsageError
from nbops.run.executors import EXECUTORS, Executor, ExecutorOptions, ExecutorRegistry
from nbops.run.executors.dask import DaskExecutor, check_scheduler_store, is_local_address
from nbops.run.executors.local import LocalExecutor
from nbops.run.runner import RunSettings

PLUGIN = '''
from nbops.run.executors.base import Executor

class EchoExecutor(Executor):
    name = "echo"
    def run_notebook(self, notebook, parameters, settings, *, on_cell=None):
        raise NotImplementedError
    def run_sweep(self, notebook, parameter_sets, settings, *, progress=None):
        raise NotImplementedError
'''


def plugin(site: Path, entries: str) -> None:
    """A real installed distribution on ``site`` declaring ``entries`` in nbops.executors."""
    (site / "nbops_echo.py").write_text(PLUGIN)
    info = site / "nbops_echo-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: nbops-echo\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(f"[nbops.executors]\n{entries}\n")


def test_the_registry_lists_local_and_dask_and_gives_their_classes() -> None:
    assert {"local", "dask"} <= set(EXECUTORS.names())
    assert EXECUTORS.get("local") is LocalExecutor and EXECUTORS.get("dask") is DaskExecutor
    made = EXECUTORS.create("dask", ExecutorOptions(scheduler="tcp://h:8786", retries=2))
    assert isinstance(made, Executor) and made.options.retries == 2


def test_executors_load_from_entry_points(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plugin(tmp_path, "echo = nbops_echo:EchoExecutor\nbroken = nbops_missing_module:Nothing")
    monkeypatch.syspath_prepend(str(tmp_path))
    registry = ExecutorRegistry()
    with pytest.warns(RuntimeWarning, match="'broken'"):  # a broken plugin: skipped, said
        names = registry.names()
    assert "echo" in names and "broken" not in names
    assert registry.get("echo").__name__ == "EchoExecutor"


def test_an_unknown_executor_is_a_usage_error_naming_the_choices() -> None:
    with pytest.raises(UsageError) as caught:
        EXECUTORS.get("slurm")
    assert "slurm" in str(caught.value)
    assert "dask" in (caught.value.hint or "") and "local" in (caught.value.hint or "")


def nbops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    return subprocess.run([sys.executable, "-m", "nbops", *args], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=120, check=False)


def toy(root: Path, table: str = "") -> Path:
    (root / "pyproject.toml").write_text(f'[project]\nname = "toy"\n{table}')
    (root / "toy.ipynb").write_text(
        '{"cells": [], "metadata": {"kernelspec": {"name": "python3", "display_name": "P", '
        '"language": "python"}}, "nbformat": 4, "nbformat_minor": 5}'
    )
    return root


def test_the_cli_refuses_an_unknown_executor_and_a_scheduler_without_dask(tmp_path: Path) -> None:
    root = toy(tmp_path)
    proc = nbops(root, "run", "toy.ipynb", "--executor", "slurm")
    assert proc.returncode == 2 and "no executor named 'slurm'" in proc.stderr
    assert "dask, local" in proc.stderr and "Traceback" not in proc.stderr
    proc = nbops(root, "run", "toy.ipynb", "--scheduler", "tcp://h:8786")
    assert proc.returncode == 2 and "--executor dask" in proc.stderr
    root = toy(tmp_path, '[tool.nbops.run]\nexecutor = "ray"\n')
    proc = nbops(root, "run", "toy.ipynb")  # from the configuration too
    assert proc.returncode == 2 and "no executor named 'ray'" in proc.stderr
    assert not (root / "nbops-runs").exists()


def test_choosing_local_leaves_the_configured_scheduler_aside(tmp_path: Path) -> None:
    # [tool.nbops.run] executor = "dask" with a scheduler: `--executor local` (the Run tab's
    # "local") runs locally; only a scheduler given with it is refused
    from nbops.config import RunConfig
    from nbops.run.executors import choose_executor

    configured = RunConfig(executor="dask", scheduler="tcp://h:8786")
    assert choose_executor("local", None, configured) == (LocalExecutor, None)
    assert choose_executor(None, None, configured) == (DaskExecutor, "tcp://h:8786")
    assert choose_executor("dask", "tcp://k:1", configured) == (DaskExecutor, "tcp://k:1")
    with pytest.raises(UsageError, match="--scheduler is for the dask executor, not 'local'"):
        choose_executor("local", "tcp://h:8786", configured)
    root = toy(tmp_path, '[tool.nbops.run]\nexecutor = "dask"\nscheduler = "tcp://h:8786"\n')
    proc = nbops(root, "run", "toy.ipynb", "--executor", "local", "--format", "json")
    assert proc.returncode == 0 and "--scheduler is for" not in proc.stderr, proc.stderr


def test_the_run_table_sets_executor_scheduler_and_retries(tmp_path: Path) -> None:
    toy(tmp_path, '[tool.nbops.run]\nexecutor = "dask"\nscheduler = "tcp://h:8786"\n'
        'retries = 3\ntracking-uri = "http://h:5000"\n')
    run = load_config(tmp_path).run
    assert (run.executor, run.scheduler, run.retries) == ("dask", "tcp://h:8786", 3)
    toy(tmp_path)
    run = load_config(tmp_path).run
    assert (run.executor, run.scheduler, run.retries) == ("local", None, 1)


@pytest.mark.parametrize("table", ["retries = -1", "retries = true", "executor = 3",
                                   'scheduler = ""'])
def test_a_bad_run_table_is_a_config_error_naming_the_key(tmp_path: Path, table: str) -> None:
    toy(tmp_path, f"[tool.nbops]\n[tool.nbops.run]\n{table}\n")
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert f"[tool.nbops.run] {table.split()[0]}" in str(caught.value)


def test_which_scheduler_addresses_are_this_machine() -> None:
    assert is_local_address(None) and is_local_address("tcp://127.0.0.1:8786")
    assert is_local_address("localhost:8786") and is_local_address("inproc://x/1/2")
    assert not is_local_address("tcp://10.0.0.5:8786")
    assert not is_local_address("tls://scheduler.example.org:8786")


def test_a_local_store_is_refused_only_with_a_remote_scheduler(tmp_path: Path) -> None:
    def settings(uri: str) -> RunSettings:
        return RunSettings(tmp_path, tmp_path / "nbops-runs", "toy", tracking_uri=uri)

    sqlite = settings(f"sqlite:///{tmp_path}/.nbops/mlflow.db")
    check_scheduler_store(sqlite, None)
    check_scheduler_store(sqlite, "tcp://127.0.0.1:8786")
    check_scheduler_store(settings("http://tracking.example.org:5000"), "tcp://10.0.0.5:8786")
    for local in (sqlite, settings(str(tmp_path / "mlruns")), settings("file:///tmp/mlruns")):
        with pytest.raises(UsageError, match="cannot write"):
            check_scheduler_store(local, "tcp://10.0.0.5:8786")
