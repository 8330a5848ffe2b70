"""The review report (``reviews/<notebook>.md``, also the pull request's body): a model card.

What a reviewer needs on one page: purpose, data, parameters, the generated library when it
is submitted (its steps, what each takes and returns, a ``<Step>Result`` dataclass with its
fields, the parameters of ``run(params)`` with the ones nbops proposes, and what the slim
notebook keeps for exploration), the latest tracked run's metrics (against the registered
model's champion when there is one, with the promotion verdict the merge will get under
``[tool.nbops.promote]``), the gate's checklist, lint counts, lineage, and the
files of the submission. Everything is read from the notebook, the plan of ``nbops
modularize``, the gate's report and the run index ``nbops run`` keeps; MLflow is opened only
to compare with a champion (``[tool.nbops.submit] model``).
"""

from __future__ import annotations

import platform
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbops import api_types
from nbops._version import version
from nbops.config import PromoteConfig
from nbops.core.notebook import Notebook
from nbops.core.sections import notebook_outline
from nbops.review.checks import GateReport
from nbops.review.library import library_summary
from nbops.review.render import gate_markdown

__all__ = ["ReportInput", "library_markdown", "library_summary", "render_report"]

MARKER = "<!-- nbops:submission"


@dataclass
class ReportInput:
    notebook: Notebook
    path: str  # repository-relative
    gate: GateReport
    params: Any  # NotebookParameters | None
    latest_run: dict[str, Any] | None = None  # from the run index
    notebook_sha256: str = ""
    champion: dict[str, Any] | None = None  # {"model", "version", "run_id", "metrics"}
    author: str = ""
    base: str = ""
    base_commit: str = ""
    files: Sequence[str] = field(default_factory=list)
    title: str = ""
    message: str = ""
    # the plan JSON of ``nbops modularize`` (``plan_to_dict``, paths relative to the
    # repository) when the generated library is part of the submission
    library: api_types.ModularizePlan | None = None
    promote: PromoteConfig | None = None  # [tool.nbops.promote]: the verdict the merge will get
    # the released model's acceptance threshold, one markdown line (nbops.deploy.acceptance)
    decision_threshold: str = ""
    # the model's explanation section, markdown lines (nbops.review.explanation.card_lines)
    explanation: Sequence[str] = ()


def _find(sections: dict[str, str], names: str) -> tuple[str, str] | None:
    for heading, text in sections.items():
        low = heading.lower()
        if any(re.search(rf"(?<![a-z]){re.escape(n.strip().lower())}", low) for n in names.split("|")):
            return heading, text
    return None


def _cell(value: Any) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return _cell(value)


def _code(names: Sequence[str]) -> str:
    return ", ".join(f"`{_cell(n)}`" for n in names)


def _cells(numbers: Sequence[int]) -> str:
    """``1, 3-5, 8``: 1-based cell numbers as ranges."""
    runs: list[list[int]] = []
    for n in sorted(set(numbers)):
        if runs and n == runs[-1][-1] + 1:
            runs[-1].append(n)
        else:
            runs.append([n])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]}-{r[-1]}" for r in runs)


def _returns(step: api_types.ModularizePlanStepsItem) -> str:
    values = [*(step.get("outputs") or []), *(step.get("results") or [])]
    if step.get("returns"):
        fields = step.get("fields") or values
        return f"`{_cell(step['returns'])}` ({_code(fields)})"
    return _code(values) if values else "nothing"


def library_markdown(plan: api_types.ModularizePlan, *, heading: str = "##") -> list[str]:
    """The library section of the report: the module, its steps (cells, size, inputs,
    parameters, what each returns: one value, or a frozen ``<Step>Result`` dataclass and its
    fields), the parameters of ``run(params)`` (proposed ones marked) and the exploration the
    slim notebook keeps."""
    files = {f.get("kind"): f.get("path") for f in plan.get("files") or []}
    steps = plan.get("steps") or []
    module = files.get("module") or f"{plan.get('package')}.{plan.get('module')}"
    out = [f"{heading} Library", ""]
    out.append(
        f"`{module}`, written by `nbops modularize`: {library_summary(plan)}. Each step is a "
        "function of its inputs and parameters; `run(params)` runs them in order and returns "
        "every step's values by name."
    )
    exploration = sorted({c for s in steps for c in s.get("exploration") or []})
    slim = files.get("notebook")
    if slim:
        kept = f", and keeps the exploration of cells {_cells(exploration)}" if exploration else ""
        out[-1] += f" The slim notebook `{slim}` calls the steps and shows their results{kept}."
    if steps:
        sized = any(s.get("lines") for s in steps)
        out += ["", "| step | cells |" + (" lines |" if sized else "") + " takes | returns |",
                "|---|---|" + ("---|" if sized else "") + "---|---|"]
        for s in steps:
            takes = _code([*(s.get("inputs") or []), *(s.get("parameters") or [])]) or "nothing"
            size = f" {s.get('lines') or ''} |" if sized else ""
            out.append(f"| `{_cell(s.get('name', ''))}` | {_cells(s.get('cells') or [])} |{size} "
                       f"{takes} | {_returns(s)} |")
    params = plan.get("parameters") or []
    if params:
        out += ["", "Parameters of `run(params)`:", "", "| name | default | meaning | from |",
                "|---|---|---|---|"]
        for p in params:
            origin = (f"proposed by nbops: a constant of cell {p.get('cell')}, not yet in a "
                      "parameters cell" if p.get("proposed") else f"cell {p.get('cell')}")
            out.append(f"| `{_cell(p.get('name', ''))}` | `{_cell(p.get('default', ''))}` | "
                       f"{_cell(p.get('help') or '')} | {origin} |")
    return out


