"""Every check of the review gate, in the checklist's order: :data:`CHECKS`.

The notebook's own checks are here (documentation, quality, safety, the reproducibility of
its parameters and dependencies); the library and tracked-run checks are in
:mod:`nbops.review.library`. Each is a :class:`~nbops.review.gate.Check` with its default
level, so the policy's defaults (:data:`DEFAULT_LEVELS`) are read off the registry. A check
that cannot apply (no parameters, not a Python notebook) is ``skip`` and never blocks.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable
from pathlib import Path

from nbops.config import Config
from nbops.core.headings import heading_lines, parse_headings
from nbops.core.notebook import Notebook
from nbops.core.sections import markdown_headings
from nbops.lint.diagnostic import Diagnostic
from nbops.review.gate import Check, CheckResult, GateInput, Level
from nbops.review.library import LIBRARY, TRACKED_RUN

__all__ = ["CHECKS", "CHECK_IDS", "DEFAULT_LEVELS", "get_check"]

_RANK = {"error": 3, "warning": 2, "info": 1}
# findings the lint check leaves to the checks that own them
_OWNED_ELSEWHERE = {"FMT001", "NB401", "NB402", "NB301", "NB303"}


# --------------------------------------------------------------------------- documentation


def _markdown_text(source: str) -> str:
    """Prose of a markdown cell: no headings (``#``, setext or ``<h1>`` over several lines),
    code fences, HTML tags or link targets."""
    inside = heading_lines(source)
    lines = ["" if n in inside else line for n, line in enumerate(source.splitlines(), 1)]
    out, fenced = [], False
    for line in lines:
        if re.match(r"^ {0,3}(`{3,}|~{3,})", line):
            fenced = not fenced
            continue
        if fenced or re.match(r"^ {0,3}#", line):
            continue
        line = re.sub(r"<[^>]+>", " ", line)
        line = re.sub(r"\]\([^)]*\)", "]", line)
        out.append(line)
    return "\n".join(out)


def _words(text: str) -> int:
    return len(re.findall(r"[A-Za-z\u00C0-\u024F]{2,}", text))


def check_title(i: GateInput) -> CheckResult:
    first = next((c for c in i.nb.cells if c.source.strip()), None)
    found = parse_headings(first.source, pseudo=True) if first is not None and first.is_markdown else []
    # an H1 in Markdown (`# x`, `x` over `===`) or HTML (`<h1>x</h1>`) is a title
    ok = any(h.level == 1 and h.kind != "bold" for h in found)
    fix = "add a first markdown cell starting `# <what this notebook does>`"
    if ok:
        message = "the notebook opens with an H1 title"
    elif first is None:
        message = "the notebook is empty: it has no H1 title"
    elif not first.is_markdown:
        message = f"the notebook starts with a {first.cell_type} cell, not a markdown cell with an H1 title"
    elif found and found[0].kind == "bold":
        # bold text renders large but is no heading: no anchor, no table of contents, no name
        text = found[0].text
        message = f"cell {first.number}: the first line `**{text}**` is bold text, not a heading"
        fix = f"make it a heading: replace `**{text}**` with `# {text}` (or `<h1>{text}</h1>`)"
    elif found:
        head = found[0]
        message = f"the first cell's first heading `{'#' * head.level} {head.text}` is an H{head.level}, not an H1"
        fix = f"make it an H1: `# {head.text}`"
    else:
        message = "the first cell is not a markdown cell with an H1 title"
    return CheckResult(
        "title", "documentation", "Title (H1)", "pass" if ok else "fail", message, fix,
        cell_index=None if ok else (first.index if first is not None else 0), fix_code="NB101",
    )


def check_summary(i: GateInput) -> CheckResult:
    from nbops.core.sections import notebook_outline

    words = _words(_markdown_text(notebook_outline(i.nb)[1]))  # the prose under the title
    need = i.policy.summary_min_words
    ok = words >= need
    return CheckResult(
        "summary", "documentation", "Summary of purpose", "pass" if ok else "fail",
        f"{words} words of prose under the title" + ("" if ok else f" (at least {need} needed)"),
        "under the title, say in two or three sentences what the notebook does, for whom and with which data",
        cell_index=None if ok else 0,
    )


def _headings(nb: Notebook) -> list[tuple[str, int]]:
    return [
        (text.strip(), cell.index)
        for cell in nb.cells
        if cell.is_markdown
        for _, text, _ in markdown_headings(cell.source)
    ]


def _section_found(required: str, headings: Iterable[tuple[str, int]]) -> bool:
    names = [n.strip() for n in required.split("|") if n.strip()]
    for text, _ in headings:
        low = text.lower()
        if any(re.search(rf"(?<![a-z]){re.escape(n.lower())}", low) for n in names):
            return True
    return False


def check_sections(i: GateInput) -> CheckResult:
    headings = _headings(i.nb)
    missing = [s for s in i.policy.sections if not _section_found(s, headings)]
    shown = [s.replace("|", " or ") for s in missing]
    return CheckResult(
        "sections", "documentation", "Required sections", "fail" if missing else "pass",
        f"missing section(s): {', '.join(shown)}" if missing
        else f"all {len(i.policy.sections)} required sections found",
        "add a markdown heading for each (e.g. `## Limitations`) with a few lines under it",
        details=[f"## {s}" for s in shown],
    )


def check_parameters_documented(i: GateInput) -> CheckResult:
    params = i.params
    if params is None or params.cell is None or not params.specs:
        return CheckResult(
            "parameters-documented", "documentation", "Parameters documented", "skip",
            "no parameters to document",
        )
    prose = " ".join(_markdown_text(c.source) for c in i.nb.cells if c.is_markdown)
    undocumented = [
        s.name for s in params.specs
        if not s.help and not re.search(rf"(?<![\w]){re.escape(s.name)}(?![\w])", prose)
    ]
    return CheckResult(
        "parameters-documented", "documentation", "Parameters documented",
        "fail" if undocumented else "pass",
        f"undocumented parameter(s): {', '.join(undocumented)}" if undocumented
        else f"all {len(params.specs)} parameters documented",
        "add a comment beside each (`SEED = 0  # random seed of the split`) or describe it in the Parameters section",
        cell_index=params.cell if undocumented else None,
        details=undocumented,
    )


# --------------------------------------------------------------------------- quality


def _where(d: Diagnostic) -> str:
    return f"{d.code} cell {d.cell}: {d.message}" if d.cell else f"{d.code}: {d.message}"


def check_lint(i: GateInput) -> CheckResult:
    floor = _RANK[i.policy.fail_on]
    found = [
        d for d in i.diagnostics
        if d.code not in _OWNED_ELSEWHERE and _RANK.get(d.severity, 0) >= floor
    ]
    first = found[0] if found else None
    return CheckResult(
        "lint", "quality", f"No lint findings at {i.policy.fail_on} or above",
        "fail" if found else "pass",
        f"{len(found)} finding(s) at {i.policy.fail_on} or above" if found else "no findings",
        f"nbops lint {i.path or 'NOTEBOOK'} shows them; nbops fix applies the safe fixes",
        cell_index=first.cell_index if first else None,
        details=[_where(d) for d in found[:50]],
    )


def check_formatted(i: GateInput) -> CheckResult:
    cells = sorted({d.cell_index for d in i.diagnostics if d.code == "FMT001" and d.cell_index is not None})
    return CheckResult(
        "formatted", "quality", "Code formatted (ruff format or black)", "fail" if cells else "pass",
        f"{len(cells)} cell(s) not formatted: {', '.join(str(c + 1) for c in cells[:20])}" if cells
        else "every code cell is formatted",
        "nbops fix --select FMT formats them (a safe fix)",
        cell_index=cells[0] if cells else None, fix_code="FMT001" if cells else None,
    )


# --------------------------------------------------------------------------- safety


def _findings(i: GateInput, *codes: str) -> list[Diagnostic]:
    return [d for d in i.diagnostics if d.code in codes]


def check_secrets(i: GateInput) -> CheckResult:
    found = _findings(i, "NB401", "NB402")
    return CheckResult(
        "secrets", "safety", "No secrets in code or outputs", "fail" if found else "pass",
        f"{len(found)} secret(s) found" if found else "no credentials found in code or outputs",
        "read credentials from the environment (os.environ['API_KEY']) or a secrets manager, "
        "revoke any that were committed, and clear outputs that show them",
        cell_index=found[0].cell_index if found else None,
        fix_code="NB402" if any(d.code == "NB402" for d in found) else None,
        details=[_where(d) for d in found],
    )


def check_absolute_paths(i: GateInput) -> CheckResult:
    found = _findings(i, "NB301")
    return CheckResult(
        "absolute-paths", "safety", "No absolute paths", "fail" if found else "pass",
        f"{len(found)} hard-coded absolute path(s)" if found else "no absolute paths",
        "use paths relative to the notebook or the project (pathlib.Path(__file__) / parameters)",
        cell_index=found[0].cell_index if found else None,
        details=[_where(d) for d in found],
    )


def _output_bytes(nb: Notebook) -> int:
    import json

    return sum(len(json.dumps(c.outputs)) for c in nb.cells if c.is_code and c.outputs)


def check_outputs(i: GateInput) -> CheckResult:
    size = _output_bytes(i.nb)
    if i.policy.strip_outputs:
        return CheckResult(
            "outputs", "safety", "Outputs stripped or small", "pass",
            f"outputs ({size:,} bytes) are stripped from the submitted copy",
        )
    ok = size <= i.policy.max_output_bytes
    return CheckResult(
        "outputs", "safety", "Outputs stripped or small", "pass" if ok else "fail",
        f"outputs take {size:,} bytes" + ("" if ok else f" (limit {i.policy.max_output_bytes:,})"),
        "clear the large outputs (nbops fix --unsafe-fixes --select NB504) or set strip-outputs = true",
        fix_code=None if ok else "NB504",
    )


# --------------------------------------------------------------------------- reproducibility


def check_parameters_cell(i: GateInput) -> CheckResult:
    params = i.params
    if params is None:
        return CheckResult(
            "parameters-cell", "reproducibility", "Parameters cell", "skip",
            "not a Python notebook",
        )
    ok = params.cell is not None and params.tagged
    if params.cell is not None and not params.tagged:
        message = "a `# parameters` cell exists but is not tagged `parameters` (papermill needs the tag)"
    else:
        message = "a cell tagged `parameters` holds the parameters" if ok else "no parameters cell"
    return CheckResult(
        "parameters-cell", "reproducibility", "Parameters cell", "pass" if ok else "fail", message,
        "put the values a run may change in one cell and tag it `parameters` (nbops fix adds the tag "
        "to a cell whose first line is `# parameters`)",
        cell_index=params.cell if params.cell is not None and not ok else None, fix_code="NB303",
    )


def _declared(config: Config, folder: Path) -> set[str] | None:
    """Distribution names declared by the project (None: no declaration file at all)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]
    names: set[str] = set()
    found = False
    roots = {folder, config.root} if config.root else {folder}
    for root in roots:
        if root is None:
            continue
        pyproject = root / "pyproject.toml"
        if pyproject.is_file():
            try:
                project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
            except (OSError, tomllib.TOMLDecodeError):
                project = {}
            deps = list(project.get("dependencies", []))
            for extra in project.get("optional-dependencies", {}).values():
                deps.extend(extra)
            if deps or "dependencies" in project:
                found = True
            names.update(_requirement_name(d) for d in deps)
        for req in sorted(root.glob("requirements*.txt")):
            found = True
            for line in req.read_text(encoding="utf-8", errors="replace").splitlines():
                line = line.split("#", 1)[0].strip()
                if line and not line.startswith("-"):
                    names.add(_requirement_name(line))
        for env in (root / "environment.yml", root / "environment.yaml"):
            if env.is_file():
                found = True
                for line in env.read_text(encoding="utf-8", errors="replace").splitlines():
                    match = re.match(r"^\s*-\s*([A-Za-z0-9_.\-]+)", line)
                    if match:
                        names.add(_normal(match.group(1)))
    return names if found else None


