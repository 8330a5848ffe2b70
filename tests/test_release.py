"""The release build (scripts/release_build.py) as a user gets it: built from a copy of this
checkout tagged ``v<version>``, installed from the wheel into fresh virtual environments (pip,
from the package index), the core only and then with ``[lab]``.

Core: ``nbops --version`` is the tag's version, ``nbops lint`` works on an example, ``nbops run``
says it needs ``nbops[run]`` (exit 3, no traceback) and no JupyterLab, jupyter_server,
papermill or MLflow is installed. With ``[lab]``: ``jupyter labextension list`` and ``jupyter
server extension list`` show nbops enabled. Both artifacts carry LICENSE and no ``*.orig`` or
screenshots (the script's checks, tested on their own too). A few minutes with a warm pip cache.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "release_build.py"
VERSION = "0.99.0"  # the tag of the temporary copy; no such tag is made in this checkout

pytestmark = pytest.mark.slow


def run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None,
        timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True,
                          check=False, timeout=timeout, env=env)


def clean_env(venv: Path | None = None) -> dict[str, str]:
    """No variables of this venv or pytest; ``venv`` first on PATH when given."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PYTEST_", "VIRTUAL_ENV", "PYTHONPATH", "NBOPS_", "JUPYTER_"))}
    if venv is not None:
        env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
        env["VIRTUAL_ENV"] = str(venv)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    return env


def plain(text: str) -> str:
    """``text`` without the colour codes jupyter's listings carry."""
    return re.sub(r"\x1b\[[0-9;]*m", "", text)


def without_node(top: Path) -> dict[str, str]:
    """A clean environment whose PATH has every program of this one but node and npm."""
    bin_dir = top / "bin-without-node"
    bin_dir.mkdir()
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        if not folder or not Path(folder).is_dir():
            continue
        for program in Path(folder).iterdir():
            if program.name in ("node", "nodejs", "npm", "npx", "corepack") or (bin_dir / program.name).exists():
                continue
            if program.is_file() and os.access(program, os.X_OK):
                (bin_dir / program.name).symlink_to(program)
    env = clean_env()
    env["PATH"] = str(bin_dir)
    assert shutil.which("npm", path=env["PATH"]) is None and shutil.which("git", path=env["PATH"])
    return env


def source_copy(dest: Path, prebuilt: bool = True) -> Path:
    """This checkout as a fresh clone with a release tag would have it: the tracked and the new
    (not ignored) files, committed and tagged; the prebuilt lab extension copied in as the
    sdist carries it (when it is there; otherwise the build runs npm)."""
    listed = run("git", "ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT)
    assert listed.returncode == 0, listed.stderr
    for name in filter(None, listed.stdout.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    built = ROOT / "src" / "nbops" / "labextension"
    if prebuilt and (built / "static").is_dir():
        shutil.copytree(built, dest / "src" / "nbops" / "labextension")
    env = clean_env() | {"GIT_AUTHOR_NAME": "R", "GIT_AUTHOR_EMAIL": "r@example.com",
                         "GIT_COMMITTER_NAME": "R", "GIT_COMMITTER_EMAIL": "r@example.com"}
    for argv in (["init", "--quiet"], ["add", "-A"], ["commit", "--quiet", "-m", "release"],
                 ["tag", f"v{VERSION}"]):
        done = run("git", *argv, cwd=dest, env=env)
        assert done.returncode == 0, done.stderr
    return dest


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Path]]:
    for tool in ("build", "twine"):
        pytest.importorskip(tool, reason=f"{tool} is in the test extra")
    top = tmp_path_factory.mktemp("release")
    source = source_copy(top / "nbops")
    done = run(sys.executable, SCRIPT, "--outdir", top / "dist", source, cwd=top, env=clean_env())
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"nbops {VERSION}: " in done.stdout
    yield next((top / "dist").glob("*.whl")), next((top / "dist").glob("*.tar.gz"))


