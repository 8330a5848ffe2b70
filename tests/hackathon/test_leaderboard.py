"""The leaderboard renderer: ranking and each tie-break step, failed and missing teams,
escaping, a self-contained page, the chart's series, determinism and the markdown table."""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from typing import Any

import pytest

from nbops.hackathon import leaderboard as lb
from nbops.hackathon.leaderboard import (
    TIE_BREAK_RULE,
    leaderboard_html,
    leaderboard_markdown,
    rank,
)

WEIGHTS = {
    "lint": ("Lint findings fixed", 20.0),
    "documentation": ("Documentation checks passed", 15.0),
    "library": ("Code moved into a library", 20.0),
    "pipeline": ("Pipeline steps", 10.0),
    "tests": ("Tests passing", 15.0),
    "verify": ("Notebook and pipeline agree", 10.0),
    "tracked_run": ("Tracked run finishes", 10.0),
}
META = {
    "name": "Notebook to production",
    "deadline": "2026-11-22T18:00:00+00:00",
    "generated_at": "2026-11-22T18:10:00+00:00",
}
SCRIPT = "<script>alert(1)</script>"


def card(team: str, scores: dict[str, float] | None = None, *, failed: dict[str, str] | None = None,
         skipped: tuple[str, ...] = (), required: bool = True,
         submitted: str | None = "2026-11-22T17:03:00+00:00", errors: tuple[str, ...] = (),
         kind: str = "branch") -> dict[str, Any]:
    """A scorecard shaped like the scorer's: every component 1.0 unless given; ``failed`` maps a
    component to its reason (score null, 0 points)."""
    scores = scores or {}
    failed = failed or {}
    components: list[dict[str, Any]] = []
    for cid, (title, weight) in WEIGHTS.items():
        status = "failed" if cid in failed else "skipped" if cid in skipped else "ok"
        score = None if status != "ok" else scores.get(cid, 1.0)
        components.append({
            "id": cid, "title": title, "weight": weight, "score": score,
            "points": round((score or 0.0) * weight, 2), "status": status,
            "explanation": f"{cid}: {'n/a' if score is None else f'{score:.0%}'} of the target",
            "reason": failed.get(cid) or ("not configured" if status == "skipped" else None),
        })
    return {
        "team": team,
        "source": {"kind": kind, "ref": f"team/{team}" if kind == "branch" else f"teams/{team}",
                   "commit": "0123456789abcdef0123456789abcdef01234567"},
        "submitted_at": submitted,
        "total": round(sum(c["points"] for c in components), 2),
        "max_total": 100.0,
        "required_passed": required,
        "components": components,
        "errors": list(errors),
        "suggestion": "Write tests for the library: up to +15.0 points" if scores else None,
        "scored_at": "2026-11-22T18:10:00+00:00",
    }


def missing(team: str, reason: str) -> dict[str, Any]:
    """A team that could not be scored at all, as the scorer's ``missing_card`` writes it."""
    result = card(team, failed={cid: reason for cid in WEIGHTS}, required=False, submitted=None)
    result["source"] = {"kind": "missing", "ref": None, "commit": None}
    result["errors"] = [reason]
    return result


def history(*rounds: dict[str, float], start: int = 14) -> list[dict[str, Any]]:
    return [
        {"time": f"2026-11-22T{start + i * 2:02d}:00:00+00:00", "team": team, "total": total}
        for i, totals in enumerate(rounds) for team, total in totals.items()
    ]


def teams(ranked: list[dict[str, Any]]) -> list[str]:
    return [c["team"] for c in ranked]


class Page(HTMLParser):
    """The page's elements (tag, attributes, text inside) in document order."""

    def __init__(self, text: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], list[str]]] = []
        self.open: list[list[str]] = []
        self.decl: list[str] = []
        self.feed(text)

    def handle_decl(self, decl: str) -> None:
        self.decl.append(decl)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        texts: list[str] = []
        self.elements.append((tag, {k: v or "" for k, v in attrs}, texts))
        if tag not in ("meta", "br", "line", "path", "polyline", "input"):
            self.open.append(texts)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, {k: v or "" for k, v in attrs}, []))

    def handle_endtag(self, tag: str) -> None:
        if self.open and tag not in ("meta", "br", "line", "path", "polyline", "input"):
            self.open.pop()

    def handle_data(self, data: str) -> None:
        for texts in self.open:
            texts.append(data)

    def find(self, tag: str, **attrs: str) -> list[tuple[dict[str, str], str]]:
        found = []
        for t, a, texts in self.elements:
            if t == tag and all(v in a.get(k.rstrip("_"), "").split() or a.get(k.rstrip("_")) == v
                                for k, v in attrs.items()):
                found.append((a, "".join(texts)))
        return found


