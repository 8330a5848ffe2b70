"""Build the slim notebook: the narrative markdown and the exploration kept, the library
code replaced by step calls.

The slim notebook imports the generated module (from ``src/`` when the package is not
installed), keeps the parameters cell (so papermill still injects parameters), and has one
code cell per step, where the step's first cell was, binding the same names the notebook
bound. The exploration the library left out (:mod:`nbops.modularize.slicing`: whole cells of
displays and plots, the displays at the end of a cell, a shown score kept under a name)
follows where it was, as the notebook wrote it, and shows the same from the library's
results. Outputs are cleared. Each code cell that stands for cells of the notebook names them
in its metadata (``nbops_cells``), for ``nbops verify``.
"""

from __future__ import annotations

import ast
import copy
import json
import os
from pathlib import Path
from typing import Any

from nbops.core.notebook import Notebook
from nbops.modularize.displays import SOURCE_CELLS_KEY  # the original cells a cell stands for
from nbops.modularize.plan import (
    ModulePlan,
    bound_by_import_block,
    has_body,
    python_lines,
    result_variable,
)
from nbops.modularize.secrets import scrub

__all__ = ["SOURCE_CELLS_KEY", "slim_notebook"]


def _code(source: str, tags: list[str] | None = None, cells: list[int] | None = None) -> dict[str, Any]:
    metadata: dict[str, Any] = {"tags": tags} if tags else {}
    if cells:  # 1-based, as the pipeline names cells
        metadata[SOURCE_CELLS_KEY] = [c + 1 for c in cells]
    cell: dict[str, Any] = {
        "cell_type": "code",
        "execution_count": None,
        "metadata": metadata,
        "outputs": [],
        "source": source,
    }
    return cell


def step_call(plan: ModulePlan, index: int) -> str:
    """The code line calling step ``index`` with the notebook's own names."""
    step = plan.steps[index]
    args = list(step.inputs) + [f"{plan.local(p)}={p}" for p in step.parameters]
    call = ("await " if step.is_async else "") + f"{step.name}({', '.join(args)})"
    returned = [*step.outputs, *step.results]
    if step.returns:  # a dataclass: its values under the notebook's names, by attribute
        holder = result_variable(plan, step, (s.name for s in plan.steps))
        return "\n".join([f"{holder} = {call}", *(f"{n} = {holder}.{plan.local(n)}" for n in returned)])
    return f"{returned[0]} = {call}" if returned else call


def _statement_text(plan: ModulePlan, index: int, explored: bool, head: bool = False) -> str:
    """What the slim notebook keeps of code cell ``index``: its slim statements as the
    notebook wrote them (the comments above them too), then the captured value's name;
    ``head``: its leading slim statements only (shown before the step's call)."""
    symbols = plan.flow.symbols.get(index)
    cell = plan.notebook.cells[index]
    if symbols is None:
        return ""
    if (
        symbols.tree is None
        or (symbols.source.cell_magic is not None and not symbols.source.body_is_python)
        or (symbols.source.cell_magic is not None and symbols.source.cell_magic.name == "capture")
    ):  # %%html, %%javascript, %%capture...: as written (the capture hides what the cell prints)
        return scrub(cell.source) if explored else ""
    lines = python_lines(cell.source)
    hoisted = plan.hoisted.get(index, set())
    body = symbols.tree.body
    if head:
        slim = set(plan.sliced.heads.get(index, ()))
    elif explored:
        slim = {id(s) for s in body if id(s) not in hoisted}
    else:
        slim = set(plan.sliced.tails.get(index, ()))
    parts: list[str] = []
    prev_end = 0
    for stmt in body:
        end = stmt.end_lineno or stmt.lineno
        if id(stmt) in slim:
            first = prev_end + 1 if not parts or prev_end else stmt.lineno
            parts.append("\n".join(lines[first - 1 : end]).strip("\n"))
        prev_end = end
    captured = plan.sliced.captured.get(index)
    if captured is not None and not head:
        parts.append(captured[1])
    if index in plan.sliced.echo and not head:
        parts.append(plan.sliced.echo[index])
    return scrub("\n".join(p for p in parts if p.strip()))