def _on_merge(promote: PromoteConfig | None, mine: dict[str, Any],
              theirs: dict[str, Any]) -> list[str]:
    """The verdict ``nbops release`` will give this run on merge (thresholds declared only)."""
    from nbops.run.thresholds import judge

    if promote is None or not promote.metric:
        return []
    metric = promote.metric
    value, champion = mine.get(metric), theirs.get(metric)
    verdict = judge(promote, None if value is None else float(value),
                    None if champion is None else float(champion), has_champion=True)
    line = (f"**On merge**: {_cell(verdict.summary())} (`[tool.nbops.promote]`: champion "
            "moves only on PASS).")
    return ["", line]


def render_report(data: ReportInput) -> str:
    """The markdown model card (deterministic for the same inputs)."""
    title, intro, sections = notebook_outline(data.notebook)
    name = title or Path(data.path).stem
    out = [f"# Review: {name}", ""]
    if data.message:
        out += [data.message.strip(), ""]
    by = data.author or "unknown"
    out += [f"Notebook `{data.path}` submitted for review by {by} with nbops {version()}.", ""]
    out += ["## Purpose", "", intro or "_The notebook has no summary under its title._", ""]
    for names, label in (("Data", "Data"), ("Evaluation|Metrics", "Evaluation"),
                         ("Limitations", "Limitations"), ("Owner", "Owner")):
        found = _find(sections, names)
        if found is not None and found[1]:
            out += [f"## {label}", "", found[1], ""]
    out += ["## Parameters", ""]
    specs = list(getattr(data.params, "specs", []) or [])
    if specs:
        out += ["| name | type | default | meaning |", "|---|---|---|---|"]
        out += [f"| `{s.name}` | {s.type} | `{_cell(s.default_source)}` | {_cell(s.help)} |" for s in specs]
    else:
        out.append("_No parameters cell._")
    if data.library:
        out += ["", *library_markdown(data.library)]
    out += ["", "## Latest tracked run", ""]
    run = data.latest_run
    if run is None:
        out.append("_No tracked run of this notebook yet (`nbops run`)._")
    else:
        same = run.get("notebook_sha256") == data.notebook_sha256
        out.append(f"Run `{run.get('run_id', '')}`: **{run.get('status')}**, "
                   f"{run.get('duration_s', 0):.1f} s, {run.get('ended', '')}"
                   + ("" if same else " — _on an earlier version of the code_") + ".")
        params = run.get("parameters") or {}
        if params:
            out += ["", "Parameters: " + ", ".join(f"`{k}={_cell(v)}`" for k, v in sorted(params.items()))]
        metrics: dict[str, Any] = run.get("metrics") or {}
        champion = data.champion
        if metrics or champion:
            out.append("")
            if champion:
                theirs = champion.get("metrics") or {}
                header = f"champion: {champion['model']} v{champion['version']}"
                out += [f"| metric | this run (challenger) | {header} |", "|---|---|---|"]
                for key in sorted(set(metrics) | set(theirs)):
                    out.append(f"| {_cell(key)} | {_fmt(metrics.get(key, '–'))} | {_fmt(theirs.get(key, '–'))} |")
                out += _on_merge(data.promote, metrics, theirs)
            else:
                out += ["| metric | value |", "|---|---|"]
                out += [f"| {_cell(k)} | {_fmt(v)} |" for k, v in sorted(metrics.items())]
    if data.decision_threshold:
        out += ["", data.decision_threshold]
    if data.explanation:
        out += ["", *data.explanation]
    out += ["", gate_markdown(data.gate, heading="##").rstrip(), ""]
    counts: dict[str, int] = {}
    for d in data.gate.diagnostics:
        counts[d.severity] = counts.get(d.severity, 0) + 1
    lint = ", ".join(f"{counts[s]} {s}" for s in ("error", "warning", "info") if counts.get(s)) or "no findings"
    out += [f"Lint: {lint}.", ""]
    out += ["## Lineage", "", "| | |", "|---|---|"]
    out += [
        f"| notebook code sha256 | `{data.notebook_sha256}` |",
        f"| base | `{data.base}` at `{data.base_commit[:12]}` |" if data.base_commit else f"| base | `{data.base}` |",
        f"| nbops | {version()} |",
        f"| python | {platform.python_version()} |",
    ]
    if data.files:
        out += ["", "## Files in this submission", ""]
        out += [f"- `{f}`" for f in data.files]
    out += ["", f"{MARKER} notebook={data.path} -->", ""]
    return "\n".join(out)
