"""``nbops hackathon new | score | leaderboard | status``: thin over :mod:`nbops.hackathon`.

``score`` saves each team's latest scorecard in ``.nbops/hackathon/scores/<team>.json`` of
the exercise and appends the totals to ``history.jsonl``; ``leaderboard`` renders them.
Exit codes: 0 done, 1 (``status`` / ``score`` of one team) a required check fails, 2 bad input.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from nbops import api_types, extras
from nbops.cli import exits
from nbops.errors import UsageError
from nbops.progress import MODES, Mode, Progress

__all__ = ["register"]

_SCORE = ["papermill", "mlflow"]  # scoring runs nbops verify and nbops run


_PROGRESS_HELP = ("progress on stderr, per team and component. auto (default): a bar when stderr "
                  'is a terminal, nothing otherwise; json: one JSON object per line {"done", '
                  '"total", "current"}; none')


class _Components:
    """The bar of a scoring, in components (each team's seven): ``team(i, name)`` as a team's
    scoring starts, then called with each component id as it starts, and :meth:`finished` as it
    ends (several run at once: the bar counts the ones finished, and names the ones under way)."""

    def __init__(self, mode: Mode, teams: int) -> None:
        from nbops.hackathon.config import COMPONENTS
        from nbops.hackathon.score import TITLES

        self.size, self.titles = len(COMPONENTS), TITLES
        self.bar = Progress(mode, teams * self.size, unit="component", desc="scoring")
        self.index, self.name, self.seen, self.running = 0, "", set[str](), list[str]()

    def team(self, index: int, name: str) -> None:
        self.index, self.name, self.seen, self.running = index, name, set(), []
        self.bar.update(index * self.size, desc=f"scoring {name}")

    def __call__(self, cid: str) -> None:
        self.running.append(cid)
        self._show()

    def finished(self, cid: str) -> None:
        self.seen.add(cid)  # with several notebooks a component comes back: counted once
        if cid in self.running:
            self.running.remove(cid)
        self._show()

    def _show(self) -> None:  # the component that started last, and how many others run
        running = list(dict.fromkeys(reversed(self.running)))
        now = self.titles.get(running[0], running[0]) if running else "scored"
        more = f" (+{len(running) - 1} more)" if len(running) > 1 else ""
        self.bar.update(self.index * self.size + min(self.size, len(self.seen)), desc=f"{self.name}: {now}{more}")

    def finish(self, teams: int) -> None:
        self.bar.update(teams * self.size, desc="scored")

    def close(self) -> None:
        self.bar.close()


def register(sub: Any) -> None:
    hack = sub.add_parser(
        "hackathon",
        help="conversion exercises, scorecards and a leaderboard",
        description="Run a notebook-to-production hackathon: create the exercise repository, "
        "score the teams' work, show a team its scorecard, render the leaderboard.",
        epilog=exits.epilog({}, note="Without a COMMAND: this help, exit 2."),
    )
    hsub = hack.add_subparsers(dest="hackathon_command", metavar="COMMAND")

    new = hsub.add_parser(
        "new",
        help="create an exercise repository",
        description="Create an exercise repository in DIR: the notebooks to convert, "
        "hackathon.toml (teams, scoring) and the instructions, as a git repository unless "
        "--no-git.",
        epilog=exits.epilog({exits.OK: None, exits.WRITE: "DIR is not empty, or a file "
                             "could not be written"}),
    )
    new.add_argument("folder", type=Path, metavar="DIR", help="the folder to create")
    new.add_argument("--notebooks", type=Path, nargs="+", required=True, metavar="NB",
                     help="the notebooks the teams convert")
    new.add_argument("--teams", default="", help="comma-separated team names")
    new.add_argument("--name", default="Notebook to production",
                     help="the hackathon's title (default: Notebook to production)")
    new.add_argument("--deadline", help="ISO date-time, e.g. 2026-12-01T17:00:00+00:00")
    new.add_argument("--no-git", action="store_true", help="do not make it a git repository")
    new.set_defaults(handler=cmd_new)

    score = hsub.add_parser(
        "score",
        help="score teams (all of hackathon.toml by default)",
        description="Score teams' work: each component of the scorecard with the points it "
        "gives and why; saved for the leaderboard unless --no-save.",
        epilog=exits.epilog({
            exits.OK: "scored (one team: its required checks pass)",
            exits.FAILED: "one team scored and a required check fails",
            exits.TOOL: "git failed (scoring branches)",
        }),
    )
    score.add_argument("path", nargs="?", type=Path, metavar="PATH",
                       help="a folder with one team's work (default: every team)")
    score.add_argument("--team", help="the team PATH or --branch belongs to")
    score.add_argument("--branch", help="score this branch of the exercise repository")
    score.add_argument("--all-branches", action="store_true",
                       help="also score team branches that hackathon.toml does not list")
    score.add_argument("--exercise", type=Path, help="the exercise folder (default: found from PATH or here)")
    score.add_argument("--format", dest="output_format", choices=("text", "json", "markdown"),
                       default="text", help="text (default), json or markdown")
    score.add_argument("--no-save", action="store_true", help="do not record the scores")
    score.add_argument("--progress", choices=MODES, default="auto", help=_PROGRESS_HELP)
    score.set_defaults(handler=cmd_score)

    board = hsub.add_parser(
        "leaderboard",
        help="render the leaderboard (HTML, or markdown)",
        description="Render the saved scores as a leaderboard: an HTML page, or markdown on "
        "stdout.",
        epilog=exits.epilog({exits.OK: None, exits.USAGE: "no scores yet, or bad input",
                             exits.WRITE: "the HTML file cannot be written"}),
    )
    board.add_argument("--exercise", type=Path, metavar="DIR",
                       help="the exercise folder (default: found from here)")
    board.add_argument("--out", type=Path, help="HTML file to write (default: <exercise>/leaderboard.html)")
    board.add_argument("--format", dest="output_format", choices=("html", "markdown"),
                       default="html", help="html (default: written to --out) or markdown")
    board.set_defaults(handler=cmd_leaderboard)

    status = hsub.add_parser(
        "status",
        help="your team's scorecard and what would raise it most",
        description="Score your team's work in PATH (nothing is saved) and list what would "
        "raise the score most.",
        epilog=exits.epilog({exits.OK: "the required checks pass",
                             exits.FAILED: "a required check fails"}),
    )
    status.add_argument("path", nargs="?", type=Path, default=Path("."), metavar="PATH",
                        help="your team's folder (default: .)")
    status.add_argument("--team", help="your team's name (default: from the branch team/<name>, else "
                        "PATH's folder name)")
    status.add_argument("--exercise", type=Path, metavar="DIR",
                        help="the exercise folder (default: found from PATH or here)")
    status.add_argument("--format", dest="output_format", choices=("text", "json"),
                        default="text", help="text (default) or json")
    status.add_argument("--progress", choices=MODES, default="auto", help=_PROGRESS_HELP)
    status.set_defaults(handler=cmd_status)
    hack.set_defaults(handler=lambda args: (hack.print_help(), 2)[1])


def cmd_new(args: Any) -> int:
    from nbops.hackathon.exercise import new_exercise

    teams = [t.strip() for t in args.teams.split(",") if t.strip()]
    written = new_exercise(args.folder, args.notebooks, teams, name=args.name,
                           deadline=args.deadline, git=not args.no_git)
    sys.stdout.write(f"created the exercise in {args.folder} ({len(written)} files)\n")
    for path in written:
        sys.stdout.write(f"  {path.relative_to(args.folder).as_posix()}\n")
    sys.stdout.write("next: push it to the team's forge; teams work on branches team/<name>; "
                     "score them with nbops hackathon score\n")
    return 0


def _exercise(args: Any, start: Path) -> Any:
    from nbops.hackathon.config import find_exercise, load_hackathon

    return load_hackathon(args.exercise.resolve() if args.exercise else find_exercise(start))


def _save(h: Any, cards: list[api_types.Scorecard]) -> None:
    folder = h.scores_dir / "scores"
    folder.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")
    with open(h.scores_dir / "history.jsonl", "a", encoding="utf-8") as history:
        for card in cards:
            (folder / f"{card['team']}.json").write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
            history.write(json.dumps({"time": now, "team": card["team"], "total": card["total"]}) + "\n")


def _text(card: api_types.Scorecard) -> str:
    from nbops.hackathon.points import format_points as pts

    lines = [f"{card['team']}: {pts(card['total'])} / 100"
             + ("" if card["required_passed"] else "   (a required check fails)")]
    weights = max(1e-9, sum(x["weight"] for x in card["components"]))
    for c in card["components"]:
        mark = {"ok": "  ", "failed": "!!", "skipped": "--"}.get(c["status"], "  ")
        score = "-" if c["score"] is None else f"{c['score']:.0%}"
        lines.append(f"  {mark} {c['title']:<34} {pts(c['points']):>5} / "
                     f"{pts(c['weight'] * 100 / weights):>4}"
                     f"  {score:>4}  {c['reason'] or c['explanation']}")
    for error in card["errors"]:
        lines.append(f"  note: {error}")
    if card.get("suggestion"):
        lines.append(f"  next: {card['suggestion']}")
    return "\n".join(lines) + "\n"


def _emit(cards: list[api_types.Scorecard], fmt: str, meta: dict[str, Any]) -> None:
    if fmt == "json":
        json.dump(cards[0] if len(cards) == 1 else cards, sys.stdout, indent=2)
        sys.stdout.write("\n")
    elif fmt == "markdown":
        from nbops.hackathon.leaderboard import leaderboard_markdown

        sys.stdout.write(leaderboard_markdown(cards, meta))
    else:
        for card in cards:
            sys.stdout.write(_text(card))


def _meta(h: Any) -> dict[str, Any]:
    return {"name": h.name, "deadline": h.deadline.isoformat() if h.deadline else None,
            "generated_at": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")}


def cmd_score(args: Any) -> int:
    extras.require("run", "nbops hackathon score", modules=_SCORE)
    from nbops.hackathon.score import score_team, team_sources

    h = _exercise(args, args.path or Path.cwd())
    cards: list[api_types.Scorecard] = []
    if args.path is not None or args.branch:
        name = args.team or (args.branch.removeprefix(h.branch_prefix) if args.branch
                             else args.path.resolve().name)
        team = h.team(name)
        bar = _Components(args.progress, 1)
        bar.team(0, name)
        try:
            if args.branch:
                cards.append(score_team(h, name, team, branch=args.branch, on_component=bar,
                                        on_finished=bar.finished))
            else:
                cards.append(score_team(h, name, team, folder=args.path.resolve(), on_component=bar,
                                        on_finished=bar.finished))
            bar.finish(1)
        finally:
            bar.close()
        if team is None:
            cards[-1]["errors"].append(f"team {name!r} is not in hackathon.toml")
    else:
        sources = team_sources(h, branches=args.all_branches)
        if not sources:
            raise UsageError("no teams to score", hint="add [teams.<name>] to hackathon.toml or pass PATH / --branch")
        bar = _Components(args.progress, len(sources))
        try:
            for index, (name, team) in enumerate(sources):
                bar.team(index, name)
                cards.append(score_team(h, name, team, on_component=bar, on_finished=bar.finished))
            bar.finish(len(sources))
        finally:
            bar.close()
    if not args.no_save:
        _save(h, cards)
    _emit(cards, args.output_format, _meta(h))
    return 0 if len(cards) > 1 or cards[0]["required_passed"] else 1


def cmd_leaderboard(args: Any) -> int:
    from nbops.hackathon.leaderboard import leaderboard_html, leaderboard_markdown

    h = _exercise(args, Path.cwd())
    folder = h.scores_dir / "scores"
    cards = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("*.json"))] if folder.is_dir() else []
    cards = [_relative_source(h, card) for card in cards]
    if not cards:
        raise UsageError("no scores yet", hint="run nbops hackathon score first")
    history: list[dict[str, Any]] = []
    file = h.scores_dir / "history.jsonl"
    if file.is_file():
        for line in file.read_text(encoding="utf-8").splitlines():
            try:
                history.append(json.loads(line))
            except ValueError:
                continue
    meta = _meta(h)
    if args.output_format == "markdown":
        sys.stdout.write(leaderboard_markdown(cards, meta))
        return 0
    out: Path = args.out or h.root / "leaderboard.html"
    from nbops.core.notebook import write_text_atomic

    write_text_atomic(out, leaderboard_html(cards, history, meta))
    sys.stdout.write(f"wrote {_shown(out)} ({len(cards)} teams): open it in a browser\n")
    return 0


def _shown(path: Path) -> str:
    """``path`` relative to the working directory (the one the user gave, when it is not)."""
    try:
        return os.path.relpath(path.resolve(), Path.cwd())
    except ValueError:  # another drive (Windows)
        return str(path)


def _relative_source(h: Any, card: Any) -> Any:
    """A scorecard whose source is an absolute folder (written by an older scorer), with that
    folder relative to the exercise: the leaderboard shows no path of this machine."""
    source = card.get("source") if isinstance(card, dict) else None
    ref = source.get("ref") if isinstance(source, dict) else None
    if isinstance(source, dict) and isinstance(ref, str) and Path(ref).is_absolute():
        try:
            rel = os.path.relpath(ref, h.root)
        except ValueError:
            rel = Path(ref).name
        card = {**card, "source": {**source, "ref": Path(rel).as_posix()}}
    return card


def cmd_status(args: Any) -> int:
    extras.require("run", "nbops hackathon status", modules=_SCORE)
    import subprocess

    from nbops.hackathon.score import score_team

    h = _exercise(args, args.path)
    folder = args.path.resolve()
    name = args.team
    if not name:
        proc = subprocess.run(["git", "-C", str(folder), "symbolic-ref", "--short", "HEAD"],
                              capture_output=True, text=True, check=False)
        branch = proc.stdout.strip()
        name = branch.removeprefix(h.branch_prefix) if branch.startswith(h.branch_prefix) else folder.name
    bar = _Components(args.progress, 1)
    bar.team(0, name)
    try:
        card = score_team(h, name, h.team(name), folder=folder, on_component=bar, on_finished=bar.finished)
        bar.finish(1)
    finally:
        bar.close()
    if args.output_format == "json":
        json.dump(card, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(_text(card))
    return 0 if card["required_passed"] else 1