def venv_with(top: Path, requirement: str) -> Path:
    venv = top / "venv"
    done = run(sys.executable, "-m", "venv", venv, cwd=top)
    assert done.returncode == 0, done.stderr
    done = run(venv / "bin" / "python", "-m", "pip", "install", "--quiet", requirement, cwd=top,
               env=clean_env(venv), timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return venv


def test_the_artifacts_carry_the_license_and_no_stray_files(release: tuple[Path, Path]) -> None:
    wheel, sdist = release
    assert wheel.name == f"nbops-{VERSION}-py3-none-any.whl" and sdist.name == f"nbops-{VERSION}.tar.gz"
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    assert f"nbops-{VERSION}.dist-info/licenses/LICENSE" in names
    with tarfile.open(sdist) as archive:
        tar_names = archive.getnames()
    assert f"nbops-{VERSION}/LICENSE" in tar_names and f"nbops-{VERSION}/hatch_build.py" in tar_names
    for name in names + tar_names:
        assert not name.endswith(".orig") and "screenshots" not in name, name


def test_the_core_install_lints_and_asks_for_the_run_extra(release: tuple[Path, Path], tmp_path: Path) -> None:
    wheel, _ = release
    venv = venv_with(tmp_path, str(wheel))
    env = clean_env(venv)
    nbops = venv / "bin" / "nbops"
    version = run(nbops, "--version", cwd=tmp_path, env=env)
    assert version.returncode == 0 and version.stdout.strip() == f"nbops {VERSION}", version.stdout
    installed = run(venv / "bin" / "python", "-m", "pip", "list", "--format=freeze", cwd=tmp_path, env=env)
    names = {line.split("==")[0].lower() for line in installed.stdout.split()}
    assert not names & {"jupyterlab", "jupyter-server", "jupyter_server", "papermill", "mlflow",
                        "mlflow-skinny", "ipykernel"}, names
    assert len(names - {"pip", "setuptools"}) <= 30, sorted(names)  # docs/packaging.md: the core
    shutil.copy(ROOT / "examples" / "churn_classifier.ipynb", tmp_path)
    lint = run(nbops, "lint", "churn_classifier.ipynb", cwd=tmp_path, env=env)
    assert lint.returncode == 1, lint.stdout + lint.stderr  # its findings, ruff's and black's among them
    assert "NB401" in lint.stdout and "Traceback" not in lint.stderr
    ran = run(nbops, "run", "churn_classifier.ipynb", cwd=tmp_path, env=env)
    assert ran.returncode == 3, ran.stdout + ran.stderr
    assert "nbops[run]" in ran.stderr and "Traceback" not in ran.stderr


def test_the_lab_extra_enables_both_extensions(release: tuple[Path, Path], tmp_path: Path) -> None:
    wheel, _ = release
    venv = venv_with(tmp_path, f"{wheel}[lab]")
    env = clean_env(venv)
    jupyter = venv / "bin" / "jupyter"
    lab = run(jupyter, "labextension", "list", cwd=tmp_path, env=env)
    listing = plain(lab.stdout + lab.stderr)
    assert lab.returncode == 0 and "@nbops/labextension" in listing, listing
    line = next(x for x in listing.splitlines() if "@nbops/labextension" in x)
    assert "enabled OK (python, nbops)" in line, line
    server = run(jupyter, "server", "extension", "list", cwd=tmp_path, env=env)
    listing = plain(server.stdout + server.stderr)
    assert server.returncode == 0 and "nbops enabled" in listing, listing
    assert f"nbops {VERSION} OK" in listing, listing


def test_the_release_checks_catch_what_must_not_ship(tmp_path: Path) -> None:
    """scripts/release_build.py's checks on hand-made artifacts: each fault is reported."""
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import release_build
    finally:
        sys.path.remove(str(SCRIPT.parent))
    wheel, sdist = tmp_path / "nbops-1.0-py3-none-any.whl", tmp_path / "nbops-1.0.tar.gz"
    with zipfile.ZipFile(wheel, "w") as archive:
        archive.writestr("nbops/__init__.py", "")
        archive.writestr("nbops-1.0.data/data/share/jupyter/labextensions/@nbops/labextension/package.json.orig", "")
    source = tmp_path / "nbops-1.0"
    (source / "docs" / "screenshots").mkdir(parents=True)
    (source / "docs" / "screenshots" / "a.png").write_bytes(b"")
    (source / "LICENSE").write_text("BSD")
    with tarfile.open(sdist, "w:gz") as archive:
        archive.add(source, arcname="nbops-1.0")
    found = "\n".join(release_build.problems(wheel, sdist))
    assert f"{wheel.name}: no LICENSE" in found and f"{sdist.name}: no LICENSE" not in found
    assert "package.json.orig" in found and "docs/screenshots/a.png" in found
    assert "server_config.d/nbops.json" in found and "no static/ files" in found


@pytest.fixture(scope="module")
def bare_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tagged copy as a fresh clone has it: the lab extension not built."""
    return source_copy(tmp_path_factory.mktemp("bare") / "nbops", prebuilt=False)


def test_a_build_without_node_skips_the_lab_extension_with_a_warning(bare_source: Path, tmp_path: Path) -> None:
    pytest.importorskip("build", reason="build is in the test extra")
    env = without_node(tmp_path)
    done = run(sys.executable, "-m", "build", "--wheel", "--outdir", tmp_path / "dist", bare_source,
               cwd=tmp_path, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "the JupyterLab extension is not built: npm (Node.js) is not on PATH" in done.stdout + done.stderr
    assert "jupyter-builder" not in done.stdout  # not even asked for as a build requirement
    with zipfile.ZipFile(next((tmp_path / "dist").glob(f"nbops-{VERSION}-*.whl"))) as archive:
        names = archive.namelist()
    assert "nbops/cli/main.py" in names and f"nbops-{VERSION}.dist-info/licenses/LICENSE" in names
    assert not any("labextensions" in name for name in names)
    assert any(name.endswith("jupyter_server_config.d/nbops.json") for name in names)


def test_the_pre_commit_hooks_install_and_run_without_node(bare_source: Path, tmp_path: Path) -> None:
    """pre-commit's first run of nbops' hooks from a tag, Node off PATH: the core only, and the
    time and size docs/packaging.md records (under 30 s and 100 MB on a warm pip cache)."""
    pytest.importorskip("pre_commit", reason="pre-commit is in the test extra")
    import time

    env = without_node(tmp_path)
    env["PRE_COMMIT_HOME"] = str(tmp_path / "pre-commit-home")
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy(ROOT / "examples" / "wine_classifier.ipynb", project)
    (project / ".pre-commit-config.yaml").write_text(
        f"repos:\n  - repo: {bare_source}\n    rev: v{VERSION}\n    hooks:\n      - id: nbops-lint\n")
    for argv in (["init", "--quiet"], ["add", "-A"]):
        assert run("git", *argv, cwd=project, env=env).returncode == 0
    started = time.monotonic()
    done = run(sys.executable, "-m", "pre_commit", "run", "--all-files", cwd=project, env=env)
    seconds = time.monotonic() - started
    assert done.returncode == 0 and "nbops lint" in done.stdout and "Passed" in done.stdout, done.stdout + done.stderr
    envs = list(Path(env["PRE_COMMIT_HOME"]).glob("repo*/py_env-*"))
    assert len(envs) == 1
    listed = run(envs[0] / "bin" / "python", "-m", "pip", "list", "--format=freeze", cwd=tmp_path, env=env)
    names = {line.split("==")[0].lower() for line in listed.stdout.split()}
    assert "nbops" in names and not names & {"jupyterlab", "jupyter-server", "papermill", "mlflow-skinny"}
    size = sum(f.stat().st_size for f in Path(env["PRE_COMMIT_HOME"]).rglob("*") if f.is_file())
    print(f"pre-commit first run without Node: {seconds:.1f} s, {size / 1e6:.0f} MB")
    assert size < 100e6 and seconds < 240, (seconds, size)  # 30 s on an idle machine; CI shares cores
