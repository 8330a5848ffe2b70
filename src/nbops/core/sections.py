"""Split a notebook into pipeline steps (the functions a generated library will have).

One strategy is chosen per notebook, the first that applies:

* ``tags``: some code cell is tagged ``step:<name>``. Each tagged cell starts a step; untagged
  code cells join the step before them. Code before the first tagged cell is a step named from
  the first section heading (level >= 2) above it, else ``setup``.
* ``headings``: the notebook has markdown section headings (level >= 2, or level 1 when there
  are several H1s). Each heading cell starts a step holding the code cells up to the next
  heading; code before the first heading is a ``setup`` step. When that gives fewer than two
  steps (one heading above all the code) and clusters give more, clusters are used.
* ``clusters``: no structure at all. Consecutive code cells stay together while the next cell
  reads a data name the current step provides; a cell that reads none starts a new step.

Headings are read by :mod:`nbops.core.headings` (Markdown ATX and setext, HTML ``<h1>``-``<h6>``).
Step names come from :mod:`nbops.core.naming`: the tag as written, the heading's meaningful
leading words (at most 30 characters), else what the step produces (``load_sales``,
``train_model``), ``step_N`` only when nothing can be derived; never a keyword, a builtin or a
name the notebook binds.

Cells tagged ``parameters`` belong to no step. Steps without code cells are dropped. A step's
``inputs`` are the names it reads (document order) from cells of earlier steps or from the
parameters cells; its ``outputs`` are the names it writes or mutates that later steps read.
Imported names and functions/classes are module-level in the library, so they are neither.
"""

from __future__ import annotations

import ast
import keyword
from collections.abc import Callable
from dataclasses import dataclass

from nbops.core.dataflow import CodeCellInput, DataFlow, analyze_notebook
from nbops.core.headings import parse_headings
from nbops.core.naming import MAX_LENGTH, heading_name, identifier, produced_name, unique_name
from nbops.core.notebook import Cell, Notebook

__all__ = ["Step", "StepPlan", "markdown_headings", "notebook_outline", "plan_steps", "step_name"]

PARAMETERS_TAG = "parameters"
STEP_TAG_PREFIX = "step:"

# functions every generated module defines: no step may take their name
_MODULE_FUNCTIONS = frozenset({"run", "main", "describe"})


ModuleLevel = Callable[[DataFlow, int, str], bool]


@dataclass(frozen=True)
class Step:
    """One pipeline step: a run of code cells that becomes one library function."""

    name: str  # snake_case identifier, unique within the notebook
    title: str  # human title (heading text or tag name)
    cells: tuple[int, ...]  # code cell indexes, document order
    doc: str  # markdown prose of the step, for a docstring
    inputs: tuple[str, ...]  # names read from earlier steps / parameters (sorted)
    outputs: tuple[str, ...]  # names written or mutated here that later steps read (sorted)
    source: str  # "tag" | "heading" | "cluster" | "single"


@dataclass(frozen=True)
class StepPlan:
    """The steps of a notebook and how they were found."""

    steps: tuple[Step, ...]
    strategy: str  # "tags" | "headings" | "clusters"
    parameters: tuple[int, ...]  # code cells tagged "parameters"


@dataclass
class _Group:
    title: str
    source: str
    cells: list[int]
    doc: list[str]


def markdown_headings(source: str) -> list[tuple[int, str, int]]:
    """Headings of a markdown cell as ``(level, text, line)``: ATX, setext and HTML.

    A thin view of :func:`nbops.core.headings.parse_headings` (fenced code, HTML comments and
    front matter skipped; bold pseudo-headings not included).
    """
    return [(h.level, h.text, h.line) for h in parse_headings(source)]


def step_name(text: str) -> str:
    """A snake_case ascii identifier keeping every word of ``text``; "" when none remains.

    Module names come from it (``Churn Model v2`` -> ``churn_model_v2``); step names come
    from :func:`nbops.core.naming.heading_name`, which keeps only the meaningful words.
    """
    name = identifier(text)
    if name and keyword.iskeyword(name):
        name += "_step"
    return name


def _is_parameters(cell: Cell) -> bool:
    return PARAMETERS_TAG in cell.tags


