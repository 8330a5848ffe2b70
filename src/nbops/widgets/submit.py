"""The panel's "Submit for review" section: the review gate's checklist, then ``nbops submit``.

A thin front end over :mod:`nbops.review`: "Check" runs
:func:`~nbops.review.checks.check_notebook` on the saved notebook and shows the checklist
(grouped by category; each failing check with its message, how to fix it and its cell);
"Submit for review" is enabled only when every required check passes, and runs
:func:`~nbops.review.submit.submit` with the title, description and reviewers typed above
(the gate runs again there). The outcome is the branch, the commit, the remote and the pull
request (or the compare URL to open it, or the remote that got the branch), or the failure in
plain words with its hint. Both run synchronously in the kernel, like the lint section: a
submit takes a few seconds of git. Forge tokens are read from the kernel's environment.

The section checks nothing until asked (the panel opens as fast as before); once checked, the
panel's refresh checks again.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from nbops.errors import NbopsError
from nbops.widgets.locate import Located

__all__ = [
    "STATUS_COLOURS",
    "SubmitSection",
    "badge_html",
    "esc",
    "render_checklist",
    "render_failure",
    "render_result",
    "split_reviewers",
]

# the panel's palette (nbops.widgets.panel.COLOURS) by check status; modularize uses it too
STATUS_COLOURS = {
    "fail": "var(--jp-error-color1, var(--vscode-editorError-foreground, #d32f2f))",
    "warn": "var(--jp-warn-color1, var(--vscode-editorWarning-foreground, #e65100))",
    "pass": "var(--jp-success-color1, var(--vscode-testing-iconPassed, #388e3c))",
    "skip": "var(--jp-ui-font-color2, var(--vscode-descriptionForeground, #757575))",
    "border": "var(--jp-border-color2, var(--vscode-panel-border, #9e9e9e))",
}
_CATEGORIES = (
    ("documentation", "Documentation"),
    ("quality", "Quality"),
    ("safety", "Safety"),
    ("reproducibility", "Reproducibility"),
)
_PUSH_FAILURES = {
    "rejected": "The review branch on the remote has commits this one does not have.",
    "declined": "The remote refused the push.",
    "auth": "The remote did not accept the credentials.",
    "network": "The remote could not be reached.",
    "other": "Pushing the review branch failed.",
}


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def badge_html(text: str, colour: str, title: str = "") -> str:
    """A small outlined label (a status, a severity, a file action) in ``colour``."""
    tip = f' title="{esc(title)}"' if title else ""
    return (
        f'<span{tip} style="color:{colour};border:1px solid {colour};border-radius:3px;'
        f'padding:0 4px;font-size:90%;white-space:nowrap">{esc(text)}</span>'
    )


def _link(url: str, text: str) -> str:
    # only http(s) links: a javascript: URL must never become clickable
    if url.startswith(("https://", "http://")):
        return (
            f'<a href="{esc(url)}" target="_blank" rel="noopener noreferrer" '
            f'style="color:inherit;text-decoration:underline">{esc(text)}</a>'
        )
    return f"<code>{esc(url)}</code>"


def split_reviewers(text: str) -> list[str]:
    """``"alice, @bob,, org/team"`` -> ``["alice", "bob", "org/team"]`` (no duplicates)."""
    names = [n.strip().removeprefix("@") for n in text.replace("\n", ",").split(",")]
    return list(dict.fromkeys(n for n in names if n))


def _badge(check: Any) -> str:
    """``pass``, ``fail``, ``skip``, or ``warn`` for a failing optional check."""
    if check.status == "fail" and not check.blocking:
        return "warn"
    return str(check.status)


def render_checklist(gate: Any) -> str:
    """The gate's checklist (:class:`~nbops.review.checks.GateReport`) as one HTML table."""
    border = STATUS_COLOURS["border"]
    rows: list[str] = []
    for category, title in _CATEGORIES:
        checks = [c for c in gate.checks if c.category == category]
        if not checks:
            continue
        rows.append(
            f'<tr><td colspan="3" style="padding:6px 4px 2px;font-weight:bold;'
            f'border-bottom:1px solid {border}">{esc(title)}</td></tr>'
        )
        for c in checks:
            badge = _badge(c)
            colour = STATUS_COLOURS.get(badge, STATUS_COLOURS["skip"])
            what = esc(c.message)
            if c.status == "fail":
                if c.fix:
                    what += (
                        f'<br><span style="color:{STATUS_COLOURS["skip"]}">fix: {esc(c.fix)}</span>'
                    )
                for item in c.details[:10]:
                    what += f'<br><span style="color:{STATUS_COLOURS["skip"]}">· {esc(item)}</span>'
            where = (
                f"cell {c.cell_index + 1}"
                if c.status == "fail" and c.cell_index is not None
                else ""
            )
            rows.append(
                "<tr>"
                f'<td style="padding:1px 6px 1px 12px;vertical-align:top">'
                f"{badge_html(badge, colour)}</td>"
                f'<td style="padding:1px 6px;vertical-align:top;white-space:nowrap">'
                f"<b>{esc(c.title)}</b>"
                f'<br><span style="color:{STATUS_COLOURS["skip"]}">{esc(where)}</span></td>'
                f'<td style="padding:1px 6px;vertical-align:top">{what}</td>'
                "</tr>"
            )
    blocking = sum(1 for c in gate.checks if c.blocking)
    if gate.passed:
        colour = STATUS_COLOURS["pass"]
        head = f'<div style="color:{colour};font-weight:bold">✔ Every required check passes</div>'
    else:
        head = (
            f'<div style="color:{STATUS_COLOURS["fail"]};font-weight:bold">✘ {blocking} required '
            f"check{'s' if blocking != 1 else ''} fail{'s' if blocking == 1 else ''}: fix "
            f"{'it' if blocking == 1 else 'them'}, save, and check again</div>"
        )
    return (
        head + '<table style="border-collapse:collapse;width:100%;text-align:left;'
        'color:inherit;line-height:1.4">' + "".join(rows) + "</table>"
    )


