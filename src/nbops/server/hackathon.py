"""The Hackathon tab's server side: a notebook's exercise, its team, the scorecard, scoring jobs.

:meth:`Scoring.info` finds the exercise a notebook belongs to (the nearest ``hackathon.toml``
at or above it, never above the server root), reads it (a broken one is the
:class:`~nbops.errors.ConfigError` of :func:`nbops.hackathon.config.load_hackathon`: 400), and
tells the team the notebook belongs to (the team whose ``folder`` in ``hackathon.toml`` holds
it, else the one of the checkout's branch ``team/<name>``, as ``nbops hackathon status``
does), with the scorecard the server saved for that team last and the checkout's newest
scoring job. A folder team is scored from its folder, a branch team from the checkout.

Scoring runs participants' code (their tests, their notebook, their pipeline), so it never
runs in the server process: :meth:`Scoring.start` runs ``python -m nbops hackathon status
--format json --team T --progress json`` as a subprocess (its progress lines are the job's
``progress``: the components scored, the one under way) (an argument list, no shell, without the server's
``JUPYTER_TOKEN``) in the exercise checkout, in a process group of its own, with a time limit
of the exercise's ``timeout`` plus :data:`EXTRA_S`, as a job of :mod:`nbops.jobs` (this module
is its scoring kind, :class:`ScoreKind`); over the limit, the whole group is stopped (SIGINT,
SIGTERM, then SIGKILL, :data:`~nbops.jobs.STOP_GRACE_S` apart: the one stop policy of
:func:`~nbops.jobs.stop_group`, the same as for runs) and the job ``failed`` saying so. One
scoring at a time per checkout (a second one is a 409).
The card of a job that ends well is saved as ``<exercise>/.nbops/hackathon/status/<team>.json``
(the exercise's ``.gitignore`` leaves ``.nbops/`` out), so a page reload shows it again.
:meth:`Scoring.cancel` is the user's Stop (``DELETE /nbops/hackathon/jobs/{id}``): the whole
group is stopped the same way, the job ends ``cancelled`` with no card saved, and the checkout
is free to be scored again as soon as it answers; a job that has ended is answered unchanged.
:meth:`Scoring.close` stops every job when the server stops, as for runs (``cancelled`` too,
with its own text).

Answers carry no path of the server's: the exercise folder is root-relative and the server
root is taken out of every text of a card (:func:`nbops.server.review.public`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

from nbops import api_types
from nbops.core.notebook import write_text_atomic
from nbops.errors import ConflictError, UsageError
from nbops.hackathon.config import CONFIG_NAME, Hackathon, load_hackathon
from nbops.jobs import KEEP, SHUTDOWN_S, STOP_GRACE_S, Finish, Job, JobTable, cli_error, environment
from nbops.server.pool import public_path, relative_text
from nbops.server.requests import TEAM_NAME, ScoreRequest, Target
from nbops.server.review import public
from nbops.server.runs import relative_errors

__all__ = ["EXTRA_S", "ScoreJob", "ScoreKind", "Scoring"]

EXTRA_S = 120.0  # on top of the exercise's timeout: the CLI's own start-up and bookkeeping
STATUS_DIR = "status"  # under <exercise>/.nbops/hackathon/: the server's saved scorecards
GIT_S = 10.0  # seconds `git symbolic-ref` may take
# a cancelled job's error, by who stopped it (Job.stopped_by)
_STOPPED = {
    "user": "the scoring was stopped by the user before it finished; no scorecard was saved",
    "server": "the Jupyter server stopped while the work was being scored",
}

log = logging.getLogger(__name__)


@dataclass
class ScoreJob(Job):
    """One ``nbops hackathon status`` subprocess (the ``HackathonJob`` of docs/rest-api.yaml)."""

    path: str = ""  # the notebook it was asked from, root-relative
    exercise: str = "."  # the exercise folder, root-relative ("." for the root itself)
    team: str = ""
    folder: Path = field(default_factory=Path, repr=False)  # the exercise folder, resolved
    hackathon: Hackathon | None = field(default=None, repr=False)
    limit_s: float = field(kw_only=True)  # always one: the exercise's timeout + EXTRA_S
    card: api_types.Scorecard | None = None
    progress: api_types.ScoreProgress | None = None  # the CLI's --progress json, as it comes

    def to_json(self) -> api_types.HackathonJob:
        return {
            "id": self.id,
            "path": self.path,
            "exercise": self.exercise,
            "team": self.team,
            "state": self.state,
            "started": self.started,
            "ended": self.ended,
            "limit_s": self.limit_s,
            "card": self.card,
            "error": self.error,
            "progress": self.progress,
        }


def _branch(folder: Path) -> str | None:
    """The checkout's current branch (None: not a git checkout, or a detached HEAD)."""
    try:
        proc = subprocess.run(  # an argument list, no shell
            ["git", "-C", str(folder), "symbolic-ref", "--short", "-q", "HEAD"],
            capture_output=True,
            text=True,
            timeout=GIT_S,
            env=environment(),
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    branch = proc.stdout.strip()
    return branch if proc.returncode == 0 and branch else None


def _team_of(h: Hackathon, branch: str | None) -> str | None:
    """The team of a checkout on ``team/<name>`` (``nbops hackathon status``'s guess)."""
    if not branch or not branch.startswith(h.branch_prefix):
        return None
    name = branch.removeprefix(h.branch_prefix)
    return name if TEAM_NAME.fullmatch(name) else None


def _folder_team(h: Hackathon, file: Path) -> str | None:
    """The team whose ``folder`` (hackathon.toml) holds ``file``: teams that work in folders of
    one repository rather than on branches."""
    for team in h.teams:
        if team.folder and file.is_relative_to((h.root / team.folder).resolve()):
            return team.name
    return None


def _card(out: bytes) -> api_types.Scorecard | None:
    """The scorecard ``nbops hackathon status --format json`` printed, if any."""
    text = out.decode("utf-8", "replace")
    decoder = json.JSONDecoder()
    for start in (len(text) - len(text.lstrip()), text.find('{\n  "team"')):
        if start < 0:  # something may have written before it
            continue
        try:
            value, _ = decoder.raw_decode(text, start)
        except ValueError:
            continue
        if (
            isinstance(value, dict)
            and isinstance(value.get("components"), list)
            and "total" in value
        ):
            return cast(api_types.Scorecard, value)  # the CLI's (nbops.hackathon.score's)
    return None


class ScoreKind:
    """The scoring kind of :class:`nbops.jobs.JobTable`: the scorecard from the CLI's JSON."""

    name = "the scoring"

    def __init__(self, scoring: Scoring) -> None:
        self.scoring = scoring

    def progress(self, job: ScoreJob, line: str) -> bool:
        """A ``--progress json`` line of the CLI (``{"done", "total", "current"}``: the
        components scored, the one under way); any other line is for the error message."""
        if not line.startswith("{"):
            return False
        try:
            value = json.loads(line)
        except ValueError:
            return False
        if not (isinstance(value, dict) and isinstance(value.get("done"), int)
                and isinstance(value.get("total"), int)):
            return False
        current = value.get("current")
        job.progress = {"done": value["done"], "total": value["total"],
                        "current": current if isinstance(current, str) else None}
        return True

    def finish(self, job: ScoreJob, code: int, out: bytes, tail: list[str]) -> Finish:
        """``finished`` with the card (saved for the next visit; a note in ``error`` when it
        could not be), ``cancelled`` (stopped by the user or the server: no card saved),
        ``failed`` (over the time limit, or no card: ``error`` says why)."""
        root, h = self.scoring.root, job.hackathon
        if job.stopped_by in ("user", "server"):
            return Finish("cancelled", _STOPPED[job.stopped_by])
        if job.stopped_by == "limit":
            timeout = h.timeout if h is not None else 0.0
            return Finish(
                "failed",
                f"scoring took longer than its limit of {job.limit_s or 0:.0f} s (the exercise's "
                f"timeout of {timeout:.0f} s plus {self.scoring.extra:.0f} s) and was stopped",
            )
        card = _card(out)
        if card is None or code not in (0, 1) or h is None:  # 1: a required check fails
            # the CLI's own one-line error, else "the scoring was stopped by signal 9" or
            # "nbops hackathon status exited with code 2"
            what = "the scoring" if code < 0 else "nbops hackathon status"
            return Finish("failed", relative_text(root, cli_error(code, tail, what)))
        note = None
        try:
            target = self.scoring.card_file(h, job.team)
            target.parent.mkdir(parents=True, exist_ok=True)
            write_text_atomic(target, json.dumps(card, indent=2) + "\n")
        except OSError as exc:
            note = f"the scorecard could not be saved for the next visit: {exc.strerror or exc}"
        return Finish("finished", note, {"card": public(root, card)})


class Scoring:
    """The scoring jobs of one server (a :class:`nbops.jobs.JobTable` of :class:`ScoreKind`)
    and what it knows of the exercises under its root."""

    def __init__(
        self, root: Path, *, extra: float = EXTRA_S, keep: int = KEEP, grace: float = STOP_GRACE_S
    ) -> None:
        self.root = root
        self.extra = extra
        self.table: JobTable[ScoreJob, api_types.HackathonJob] = JobTable(
            ScoreKind(self),
            keep=keep,
            grace=grace,
            missing=("no such scoring job on this server", "GET /nbops/hackathon?path=... shows the newest one"),
        )

    # -- the exercise ------------------------------------------------------------------------
    def exercise_of(self, file: Path) -> Path | None:
        """The folder of the nearest ``hackathon.toml`` at or above ``file``, within the root."""
        for folder in (file.parent, *file.parent.parents):
            if not folder.is_relative_to(self.root):
                return None
            config = folder / CONFIG_NAME
            if config.is_file() and config.resolve().is_relative_to(self.root):
                return folder
            if folder == self.root:
                return None
        return None

    def _relative_errors(self) -> contextlib.AbstractContextManager[None]:
        return relative_errors(self.root)

    def _load(self, folder: Path) -> Hackathon:
        with self._relative_errors():
            return load_hackathon(folder)

    def _exercise(self, target: Target) -> tuple[Path, Hackathon]:
        folder = self.exercise_of(target.file)
        if folder is None:
            raise UsageError(
                f"{target.name} is not inside a hackathon exercise (no {CONFIG_NAME} at or "
                "above it)",
                hint="open a notebook of your team's clone of the exercise repository",
            )
        return folder, self._load(folder)

    @staticmethod
    def card_file(h: Hackathon, team: str) -> Path:
        """Where the server keeps the team's latest scorecard."""
        return h.scores_dir / STATUS_DIR / f"{team}.json"

    def _saved(self, h: Hackathon, team: str) -> api_types.Scorecard | None:
        try:
            card = json.loads(self.card_file(h, team).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        # the card this server saved (see ScoreKind.finish): the CLI's scorecard
        return cast(api_types.Scorecard, public(self.root, card)) if isinstance(card, dict) else None

    def info(self, target: Target) -> api_types.HackathonInfo:
        """``GET /nbops/hackathon``: the exercise, the team, its saved card, the newest job."""
        folder = self.exercise_of(target.file)
        if folder is None:
            return {"exercise": None, "team": None, "branch": None, "card": None, "job": None}
        h = self._load(folder)
        branch = _branch(folder)
        team = _folder_team(h, target.file) or _team_of(h, branch)
        job = next(iter(self.table.list(lambda j: j.folder == folder)), None)
        return {
            "exercise": {
                "name": h.name,
                "deadline": h.deadline.isoformat() if h.deadline else None,
                "root": public_path(self.root, folder) or ".",
                "teams": [t.name for t in h.teams],
                "notebooks": list(h.notebooks),
                "timeout": h.timeout,
            },
            "team": team,
            "branch": branch,
            "card": self._saved(h, team) if team else None,
            "job": job,
        }

    # -- scoring -----------------------------------------------------------------------------
    def start(self, req: ScoreRequest) -> api_types.HackathonJob:
        """Check the request, start ``nbops hackathon status`` in the background, return its job."""
        from nbops import extras

        extras.require("run", "scoring from JupyterLab", modules=["papermill", "mlflow"])
        folder, h = self._exercise(req.target)
        branch = None
        team = req.team
        if team is None:
            branch = _branch(folder)
            team = _folder_team(h, req.target.file) or _team_of(h, branch)
        if team is None:
            where = f"on branch {branch}" if branch else "not on a branch"
            raise UsageError(
                f"which team? this checkout is {where}, not {h.branch_prefix}<team>",
                hint=f"switch to your team's branch (git switch {h.branch_prefix}<team>) or "
                "choose the team",
            )
        # a team that works in a folder is scored from it; a branch team from the checkout
        known = h.team(team)
        source = (h.root / known.folder).resolve() if known and known.folder else folder
        if not source.is_relative_to(self.root):
            raise UsageError(f"team {team}'s folder {known and known.folder} is outside the "
                             "server's root", hint=f"fix the folder of team {team} in {CONFIG_NAME}")
        job = ScoreJob(
            id=uuid.uuid4().hex[:12],
            path=req.target.name,
            exercise=public_path(self.root, folder) or ".",
            team=team,
            limit_s=h.timeout + self.extra,
            folder=folder,
            hackathon=h,
        )

        def one_at_a_time(active: list[ScoreJob]) -> None:
            running = next((j for j in active if j.folder == folder), None)
            if running is not None:
                raise ConflictError(
                    f"this exercise checkout is being scored already ({running.team})",
                    hint=f"wait for it to finish: GET /nbops/hackathon/jobs/{running.id}",
                )

        argv = [sys.executable, "-m", "nbops", "hackathon", "status", str(source),
                "--format", "json", "--team", team, "--progress", "json"]  # fmt: skip
        return self.table.start(job, argv, cwd=folder, admit=one_at_a_time)

    # -- reading and stopping ----------------------------------------------------------------
    def job(self, job_id: str) -> api_types.HackathonJob:
        return self.table.get(job_id)

    def cancel(self, job_id: str) -> api_types.HackathonJob:
        """Stop a running job (the user's Stop, :func:`nbops.jobs.stop_group`); the job ends
        ``cancelled`` and saves no card. Returns the job once it has ended (a few seconds at
        most), so the checkout can be scored again at once. A job that has ended is returned
        unchanged."""
        return self.table.cancel(job_id, wait=True)

    def close(self, timeout: float = SHUTDOWN_S) -> None:
        """Stop every running job (the server is stopping)."""
        self.table.close(timeout)