# line magics that set up how the kernel shows things (the inline backend, its formats,
# pylab's names, IPython extensions): the slim notebook runs them as the notebook did
_SETUP_MAGICS = frozenset({"matplotlib", "pylab", "config", "load_ext"})


def _setup_magics(plan: ModulePlan, index: int) -> str:
    """Cell ``index``'s display set-up magics (``%matplotlib inline``), one a line: the slim
    notebook runs them where the notebook did (secrets never copied)."""
    symbols = plan.flow.symbols.get(index)
    if symbols is None or index in plan.sliced.explored:
        return ""  # an explored cell is copied whole, its magics with it
    found: list[str] = []
    for magic in symbols.source.magics:
        text = magic.text.strip()
        if magic.kind == "line_magic" and magic.name in _SETUP_MAGICS and "\n" not in text and scrub(text) == text:
            found.append(text)
    return "\n".join(found)


def _slim_imports(plan: ModulePlan) -> tuple[list[str], list[str]]:
    """The notebook's import statements and the names of its functions (now the module's)
    that the kept exploration reads."""
    reads = plan.sliced.all_reads()
    imports: list[str] = []
    functions: list[str] = []
    for index in sorted(plan.hoisted):
        ids = plan.hoisted[index]
        symbols = plan.flow.symbols.get(index)
        if symbols is None or symbols.tree is None:
            continue
        lines = python_lines(plan.notebook.cells[index].source)
        for stmt in symbols.tree.body:
            if id(stmt) not in ids:
                continue
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                if bound_by_import_block(stmt) & reads:
                    text = "\n".join(lines[stmt.lineno - 1 : stmt.end_lineno or stmt.lineno]).strip()
                    if text not in imports:
                        imports.append(text)
            elif (
                isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                and stmt.name in reads
                and stmt.name in plan.functions
            ):
                functions.append(stmt.name)
    return imports, functions