def _step_tag(cell: Cell) -> str | None:
    for tag in cell.tags:
        if tag.startswith(STEP_TAG_PREFIX):
            return tag[len(STEP_TAG_PREFIX) :].strip()
    return None


def _section_levels(nb: Notebook) -> set[int]:
    """Heading levels that start a section in this notebook."""
    h1 = sum(
        1
        for cell in nb.cells
        if cell.cell_type == "markdown"
        for level, _, _ in markdown_headings(cell.source)
        if level == 1
    )
    return {2, 3, 4, 5, 6} | ({1} if h1 > 1 else set())


def _section_heading(cell: Cell, levels: set[int]) -> tuple[str, str] | None:
    """(title, remaining prose) when the markdown cell holds a section heading."""
    if cell.cell_type != "markdown":
        return None
    for level, text, line in markdown_headings(cell.source):
        if level in levels:
            lines = cell.source.splitlines()
            prose = "\n".join(lines[: line - 1] + lines[line:]).strip()
            return text, prose
    return None


def _by_tags(nb: Notebook, levels: set[int]) -> list[_Group]:
    groups: list[_Group] = []
    pre = _Group("setup", "single", [], [])
    current = pre
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            if current is pre and pre.title == "setup" and pre.source == "single":
                heading = _section_heading(cell, levels)
                if heading is not None:
                    pre.title, pre.source = heading[0], "heading"
            if cell.source.strip():
                current.doc.append(cell.source.strip())
            continue
        if cell.cell_type != "code" or _is_parameters(cell):
            continue
        tag = _step_tag(cell)
        if tag is not None:
            current = _Group(tag, "tag", [], [])
            groups.append(current)
        current.cells.append(cell.index)
    return [pre, *groups]


def _by_headings(nb: Notebook, levels: set[int]) -> list[_Group]:
    current = _Group("setup", "single", [], [])
    groups = [current]
    for cell in nb.cells:
        heading = _section_heading(cell, levels)
        if heading is not None:
            current = _Group(heading[0], "heading", [], [heading[1]] if heading[1] else [])
            groups.append(current)
        elif cell.cell_type == "markdown" and current.source == "heading":
            if cell.source.strip():
                current.doc.append(cell.source.strip())
        elif cell.cell_type == "code" and not _is_parameters(cell):
            current.cells.append(cell.index)
    return groups


def _module_level(flow: DataFlow, cell: int, name: str) -> bool:
    """True when ``cell`` binds ``name`` by an import or a def/class."""
    symbols = flow.symbols.get(cell)
    if symbols is None:
        return False
    return name in symbols.functions or any(imp.bound == name for imp in symbols.imports)


def _by_clusters(nb: Notebook, flow: DataFlow, module_level: ModuleLevel) -> list[_Group]:
    groups: list[_Group] = []
    current: _Group | None = None
    for cell in nb.code_cells:
        if _is_parameters(cell):
            continue
        if current is not None:
            members = set(current.cells)
            data_written = any(
                True
                for provider in members
                if provider in flow.symbols
                for ref in flow.symbols[provider].writes + flow.symbols[provider].mutations
                if not module_level(flow, provider, ref.name)
            )
            linked = any(
                provider in members and not module_level(flow, provider, name)
                for name, provider in flow.document.inputs(cell.index).items()
            )
            if linked or not data_written:
                current.cells.append(cell.index)
                continue
        current = _Group("", "cluster", [cell.index], [])
        groups.append(current)
    return groups


def _notebook_names(nb: Notebook, flow: DataFlow) -> set[str]:
    """Names a step function must not take: what the notebook binds, and the module's name."""
    names = set(_MODULE_FUNCTIONS)
    for symbols in flow.symbols.values():
        names.update(ref.name for ref in symbols.writes)
        names.update(symbols.functions)
        names.update(imp.bound for imp in symbols.imports)
    if nb.path is not None:
        names.add(step_name(nb.path.stem))
    return names