def render_result(result: Any) -> str:
    """What a submit (:class:`~nbops.review.submit.SubmitResult`) did, as HTML."""
    fresh = result.committed or result.pushed
    title = (
        "Submitted for review"
        if fresh
        else ("Already submitted: the review branch has exactly this notebook")
    )
    pr = result.pull_request
    if pr is not None:
        review = _link(pr.url, f"pull request #{pr.number}") + (
            " (opened)" if pr.created else " (updated)"
        )
    elif result.compare_url:
        review = f"no {esc(result.forge or 'forge')} token: " + _link(
            result.compare_url, "open the pull request"
        )
    else:
        review = (
            f"the branch is in {esc(result.remote)} (not a GitHub or GitLab remote): ask for "
            f"the review of {esc(result.branch)} into {esc(result.base)} where your team does"
        )
    commit = (result.commit or "")[:10]
    facts = [
        ("branch", f"<code>{esc(result.branch)}</code>"),
        ("commit", f'<code title="{esc(result.commit or "")}">{esc(commit)}</code>'),
        ("remote", ("pushed to " if result.pushed else "already in ") + esc(result.remote)),
        ("review", review),
        ("report", f"<code>{esc(result.report_path)}</code>"),
    ]
    body = "".join(
        f'<tr><td style="padding:0 8px 0 0;color:{STATUS_COLOURS["skip"]}">{k}</td><td>{v}</td></tr>'
        for k, v in facts
    )
    warnings = "".join(f"<li>{esc(w)}</li>" for w in result.warnings)
    if warnings:
        warnings = (
            f'<div style="color:{STATUS_COLOURS["warn"]};font-weight:bold">Warnings</div>'
            f'<ul style="margin:2px 0">{warnings}</ul>'
        )
    colour = STATUS_COLOURS["pass"]
    return (
        f'<div style="border-left:3px solid {colour};padding:2px 8px;line-height:1.4">'
        f'<div style="color:{colour};font-weight:bold">{esc(title)}</div>'
        f'<table style="border-collapse:collapse;color:inherit">{body}</table>{warnings}</div>'
    )


def render_failure(lead: str, message: str, hint: str | None) -> str:
    colour = STATUS_COLOURS["fail"]
    text = f"<b>{esc(lead)}</b><br>{esc(message)}"
    if hint:
        text += f'<br><span style="color:{STATUS_COLOURS["skip"]}">{esc(hint)}</span>'
    return (
        f'<div style="color:{colour};border-left:3px solid {colour};padding:2px 8px;'
        f'line-height:1.4">{text}</div>'
    )