def slim_notebook(
    plan: ModulePlan,
    *,
    package: str,
    module: str,
    src_dir: Path,
    notebook_dir: Path,
    logs: bool = False,
) -> str:
    """The slim notebook as JSON text (nbformat 4); ``logs``: the module logs the notebook's
    progress prints, which the slim notebook shows on stdout as the notebook printed them."""
    nb: Notebook = plan.notebook
    # a step's call goes where its first cell with code was (not a cell of only imports, which
    # may come before the parameters cell the step reads)
    first_cell = {
        next((c for c in step.cells if has_body(plan, [c])), step.cells[0]): i
        for i, step in enumerate(plan.steps)
    }
    src = Path(os.path.relpath(src_dir, notebook_dir)).as_posix()
    # the steps the cells call, sorted as isort sorts them (the notebook's other functions
    # are in the module too; a slim notebook that does not call them does not import them)
    names = sorted(step.name for step in plan.steps)
    notebook_imports, functions = _slim_imports(plan)
    imported = sorted({*names, *functions})
    logging_setup = (
        "\n\n# the library logs the progress the notebook printed\n"
        'logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stdout)'
        if logs
        else ""
    )
    imports = (
        "import importlib.util\n" + ("import logging\n" if logs else "") + "import sys\n\n"
        "# the package is not installed: import the generated sources\n"
        f"if importlib.util.find_spec({json.dumps(package)}) is None:\n"
        f"    sys.path.insert(0, {json.dumps(src)})\n\n"
        + "".join(f"{line}\n" for line in notebook_imports)
        + (f"from {package}.{module} import (\n" + "".join(f"    {n},\n" for n in imported) + ")" if imported else "")
        + logging_setup
    )
    cells: list[dict[str, Any]] = []
    placed_imports = False
    in_steps = {c for step in plan.steps for c in step.cells}
    emitted: set[str] = set()
    for cell in nb.cells:
        if cell.cell_type != "code":
            raw = copy.deepcopy(cell.raw)
            raw.pop("outputs", None)
            raw.pop("execution_count", None)
            if scrub(cell.source) != cell.source:  # a secret in prose is never copied
                raw["source"] = scrub(cell.source)
                plan.problem(
                    cell.index,
                    None,
                    "error",
                    "this cell holds a secret: it is left out of the slim notebook and the "
                    "module's docstrings; remove it from the notebook and revoke it",
                )
            cells.append(raw)
            continue
        setup = _setup_magics(plan, cell.index)
        if setup:
            cells.append(_code(setup, cells=[cell.index]))
        if not placed_imports:
            if imported or notebook_imports:  # a notebook of parameters only imports nothing
                cells.append(_code(imports))
            placed_imports = True
        if cell.index in plan.parameter_cells:
            cells.append(_code(cell.source, ["parameters"], [cell.index]))
            continue
        if cell.index not in in_steps:
            # a proposed parameter's cell in no step: where the notebook assigned it, so the
            # exploration after it reads it
            own = [
                f"{p.name} = {p.default}  # nbops: parameter" + (f" {p.comment}" if p.comment else "")
                for p in plan.parameters
                if p.cell == cell.index and p.name not in emitted
            ]
            if own:
                emitted.update(line.split(" ", 1)[0] for line in own)
                cells.append(_code("\n".join(own), cells=[cell.index]))
        if cell.index in first_cell:
            step = plan.steps[first_cell[cell.index]]
            # marked and proposed parameters of this step's cells (or of cells left without a
            # step, before it), as `# nbops: parameter` lines
            marked = [
                f"{p.name} = {p.default}  # nbops: parameter" + (f" {p.comment}" if p.comment else "")
                for p in plan.parameters
                if p.cell not in plan.parameter_cells
                and p.name not in emitted
                and (p.cell in step.cells or (p.cell not in in_steps and p.cell < step.cells[0]))
            ]
            emitted.update(line.split(" ", 1)[0] for line in marked)
            call = _formatted("\n".join([*marked, step_call(plan, first_cell[cell.index])]), notebook_dir)
            # what the cell showed before its first library statement, and after it when that
            # draws: one cell with the call, as the notebook ran them (Jupyter shows a figure
            # at the end of the cell that drew it)
            head = _statement_text(plan, cell.index, False, head=True)
            if head.strip() or cell.index in plan.sliced.draws:
                tail = _statement_text(plan, cell.index, False)
                text = "\n".join(p for p in (head, call, tail) if p.strip())
                cells.append(_code(text, cells=list(step.cells)))
                continue
            cells.append(_code(call, cells=list(step.cells)))
        explored = cell.index in plan.sliced.explored
        # a cell in no step may still end in a display (its library part was only magics)
        if explored or cell.index in plan.sliced.reads or cell.index in plan.sliced.tails:
            text = _statement_text(plan, cell.index, explored)
            if text.strip():
                # an error the notebook expects there is expected here too
                expected = ["raises-exception"] if "raises-exception" in cell.tags else None
                cells.append(_code(text, expected, cells=[cell.index]))
    metadata = copy.deepcopy(nb.metadata)
    metadata["nbops"] = {"generated_from": nb.path.name if nb.path else None, "module": f"{package}.{module}"}
    for n, c in enumerate(cells):
        c["id"] = c.get("id") or f"nbops-{n}"
        if cell_id_taken(cells, c["id"], n):
            c["id"] = f"nbops-{n}"
    doc = {"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5}
    return json.dumps(doc, indent=1, ensure_ascii=False) + "\n"


def _formatted(source: str, notebook_dir: Path) -> str:
    """``source`` as ``nbops lint``'s black check wants it (the project's black settings)."""
    from nbops.config import load_config
    from nbops.errors import NbopsError
    from nbops.tools import FormatChecker

    try:
        result = FormatChecker(load_config(notebook_dir).black, None).check(source)
    except NbopsError:
        return source  # black missing or the config unreadable: the call line as it is
    return result.formatted.rstrip("\n") if result.changed and result.formatted else source


def cell_id_taken(cells: list[dict[str, Any]], cell_id: str, position: int) -> bool:
    """True when an earlier cell already uses ``cell_id``."""
    return any(c.get("id") == cell_id for c in cells[:position])