def three_teams() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    cards = [
        card("bravo", {"lint": 0.5, "tests": 0.4},
             failed={"verify": "verify timed out after 600 s"}),
        card("alpha", {"lint": 0.9, "library": 0.8}),
        card("charlie", {"library": 0.2, "pipeline": 0.5, "tests": 0.0}, required=False),
    ]
    past = history({"alpha": 40.0, "bravo": 35.0}, {"alpha": 70.0, "bravo": 62.5, "charlie": 30.0},
                   {c["team"]: c["total"] for c in cards})
    return cards, past


def shape(d: str) -> tuple[float, ...]:
    """A marker path's numbers relative to its first point: its shape, wherever it is drawn."""
    numbers = [float(n) for n in re.findall(r"-?\d+(?:\.\d+)?", d)]
    return tuple(round(n - numbers[i % 2], 1) for i, n in enumerate(numbers))


def child(group: ET.Element, tag: str = "polyline") -> ET.Element:
    found = group.find(tag)
    assert found is not None
    return found


def svg_of(page: str) -> ET.Element:
    match = re.search(r'<svg class="chart".*?</svg>', page, re.DOTALL)
    assert match, "no chart"
    return ET.fromstring(match.group(0))  # well-formed XML, not only HTML


# --------------------------------------------------------------------------- ranking


def test_rank_orders_by_total_and_numbers_from_one() -> None:
    cards, _ = three_teams()
    ranked = rank(cards)
    assert teams(ranked) == ["alpha", "bravo", "charlie"]
    assert [c["rank"] for c in ranked] == [1, 2, 3]
    assert [c["tied"] for c in ranked] == [False] * 3
    assert [c["tie_break"] for c in ranked] == [None] * 3
    assert ranked[0]["total"] == pytest.approx(94.0)


def _pair(**changes: Any) -> list[dict[str, Any]]:
    """Two teams with the same total; ``changes`` apply to "zulu", the one expected first."""
    first, second = card("zulu"), card("alpha")
    for c in (first, second):
        c["total"] = 80.0
    first.update(changes)
    return [second, first]


@pytest.mark.parametrize(
    ("zulu", "alpha", "step"),
    [
        # 2. every required check passed before not
        ({"required_passed": True}, {"required_passed": False}, "required checks"),
        # 3. more components "ok" (alpha has one failed)
        ({}, {"components_failed": "library"}, "components ok"),
        # 4. earlier last submission
        ({"submitted_at": "2026-11-22T16:00:00+00:00"},
         {"submitted_at": "2026-11-22T17:00:00+00:00"}, "earlier submission"),
        # 4. ... compared as times, not strings (17:30 in UTC+02:00 is 15:30 UTC)
        ({"submitted_at": "2026-11-22T17:30:00+02:00"},
         {"submitted_at": "2026-11-22T16:00:00Z"}, "earlier submission"),
        # 4. ... no submission comes last
        ({"submitted_at": "2026-11-22T17:59:00+00:00"}, {"submitted_at": None},
         "earlier submission"),
    ],
)
def test_each_tie_break_step(zulu: dict[str, Any], alpha: dict[str, Any], step: str) -> None:
    cards = _pair(**zulu)
    alpha = dict(alpha)
    broken = alpha.pop("components_failed", None)
    for comp in cards[0]["components"]:
        if comp["id"] == broken:
            comp.update(status="failed", score=None, reason="crashed")
    cards[0].update(alpha)
    ranked = rank(cards)
    assert teams(ranked) == ["zulu", "alpha"]  # zulu wins although "alpha" sorts first by name
    assert [c["rank"] for c in ranked] == [1, 2]
    assert ranked[1]["tie_break"] == step
    assert not any(c["tied"] for c in ranked)


def test_earlier_steps_win_over_later_ones() -> None:
    # alpha submitted earlier and has more "ok", but did not pass the required checks
    late = card("zulu", submitted="2026-11-22T17:59:00+00:00", skipped=("tracked_run",))
    early = card("alpha", submitted="2026-11-22T09:00:00+00:00", required=False)
    late["total"] = early["total"] = 50.0
    assert teams(rank([early, late])) == ["zulu", "alpha"]
    # but a higher total beats everything
    early["total"] = 50.1  # a tenth: the precision totals are shown and compared at
    assert teams(rank([early, late])) == ["alpha", "zulu"]


