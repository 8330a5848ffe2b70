"""How the server extension is packaged: found and enabled by Jupyter, invisible to the rest of nbops."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from pathlib import Path

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "nbops"


def test_extension_points_name_the_server_package() -> None:
    import nbops
    from nbops.server.app import NbopsExtension

    assert nbops._jupyter_server_extension_points() == [
        {"module": "nbops.server", "app": NbopsExtension}
    ]
    assert NbopsExtension.name == "nbops"


def test_only_the_hooks_import_the_server_package() -> None:
    offenders = []
    for file in SRC.rglob("*.py"):
        if file.is_relative_to(SRC / "server"):
            continue
        tree = ast.parse(file.read_text(encoding="utf-8"))
        hooks = {
            id(node)
            for fn in ast.walk(tree)
            if isinstance(fn, ast.FunctionDef) and fn.name.startswith("_jupyter_server_extension")
            for node in ast.walk(fn)
        }
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            imports_server = any(n == "nbops.server" or n.startswith("nbops.server.") for n in names)
            if imports_server and not (file == SRC / "__init__.py" and id(node) in hooks):
                offenders.append(f"{file.relative_to(ROOT)}:{node.lineno}")
    assert offenders == []


def test_nbops_works_without_jupyter_server() -> None:
    code = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("jupyter_server", "tornado", "jupyterlab"):
            raise ImportError("blocked: " + name)
sys.meta_path.insert(0, Block())
import nbops, nbops.cli.main, nbops.lint.engine, nbops.lint.fix, nbops.lint.report
assert nbops.cli.main.main(["rules", "--format", "json"]) == 0
assert "nbops.server" not in sys.modules and "jupyter_server" not in sys.modules
"""
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)[0]["code"] == "NB001"


def test_wheel_ships_the_enabling_config() -> None:
    config = json.loads((ROOT / "jupyter-config" / "server-config" / "nbops.json").read_text())
    assert config == {"ServerApp": {"jpserver_extensions": {"nbops": True}}}
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shared = pyproject["tool"]["hatch"]["build"]["targets"]["wheel"]["shared-data"]
    assert shared["jupyter-config/server-config/nbops.json"] == (
        "etc/jupyter/jupyter_server_config.d/nbops.json"
    )
    # the server extension comes with the lab extra (the core has no jupyter_server)
    assert "jupyter_server>=2" in pyproject["project"]["optional-dependencies"]["lab"]
    assert not any("jupyter" in d for d in pyproject["project"]["dependencies"])


def test_jupyter_lists_the_extension_enabled() -> None:
    # true for `pip install -e .` (hatchling installs shared-data for editable installs too)
    # and for a wheel; see docs/server.md for checkouts that are not installed
    proc = subprocess.run(
        [sys.executable, "-m", "jupyter", "server", "extension", "list"],
        capture_output=True, text=True, timeout=120, check=False,
    )
    out = re.sub(r"\x1b\[[0-9;]*m", "", proc.stdout + proc.stderr)
    assert re.search(r"^\s*nbops enabled\s*$", out, re.MULTILINE), out
    assert re.search(r"nbops \S+ OK", out), out