class SubmitSection:
    """Title, description, reviewers; "Check" (the gate) and "Submit for review"."""

    title = "Submit for review"

    def __init__(self, locate: Callable[[], Located], widgets: Any) -> None:
        self._locate = locate
        self.gate: Any = None  # the last GateReport
        self.result: Any = None  # the last SubmitResult
        self.error: str | None = None
        self.reason: str | None = None  # why the push failed, when it did
        self.summary = "not checked yet"
        self.title_text = widgets.Text(
            description="Title", placeholder="Review: <the notebook's H1 title>",
            layout=widgets.Layout(width="100%"),
        )  # fmt: skip
        self.message_text = widgets.Textarea(
            description="Description", placeholder="What changed, what to look at (optional)",
            layout=widgets.Layout(width="100%"),
        )  # fmt: skip
        self.reviewers_text = widgets.Text(
            description="Reviewers", placeholder="alice, org/ml-team (comma-separated)",
            layout=widgets.Layout(width="100%"),
        )  # fmt: skip
        self.check_button = widgets.Button(
            description="Check",
            icon="check",
            tooltip="Run the review gate on the saved notebook (save it first)",
        )
        self.submit_button = widgets.Button(
            description="Submit for review",
            icon="upload",
            button_style="primary",
            tooltip="Push a review branch and open the pull request (needs every required check)",
            disabled=True,
        )
        self.check_button.on_click(self._guarded(self.check))
        self.submit_button.on_click(self._guarded(self.submit))
        self.status_html = widgets.HTML()
        self.checklist_html = widgets.HTML(
            '<span style="color:var(--jp-ui-font-color2, #757575);font-size:90%">'
            "Checks the saved file: save the notebook, then Check.</span>"
        )
        self.result_html = widgets.HTML()
        toolbar = widgets.HBox([self.check_button, self.submit_button, self.status_html])
        self.widget = widgets.VBox(
            [self.title_text, self.message_text, self.reviewers_text, toolbar,
             self.checklist_html, self.result_html]
        )  # fmt: skip

    # -- actions ---------------------------------------------------------------------------
    def refresh(self) -> None:
        """Check again, once the section has been checked (the panel's refresh)."""
        if self.gate is not None:
            self._guarded(self.check)(None)

    def check(self) -> None:
        """Run the gate on the saved notebook and show the checklist."""
        from nbops.review.checks import check_notebook

        self.error = None
        path = self._locate().path
        self.gate = check_notebook(path)
        self._show_gate()

    def submit(self) -> None:
        """``nbops submit`` of the saved notebook with what the form holds."""
        from nbops.review.git import PushError
        from nbops.review.submit import GateFailed, SecretInSubmission, SubmitOptions
        from nbops.review.submit import submit as submit_notebook

        path = self._locate().path
        options = SubmitOptions(
            title=self.title_text.value.strip() or None,
            message=self.message_text.value.strip() or None,
            reviewers=split_reviewers(self.reviewers_text.value),
        )
        self.result, self.error, self.reason = None, None, None
        self.result_html.value = ""
        try:
            self.result = submit_notebook(path, options)
        except GateFailed as exc:
            self.gate = exc.gate
            self._show_gate()
            self._failed(
                "The review gate blocks this notebook: fix the failing checks, save, submit again.",
                exc.message, exc.hint,
            )  # fmt: skip
            return
        except SecretInSubmission as exc:
            self._failed("A secret would be published: nothing was committed or pushed.",
                         exc.message, exc.hint)
            return
        except PushError as exc:
            self.reason = exc.reason
            self._failed(
                _PUSH_FAILURES.get(exc.reason, _PUSH_FAILURES["other"]), exc.message, exc.hint
            )
            return
        except NbopsError as exc:
            self._failed("The submit failed. Nothing was pushed.", exc.message, exc.hint)
            return
        self.gate = self.result.gate
        self._show_gate()
        self.summary = f"submitted: {self.result.branch}"
        self.result_html.value = render_result(self.result)

    # -- plumbing --------------------------------------------------------------------------
    def _show_gate(self) -> None:
        gate = self.gate
        self.checklist_html.value = render_checklist(gate)
        blocking = [c.id for c in gate.checks if c.blocking]
        self.summary = "passed" if gate.passed else f"blocked: {', '.join(blocking)}"
        self.submit_button.disabled = not gate.passed

    def _failed(self, lead: str, message: str, hint: str | None) -> None:
        self.error = message
        self.summary = f"error: {message}"
        self.result_html.value = render_failure(lead, message, hint)

    def _guarded(self, action: Callable[[], None]) -> Callable[[Any], None]:
        """A button handler that shows failures in the section (never lost in the front end's
        log) and keeps the buttons disabled while it works."""
        working = '<span style="color:var(--jp-ui-font-color2, #757575)">Working…</span>'

        def handler(_button: Any) -> None:
            self.check_button.disabled = self.submit_button.disabled = True
            self.status_html.value = working
            try:
                action()
            except NbopsError as exc:
                self.gate = None
                self._failed("The checks could not run.", exc.message, exc.hint)
                self.checklist_html.value = ""
            except Exception as exc:  # noqa: BLE001 - the UI boundary: always an answer
                self.gate = None
                self._failed("Unexpected error.", f"{type(exc).__name__}: {exc}", None)
            finally:
                self.check_button.disabled = False
                self.submit_button.disabled = not (self.gate is not None and self.gate.passed)
                self.status_html.value = ""

        return handler