def test_equal_teams_share_a_rank_and_are_listed_by_name() -> None:
    cards = [card(name) for name in ("delta", "bravo", "Alpha", "charlie")]
    cards[0]["total"] = 10.0  # delta last
    cards[3]["submitted_at"] = "2026-11-22T17:30:00+00:00"  # charlie after the two tied
    ranked = rank(cards)
    assert teams(ranked) == ["Alpha", "bravo", "charlie", "delta"]  # case-insensitive
    assert [c["rank"] for c in ranked] == [1, 1, 3, 4]  # "1, 1, 3"
    assert [c["tied"] for c in ranked] == [True, True, False, False]
    assert [c["tie_break"] for c in ranked] == [None, "team name", "earlier submission", None]
    page = Page(leaderboard_html(cards, [], META))
    assert [a["data-rank"] for a, _ in page.find("tr", class_="team-row")] == ["1", "1", "3", "4"]
    assert "1 (tie)" in leaderboard_markdown(cards, META)


def test_totals_are_compared_as_shown_to_a_tenth() -> None:
    a, b = card("alpha", required=False), card("bravo")
    a["total"], b["total"] = 72.54, 72.46  # both shown 72.5: required checks decide
    assert teams(rank([a, b])) == ["bravo", "alpha"]
    page = Page(leaderboard_html([a, b], [], META))
    assert [t for _, t in page.find("span", class_="value")] == ["72.5", "72.5"]
    assert "equal total: placed by required checks" in leaderboard_html([a, b], [], META)
    a["total"] = 72.55  # shown 72.6
    assert teams(rank([a, b])) == ["alpha", "bravo"]


def test_rank_copies_and_keeps_the_card() -> None:
    cards, _ = three_teams()
    before = copy.deepcopy(cards)
    ranked = rank(cards)
    assert cards == before
    added = ("rank", "tied", "tie_break")
    assert {k: v for k, v in ranked[0].items() if k not in added} == cards[1]


def test_the_rule_is_documented_in_the_module_and_on_the_page() -> None:
    doc = lb.__doc__ or ""
    for words in ("higher total", "required check", '"ok"', "earlier last submission", "1, 1, 3"):
        assert words in doc, words
    page = leaderboard_html(*three_teams(), META)
    assert f'<p class="tie-rule">{TIE_BREAK_RULE}</p>' in page
    assert TIE_BREAK_RULE in leaderboard_markdown(three_teams()[0], META)


# --------------------------------------------------------------------------- failures


def test_failed_and_missing_teams_are_listed_with_their_reasons() -> None:
    cards, past = three_teams()
    cards.append(missing("delta", "branch team/delta not found"))
    cards.append({"team": "echo", "total": None, "components": "garbage", "errors": "clone failed"})
    cards.append({"team": "foxtrot", "total": float("nan"), "required_passed": "yes"})
    ranked = rank(cards)
    assert teams(ranked)[:3] == ["alpha", "bravo", "charlie"]
    assert set(teams(ranked)[3:]) == {"delta", "echo", "foxtrot"}

    html = leaderboard_html(cards, past, META)
    page = Page(html)
    rows = [a["data-team"] for a, _ in page.find("tr", class_="team-row")]
    assert rows[:3] == ["alpha", "bravo", "charlie"] and len(rows) == 6
    assert len(page.find("article", class_="team-card")) == 6
    bravo = page.find("article", id="team-2")[0][1]
    assert "Reason: verify timed out after 600 s" in bravo
    assert "⚠ 1 failed component" in html
    delta = page.find("article", id=f"team-{rows.index('delta') + 1}")[0][1]
    assert delta.count("Reason: branch team/delta not found") == len(WEIGHTS)
    assert "Problems while scoring" in delta and "missing" in delta
    echo = page.find("article", id=f"team-{rows.index('echo') + 1}")[0][1]
    assert "No component was scored." in echo and "clone failed" in echo
    assert len(page.find("tr", class_="status-failed")) == 1 + len(WEIGHTS)

    md = leaderboard_markdown(cards, META)
    assert "verify 0.0/10 ❌ failed (verify timed out after 600 s)" in md
    assert "- **delta**:" in md and "⚠️ branch team/delta not found" in md
    assert "- **echo**: no component scored · ⚠️ clone failed" in md
    assert "| foxtrot | — / 100 | ❌ not passed | 0/0 | not submitted |" in md


