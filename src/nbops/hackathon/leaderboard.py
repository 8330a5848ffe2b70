"""The hackathon leaderboard rendered from the scorer's scorecards: one self-contained HTML page
(ranking, per-team breakdown, an SVG chart of the totals over time; inline CSS, no scripts,
fonts, images or network, so it reads from ``file://``) and markdown for a pull request comment.

Ranking (:func:`rank`; the same text is printed at the foot of the page and the comment):

1. higher total, compared to 0.1 point (the total as every front shows it:
   :mod:`nbops.hackathon.points` rounds once, to one decimal);
2. every required check passed before not;
3. more components with status "ok";
4. earlier last submission (teams that never submitted, or whose time is unknown, last);
5. team name (case-insensitive): teams equal on 1-4 share a rank, numbered "1, 1, 3", and
   are listed by name.

Nothing in a scorecard stops the page: missing fields take defaults, failed components are
marked with their reason, a team scored not at all is listed with its errors, and malformed
history entries are left out of the chart. "Not submitted" is said only of a team with no
submission (source ``missing``); a scored team without a time reads "time unknown". A source
given as an absolute path (scorecards of older versions) is shown by its last part only: the
page never shows a path of the organiser's machine. The output depends on the input only (the
generation time comes from ``meta``): the same input gives the same bytes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from html import escape
from itertools import pairwise
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any

from nbops.hackathon.points import format_points, round_points

__all__ = ["TIE_BREAK_RULE", "leaderboard_html", "leaderboard_markdown", "rank"]

TIE_BREAK_RULE = (
    "Teams are ranked by total points, higher first (compared to 0.1 point, as shown). Equal totals "
    "are separated by, in order: every required check passed before not; more components "
    "scored ok; earlier last submission (no submission last). Teams equal on all of these "
    "share a rank (1, 1, 3) and are listed by team name."
)

# what separated a team from the one above it when their totals are equal (sort key order)
_TIE_STEPS = ("total", "required checks", "components ok", "earlier submission")
_STATUS = {"ok": "✓ ok", "failed": "✗ failed", "skipped": "– skipped"}
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


# --------------------------------------------------------------------------- input, tolerant


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else str(value)


def _time(value: Any) -> datetime | None:
    """An ISO 8601 time in UTC (naive times are taken as UTC); None when absent or unreadable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    if text[-1] in "Zz":
        text = text[:-1] + "+00:00"
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)


@dataclass(frozen=True)
class _Component:
    id: str
    title: str
    weight: float | None
    score: float | None
    points: float | None
    status: str
    explanation: str
    reason: str


@dataclass(frozen=True)
class _Card:
    team: str
    total: float | None
    max_total: float
    required_passed: bool
    components: tuple[_Component, ...]
    errors: tuple[str, ...]
    suggestion: str
    submitted: datetime | None
    submitted_raw: str
    scored_raw: str
    source_kind: str
    source_ref: str
    commit: str

    @property
    def name(self) -> str:
        return self.team or "(unnamed team)"

    @property
    def unsubmitted(self) -> str:
        """What to say when the card has no submission time."""
        return "not submitted" if self.source_kind == "missing" else "time unknown"

    @property
    def ok(self) -> int:
        return sum(c.status == "ok" for c in self.components)

    @property
    def failed(self) -> int:
        return sum(c.status == "failed" for c in self.components)

    def key(self) -> tuple[float, bool, int, float]:
        """The ranking key without the name: equal keys share a rank."""
        when = self.submitted.timestamp() if self.submitted else math.inf
        return (-round_points(self.total or 0.0) + 0.0, not self.required_passed, -self.ok, when)


def _component(raw: Mapping[str, Any]) -> _Component:
    cid = _text(raw.get("id"))
    return _Component(
        id=cid,
        title=_text(raw.get("title")) or cid or "(unnamed component)",
        weight=_num(raw.get("weight")),
        score=_num(raw.get("score")),
        points=_num(raw.get("points")),
        status=_text(raw.get("status")) or "unknown",
        explanation=_text(raw.get("explanation")),
        reason=_text(raw.get("reason")),
    )


