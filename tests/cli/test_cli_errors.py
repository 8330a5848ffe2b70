"""How the CLI prints an error: one line, the paths under the working directory relative."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def nbops(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbops", *args], cwd=cwd, capture_output=True,
                          text=True, check=False)


def test_a_config_error_names_the_pyproject_as_the_user_sees_it(tmp_path: Path) -> None:
    proj = tmp_path / "proj"
    proj.mkdir()
    (proj / "pyproject.toml").write_text('[tool.nbops]\nfail-on = "nope"\n', encoding="utf-8")
    inside = nbops(proj, "lint", ".")
    assert inside.returncode == 2
    assert inside.stderr.startswith("nbops: error: pyproject.toml: fail-on must be one of"), (
        inside.stderr
    )
    above = nbops(tmp_path, "lint", "proj")
    assert above.stderr.startswith("nbops: error: proj/pyproject.toml: fail-on"), above.stderr
    assert str(tmp_path) not in inside.stderr + above.stderr


def test_a_path_outside_the_working_directory_stays_whole(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "pyproject.toml").write_text('[tool.nbops]\nfail-on = 3\n', encoding="utf-8")
    out = nbops(tmp_path / "a", "lint", str(tmp_path / "b"))
    assert out.returncode == 2
    assert f"{tmp_path / 'b' / 'pyproject.toml'}: fail-on" in out.stderr, out.stderr


def test_the_fast_exit_does_not_wait_for_idle_thread_pools(tmp_path: Path) -> None:
    # an idle ThreadPoolExecutor's workers (MLflow keeps some) stop only at interpreter exit:
    # joining them first hung `nbops monitor` after it printed its error
    code = (
        "from concurrent.futures import ThreadPoolExecutor\n"
        "import threading\n"
        "from nbops.cli.main import _exit_now\n"
        "pool = ThreadPoolExecutor(2)\n"
        "pool.submit(lambda: None).result()\n"
        "done = []\n"
        "worker = threading.Thread(target=lambda: done.append(1))\n"
        "worker.start()\n"
        "import atexit\n"
        "atexit.register(lambda: print('atexit ran', flush=True))\n"
        "_exit_now(3)\n"
    )
    try:
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             timeout=60, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError("the fast exit hung on an idle thread pool") from exc
    assert out.returncode == 3, out.stderr
    assert out.stdout == "atexit ran\n"