def test_malformed_history_entries_are_left_out() -> None:
    cards, past = three_teams()
    past += [{"team": "alpha", "time": "yesterday", "total": 1.0},
             {"team": "alpha", "time": "2026-11-22T19:00:00Z", "total": "lots"},
             {"team": "", "time": "2026-11-22T19:00:00Z", "total": 5.0},
             "not a mapping"]  # type: ignore[list-item]
    svg = svg_of(leaderboard_html(cards, past, META))
    lines = svg.findall(".//polyline")
    assert [len(p.get("points", "").split()) for p in lines] == [3, 3, 2]


# --------------------------------------------------------------------------- escaping


def test_user_text_is_escaped_everywhere() -> None:
    nasty = card(SCRIPT, {"lint": 0.5}, failed={"tests": 'pytest said "<b>boom</b>" </style>'})
    amp = card("a & b", {"lint": 0.25})
    amp["components"][0]["explanation"] = "before: 4 errors | after: 0 & <none>"
    amp["errors"] = ["<img src=x onerror=alert(2)>"]
    amp["suggestion"] = "Use `pytest` | *now*"
    past = history({SCRIPT: 20.0, "a & b": 10.0}, {SCRIPT: 50.0, "a & b": 60.0})
    meta = {**META, "name": "Hack <night> & day"}
    html = leaderboard_html([nasty, amp], past, meta)

    assert "<script" not in html.lower() and "<img" not in html and "<b>" not in html
    assert "a & b" not in html and "</style> " not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "a &amp; b" in html
    page = Page(html)
    # round trip: what the browser reads back is exactly the user's text
    assert [a["data-team"] for a, _ in page.find("tr", class_="team-row")] == ["a & b", SCRIPT]
    assert [t for _, t in page.find("a") if t in (SCRIPT, "a & b")] == ["a & b", SCRIPT]
    assert page.find("title")[0][1] == "Hack <night> & day: leaderboard"
    explained = [t for _, t in page.find("td", class_="explain")]
    assert "before: 4 errors | after: 0 & <none>" in explained
    assert any("<img src=x onerror=alert(2)>" == t for _, t in page.find("li"))
    assert {g.get("data-team") for g in svg_of(html).iter("g") if g.get("data-team")} == {
        SCRIPT, "a & b"}

    md = leaderboard_markdown([nasty, amp], meta)
    assert "<script" not in md and "<img" not in md
    assert "&lt;script&gt;alert\\(1\\)" not in md  # parentheses need no escape
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in md
    assert "a &amp; b" in md and "Hack &lt;night&gt; &amp; day" in md
    assert "Use \\`pytest\\` \\| \\*now\\*" in md


# --------------------------------------------------------------------------- the page


def test_page_is_self_contained() -> None:
    html = leaderboard_html(*three_teams(), META).lower()
    for banned in ("http://", "https://", "<script", "<link", "<img", "<iframe", "src=", "url(",
                   "@import", "@font-face"):
        assert banned not in html, banned


def test_page_structure_and_accessibility() -> None:
    html = leaderboard_html(*three_teams(), META)
    assert html.startswith("<!DOCTYPE html>\n")
    page = Page(html)
    assert page.find("html")[0][0].get("lang") == "en"
    assert page.find("title")[0][1] == "Notebook to production: leaderboard"
    assert page.find("meta", charset="utf-8")
    assert "prefers-color-scheme:dark" in html
    headers = page.find("th")
    assert headers and all(a.get("scope") in ("col", "row") for a, _ in headers)
    ids = [a["id"] for _, a, _ in page.elements if "id" in a]
    assert len(ids) == len(set(ids))
    svg = page.find("svg", class_="chart")[0][0]
    assert svg["role"] == "img"
    assert all(i in ids for i in svg["aria-labelledby"].split())
    desc = page.find("desc")[0][1]
    assert "3 teams over 3 scoring rounds" in desc
    assert "alpha (circles): 3 rounds, 40.0 to 94.0" in desc
    # the ranking table's columns
    assert [t for _, t in headers[:7]] == ["Rank", "Team", "Total", "Required checks",
                                          "Components ok", "Last submission", "Source"]
    alpha_row = page.find("tr", class_="team-row")[0][1]
    for text in ("94.0", "/ 100", "✓ passed", "7 / 7", "2026-11-22 17:03 UTC", "branch",
                 "team/alpha", "0123456"):
        assert text in alpha_row, text
    assert 'style="width:94.0%"' in html


