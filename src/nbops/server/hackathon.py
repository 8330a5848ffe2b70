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
--format json --team T`` as a subprocess (an argument list, no shell, without the server's
``JUPYTER_TOKEN``) in the exercise checkout, in a process group of its own, with a time limit
of the exercise's ``timeout`` plus :data:`EXTRA_S`; over it, the whole group is stopped (SIGINT,
SIGTERM, then SIGKILL, :data:`~nbops.server.runs.STOP_GRACE_S` apart: the policy of
:func:`~nbops.server.runs.stop_group`, the same as for runs) and the job is an error saying so. One scoring at a time per checkout (a second one is a 409).
The card of a job that ends well is saved as ``<exercise>/.nbops/hackathon/status/<team>.json``
(the exercise's ``.gitignore`` leaves ``.nbops/`` out), so a page reload shows it again.
:meth:`Scoring.cancel` is the user's Stop (``DELETE /nbops/hackathon/jobs/{id}``): the whole
group is stopped the same way, the job ends ``cancelled`` with no card saved, and the checkout
is free to be scored again as soon as it answers; a job that has ended is answered unchanged.
:meth:`Scoring.close` stops every job when the server stops, as :class:`~nbops.server.runs.Runs`
does for runs (``cancelled`` too, with its own text).

Answers carry no path of the server's: the exercise folder is root-relative and the server
root is taken out of every text of a card (:func:`nbops.server.review.public`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import subprocess
import sys
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbops.core.notebook import write_text_atomic
from nbops.errors import ConflictError, NotFoundError, ToolError, UsageError
from nbops.hackathon.config import CONFIG_NAME, Hackathon, load_hackathon
from nbops.server.jobs import public_path
from nbops.server.requests import TEAM_NAME, ScoreRequest, Target
from nbops.server.review import public
from nbops.server.runs import (
    KEEP,
    SHUTDOWN_S,
    STOP_GRACE_S,
    cli_error,
    detached,
    drain,
    environment,
    now,
    prune_ended,
    relative_errors,
    stop_group,
)

__all__ = ["EXTRA_S", "ScoreJob", "Scoring"]

EXTRA_S = 120.0  # on top of the exercise's timeout: the CLI's own start-up and bookkeeping
STATUS_DIR = "status"  # under <exercise>/.nbops/hackathon/: the server's saved scorecards
GIT_S = 10.0  # seconds `git symbolic-ref` may take
_DRAIN_S = 5.0  # how long the pipes may stay open after the process exited
_TAIL = 40  # stderr lines kept for an error message
_ERROR_PREFIXES = ("nbops: error: ", "nbops: internal error: ")  # cli.main's one-line errors
_STOP_JOIN_S = 2 * _DRAIN_S + 1.0  # after the group is stopped, for the watcher to end the job
# a cancelled job's error, by who stopped it (ScoreJob.cancelled)
_STOPPED = {
    "user": "the scoring was stopped by the user before it finished; no scorecard was saved",
    "server": "the Jupyter server stopped while the work was being scored",
}

log = logging.getLogger(__name__)


@dataclass
class ScoreJob:
    """One ``nbops hackathon status`` subprocess (the ``HackathonJob`` of docs/rest-api.yaml)."""

    id: str
    path: str  # the notebook it was asked from, root-relative
    exercise: str  # the exercise folder, root-relative ("." for the root itself)
    team: str
    limit_s: float
    folder: Path = field(repr=False)  # the exercise folder, resolved
    started: str = field(default_factory=now)
    state: str = "running"  # running | done | error | cancelled
    ended: str | None = None
    card: dict[str, Any] | None = None
    error: str | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    watcher: threading.Thread | None = field(default=None, repr=False)
    cancelled: str | None = None  # who stopped it: "user" (cancel) or "server" (close)

    def to_json(self) -> dict[str, Any]:
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
        }


def _stop(process: subprocess.Popen[bytes], grace: float) -> None:
    """The scorer and everything it started (its own process group), as the server stops every
    job (:func:`~nbops.server.runs.stop_group`): SIGINT, SIGTERM, then SIGKILL."""
    stop_group(process, grace)


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


def _card(out: bytes) -> dict[str, Any] | None:
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
            return value
    return None


class Scoring:
    """The scoring jobs of one server and what it knows of the exercises under its root."""

    def __init__(
        self, root: Path, *, extra: float = EXTRA_S, keep: int = KEEP, grace: float = STOP_GRACE_S
    ) -> None:
        self.root = root
        self.extra = extra
        self.keep = max(1, keep)
        self.grace = grace
        self._jobs: OrderedDict[str, ScoreJob] = OrderedDict()
        self._busy: dict[Path, str] = {}  # exercise folder -> its running job
        self._lock = threading.Lock()
        self._closed = False

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

    def _saved(self, h: Hackathon, team: str) -> dict[str, Any] | None:
        try:
            card = json.loads(self.card_file(h, team).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return public(self.root, card) if isinstance(card, dict) else None

    def info(self, target: Target) -> dict[str, Any]:
        """``GET /nbops/hackathon``: the exercise, the team, its saved card, the newest job."""
        folder = self.exercise_of(target.file)
        if folder is None:
            return {"exercise": None, "team": None, "branch": None, "card": None, "job": None}
        h = self._load(folder)
        branch = _branch(folder)
        team = _folder_team(h, target.file) or _team_of(h, branch)
        with self._lock:
            job = next((j.to_json() for j in reversed(self._jobs.values()) if j.folder == folder),
                       None)  # fmt: skip
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
    def start(self, req: ScoreRequest) -> dict[str, Any]:
        """Check the request, start ``nbops hackathon status`` in the background, return its job."""
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
        limit = h.timeout + self.extra
        job = ScoreJob(
            id=uuid.uuid4().hex[:12],
            path=req.target.name,
            exercise=public_path(self.root, folder) or ".",
            team=team,
            limit_s=limit,
            folder=folder,
        )
        with self._lock:
            if self._closed:
                raise ToolError("the server is stopping: no new scoring")
            running = self._busy.get(folder)
            if running is not None:
                raise ConflictError(
                    f"this exercise checkout is being scored already ({self._jobs[running].team})",
                    hint=f"wait for it to finish: GET /nbops/hackathon/jobs/{running}",
                )
            self._busy[folder] = job.id  # reserved before the process starts
        # a team that works in a folder is scored from it; a branch team from the checkout
        known = h.team(team)
        source = (h.root / known.folder).resolve() if known and known.folder else folder
        if not source.is_relative_to(self.root):
            raise UsageError(f"team {team}'s folder {known and known.folder} is outside the "
                             "server's root", hint=f"fix the folder of team {team} in {CONFIG_NAME}")
        argv = [sys.executable, "-m", "nbops", "hackathon", "status", str(source),
                "--format", "json", "--team", team]  # fmt: skip
        try:
            process = subprocess.Popen(  # an argument list of our own making, no shell
                argv,
                cwd=folder,
                env=environment(),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                **detached(),
            )
        except OSError as exc:
            with self._lock:
                self._busy.pop(folder, None)
            raise ToolError(f"cannot start the scoring: {exc.strerror or exc}") from None
        job.process = process
        job.watcher = threading.Thread(
            target=self._watch, args=(job, process, h), name=f"nbops-score-{job.id}", daemon=True
        )
        with self._lock:
            self._jobs[job.id] = job
            self._prune()
            snapshot = job.to_json()
        job.watcher.start()
        return snapshot

    def _prune(self) -> None:
        prune_ended(self._jobs, self.keep)

    def _watch(self, job: ScoreJob, process: subprocess.Popen[bytes], h: Hackathon) -> None:
        out: list[bytes] = []
        err: list[bytes] = []
        try:
            assert process.stdout is not None and process.stderr is not None
            readers = [
                threading.Thread(target=drain, args=(process.stdout, out), daemon=True),
                threading.Thread(target=drain, args=(process.stderr, err), daemon=True),
            ]
            for reader in readers:
                reader.start()
            timed_out = False
            try:
                code = process.wait(job.limit_s)
            except subprocess.TimeoutExpired:
                timed_out = True
                _stop(process, self.grace)
                code = process.wait()
            # not until EOF: a process the scorer started may hold the pipes open for long
            for reader in readers:
                reader.join(_DRAIN_S)
            tail = b"".join(list(err)).decode("utf-8", "replace").strip().splitlines()[-_TAIL:]
            self._finish(job, h, code, b"".join(list(out)), tail, timed_out)
        except Exception:  # a job must end, whatever happens here
            log.exception("nbops: watching scoring job %s failed", job.id)
            _stop(process, 0.5)
            with self._lock:
                job.state, job.ended, job.process = "error", now(), None
                job.error = "internal error in nbops; the server log has the details"
                self._busy.pop(job.folder, None)

    def _error(self, code: int, tail: list[str]) -> str:
        if code < 0 and not any(line.startswith(_ERROR_PREFIXES) for line in tail):
            return f"the scoring was stopped by signal {-code}"
        return cli_error(self.root, code, tail, "nbops hackathon status", redacted=False)

    def _finish(
        self, job: ScoreJob, h: Hackathon, code: int, out: bytes, tail: list[str], timed_out: bool
    ) -> None:
        card = None if (job.cancelled or timed_out) else _card(out)
        note = None
        if card is not None and code in (0, 1):  # 1: a required check fails (still a card)
            try:
                target = self.card_file(h, job.team)
                target.parent.mkdir(parents=True, exist_ok=True)
                write_text_atomic(target, json.dumps(card, indent=2) + "\n")
            except OSError as exc:
                note = f"the scorecard could not be saved for the next visit: {exc.strerror or exc}"
        with self._lock:
            job.process = None
            job.ended = now()
            self._busy.pop(job.folder, None)
            if job.cancelled:
                job.state = "cancelled"
                job.error = _STOPPED[job.cancelled]
            elif timed_out:
                job.state = "error"
                job.error = (
                    f"scoring took longer than its limit of {job.limit_s:.0f} s (the exercise's "
                    f"timeout of {h.timeout:.0f} s plus {self.extra:.0f} s) and was stopped"
                )
            elif card is not None and code in (0, 1):
                job.state = "done"
                job.card = public(self.root, card)
                job.error = note
            else:
                job.state = "error"
                job.error = self._error(code, tail)

    # -- reading and stopping ----------------------------------------------------------------
    def _job(self, job_id: str) -> ScoreJob:
        job = self._jobs.get(job_id)
        if job is None:
            raise NotFoundError(
                "no such scoring job on this server",
                hint="GET /nbops/hackathon?path=... shows the newest one",
            )
        return job

    def job(self, job_id: str) -> dict[str, Any]:
        with self._lock:
            return self._job(job_id).to_json()

    def cancel(self, job_id: str) -> dict[str, Any]:
        """Stop a running job (the user's Stop): SIGTERM to its process group, then a kill; the
        watcher ends it ``cancelled`` and saves no card. Returns the job once it has ended (it
        waits for that, a few seconds at most), so the checkout can be scored again at once.
        A job that has ended is returned unchanged."""
        with self._lock:
            job = self._job(job_id)
            process, watcher = job.process, job.watcher
            if process is None:  # ended
                return job.to_json()
            stop = not job.cancelled and process.poll() is None
            if stop:
                job.cancelled = "user"
        if stop:
            _stop(process, self.grace)
        # also when it was being stopped already, or exited just now: answer how it ended
        if watcher is not None and watcher.ident is not None:  # (started: start() is done)
            watcher.join(_STOP_JOIN_S)
        with self._lock:
            return job.to_json()

    def close(self, timeout: float = SHUTDOWN_S) -> None:
        """Stop every running job (the server is stopping): SIGTERM to each group, then a kill."""
        with self._lock:
            self._closed = True
            running = [(j, j.process) for j in self._jobs.values() if j.process is not None]
            for job, _ in running:
                job.cancelled = job.cancelled or "server"
        deadline = time.monotonic() + timeout
        for _, process in running:
            _stop(process, max(0.5, min(self.grace, deadline - time.monotonic())))
        for job, _ in running:
            if job.watcher is not None:
                job.watcher.join(max(0.5, deadline - time.monotonic()) + _DRAIN_S)