def _normal(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirement_name(text: str) -> str:
    return _normal(re.split(r"[\s<>=!~;\[@(]", text.strip(), maxsplit=1)[0])


def _local_module(name: str, folder: Path, root: Path | None) -> bool:
    for base in {folder, root, (root / "src") if root else None}:
        if base is not None and ((base / f"{name}.py").is_file() or (base / name / "__init__.py").is_file()):
            return True
    return False


def check_dependencies(i: GateInput) -> CheckResult:
    from importlib import metadata

    from nbops.core.dataflow import cached_analyze_cell

    if not i.nb.is_python:
        return CheckResult("dependencies", "reproducibility", "Dependencies declared", "skip",
                           "not a Python notebook")
    modules: dict[str, int] = {}
    for cell in i.nb.iter_code():
        for imp in cached_analyze_cell(cell.source).imports:
            if imp.module and not imp.module.startswith("."):
                modules.setdefault(imp.module.split(".")[0], cell.index)
    folder = (i.path.parent if i.path else Path.cwd()).resolve()
    third_party = {
        m: c for m, c in modules.items()
        if m not in sys.stdlib_module_names and m != "nbops"
        and not _local_module(m, folder, i.config.root)
    }
    if not third_party:
        return CheckResult("dependencies", "reproducibility", "Dependencies declared", "pass",
                           "the notebook imports only the standard library")
    declared = _declared(i.config, folder)
    if declared is None:
        return CheckResult(
            "dependencies", "reproducibility", "Dependencies declared", "fail",
            f"no requirements.txt, environment.yml or [project] dependencies for the "
            f"{len(third_party)} third-party package(s) it imports",
            "add a requirements.txt next to the notebook listing them (with versions)",
            details=sorted(third_party),
        )
    dists = metadata.packages_distributions()
    missing = []
    for module in sorted(third_party):
        candidates = {_normal(d) for d in dists.get(module, [])} or {_normal(module)}
        if not candidates & declared:
            missing.append(module if not dists.get(module) else f"{module} ({dists[module][0]})")
    return CheckResult(
        "dependencies", "reproducibility", "Dependencies declared", "fail" if missing else "pass",
        f"imported but not declared: {', '.join(missing)}" if missing
        else f"all {len(third_party)} third-party imports are declared",
        "add them to requirements.txt or to [project] dependencies in pyproject.toml",
        cell_index=third_party[missing[0].split(" ")[0]] if missing else None,
        details=missing,
    )


# the registry, in the checklist's order
CHECKS: tuple[Check, ...] = (
    Check("title", "documentation", "Title (H1)", "required", check_title),
    Check("summary", "documentation", "Summary of purpose", "required", check_summary),
    Check("sections", "documentation", "Required sections", "required", check_sections),
    Check("parameters-documented", "documentation", "Parameters documented", "required",
          check_parameters_documented),
    Check("lint", "quality", "No lint findings", "required", check_lint),
    Check("formatted", "quality", "Code formatted (ruff format or black)", "required", check_formatted),
    Check("secrets", "safety", "No secrets in code or outputs", "required", check_secrets),
    Check("absolute-paths", "safety", "No absolute paths", "required", check_absolute_paths),
    Check("outputs", "safety", "Outputs stripped or small", "required", check_outputs),
    Check("parameters-cell", "reproducibility", "Parameters cell", "required",
          check_parameters_cell),
    Check("dependencies", "reproducibility", "Dependencies declared", "required",
          check_dependencies),
    LIBRARY,
    TRACKED_RUN,
)
CHECK_IDS: tuple[str, ...] = tuple(c.id for c in CHECKS)
DEFAULT_LEVELS: dict[str, Level] = {c.id: c.level for c in CHECKS}
_BY_ID = {c.id: c for c in CHECKS}


def get_check(check_id: str) -> Check:
    """The check called ``check_id`` (a ``KeyError`` for an unknown id)."""
    return _BY_ID[check_id]