def test_chart_has_one_series_per_team_in_history() -> None:
    cards, past = three_teams()
    cards.append(card("delta"))  # scored, never in a round
    past.append({"time": "2026-11-22T15:00:00+00:00", "team": "ghost", "total": 12.0})
    html = leaderboard_html(cards, past, META)
    svg = svg_of(html)
    groups = [g for g in svg.iter("g") if "series" in g.get("class", "").split()]
    assert [g.get("data-team") for g in groups] == ["alpha", "bravo", "charlie", "ghost"]
    assert all(len(g.findall("polyline")) == 1 for g in groups)
    assert [len(g.findall("path")) for g in groups] == [3, 3, 2, 1]
    # readable without colour: colour, dash pattern and marker shape differ between series
    styles = [(g.get("class"), child(g).get("stroke-dasharray"),
               shape(child(g, "path").get("d", ""))) for g in groups]
    for i in range(3):
        assert len({s[i] for s in styles}) == 4, styles
    assert "Not in any scoring round yet: delta." in html
    assert len(Page(html).find("li", class_="series")) == 4  # the legend
    # points go up and right: later rounds are further right, higher totals higher up
    alpha = [tuple(map(float, p.split(","))) for p in child(groups[0]).get("points", "").split()]
    assert alpha[0][0] < alpha[1][0] < alpha[2][0] and alpha[0][1] > alpha[1][1] > alpha[2][1]
    assert svg.find(".//g[@class='deadline']") is not None  # 18:00 is inside 14:00..18:00


def test_chart_with_one_round_or_none() -> None:
    cards, _ = three_teams()
    one = history({"alpha": 50.0, "bravo": 40.0})
    svg = svg_of(leaderboard_html(cards, one, META))
    lines = svg.findall(".//polyline")
    assert len(lines) == 2 and all(len(p.get("points", "").split()) == 1 for p in lines)
    assert len(svg.findall(".//path")) == 2  # one marker each shows the point
    assert svg.find(".//g[@class='deadline']") is None
    html = leaderboard_html(cards, [], META)
    assert '<svg class="chart"' not in html and "No scoring rounds recorded yet." in html


def test_chart_with_many_rounds_keeps_few_time_labels() -> None:
    cards, _ = three_teams()
    past = [{"time": f"2026-11-2{d}T{h:02d}:00:00+00:00", "team": t, "total": float(h + d)}
            for d in (1, 2) for h in range(24) for t in ("alpha", "bravo")]
    svg = svg_of(leaderboard_html(cards, past, META))
    labels = [t for t in svg.iter("text") if len(t.findall("tspan")) == 2]
    assert 2 <= len(labels) <= 7
    assert [len(p.get("points", "").split()) for p in svg.findall(".//polyline")] == [48, 48]


def test_empty_leaderboard() -> None:
    html = leaderboard_html([], [], {"name": "Empty", "deadline": None, "generated_at": None})
    assert "No scorecards yet." in html and "0 teams" in html
    assert "No scorecards yet." in leaderboard_markdown([], {})


# --------------------------------------------------------------------------- determinism


def test_same_input_same_bytes() -> None:
    cards, past = three_teams()
    first = leaderboard_html(cards, past, META)
    assert leaderboard_html(copy.deepcopy(cards), copy.deepcopy(past), dict(META)) == first
    assert leaderboard_html(list(reversed(cards)), past, META) == first  # input order is irrelevant
    assert leaderboard_markdown(list(reversed(cards)), META) == leaderboard_markdown(cards, META)
    assert "2026-11-22 18:10 UTC" in first  # the generation time comes from meta


def test_same_bytes_across_processes() -> None:
    """No set or hash order leaks into the page: two interpreters with different hash seeds."""
    cards, past = three_teams()
    code = ("import json, sys; from nbops.hackathon.leaderboard import leaderboard_html as h; "
            "c, p, m = json.load(sys.stdin); sys.stdout.write(h(c, p, m))")
    outputs = set()
    for seed in ("1", "2"):
        done = subprocess.run([sys.executable, "-c", code], input=json.dumps([cards, past, META]),
                              capture_output=True, text=True, encoding="utf-8", check=True,
                              env={**os.environ, "PYTHONHASHSEED": seed}, timeout=60)
        outputs.add(done.stdout)
    assert outputs == {leaderboard_html(cards, past, META)}


