"""Shared helpers of the modularize tests: build a notebook from a snippet, modularize it,
import the generated module, and run the notebook's cells top to bottom in-process."""

from __future__ import annotations

import copy
import importlib.util
import json
import subprocess
import sys
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any

from nbops.core.snippets import notebook_from_snippet
from nbops.modularize import ModularizeOptions, ModularizeResult, modularize
from nbops.tools import ruff_binary


def write_notebook(snippet: str, folder: Path, name: str = "analysis.ipynb") -> Path:
    nb = notebook_from_snippet(snippet)
    path = folder / name
    path.write_text(nb.dumps(), encoding="utf-8")
    return path


def make(snippet: str, folder: Path, **options: Any) -> tuple[ModularizeResult, str]:
    """Modularize ``snippet`` into ``folder`` (package ``pkg``); returns the result and the
    module's source."""
    path = write_notebook(snippet, folder)
    options.setdefault("package", "pkg")
    options.setdefault("out", folder)
    result = modularize(path, ModularizeOptions(**options))
    module = next(f for f in result.files if f.kind == "module")
    return result, module.content


def load_module(source: str, folder: Path) -> ModuleType:
    """Import generated source as a fresh module (its own name, so tests never collide)."""
    path = folder / f"generated_{uuid.uuid4().hex}.py"
    path.write_text(source, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module
    spec.loader.exec_module(module)
    return module


def undefined_names(source: str) -> list[str]:
    """ruff's F821 findings on the generated source."""
    proc = subprocess.run(
        [
            ruff_binary(),
            "check",
            "--isolated",
            "--select",
            "F821",
            "--output-format",
            "json",
            "--stdin-filename",
            "module.py",
            "-",
        ],
        input=source,
        capture_output=True,
        text=True,
        check=False,
    )
    return [item["message"] for item in json.loads(proc.stdout or "[]")]


def ruff_findings(source: str) -> list[str]:
    """Everything ruff's own default rules and issue 13's set (E,F,W,I,B,UP,SIM,N) find in
    the generated source (with both: ruff's defaults alone call an exemption of E501 unused)."""
    proc = subprocess.run(
        [ruff_binary(), "check", "--isolated", "--extend-select", "E,F,W,I,B,UP,SIM,N",
         "--output-format", "json", "--stdin-filename", "module.py", "-"],
        input=source, capture_output=True, text=True, check=False,
    )
    return [f"{item['code']} {item['message']}" for item in json.loads(proc.stdout or "[]")]


def snapshot(values: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, value in values.items():
        try:
            out[name] = copy.deepcopy(value)
        except Exception:  # noqa: BLE001
            out[name] = value
    return out


def run_notebook_cells(result: ModularizeResult) -> dict[str, dict[str, Any]]:
    """Execute the notebook's code cells top to bottom in one namespace (what a kernel does
    for plain Python) and snapshot each step's outputs and results after its last cell.
    """
    nb = result.plan.notebook
    namespace: dict[str, Any] = {"__name__": "__notebook__"}
    after = {max(s.cells): s for s in result.plan.steps}
    seen: dict[str, dict[str, Any]] = {}
    for cell in nb.code_cells:
        exec(
            compile(cell.source, f"<cell {cell.index}>", "exec"), namespace
        )  # noqa: S102
        step = after.get(cell.index)
        if step is not None:
            names = [*step.outputs, *step.results]
            seen[step.name] = snapshot({n: namespace[n] for n in names})
    return seen


def run_pipeline(module: ModuleType, **params: Any) -> dict[str, dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    module.run(
        params or None,
        on_step=lambda name, values: seen.__setitem__(name, snapshot(values)),
    )
    return seen
