"""The nbops panel as plain ipywidgets: the running notebook's lint findings, modularize and
submit for review, in sections.

For front ends without the JupyterLab extension (classic Notebook, VS Code)::

    from nbops.widgets import panel
    panel()                      # or panel("path/to/notebook.ipynb")

The panel is a header (which notebook, and how it was found: see :mod:`nbops.widgets.locate`)
over a list of sections: lint, then modularize (the plan of ``nbops modularize`` and "Write
files": :mod:`nbops.widgets.modularize`), then submit for review (:mod:`nbops.widgets.submit`).
Only lint runs when the panel opens; the other sections wait for a click. Every section works
on the *saved* file. Linting runs synchronously in the kernel: a 100-cell notebook takes well
under a second in-process, so a thread would buy nothing but races.
All text is escaped with ``html.escape``; colours come from the front end's theme variables
(JupyterLab, then VS Code) with fixed fallbacks, so light and dark themes both read well.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

from nbops.errors import NbopsError
from nbops.lint.diagnostic import Diagnostic
from nbops.widgets.locate import Located, find_notebook
from nbops.widgets.modularize import ModularizeSection
from nbops.widgets.submit import SubmitSection, badge_html, esc

__all__ = ["LintSection", "Panel", "Section", "panel", "render_findings", "summary_text"]

# theme variable, then VS Code's, then a colour readable on white and on dark grey
COLOURS = {
    "error": "var(--jp-error-color1, var(--vscode-editorError-foreground, #d32f2f))",
    "warning": "var(--jp-warn-color1, var(--vscode-editorWarning-foreground, #e65100))",
    "info": "var(--jp-info-color1, var(--vscode-editorInfo-foreground, #1976d2))",
    "success": "var(--jp-success-color1, var(--vscode-testing-iconPassed, #388e3c))",
    "muted": "var(--jp-ui-font-color2, var(--vscode-descriptionForeground, #757575))",
    "border": "var(--jp-border-color2, var(--vscode-panel-border, #9e9e9e))",
}
_SEVERITY_RANK = {"error": 0, "warning": 1, "info": 2}
_RELOAD = (
    "The file on disk changed: reload the notebook now (Jupyter: File › Reload Notebook from "
    "Disk; VS Code: “Revert File”). Saving the open copy first would overwrite the fixes."
)


def _ipywidgets() -> Any:
    from nbops.extras import import_optional

    return import_optional("ipywidgets", "widgets", "the nbops panel")


def _plural(n: int, word: str) -> str:
    if n == 1 or word == "info":
        return f"{n} {word}"
    return f"{n} {word}{'es' if word.endswith('x') else 's'}"


def _safe_fix(d: Diagnostic) -> bool:
    return d.fix is not None and d.fix.applicability == "safe"


def summary_text(diags: Sequence[Diagnostic]) -> str:
    """``12 findings in 7 cells: 2 errors, 9 warnings, 1 info; 5 safe fixes``."""
    if not diags:
        return "All checks passed: no findings."
    cells = {d.cell_index for d in diags if d.cell_index is not None}
    whole = sum(1 for d in diags if d.cell_index is None)
    counts = [
        _plural(sum(1 for d in diags if d.severity == sev), sev)
        for sev in ("error", "warning", "info")
        if any(d.severity == sev for d in diags)
    ]
    where = _plural(len(cells), "cell")
    if whole:
        where += f" (+{whole} about the whole notebook)"
    text = f"{_plural(len(diags), 'finding')} in {where}: {', '.join(counts)}"
    fixable = sum(1 for d in diags if _safe_fix(d))
    if fixable:
        text += f"; {_plural(fixable, 'safe fix')}"
    return text


def _link(d: Diagnostic) -> str:
    code = esc(d.code)
    # only http(s) links: a javascript: URL must never become clickable
    if d.url and d.url.startswith(("https://", "http://")):
        return (
            f'<a href="{esc(d.url)}" target="_blank" rel="noopener noreferrer" '
            f'title="rule documentation" style="color:inherit;text-decoration:underline">'
            f"{code}</a>"
        )
    return code


def _badge(severity: str) -> str:
    return badge_html(severity, COLOURS.get(severity, COLOURS["muted"]))


def _location(d: Diagnostic) -> str:
    if d.line is None:
        return "whole cell" if d.cell_index is not None else ""
    return f"line {d.line}" + (f":{d.column}" if d.column else "")


def _cell_heading(cell_index: int | None, preview: Mapping[int, str]) -> str:
    if cell_index is None:
        return "notebook"
    text = f"cell {cell_index + 1}"
    first = preview.get(cell_index)
    if first:
        return f'{esc(text)} <code style="color:{COLOURS["muted"]}">{esc(first)}</code>'
    return esc(text)


def render_findings(diags: Sequence[Diagnostic], preview: Mapping[int, str] | None = None) -> str:
    """The findings as one HTML table, grouped by cell (notebook-level findings first)."""
    if not diags:
        return (
            f'<div style="color:{COLOURS["success"]};font-weight:bold;padding:4px 0">'
            "✔ All checks passed</div>"
        )
    preview = preview or {}
    ordered = sorted(
        diags,
        key=lambda d: (
            -1 if d.cell_index is None else d.cell_index,
            d.line or 0,
            d.column or 0,
            _SEVERITY_RANK.get(d.severity, 3),
            d.code,
        ),
    )
    border = COLOURS["border"]
    rows: list[str] = []
    group: object = object()
    for d in ordered:
        if d.cell_index != group:
            group = d.cell_index
            heading = _cell_heading(d.cell_index, preview)
            rows.append(
                f'<tr><td colspan="4" style="padding:6px 4px 2px;font-weight:bold;'
                f'border-bottom:1px solid {border}">{heading}</td></tr>'
            )
        fix = ""
        if d.fix is not None:
            label = "safe fix" if d.fix.applicability == "safe" else "unsafe fix"
            fix = f' <span style="color:{COLOURS["muted"]}">[{label}]</span>'
        rows.append(
            "<tr>"
            f'<td style="padding:1px 6px 1px 12px;vertical-align:top">{_badge(d.severity)}</td>'
            f'<td style="padding:1px 6px;vertical-align:top;font-family:monospace;'
            f'white-space:nowrap">{_link(d)}</td>'
            f'<td style="padding:1px 6px;vertical-align:top;white-space:nowrap;'
            f'color:{COLOURS["muted"]}">{esc(_location(d))}</td>'
            f'<td style="padding:1px 6px;vertical-align:top">{esc(d.message)}{fix}</td>'
            "</tr>"
        )
    return (
        '<table style="border-collapse:collapse;width:100%;text-align:left;color:inherit;'
        'line-height:1.4">' + "".join(rows) + "</table>"
    )


def render_message(
    kind: str, text: str, hint: str | None = None, details: Sequence[str] = ()
) -> str:
    """A status line (``error``, ``success`` or ``info``), a hint and a foldable list."""
    colour = COLOURS.get(kind, COLOURS["muted"])
    body = f"<b>{esc(kind)}:</b> {esc(text)}" if kind == "error" else esc(text)
    if hint:
        body += f'<br><span style="color:{COLOURS["muted"]}">{esc(hint)}</span>'
    if details:
        items = "".join(f"<li>{esc(item)}</li>" for item in details)
        body += (
            f'<details style="color:inherit"><summary>what changed</summary>'
            f'<ul style="margin:2px 0">{items}</ul></details>'
        )
    return (
        f'<div style="color:{colour};border-left:3px solid {colour};padding:2px 8px;'
        f'line-height:1.4">{body}</div>'
    )


def _preview(path: Path) -> dict[int, str]:
    """The first non-blank line of every cell, for the group headings (best effort)."""
    from nbops.core.notebook import read_notebook

    try:
        nb = read_notebook(path)
    except (NbopsError, OSError):
        return {}
    out: dict[int, str] = {}
    for cell in nb.cells:
        line = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
        out[cell.index] = line if len(line) <= 60 else line[:59] + "…"
    return out


class Section(Protocol):
    """One part of the panel: a title, a widget and a way to bring it up to date."""

    title: str
    widget: Any

    def refresh(self) -> None: ...


class LintSection:
    """Findings of the saved notebook, with "Lint again" and "Fix all safe" (atomic write,
    backup in ``.nbops_backup/`` beside the notebook, as ``nbops fix`` does)."""

    title = "Lint"

    def __init__(self, locate: Callable[[], Located], widgets: Any) -> None:
        self._locate = locate
        self.diagnostics: list[Diagnostic] = []
        self.error: str | None = None
        self.summary = ""
        self.last_fix: list[str] = []
        self.summary_html = widgets.HTML()
        self.status_html = widgets.HTML()
        self.findings_html = widgets.HTML()
        self.lint_button = widgets.Button(
            description="Lint again",
            icon="refresh",
            tooltip="Lint the saved notebook again (save it first)",
        )
        self.fix_button = widgets.Button(
            description="Fix all safe",
            icon="wrench",
            tooltip="Apply the safe fixes to the file on disk (a backup is kept); then reload",
        )
        self.lint_button.on_click(self._guarded(self._lint_clicked))
        self.fix_button.on_click(self._guarded(self.fix_all))
        note = widgets.HTML(
            f'<span style="color:{COLOURS["muted"]};font-size:90%">'
            "Lints the saved file: save the notebook before linting again.</span>"
        )
        toolbar = widgets.HBox([self.lint_button, self.fix_button, note])
        self.widget = widgets.VBox(
            [toolbar, self.summary_html, self.status_html, self.findings_html]
        )

    # -- actions ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Lint the notebook on disk and show the findings (or why it could not)."""
        from nbops.config import load_config
        from nbops.lint.engine import Linter

        self.diagnostics, self.error = [], None
        try:
            path = self._locate().path
            report = Linter(load_config(path.parent), cache=False).lint_file(path)
        except NbopsError as exc:
            self._show_error(exc.message, exc.hint)
            return
        if report.error:
            self._show_error(f"cannot lint {path.name}: {report.error}")
            return
        self.diagnostics = list(report.diagnostics)
        self.summary = summary_text(self.diagnostics)
        colour = COLOURS["success"] if not self.diagnostics else "inherit"
        self.summary_html.value = f'<div style="color:{colour}">{esc(self.summary)}</div>'
        # no preview of a cell with a security finding: it would repeat the secret unmasked
        secret = {d.cell_index for d in self.diagnostics if d.code.startswith("NB4")}
        preview = {i: t for i, t in _preview(path).items() if i not in secret}
        self.findings_html.value = render_findings(self.diagnostics, preview)
        self.fix_button.disabled = not any(_safe_fix(d) for d in self.diagnostics)

    def fix_all(self) -> None:
        """Write every safe fix to the notebook on disk, then lint again."""
        from nbops.config import load_config
        from nbops.core.notebook import read_notebook
        from nbops.lint.engine import Linter
        from nbops.lint.fix import FixOptions, fix_notebook

        path = self._locate().path
        nb = read_notebook(path)
        applied = fix_notebook(nb, Linter(load_config(path.parent), cache=False), FixOptions())
        self.last_fix = [
            f"{'cell ' + str(a.cell_index + 1) if a.cell_index is not None else 'notebook'}: "
            f"{a.code} {a.message}"
            for a in applied
        ]
        if not (nb.dirty and applied):
            self.refresh()
            self.status_html.value = render_message("info", "Nothing to fix.")
            return
        backup = nb.write(path, backup_dir=path.parent / ".nbops_backup")
        self.refresh()
        done = f"Applied {_plural(len(applied), 'fix')} to {path.name}"
        if backup is not None:
            done += f" (backup: {os.path.relpath(backup, path.parent)})"
        self.status_html.value = render_message("success", done + ".", _RELOAD, self.last_fix)

    # -- plumbing --------------------------------------------------------------------------
    def _lint_clicked(self) -> None:
        self.status_html.value = ""
        self.refresh()

    def _show_error(self, message: str, hint: str | None = None) -> None:
        self.error = message
        self.summary = f"error: {message}"
        self.summary_html.value = ""
        self.findings_html.value = ""
        self.status_html.value = render_message("error", message, hint)
        self.fix_button.disabled = True

    def _guarded(self, action: Callable[[], None]) -> Callable[[Any], None]:
        """A button handler that shows failures in the panel instead of losing them in the
        front end's log, and keeps the buttons disabled while it works."""

        def handler(_button: Any) -> None:
            # refresh() and _show_error() set the fix button's state again
            self.lint_button.disabled = self.fix_button.disabled = True
            self.status_html.value = render_message("info", "Working…")
            try:
                action()
            except NbopsError as exc:
                self._show_error(exc.message, exc.hint)
            except Exception as exc:  # noqa: BLE001 - the UI boundary: never leave a click unanswered
                self._show_error(f"unexpected {type(exc).__name__}: {exc}")
            finally:
                self.lint_button.disabled = False
                if self.status_html.value == render_message("info", "Working…"):
                    self.status_html.value = ""

        return handler