def _card(raw: Mapping[str, Any]) -> _Card:
    source = raw.get("source")
    source = source if isinstance(source, Mapping) else {}
    components = raw.get("components")
    errors = raw.get("errors")
    max_total = _num(raw.get("max_total"))
    return _Card(
        team=_text(raw.get("team")),
        total=_num(raw.get("total")),
        max_total=max_total if max_total and max_total > 0 else 100.0,
        required_passed=raw.get("required_passed") is True,
        components=tuple(
            _component(c) for c in components if isinstance(c, Mapping)
        ) if isinstance(components, (list, tuple)) else (),
        errors=tuple(
            _text(e) for e in errors if e is not None and _text(e)
        ) if isinstance(errors, (list, tuple)) else ((_text(errors),) if errors else ()),
        suggestion=_text(raw.get("suggestion")),
        submitted=_time(raw.get("submitted_at")),
        submitted_raw=_text(raw.get("submitted_at")),
        scored_raw=_text(raw.get("scored_at")),
        source_kind=_text(source.get("kind")) or "missing",
        source_ref=_text(source.get("ref")),
        commit=_text(source.get("commit")),
    )


@dataclass(frozen=True)
class _Place:
    rank: int
    tied: bool
    tie_break: str | None
    card: _Card
    raw: Mapping[str, Any]


def _places(cards: Sequence[Mapping[str, Any]]) -> list[_Place]:
    parsed = [(_card(raw), raw) for raw in cards]
    parsed.sort(key=lambda pair: (*pair[0].key(), pair[0].team.casefold(), pair[0].team))
    keys = [card.key() for card, _ in parsed]
    places: list[_Place] = []
    for i, (card, raw) in enumerate(parsed):
        same_above = i > 0 and keys[i] == keys[i - 1]
        same_below = i + 1 < len(keys) and keys[i] == keys[i + 1]
        tie_break = None
        if i > 0 and keys[i][0] == keys[i - 1][0]:
            differs = [step for step, a, b in zip(_TIE_STEPS, keys[i], keys[i - 1]) if a != b]
            tie_break = differs[0] if differs else "team name"
        number = places[-1].rank if same_above else i + 1
        places.append(_Place(number, same_above or same_below, tie_break, card, raw))
    return places