def _unique_names(
    groups: list[_Group], flow: DataFlow, outputs: list[set[str]], taken: set[str]
) -> list[str]:
    """Step names: from the heading or tag, else from what the step produces, else ``step_N``."""
    names: list[str] = []
    used: set[str] = set()
    for n, group in enumerate(groups, start=1):
        tagged = identifier(group.title) if group.source == "tag" else ""
        base = tagged if 0 < len(tagged) <= MAX_LENGTH else heading_name(group.title)
        if not base:
            trees: list[ast.Module] = []
            for cell in group.cells:
                tree = flow.symbols[cell].tree if cell in flow.symbols else None
                if tree is not None:
                    trees.append(tree)
            base = produced_name(trees, sorted(outputs[n - 1])) or f"step_{n}"
        name = unique_name(base, taken, used)
        used.add(name)
        names.append(name)
    return names


def plan_steps(
    nb: Notebook, flow: DataFlow | None = None, *, module_level: ModuleLevel | None = None
) -> StepPlan:
    """Split ``nb`` into steps; ``flow`` is analysed here when not given.

    ``module_level(flow, cell, name)`` says whether ``cell`` binds ``name`` at module level of
    the library (so it is no step's input or output); by default every import and def/class.
    """
    is_module_level = module_level or _module_level
    if flow is None:
        flow = analyze_notebook(
            [CodeCellInput(c.index, c.source, c.execution_count) for c in nb.code_cells]
        )
    parameters = tuple(c.index for c in nb.code_cells if _is_parameters(c))
    levels = _section_levels(nb)
    if any(_step_tag(c) is not None for c in nb.code_cells):
        strategy, groups = "tags", _by_tags(nb, levels)
    elif any(_section_heading(c, levels) is not None for c in nb.cells):
        strategy, groups = "headings", _by_headings(nb, levels)
    else:
        strategy, groups = "clusters", _by_clusters(nb, flow, is_module_level)
    groups = [g for g in groups if g.cells]
    if strategy == "headings" and len(groups) < 2:
        # one heading above all the code (a title written as ####) splits nothing
        clusters = [g for g in _by_clusters(nb, flow, is_module_level) if g.cells]
        if len(clusters) >= 2:
            strategy, groups = "clusters", clusters
    if strategy == "clusters" and len(groups) == 1:
        groups[0].source = "single"

    step_of = {cell: i for i, group in enumerate(groups) for cell in group.cells}
    param_set = set(parameters)
    inputs: list[set[str]] = [set() for _ in groups]
    outputs: list[set[str]] = [set() for _ in groups]
    for edge in flow.document.edges:
        consumer = step_of.get(edge.consumer)
        if consumer is None or is_module_level(flow, edge.provider, edge.name):
            continue
        provider = step_of.get(edge.provider)
        if provider is None:
            if edge.provider in param_set:
                inputs[consumer].add(edge.name)
            continue
        if provider != consumer:
            inputs[consumer].add(edge.name)
            outputs[provider].add(edge.name)

    names = _unique_names(groups, flow, outputs, _notebook_names(nb, flow))
    steps = tuple(
        Step(
            name=names[i],
            title=group.title or f"Step {i + 1}",
            cells=tuple(group.cells),
            doc="\n\n".join(group.doc),
            inputs=tuple(sorted(inputs[i])),
            outputs=tuple(sorted(outputs[i])),
            source=group.source,
        )
        for i, group in enumerate(groups)
    )
    return StepPlan(steps=steps, strategy=strategy, parameters=parameters)


def notebook_outline(nb: Notebook) -> tuple[str, str, dict[str, str]]:
    """(H1 title, the prose under it, {heading text: the markdown under that heading})."""
    title, intro = "", []
    sections: dict[str, str] = {}
    current: str | None = None
    body: list[str] = []
    seen_code = False
    for cell in nb.cells:
        if cell.is_code:
            seen_code = seen_code or bool(cell.source.strip())
            continue
        if not cell.is_markdown:
            continue
        heads = {line: (level, text) for level, text, line in markdown_headings(cell.source)}
        for number, line in enumerate(cell.source.splitlines(), start=1):
            if number in heads:
                level, text = heads[number]
                if current is not None:
                    sections[current] = "\n".join(body).strip()
                body = []
                if level == 1 and not title:
                    title, current = text.strip(), None
                else:
                    current = text.strip()
                continue
            if current is None and not seen_code:
                intro.append(line)
            elif current is not None:
                body.append(line)
    if current is not None:
        sections[current] = "\n".join(body).strip()
    return title, "\n".join(intro).strip(), sections