class Panel:
    """The widget tree: a header naming the notebook, then one box per section.

    ``summary`` is the plain-text state (for tests and logs); ``widget`` is the ipywidgets
    root, which is what a notebook displays for a ``Panel``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        locate: Callable[[str | os.PathLike[str] | None], Located] = find_notebook,
    ) -> None:
        widgets = _ipywidgets()
        self._path_arg = path
        self._find = locate
        self.located: Located | None = None
        self.header_html = widgets.HTML()
        self.lint = LintSection(self.locate, widgets)
        self.modularize = ModularizeSection(self.locate, widgets)
        self.submit = SubmitSection(self.locate, widgets)
        self.sections: list[Section] = [self.lint, self.modularize, self.submit]
        title = '<div style="font-weight:bold;margin-top:4px">{}</div>'
        boxes = [
            widgets.VBox([widgets.HTML(title.format(esc(s.title))), s.widget])
            for s in self.sections
        ]
        self.widget = widgets.VBox([self.header_html, *boxes])
        self.refresh()

    def locate(self) -> Located:
        """The notebook, found once; retried on every refresh until found."""
        if self.located is None:
            self.located = self._find(self._path_arg)
            self._render_header()
        return self.located

    def refresh(self) -> None:
        self._render_header()
        for section in self.sections:
            section.refresh()

    @property
    def path(self) -> Path | None:
        return self.located.path if self.located else None

    @property
    def summary(self) -> str:
        where = str(self.path) if self.path else "(notebook not found)"
        return f"{where}: {self.lint.summary}"

    def _render_header(self) -> None:
        if self.located is None:
            body = "nbops"
        else:
            shown = self.located.path
            try:
                shown = shown.relative_to(Path.cwd())
            except ValueError:
                pass
            body = (
                f'nbops · <span title="{esc(self.located.path)}">{esc(shown)}</span>'
                f' <span style="color:{COLOURS["muted"]};font-weight:normal;font-size:90%">'
                f"(found via {esc(self.located.source)})</span>"
            )
        self.header_html.value = f'<div style="font-weight:bold;font-size:110%">{body}</div>'

    def close(self) -> None:
        """Close every widget of the panel (frees the kernel's comms; the view goes blank)."""

        def walk(widget: Any) -> None:
            for child in getattr(widget, "children", ()):
                walk(child)
            widget.close()

        walk(self.widget)

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)


def panel(path: str | os.PathLike[str] | None = None) -> Panel:
    """Show the nbops panel for ``path``, or for the notebook this kernel runs.

    Evaluate it as a cell's last expression (or ``display()`` it). A notebook that cannot be
    found or read shows as a message in the panel, not as a traceback; only a missing
    ipywidgets raises (:class:`~nbops.errors.ToolError`: install ``nbops[widgets]``).
    """
    return Panel(path)