def rank(cards: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The scorecards best first, each a copy with ``rank`` (1, 1, 3 on a tie), ``tied`` (shares
    its rank) and ``tie_break`` (what placed it below the team above when their totals are
    equal: "required checks", "components ok", "earlier submission" or "team name"; else None)."""
    return [
        {**p.raw, "rank": p.rank, "tied": p.tied, "tie_break": p.tie_break}
        for p in _places(cards)
    ]


# --------------------------------------------------------------------------- formatting


def _e(text: str) -> str:
    return escape(text, quote=True)


_pts = format_points  # totals and points: one decimal everywhere, a dash when unknown


def _short(value: float | None) -> str:
    """A weight or an axis value: up to two decimals, no trailing zeros."""
    if value is None:
        return "—"
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _pct(score: float | None) -> str:
    return "—" if score is None else f"{score * 100:.0f}%"


def _when(moment: datetime | None, raw: str = "") -> str:
    return moment.strftime("%Y-%m-%d %H:%M UTC") if moment else raw


def _time_html(moment: datetime | None, raw: str, missing: str) -> str:
    if moment is None:
        return f'<span class="muted">{_e(raw or missing)}</span>'
    return f'<time datetime="{_e(moment.isoformat())}">{_when(moment)}</time>'


def _shown_ref(ref: str) -> str:
    """A source as the page may show it: a branch or a path relative to the exercise; an
    absolute path (written by an older scorer) by its last part only."""
    for pure in (PurePosixPath(ref), PureWindowsPath(ref)):
        if pure.is_absolute():
            return pure.name
    return ref


def _source_html(card: _Card) -> str:
    kind = card.source_kind
    badge = "warn" if kind == "missing" else "plain"
    parts = [f'<span class="badge {badge}">{_e(kind)}</span>']
    if card.source_ref:
        parts.append(f"<code>{_e(_shown_ref(card.source_ref))}</code>")
    if card.commit:
        parts.append(f'@ <code title="{_e(card.commit)}">{_e(card.commit[:7])}</code>')
    return " ".join(parts)


def _required_html(card: _Card) -> str:
    if card.required_passed:
        return '<span class="badge ok">✓ passed</span>'
    return '<span class="badge failed">✗ not passed</span>'


def _status_html(status: str) -> str:
    css = status if status in _STATUS else "unknown"
    return f'<span class="badge {css}">{_e(_STATUS.get(status, status))}</span>'


# --------------------------------------------------------------------------- HTML: ranking


def _ranking_html(places: list[_Place]) -> list[str]:
    out = [
        '<section aria-labelledby="ranking"><h2 id="ranking">Ranking</h2>',
        '<div class="scroll"><table class="ranking">',
        ('<caption>Best first; equal totals are separated by the rule at the foot of the page.'
         "</caption>"),
        ("<thead><tr>"
         '<th scope="col" class="num">Rank</th><th scope="col">Team</th>'
         '<th scope="col" class="num">Total</th><th scope="col">Required checks</th>'
         '<th scope="col" class="num">Components ok</th><th scope="col">Last submission</th>'
         '<th scope="col">Source</th></tr></thead>'),
        "<tbody>",
    ]
    for i, p in enumerate(places, 1):
        c = p.card
        tie = (' <span class="badge plain tie" title="shares this rank">tie</span>'
               if p.tied else "")
        notes = []
        if c.failed:
            notes.append(f'<a class="note warn" href="#team-{i}">⚠ {c.failed} failed '
                         f'component{"s" if c.failed != 1 else ""}</a>')
        elif c.errors or not c.components:
            notes.append(f'<a class="note warn" href="#team-{i}">⚠ scoring problems</a>')
        if p.tie_break:
            notes.append(f'<span class="note">equal total: placed by {_e(p.tie_break)}</span>')
        share = 0.0 if c.total is None else max(0.0, min(100.0, c.total / c.max_total * 100))
        out += [
            f'<tr class="team-row" data-team="{_e(c.team)}" data-rank="{p.rank}">',
            f'<td class="num rank">{p.rank}{tie}</td>',
            (f'<th scope="row" class="team"><a class="team-name" href="#team-{i}">{_e(c.name)}</a>'
             f'{"".join(notes)}</th>'),
            (f'<td class="num total"><span class="value">{_pts(c.total)}</span>'
             f'<span class="of"> / {_short(c.max_total)}</span>'
             f'<span class="bar" aria-hidden="true"><span style="width:{share:.1f}%"></span>'
             "</span></td>"),
            f"<td>{_required_html(c)}</td>",
            f'<td class="num">{c.ok} / {len(c.components)}</td>',
            f"<td>{_time_html(c.submitted, c.submitted_raw, c.unsubmitted)}</td>",
            f'<td class="source">{_source_html(c)}</td>',
            "</tr>",
        ]
    if not places:
        out.append('<tr><td colspan="7" class="muted">No scorecards yet.</td></tr>')
    out += ["</tbody></table></div>", "</section>"]
    return out


# --------------------------------------------------------------------------- HTML: breakdown


def _team_html(i: int, p: _Place) -> list[str]:
    c = p.card
    out = [
        (f'<article class="team-card" id="team-{i}" data-team="{_e(c.team)}" '
         f'aria-labelledby="team-{i}-h">'),
        (f'<h3 id="team-{i}-h"><span class="chip">#{p.rank}</span> {_e(c.name)} '
         f'<span class="score">{_pts(c.total)} / {_short(c.max_total)}</span></h3>'),
        (f'<p class="facts">Required checks {_required_html(c)} · source {_source_html(c)} · '
         f"submitted {_time_html(c.submitted, c.submitted_raw, c.unsubmitted)} · "
         f"scored {_time_html(_time(c.scored_raw), c.scored_raw, 'unknown')}</p>"),
    ]
    if c.components:
        out += [
            '<div class="scroll"><table class="components">',
            ("<thead><tr>"
             '<th scope="col">Component</th><th scope="col" class="num">Weight</th>'
             '<th scope="col" class="num">Score</th><th scope="col" class="num">Points</th>'
             '<th scope="col">Status</th><th scope="col">How it was scored</th></tr></thead>'),
            "<tbody>",
        ]
        for comp in c.components:
            css = comp.status if comp.status in _STATUS else "unknown"
            reason = (f'<p class="reason"><strong>Reason:</strong> {_e(comp.reason)}</p>'
                      if comp.reason else "")
            out += [
                f'<tr class="component status-{css}" data-component="{_e(comp.id)}">',
                f'<th scope="row">{_e(comp.title)}</th>',
                f'<td class="num">{_short(comp.weight)}</td>',
                f'<td class="num">{_pct(comp.score)}</td>',
                f'<td class="num">{_pts(comp.points)}</td>',
                f"<td>{_status_html(comp.status)}</td>",
                f'<td class="explain">{_e(comp.explanation)}{reason}</td>',
                "</tr>",
            ]
        out.append("</tbody></table></div>")
    else:
        out.append('<p class="problem">No component was scored.</p>')
    if c.errors:
        out.append('<div class="errors" role="note"><h4>Problems while scoring</h4><ul>')
        out += [f"<li>{_e(error)}</li>" for error in c.errors]
        out.append("</ul></div>")
    if c.suggestion:
        out.append(f'<p class="suggestion"><strong>Next step:</strong> {_e(c.suggestion)}</p>')
    out.append("</article>")
    return out


# --------------------------------------------------------------------------- HTML: chart

_W, _H = 960, 380
_LEFT, _RIGHT, _TOP, _BOTTOM = 64, 24, 20, 64
_PAD = 14  # keeps the first and last markers off the axes
_DASHES = ("", "9 5", "2 4", "12 4 3 4")
_SHAPE_NAMES = ("circles", "squares", "triangles", "diamonds", "inverted triangles",
                "plus signs", "crosses")
_PLUS = ((-0.4, -1.25), (0.4, -1.25), (0.4, -0.4), (1.25, -0.4), (1.25, 0.4), (0.4, 0.4),
         (0.4, 1.25), (-0.4, 1.25), (-0.4, 0.4), (-1.25, 0.4), (-1.25, -0.4), (-0.4, -0.4))
_SQRT_HALF = math.sqrt(0.5)
_SHAPES: tuple[tuple[tuple[float, float], ...], ...] = (
    (),  # a circle
    ((-0.9, -0.9), (0.9, -0.9), (0.9, 0.9), (-0.9, 0.9)),
    ((0.0, -1.3), (1.15, 0.75), (-1.15, 0.75)),
    ((0.0, -1.3), (1.3, 0.0), (0.0, 1.3), (-1.3, 0.0)),
    ((0.0, 1.3), (1.15, -0.75), (-1.15, -0.75)),
    _PLUS,
    tuple(((x - y) * _SQRT_HALF, (x + y) * _SQRT_HALF) for x, y in _PLUS),
)
_COLOURS = 8  # .c0 .. .c7 in the CSS


@dataclass(frozen=True)
class _Series:
    team: str
    points: tuple[tuple[datetime, float], ...]


def _series(history: Sequence[Mapping[str, Any]], order: list[str]) -> list[_Series]:
    """One series per team with a readable history entry, in ranking order (then by name)."""
    found: dict[str, list[tuple[float, int, datetime, float]]] = {}
    for i, entry in enumerate(history):
        if not isinstance(entry, Mapping):
            continue
        team, when, total = _text(entry.get("team")), _time(entry.get("time")), _num(
            entry.get("total"))
        if team and when is not None and total is not None:
            found.setdefault(team, []).append((when.timestamp(), i, when, total))
    position = {team: n for n, team in enumerate(order)}
    teams = sorted(found, key=lambda t: (position.get(t, len(order)), t.casefold(), t))
    return [_Series(t, tuple((w, v) for _, _, w, v in sorted(found[t]))) for t in teams]


def _marker(shape: int, x: float, y: float, r: float = 5.5) -> str:
    vertices = _SHAPES[shape % len(_SHAPES)]
    if not vertices:
        return (f"M{x - r:.1f},{y:.1f}a{r:.1f},{r:.1f} 0 1,0 {2 * r:.1f},0"
                f"a{r:.1f},{r:.1f} 0 1,0 {-2 * r:.1f},0Z")
    return "M" + "L".join(f"{x + dx * r:.1f},{y + dy * r:.1f}" for dx, dy in vertices) + "Z"


def _style(n: int) -> tuple[str, str]:
    """A series' colour class and dash attribute."""
    dash = _DASHES[n % len(_DASHES)]
    return f"c{n % _COLOURS}", (f' stroke-dasharray="{dash}"' if dash else "")


def _nice_step(raw: float) -> float:
    magnitude = 10.0 ** math.floor(math.log10(raw))
    return next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)


