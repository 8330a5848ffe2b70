"""The gate's report as text (terminal) and markdown (pull request bodies, CI summaries)."""

from __future__ import annotations

from nbops.review.checks import CheckResult, GateReport

__all__ = ["gate_markdown", "gate_text"]

_MARK = {"pass": "PASS", "fail": "FAIL", "skip": "skip"}
_CATEGORIES = ("documentation", "quality", "safety", "reproducibility")


def _mark(check: CheckResult) -> str:
    if check.status == "fail" and check.level == "optional":
        return "warn"
    return _MARK[check.status]


def gate_text(report: GateReport, *, details: int = 5) -> str:
    lines = [f"{report.path}"]
    width = max((len(c.title) for c in report.checks), default=10)
    for category in _CATEGORIES:
        checks = [c for c in report.checks if c.category == category]
        if not checks:
            continue
        lines.append(f"  {category}")
        for c in checks:
            where = f" [cell {c.cell_index + 1}]" if c.cell_index is not None and c.status == "fail" else ""
            optional = " (optional)" if c.level == "optional" else ""
            lines.append(f"    {_mark(c):<4}  {c.title:<{width}}  {c.message}{where}{optional}")
            if c.status == "fail":
                for item in c.details[:details]:
                    lines.append(f"            - {item}")
                if len(c.details) > details:
                    lines.append(f"            - ... {len(c.details) - details} more (--format json lists all)")
                if c.fix:
                    lines.append(f"          fix: {c.fix}")
    blocking = [c for c in report.checks if c.blocking]
    if blocking:
        lines.append(f"BLOCKED: {len(blocking)} required check(s) fail: {', '.join(c.id for c in blocking)}")
    else:
        lines.append(f"PASSED: all required checks pass ({sum(c.status == 'pass' for c in report.checks)} passed)")
    return "\n".join(lines) + "\n"


def gate_markdown(report: GateReport, *, heading: str = "###") -> str:
    verdict = "passed" if report.passed else "blocked"
    lines = [f"{heading} Review gate: {verdict}", "", "| | check | result |", "|---|---|---|"]
    icons = {"pass": "✅", "fail": "❌", "skip": "➖", "warn": "⚠️"}
    for c in report.checks:
        mark = _mark(c).lower()
        text = c.message.replace("|", "\\|")
        if c.status == "fail" and c.fix:
            text += f"<br>*fix:* {c.fix.replace('|', chr(92) + '|')}"
        optional = " *(optional)*" if c.level == "optional" else ""
        lines.append(f"| {icons.get(mark, '')} | {c.title}{optional} | {text} |")
    return "\n".join(lines) + "\n"