# --------------------------------------------------------------------------- markdown


def test_markdown_table_shape() -> None:
    cards, _ = three_teams()
    cards.append(card("pipe|team", {"lint": 0.1, "library": 0.0, "documentation": 0.0}))
    md = leaderboard_markdown(cards, META)
    lines = md.splitlines()
    assert lines[0] == "## 🏆 Notebook to production: leaderboard"
    table = [line for line in lines if line.startswith("|")]
    header, separator, *rows = table
    assert header == "| Rank | Team | Total | Required checks | Components ok | Last submission |"
    assert separator == "|---:|---|---:|---|---:|---|"
    assert len(rows) == 4
    unescaped = re.compile(r"(?<!\\)\|")
    assert all(len(unescaped.findall(row)) == 7 for row in table), table
    assert rows[0] == "| 1 | alpha | 94.0 / 100 | ✅ passed | 7/7 | 2026-11-22 17:03 UTC |"
    assert "| pipe\\|team |" in rows[3]
    # one line of component points per team, in rank order
    per_team = [line for line in lines if line.startswith("- **")]
    names = [line.split("**")[1] for line in per_team]
    assert names == ["alpha", "bravo", "charlie", "pipe\\|team"]
    assert per_team[0].startswith("- **alpha**: lint 18.0/20 · documentation 15.0/15 · library 16.0/20")
    assert "*next:* Write tests for the library: up to +15.0 points" in per_team[0]
    assert lines[-1].startswith("<sub>Ties: ") and "Generated 2026-11-22 18:10 UTC." in lines[-1]
    assert md.endswith("\n") and "Deadline: 2026-11-22 18:00 UTC" in md


# --------------------------------------------------------------------------- one number, one place


def test_a_total_reads_the_same_everywhere() -> None:
    """A total of 94.65 (two decimals, as older scorers wrote) and a component of 14.65 are
    shown 94.7 and 14.7 on the page, in its chart and in the markdown: never 94.65."""
    strong = card("strong", {"library": 0.7325})
    strong["total"] = 94.65
    strong["components"][2]["points"] = 14.65
    past = history({"strong": 80.25}, {"strong": 94.65})
    page = leaderboard_html([strong], past, META)
    md = leaderboard_markdown([strong], META)
    for text in (page, md):
        assert "94.65" not in text and "14.65" not in text and "80.25" not in text
    parsed = Page(page)
    assert [t for _, t in parsed.find("span", class_="value")] == ["94.7"]
    assert "94.7 / 100" in parsed.find("article", id="team-1")[0][1]
    assert "<td class=\"num\">14.7</td>" in page
    assert "80.3 to 94.7" in page and "strong: 94.7 points" in page  # the chart's words
    assert "| strong | 94.7 / 100 |" in md and "library 14.7/20" in md


def test_not_submitted_is_said_only_of_teams_without_a_submission() -> None:
    scored = card("scored", kind="folder", submitted=None)  # scored, no commit time known
    absent = missing("absent", "no submission: folder teams/absent does not exist")
    page = leaderboard_html([scored, absent], [], META)
    md = leaderboard_markdown([scored, absent], META)
    rows = {a["data-team"]: t for a, t in Page(page).find("tr", class_="team-row")}
    assert "time unknown" in rows["scored"] and "not submitted" not in rows["scored"]
    assert "not submitted" in rows["absent"]
    assert "| scored | 100.0 / 100 | ✅ passed | 7/7 | time unknown |" in md
    assert "| absent | 0.0 / 100 | ❌ not passed | 0/7 | not submitted |" in md
    cards = {a["data-team"]: t for a, t in Page(page).find("article", class_="team-card")}
    assert "submitted time unknown" in cards["scored"] and "submitted not submitted" in cards["absent"]


def test_no_absolute_path_of_the_organisers_machine() -> None:
    old = card("strong", kind="folder")
    old["source"]["ref"] = "/home/organiser/hackathon/submissions/strong"
    windows = card("weak", kind="folder")
    windows["source"]["ref"] = "C:\\Users\\org\\hackathon\\submissions\\weak"
    page = leaderboard_html([old, windows], [], META)
    assert "/home/organiser" not in page and "Users" not in page
    assert "<code>strong</code>" in page and "<code>weak</code>" in page
    relative = card("rel", kind="folder")  # what the scorer writes: relative to the exercise
    assert "<code>teams/rel</code>" in leaderboard_html([relative], [], META)