def _tick_label(moment: datetime, x: float, y: float) -> str:
    return (f'<text class="tick" x="{x:.1f}" y="{y:.1f}" text-anchor="middle">'
            f'<tspan x="{x:.1f}">{_MONTHS[moment.month - 1]} {moment.day}</tspan>'
            f'<tspan x="{x:.1f}" dy="14">{moment:%H:%M}</tspan></text>')


def _chart_html(series: list[_Series], max_total: float, deadline: datetime | None,
                unscored: list[str]) -> list[str]:
    out = ['<section aria-labelledby="over-time"><h2 id="over-time">Scores over time</h2>']
    if not series:
        out += ['<p class="muted">No scoring rounds recorded yet.</p>', "</section>"]
        return out
    times = sorted({w for s in series for w, _ in s.points})
    values = [v for s in series for _, v in s.points]
    t0, t1 = times[0].timestamp(), times[-1].timestamp()
    low = min(0.0, min(values))
    high = max(max_total, max(values))
    step = _nice_step((high - low) / 5 or 1.0)
    low, high = math.floor(low / step) * step, math.ceil(high / step) * step
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    bottom = _TOP + plot_h

    def x_of(moment: datetime) -> float:
        if t1 == t0:
            return _LEFT + plot_w / 2
        return _LEFT + _PAD + (moment.timestamp() - t0) / (t1 - t0) * (plot_w - 2 * _PAD)

    def y_of(value: float) -> float:
        return bottom - (value - low) / (high - low) * plot_h

    rounds = len(times)
    first, last = _when(times[0]), _when(times[-1])
    span = f"on {first}" if rounds == 1 else f"from {first} to {last}"
    summary = "; ".join(
        f"{s.team} ({_SHAPE_NAMES[n % len(_SHAPE_NAMES)]}): {len(s.points)} "
        f"round{'s' if len(s.points) != 1 else ''}, "
        + (f"{_pts(s.points[0][1])} to {_pts(s.points[-1][1])}" if len(s.points) > 1
           else _pts(s.points[0][1]))
        for n, s in enumerate(series)
    )
    plural = "s" if rounds != 1 else ""
    desc = f"Totals of {len(series)} teams over {rounds} scoring round{plural} {span}. {summary}."
    out += [
        '<figure class="chart">',
        (f'<svg class="chart" viewBox="0 0 {_W} {_H}" role="img" '
         'aria-labelledby="chart-title chart-desc" preserveAspectRatio="xMidYMid meet">'),
        '<title id="chart-title">Total points per team over time</title>',
        f'<desc id="chart-desc">{_e(desc)}</desc>',
        '<g class="grid">',
    ]
    for k in range(round((high - low) / step) + 1):
        value = low + k * step
        y = y_of(value)
        out.append(f'<line x1="{_LEFT}" y1="{y:.1f}" x2="{_W - _RIGHT}" y2="{y:.1f}"/>')
        out.append(f'<text class="tick" x="{_LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">'
                   f"{_short(value)}</text>")
    out.append("</g>")

    # x ticks: the rounds themselves when few and far enough apart, else evenly spaced times
    xs = [x_of(t) for t in times]
    if len(times) <= 8 and all(b - a >= 64 for a, b in pairwise(xs)):
        ticks = times
    else:
        count = max(2, min(7, plot_w // 120 + 1))
        ticks = [datetime.fromtimestamp(t0 + k * (t1 - t0) / (count - 1), timezone.utc)
                 for k in range(count)]
    out.append('<g class="axes">')
    for moment in ticks:
        x = x_of(moment)
        out.append(f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}"/>')
        out.append(_tick_label(moment, x, bottom + 20))
    out += [
        f'<line x1="{_LEFT}" y1="{_TOP}" x2="{_LEFT}" y2="{bottom}"/>',
        f'<line x1="{_LEFT}" y1="{bottom}" x2="{_W - _RIGHT}" y2="{bottom}"/>',
        (f'<text class="label" x="{_LEFT + plot_w / 2:.1f}" y="{_H - 6}" text-anchor="middle">'
         "Scoring round (UTC)</text>"),
        (f'<text class="label" transform="translate(16 {_TOP + plot_h / 2:.1f}) rotate(-90)" '
         'text-anchor="middle">Total points</text>'),
        "</g>",
    ]
    if deadline is not None and t0 < deadline.timestamp() <= t1:
        x = x_of(deadline)
        out += [
            f'<g class="deadline"><line x1="{x:.1f}" y1="{_TOP}" x2="{x:.1f}" y2="{bottom}"/>',
            f'<text x="{x - 4:.1f}" y="{_TOP + 12}" text-anchor="end">deadline</text></g>',
        ]
    for n, s in enumerate(series):
        colour, dash = _style(n)
        coords = [(x_of(w), y_of(v)) for w, v in s.points]
        out.append(f'<g class="series {colour}" data-team="{_e(s.team)}">')
        out.append('<polyline class="line" points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y in coords) + f'"{dash}/>')
        for (x, y), (w, v) in zip(coords, s.points):
            out.append(f'<path class="mk" d="{_marker(n, x, y)}"><title>'
                       f"{_e(s.team)}: {_pts(v)} points, {_when(w)}</title></path>")
        out.append("</g>")
    out.append("</svg>")

    out.append('<figcaption><ul class="legend" aria-label="Legend">')
    for n, s in enumerate(series):
        colour, dash = _style(n)
        out.append(
            f'<li class="series {colour}"><svg class="key" viewBox="0 0 44 16" width="44" '
            f'height="16" aria-hidden="true"><line class="line" x1="2" y1="8" x2="42" y2="8"'
            f'{dash}/><path class="mk" d="{_marker(n, 22, 8)}"/></svg>'
            f'{_e(s.team)} <span class="muted">{_pts(s.points[-1][1])}</span></li>'
        )
    out.append("</ul>")
    if unscored:
        out.append('<p class="muted">Not in any scoring round yet: '
                   + ", ".join(_e(t) for t in unscored) + ".</p>")
    out.append("</figcaption></figure>")

    # the same numbers as a table, for screen readers and for copying
    out += [
        '<details class="chart-data"><summary>The chart as a table</summary>',
        '<div class="scroll"><table><thead><tr><th scope="col">Round (UTC)</th>',
        *(f'<th scope="col" class="num">{_e(s.team)}</th>' for s in series),
        "</tr></thead><tbody>",
    ]
    for moment in times:
        cells = []
        for s in series:
            hits = [v for w, v in s.points if w == moment]
            cells.append(f'<td class="num">{_pts(hits[-1]) if hits else "—"}</td>')
        out.append(f'<tr><th scope="row">{_when(moment)}</th>{"".join(cells)}</tr>')
    out += ["</tbody></table></div></details>", "</section>"]
    return out


# --------------------------------------------------------------------------- HTML: page

_CSS = """
:root{color-scheme:light dark;--bg:#fff;--fg:#1b1f24;--muted:#57606a;--line:#d0d7de;
--soft:#f6f8fa;--accent:#0969da;--ok-fg:#0f5323;--ok-bg:#dcf5e2;--bad-fg:#8a1c1c;
--bad-bg:#fde2e1;--skip-fg:#3d4852;--skip-bg:#e9ecef;--warn-fg:#7a4b00;--warn-bg:#fff1cc}
.c0{--s:#0072B2}.c1{--s:#D55E00}.c2{--s:#117733}.c3{--s:#AA4499}
.c4{--s:#8A6D00}.c5{--s:#882255}.c6{--s:#00798C}.c7{--s:#332288}
@media (prefers-color-scheme:dark){
:root{--bg:#15171a;--fg:#e6e8eb;--muted:#9aa3ad;--line:#3a4048;--soft:#1e2227;
--accent:#6cb6ff;--ok-fg:#7ee2a0;--ok-bg:#12351f;--bad-fg:#ffb3ad;--bad-bg:#4a1515;
--skip-fg:#c9d1d9;--skip-bg:#2b3036;--warn-fg:#ffd479;--warn-bg:#3d2e00}
.c0{--s:#56B4E9}.c1{--s:#FF8A4C}.c2{--s:#44BB99}.c3{--s:#EE88CC}
.c4{--s:#DDCC77}.c5{--s:#FF7788}.c6{--s:#66CCEE}.c7{--s:#A699FF}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);
font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
header,main,footer{max-width:1120px;margin:0 auto;padding:0 20px}
header{padding-top:24px}
h1{margin:0 0 4px;font-size:1.8rem}
h2{margin:32px 0 12px;font-size:1.3rem;border-bottom:1px solid var(--line);padding-bottom:4px}
h3{margin:0 0 6px;font-size:1.1rem;display:flex;gap:10px;align-items:baseline;flex-wrap:wrap}
h4{margin:8px 0 4px;font-size:.95rem}
a{color:var(--accent)}
code{font:.85em ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--soft);
padding:1px 4px;border-radius:4px}
.muted,.meta,caption,.facts,.note{color:var(--muted)}
.scroll{overflow-x:auto}
table{border-collapse:collapse;width:100%;font-variant-numeric:tabular-nums}
caption{text-align:left;font-size:.85rem;padding-bottom:6px}
th,td{padding:7px 10px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
thead th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);
border-bottom-width:2px}
.num{text-align:right;white-space:nowrap}
.ranking .rank{font-size:1.15rem;font-weight:700}
.ranking .team-name{font-weight:600;font-size:1.05rem}
time,.team-name,.source code{white-space:nowrap}
.ranking tbody th{font-weight:400}
.note{display:block;font-size:.8rem}
a.note.warn{color:var(--warn-fg)}
.total .value{font-weight:700;font-size:1.05rem}
.total .of{color:var(--muted);font-size:.85rem}
.bar{display:block;margin-top:4px;margin-left:auto;width:140px;height:8px;
background:var(--soft);border:1px solid var(--line);border-radius:4px;overflow:hidden}
.bar>span{display:block;height:100%;background:var(--accent)}
.badge{display:inline-block;padding:0 8px;border-radius:10px;font-size:.8rem;font-weight:600;
white-space:nowrap;background:var(--skip-bg);color:var(--skip-fg)}
.badge.ok{background:var(--ok-bg);color:var(--ok-fg)}
.badge.failed{background:var(--bad-bg);color:var(--bad-fg);box-shadow:inset 0 0 0 1px currentColor}
.badge.warn{background:var(--warn-bg);color:var(--warn-fg)}
.badge.tie{margin-left:6px;font-weight:400}
.team-card{border:1px solid var(--line);border-radius:8px;padding:14px 16px;margin:0 0 16px;
background:var(--bg)}
.chip{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:0 6px}
.team-card .score{margin-left:auto;font-variant-numeric:tabular-nums}
.facts{margin:0 0 8px;font-size:.9rem}
.components tbody th{font-weight:600;white-space:nowrap}
.status-failed{background:var(--bad-bg)}
.status-failed td,.status-failed th{color:var(--fg)}
.explain{font-size:.9rem}
.reason{margin:4px 0 0;color:var(--bad-fg)}
.errors{border-left:4px solid var(--bad-fg);background:var(--bad-bg);padding:4px 12px;
margin:10px 0;border-radius:4px}
.errors ul{margin:0 0 6px;padding-left:20px}
.problem{color:var(--bad-fg);font-weight:600}
.suggestion{margin:10px 0 0}
figure.chart{margin:0}
svg.chart{display:block;width:100%;max-width:960px;height:auto}
.grid line{stroke:var(--line);stroke-width:1}
.axes line{stroke:var(--muted);stroke-width:1}
.tick,.label,.deadline text{fill:var(--muted);font-size:12px}
.label{font-size:13px}
.deadline line{stroke:var(--bad-fg);stroke-width:1.5;stroke-dasharray:4 4}
.deadline text{fill:var(--bad-fg)}
.series .line{fill:none;stroke:var(--s);stroke-width:2.5;stroke-linejoin:round}
.series .mk{fill:var(--s);stroke:var(--bg);stroke-width:1.5}
.legend{list-style:none;display:flex;flex-wrap:wrap;gap:6px 22px;padding:0;margin:8px 0}
.legend li{display:flex;align-items:center;gap:6px}
details.chart-data{margin-top:10px}
footer{margin-top:36px;padding-bottom:32px;font-size:.9rem}
footer h2{font-size:1rem}
"""


def leaderboard_html(cards: Sequence[Mapping[str, Any]], history: Sequence[Mapping[str, Any]],
                     meta: Mapping[str, Any]) -> str:
    """The leaderboard as one self-contained HTML5 page (ranking, breakdown per team, chart of
    totals over time from ``history``). ``meta``: ``name``, ``deadline``, ``generated_at``."""
    places = _places(cards)
    name = _text(meta.get("name")) or "Hackathon"
    generated = _time(meta.get("generated_at"))
    generated_raw = _text(meta.get("generated_at"))
    deadline = _time(meta.get("deadline"))
    order = [p.card.team for p in places]
    series = _series(history, order)
    charted = {s.team for s in series}
    unscored = [p.card.name for p in places if p.card.team not in charted]
    max_total = max((p.card.max_total for p in places), default=100.0)

    stamp = f" at {_time_html(generated, generated_raw, '')}" if generated or generated_raw else ""
    facts = [f"{len(places)} team{'s' if len(places) != 1 else ''}"]
    if deadline is not None or _text(meta.get("deadline")):
        facts.append("deadline " + _time_html(deadline, _text(meta.get("deadline")), ""))
    if generated is not None or generated_raw:
        facts.append("generated " + _time_html(generated, generated_raw, ""))

    out = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        '<meta name="generator" content="nbops hackathon leaderboard">',
        f"<title>{_e(name)}: leaderboard</title>",
        f"<style>{_CSS}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>{_e(name)}</h1>",
        f'<p class="meta">Leaderboard · {" · ".join(facts)}</p>',
        "</header>",
        "<main>",
        *_ranking_html(places),
        *_chart_html(series, max_total, deadline, unscored),
        '<section aria-labelledby="breakdown"><h2 id="breakdown">Per-team breakdown</h2>',
    ]
    for i, place in enumerate(places, 1):
        out += _team_html(i, place)
    if not places:
        out.append('<p class="muted">No scorecards yet.</p>')
    out += [
        "</section>",
        "</main>",
        '<footer><h2 id="rules">How the ranking is decided</h2>',
        f'<p class="tie-rule">{_e(TIE_BREAK_RULE)}</p>',
        f"<p>Generated by <code>nbops hackathon leaderboard</code>{stamp}.</p>",
        "</footer>",
        "</body>",
        "</html>",
    ]
    return "\n".join(out) + "\n"


# --------------------------------------------------------------------------- markdown

_MD_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`*_[]|~#"})
_MD_STATUS = {"ok": "", "failed": "❌ failed", "skipped": "➖ skipped"}


def _md(text: str) -> str:
    """User text safe in a GitHub table cell: one line, HTML characters as entities, markdown
    punctuation (pipes included) backslash-escaped."""
    flat = " ".join(text.split())
    flat = flat.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return flat.translate(_MD_SPECIAL)


def _md_component(comp: _Component) -> str:
    text = f"{_md(comp.id or comp.title)} {_pts(comp.points)}/{_short(comp.weight)}"
    status = _MD_STATUS.get(comp.status, _md(comp.status))
    if status:
        text += f" {status}"
    if comp.reason and comp.status != "ok":
        text += f" ({_md(comp.reason)})"
    return text


def leaderboard_markdown(cards: Sequence[Mapping[str, Any]], meta: Mapping[str, Any]) -> str:
    """The leaderboard for a pull request comment (GitHub-flavoured): the ranking table, then
    one line per team with its component points, failures with their reasons, and errors."""
    places = _places(cards)
    name = _text(meta.get("name")) or "Hackathon"
    lines = [f"## 🏆 {_md(name)}: leaderboard", ""]
    deadline = _time(meta.get("deadline"))
    if deadline is not None:
        lines += [f"Deadline: {_when(deadline)}", ""]
    if not places:
        lines.append("No scorecards yet.")
    else:
        lines += [
            "| Rank | Team | Total | Required checks | Components ok | Last submission |",
            "|---:|---|---:|---|---:|---|",
        ]
        for p in places:
            c = p.card
            rank_text = f"{p.rank} (tie)" if p.tied else str(p.rank)
            required = "✅ passed" if c.required_passed else "❌ not passed"
            submitted = _md(_when(c.submitted, c.submitted_raw)) or c.unsubmitted
            lines.append(
                f"| {rank_text} | {_md(c.name)} | {_pts(c.total)} / {_short(c.max_total)} | "
                f"{required} | {c.ok}/{len(c.components)} | {submitted} |"
            )
        lines += ["", "**Points per component**", ""]
        for p in places:
            c = p.card
            parts = [_md_component(comp) for comp in c.components] or ["no component scored"]
            line = f"- **{_md(c.name)}**: " + " · ".join(parts)
            if c.errors:
                line += " · ⚠️ " + "; ".join(_md(e) for e in c.errors)
            if c.suggestion:
                line += f" · *next:* {_md(c.suggestion)}"
            lines.append(line)
    footer = f"Ties: {TIE_BREAK_RULE}"
    generated = _time(meta.get("generated_at"))
    if generated is not None:
        footer += f" Generated {_when(generated)}."
    lines += ["", f"<sub>{footer}</sub>"]
    return "\n".join(lines) + "\n"
