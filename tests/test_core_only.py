"""The light core: nbops with only its core dependencies (nbformat, ruff, black, tqdm).

``test_core_imports_no_heavy_module`` runs in this environment: importing the CLI and the core
packages loads none of the extras' packages. The slow tests build a fresh virtual environment
once (the core dependencies from the package index, nbops itself through a ``.pth`` file
pointing at ``src/``, no other dependency) and run the commands there as a user of
``pip install nbops`` would: the core commands work, the others exit 3 with the install line
before doing anything.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
CORE = ["nbformat", "ruff", "black", "tqdm"] + (["tomli", "typing_extensions"]
                                                if sys.version_info < (3, 11) else [])
HEAVY = ["jupyter_server", "jupyterlab", "papermill", "mlflow", "ipykernel", "nbclient",
         "ipywidgets", "IPython", "tornado", "jupyter_client", "zmq", "yaml", "pandas"]
IMPORT_CORE = ("import sys, json, nbops, nbops.cli.main, nbops.lint, nbops.modularize, "
               "nbops.review, nbops.extras; nbops.cli.main.build_parser(); "
               f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))")


def test_core_imports_no_heavy_module() -> None:
    proc = subprocess.run([sys.executable, "-c", IMPORT_CORE], capture_output=True, text=True,
                          check=True, timeout=120)
    assert json.loads(proc.stdout) == []


# --------------------------------------------------------------------------- a core-only venv


@pytest.fixture(scope="session")
def core_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv with the core dependencies only, and nbops from src/ (a .pth file)."""
    venv = tmp_path_factory.mktemp("core") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", *CORE], check=True,
                   timeout=600)
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True, text=True, check=True,
    ).stdout.strip()
    (Path(purelib) / "nbops_src.pth").write_text(str(ROOT / "src") + "\n", encoding="utf-8")
    return python


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in ("wine_classifier.ipynb", "churn_classifier.ipynb"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    return tmp_path


def _nbops(python: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PYTHONNOUSERSITE"] = "1"
    proc = subprocess.run([str(python), "-m", "nbops", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=180, env=env, check=False)
    assert "Traceback" not in proc.stderr, proc.stderr
    assert "internal error" not in proc.stderr, proc.stderr
    return proc


def _files(folder: Path) -> dict[str, float]:
    return {str(p.relative_to(folder)): p.stat().st_mtime for p in folder.rglob("*")
            if ".git" not in p.parts}


@pytest.mark.slow
def test_the_core_venv_has_no_extra(core_python: Path) -> None:
    proc = subprocess.run([str(core_python), "-c", IMPORT_CORE], capture_output=True, text=True,
                          check=True, timeout=120)
    assert json.loads(proc.stdout) == []
    probe = "import importlib.util as u; print([m for m in %r if u.find_spec(m)])" % HEAVY
    found = subprocess.run([str(core_python), "-c", probe], capture_output=True, text=True,
                           check=True).stdout.strip()
    assert found == "[]", f"not a core-only environment: {found}"


@pytest.mark.slow
def test_core_commands_work_without_the_extras(core_python: Path, project: Path) -> None:
    lint = _nbops(core_python, project, "lint", "churn_classifier.ipynb", "--format", "json")
    assert lint.returncode == 1, lint.stderr  # the churn example has errors
    codes = {d["code"] for d in json.loads(lint.stdout)["diagnostics"]}
    assert "FMT001" in codes and "F401" in codes  # black and ruff both ran
    assert _nbops(core_python, project, "lint", "wine_classifier.ipynb").returncode == 0
    assert _nbops(core_python, project, "fix", "churn_classifier.ipynb").returncode == 0
    assert _nbops(core_python, project, "rules").returncode == 0
    params = _nbops(core_python, project, "params", "wine_classifier.ipynb")
    assert params.returncode == 0 and "TEST_SIZE" in params.stdout
    modularize = _nbops(core_python, project, "modularize", "churn_classifier.ipynb")
    assert modularize.returncode == 0, modularize.stderr
    assert (project / "tests" / "test_churn_classifier.py").is_file()
    check = _nbops(core_python, project, "check", "wine_classifier.ipynb")
    assert check.returncode in (0, 1) and "lint" in check.stdout, check.stderr
    init = _nbops(core_python, project, "init")
    assert init.returncode == 0, init.stderr
    assert (project / ".pre-commit-config.yaml").is_file()


@pytest.mark.slow
def test_core_lint_formats_cells_without_ipython(core_python: Path, project: Path) -> None:
    # black's own notebook mode needs black[jupyter] (IPython, tokenize-rt): not in the core
    lint = _nbops(core_python, project, "lint", "churn_classifier.ipynb", "--format", "json")
    messages = [d["message"] for d in json.loads(lint.stdout)["diagnostics"]]
    assert not [m for m in messages if "could not format" in m], messages


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "extra"),
    [
        (["run", "wine_classifier.ipynb", "-p", "SEED", "1"], "run"),
        (["run", "wine_classifier.ipynb", "--grid", "SEED=1,2"], "run"),
        (["runs"], "run"),
        (["runs", "compare", "a", "b"], "run"),
        (["promote", "abc", "--model", "m"], "run"),
        (["release", "wine_classifier.ipynb", "--model", "m"], "run"),
        (["ui"], "ui"),
        (["tracking-server"], "ui"),
        (["verify", "churn_classifier.ipynb"], "run"),
        (["hackathon", "score", "--exercise", "."], "run"),
        (["hackathon", "status", "."], "run"),
    ],
    ids=lambda v: " ".join(v) if isinstance(v, list) else v,
)
def test_commands_that_need_an_extra_say_so_first(
    core_python: Path, project: Path, args: list[str], extra: str
) -> None:
    before = _files(project)
    proc = _nbops(core_python, project, *args)
    assert proc.returncode == 3, proc.stdout + proc.stderr
    assert f"pip install 'nbops[{extra}]'" in proc.stderr
    assert f"nbops {args[0]}" in proc.stderr  # names the command
    assert proc.stdout == ""
    assert _files(project) == before  # nothing written
