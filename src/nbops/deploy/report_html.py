"""The health check's report as one self-contained HTML page: inline SVG, no script, no CDN.

:func:`render` turns the JSON report of :mod:`nbops.deploy.monitor` into a page anyone can
open offline: the verdict and its reasons, the findings (missing and retyped columns), the
performance, a table of every feature's statistics, and per drifted feature (and for the
predictions) the reference and current distributions as a histogram or bar chart. Every
value from the data is escaped.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from html import escape
from typing import Any

__all__ = ["render", "svg_bars"]

_COLOURS = {"OK": "#1a7f37", "WARN": "#9a6700", "ALERT": "#cf222e"}
_REFERENCE, _CURRENT = "#8c959f", "#0969da"
_STYLE = """
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:60em;color:#1f2328}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}
.verdict{display:inline-block;padding:.2em .6em;border-radius:.3em;color:#fff;font-weight:bold}
table{border-collapse:collapse;font-size:.9em}td,th{border:1px solid #d0d7de;padding:.25em .5em}
th{background:#f6f8fa;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
tr.drifted td{background:#fff8c5}figure{margin:1em 0}figcaption{font-size:.9em}
.key span{display:inline-block;width:.8em;height:.8em;margin:0 .3em 0 1em}
"""


def _number(value: Any, digits: int = 4) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.{digits}g}"
    return escape(str(value))


def svg_bars(labels: Sequence[str], reference: Sequence[float], current: Sequence[float],
             *, title: str) -> str:
    """Reference and current proportions side by side per label, as an inline SVG."""
    width, height, pad = 640, 180, 24
    n = max(1, len(labels))
    slot = (width - 2 * pad) / n
    top = max([*reference, *current, 1e-9])
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height + 40}" '
              f'role="img" aria-label="{escape(title)}">')]
    parts.append(f'<line x1="{pad}" y1="{height}" x2="{width - pad}" y2="{height}" '
                 'stroke="#57606a"/>')
    for i, (ref, cur) in enumerate(zip(reference, current, strict=True)):
        x = pad + i * slot
        for j, (value, colour) in enumerate(((ref, _REFERENCE), (cur, _CURRENT))):
            h = (height - pad) * value / top
            parts.append(f'<rect x="{x + j * slot / 2 + 1:.1f}" y="{height - h:.1f}" '
                         f'width="{max(slot / 2 - 2, 1):.1f}" height="{h:.1f}" fill="{colour}">'
                         f'<title>{escape(labels[i])}: {"reference" if j == 0 else "current"} '
                         f'{value:.3f}</title></rect>')
    step = max(1, n // 8)
    for i in range(0, n, step):
        x = pad + i * slot
        parts.append(f'<text x="{x:.1f}" y="{height + 14}" font-size="10">'
                     f'{escape(labels[i][:14])}</text>')
    parts.append(f'<text x="{pad}" y="12" font-size="10">max {top:.3f}</text></svg>')
    return "".join(parts)


def _plot(name: str, histogram: Mapping[str, Any] | None) -> str:
    if not histogram:
        return ""
    if "labels" in histogram:
        labels = [str(v) for v in histogram["labels"]]
    else:
        edges = histogram["edges"]
        labels = [f"{edges[i]:.3g}" for i in range(len(edges) - 1)]
    svg = svg_bars(labels, histogram["reference"], histogram["current"], title=name)
    return (f'<figure>{svg}<figcaption>{escape(name)}: share of values per '
            f'{"value" if "labels" in histogram else "bin"}, reference against current'
            '</figcaption></figure>')


def render(report: Mapping[str, Any]) -> str:
    """The page of ``report`` (the JSON report of a health check)."""
    verdict = report["verdict"]
    level = str(verdict["level"])
    drifted = set(verdict.get("drifted", []))
    title = f"Health of {report['model']} version {report['version']}"
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{escape(title)}: {level}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        (f'<p><span class="verdict" style="background:{_COLOURS.get(level, "#57606a")}">'
         f"{escape(level)}</span> {escape(str(report['time']))}: "
         f"{report['rows']} rows of {escape(str(report['current']['file']))} "
         f"({escape(str(report['current']['kind']))}), "
         f"{report['invalid_rows']} failing the model's signature.</p>"),
    ]
    if verdict["reasons"]:
        out.append("<h2>Reasons</h2><ul>")
        out += [f"<li>{escape(r['text'])}</li>" for r in verdict["reasons"]]
        out.append("</ul>")
    if report["findings"] or report["problems"]:
        out.append("<h2>Findings</h2><ul>")
        out += [f"<li>{escape(f)}</li>" for f in report["findings"]]
        out += [f"<li>{escape(p)}</li>" for p in report["problems"]]
        out.append("</ul>")
    perf = report.get("performance")
    if perf:
        shown = ", ".join(f"{k} {_number(v)}" for k, v in perf.items() if k not in ("task",))
        out.append(f"<h2>Performance</h2><p>{escape(str(perf['task']))} "
                   f"(labels: {escape(str(report['labels']))}): {shown}</p>")
    out.append('<h2>Features</h2><p class="key"><span style="background:'
               f'{_REFERENCE}"></span>reference<span style="background:{_CURRENT}"></span>'
               "current</p><table><tr><th>feature</th><th>kind</th><th>status</th>"
               "<th>PSI</th><th>KS</th><th>KS p</th><th>chi-square p</th><th>missing</th></tr>")
    for f in report["features"]:
        row = ' class="drifted"' if f["name"] in drifted else ""
        cells = [_number(f.get(k)) for k in ("psi", "ks", "ks_pvalue", "chi2_pvalue",
                                              "missing_share")]
        out.append(f"<tr{row}><td>{escape(f['name'])}</td><td>{escape(str(f['kind']))}</td>"
                   f"<td>{escape(str(f['status']))}</td>"
                   + "".join(f'<td class="n">{c}</td>' for c in cells) + "</tr>")
    out.append("</table>")
    plotted = [f for f in report["features"] if f["name"] in drifted]
    if plotted:
        out.append("<h2>Drifted features</h2>")
        out += [_plot(f["name"], f.get("histogram")) for f in plotted]
    predictions = report.get("predictions") or {}
    out.append(f"<h2>Predictions</h2><p>PSI {_number(predictions.get('psi'))} over "
               f"{predictions.get('count', 0)} predictions ({escape(str(predictions.get('kind')))})"
               "</p>")
    out.append(_plot("predictions", predictions.get("histogram")))
    out.append("<h2>Triggers</h2><table><tr><th>metric</th><th>fires</th><th>warn</th>"
               "<th>alert</th></tr>")
    for t in report["triggers"]:
        out.append(f"<tr><td>{escape(t['metric'])}</td><td>{escape(t['direction'])}</td>"
                   f'<td class="n">{_number(t["warn"])}</td>'
                   f'<td class="n">{_number(t["alert"])}</td></tr>')
    out.append("</table></body></html>\n")
    return "\n".join(out)
