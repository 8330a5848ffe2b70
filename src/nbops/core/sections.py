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
  reads a data name the current step provides; a cell that reads none starts a new step, and
  so does one that makes a new value later cells read once the step has made one (a chain of
  cells each reading the one before is several steps, not one).

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
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from nbops.core.dataflow import CodeCellInput, DataFlow, analyze_notebook
from nbops.core.headings import heading_lines, parse_headings
from nbops.core.naming import MAX_LENGTH, heading_name, identifier, produced_name, unique_name
from nbops.core.notebook import Cell, Notebook

__all__ = ["Step", "StepPlan", "markdown_headings", "notebook_outline", "plan_steps", "step_name"]

PARAMETERS_TAG = "parameters"
STEP_TAG_PREFIX = "step:"

# a step of several cells with more notebook code than this is split: with its docstring,
# blank lines and formatting, a step function stays within about 60 lines
MAX_STEP_LINES = 40

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
    part: int = 1  # 2, 3...: a later part of a split section


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
            if (linked and not _produces_next(flow, cell.index, current.cells, module_level)) or (
                not data_written
            ):
                current.cells.append(cell.index)
                continue
        current = _Group("", "cluster", [cell.index], [])
        groups.append(current)
    return groups


def _new_values(flow: DataFlow, cell: int, module_level: ModuleLevel) -> set[str]:
    """Data names ``cell`` binds that a later cell reads from it."""
    return {
        name
        for name, readers in flow.document.consumers(cell).items()
        if readers and not module_level(flow, cell, name)
    }


def _produces_next(flow: DataFlow, cell: int, members: list[int], module_level: ModuleLevel) -> bool:
    """True when ``cell`` starts the next stage of a chain: it makes a value later cells read
    under a name the step so far does not make, and the step so far already made one (a chain
    of cells each reading the one before would otherwise be a single step)."""
    made = set().union(*(_new_values(flow, m, module_level) for m in members))
    return bool(made) and bool(_new_values(flow, cell, module_level) - made)


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
        if base and group.part > 1:  # a later part of a long section: what it produces
            parsed = [t for t in (flow.symbols[c].tree for c in group.cells if c in flow.symbols) if t]
            suffix = f"_{group.part}"
            base = produced_name(parsed, sorted(outputs[n - 1])) or base[: MAX_LENGTH - len(suffix)] + suffix
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
    nb: Notebook,
    flow: DataFlow | None = None,
    *,
    module_level: ModuleLevel | None = None,
    outside: Iterable[int] = (),
    cuts: Iterable[tuple[int, int]] = (),
    sizes: Mapping[int, int] | None = None,
    max_lines: int = MAX_STEP_LINES,
) -> StepPlan:
    """Split ``nb`` into steps; ``flow`` is analysed here when not given.

    ``module_level(flow, cell, name)`` says whether ``cell`` binds ``name`` at module level of
    the library (so it is no step's input or output); by default every import and def/class.
    ``outside`` are cells that belong to no step (exploration kept in the slim notebook): a
    value they read from a step is one of its outputs. ``cuts`` are pairs (a, b): cell ``a``
    (or its slim part) shows something cell ``b`` later changes, so a step holding cells on
    both sides ends after ``a``. ``sizes`` are the library lines of each cell: a step of
    several cells over ``max_lines`` is split where the fewest values cross.
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
    away = set(outside)
    for group in groups:
        group.cells = [c for c in group.cells if c not in away]
    groups = [g for g in groups if g.cells]
    groups = _split_groups(groups, flow, set(cuts), sizes or {}, max_lines, is_module_level)

    step_of = {cell: i for i, group in enumerate(groups) for cell in group.cells}
    param_set = set(parameters)
    inputs: list[set[str]] = [set() for _ in groups]
    outputs: list[set[str]] = [set() for _ in groups]
    for edge in flow.document.edges:
        consumer = step_of.get(edge.consumer)
        if is_module_level(flow, edge.provider, edge.name):
            continue
        if consumer is None:
            provider = step_of.get(edge.provider)
            if edge.consumer in away and provider is not None:
                outputs[provider].add(edge.name)  # the slim notebook shows it
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
            title=(group.title or f"Step {i + 1}")
            + (f" (part {group.part})" if group.part > 1 and group.title else ""),
            cells=tuple(group.cells),
            doc=first_paragraph(group.doc),
            inputs=tuple(sorted(inputs[i])),
            outputs=tuple(sorted(outputs[i])),
            source=group.source,
        )
        for i, group in enumerate(groups)
    )
    return StepPlan(steps=steps, strategy=strategy, parameters=parameters)


def _crossing(flow: DataFlow, before: list[int], after: list[int], module_level: ModuleLevel) -> int:
    """How many values cells ``after`` read from cells ``before``."""
    first, second = set(before), set(after)
    return len(
        {
            edge.name
            for edge in flow.document.edges
            if edge.provider in first
            and edge.consumer in second
            and not module_level(flow, edge.provider, edge.name)
        }
    )


def _split_groups(
    groups: list[_Group],
    flow: DataFlow,
    cuts: set[tuple[int, int]],
    sizes: Mapping[int, int],
    max_lines: int,
    module_level: ModuleLevel,
) -> list[_Group]:
    """Groups cut where a slim part must show a value before a later cell changes it, then
    long groups split at the cell boundary where the fewest values cross (ties: the most
    even split), until each part fits in ``max_lines`` or is one cell."""
    out: list[_Group] = []
    for group in groups:
        pieces: list[list[int]] = [[]]
        cells = group.cells
        for pos, cell in enumerate(cells):
            if pieces[-1] and any(
                (a, b) in cuts for a in range(pieces[-1][-1], cell) for b in cells[pos:]
            ):
                pieces.append([])
            pieces[-1].append(cell)
        sized: list[list[int]] = []
        todo = list(reversed(pieces))
        while todo:
            piece = todo.pop()
            total = sum(sizes.get(c, 0) for c in piece)
            if len(piece) < 2 or total <= max_lines:
                sized.append(piece)
                continue
            best = min(
                range(1, len(piece)),
                key=lambda k: (
                    _crossing(flow, piece[:k], piece[k:], module_level),
                    abs(sum(sizes.get(c, 0) for c in piece[:k]) - total / 2),
                ),
            )
            todo.extend([piece[best:], piece[:best]])
        for k, piece in enumerate(sized, start=1):
            out.append(
                _Group(group.title, group.source, piece, group.doc if k == 1 else [], k)
            )
    return out


def first_paragraph(doc: list[str]) -> str:
    """The first paragraph of prose of a section's markdown: what a docstring carries
    (not tables, images, formulas, code or HTML blocks)."""
    for block in doc:
        for paragraph in block.replace("\r\n", "\n").split("\n\n"):
            text = paragraph.strip()
            if not text or text.startswith(("|", "!", "$$", "```", "~~~", "<", "\\[", ">")):
                continue
            if parse_headings(text):
                continue
            return text
    return ""


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
        inside = heading_lines(cell.source)  # a heading's other lines (setext, HTML)
        for number, line in enumerate(cell.source.splitlines(), start=1):
            if number in inside and number not in heads:
                continue
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
