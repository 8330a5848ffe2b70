"""The "Submit for review" dialog's server side: the review gate and ``nbops submit``.

:func:`check` runs the gate (:func:`nbops.review.checks.check_notebook`) on the saved notebook,
or on the open document's unsaved content (the dialog's live checklist), without writing
anything. :func:`submit` runs :func:`nbops.review.submit.submit` on the saved file: the gate
again, a review branch built aside, pushed, and a pull request when the remote is a forge and
the server's environment has a token. Both run in the worker thread pool, never on the event
loop (a submit runs git subprocesses for seconds); one submit at a time per repository is
submit's own lock.

Answers are the core's JSON (``GateReport.to_json``, ``SubmitResult.to_json``) with the
server root taken out of every text: the gate names the notebook root-relative, the submit's
files are repository-relative. A blocked notebook is a 422 carrying the checklist
(:func:`error_extra`), a secret in a field (the title, the description, a reviewer, the branch
name, the commit message, the report) a 422 naming the ``field`` (the secret shown masked,
never whole, and nothing changed anywhere), a failed push a 502 with its ``reason``. Forge tokens are read from the
server process's environment by the forge adapters and never appear in an answer or a log line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar, cast

from nbops.errors import NbopsError
from nbops.server.pool import WorkerPool, relative_text
from nbops.server.requests import CheckRequest, SubmitRequest

__all__ = ["GATE_BLOCKED", "check", "error_extra", "public", "submit"]

T = TypeVar("T")

GATE_BLOCKED = 422  # the notebook cannot be submitted as it is: the answer carries the checklist


def public(root: Path, value: T) -> T:
    """``value`` (JSON data) with the root's real path taken out of every string; the same
    shape, so an answer keeps its type."""
    if isinstance(value, str):
        return cast(T, relative_text(root, value))
    if isinstance(value, dict):
        return cast(T, {k: public(root, v) for k, v in value.items()})
    if isinstance(value, list):
        return cast(T, [public(root, v) for v in value])
    return value


def _scrubbed(root: Path, exc: NbopsError) -> NbopsError:
    """The error with root-relative texts (messages name files by their real path)."""
    exc.message = relative_text(root, exc.message)
    if exc.hint:
        exc.hint = relative_text(root, exc.hint)
    return exc


def check(root: Path, req: CheckRequest) -> bytes:
    """The gate's JSON for the saved notebook or the unsaved ``content`` (nothing is written)."""
    from nbops.core.notebook import notebook_from_dict
    from nbops.review.checks import check_notebook

    try:
        # the real path (not the display name) so config, policy and ruff see the file
        nb = (
            notebook_from_dict(req.content, path=req.target.file)
            if req.content is not None
            else None
        )
        report = check_notebook(req.target.file, notebook=nb)
    except NbopsError as exc:
        raise _scrubbed(root, exc) from None
    answer = public(root, report.to_json())
    answer["notebook"] = req.target.name
    return WorkerPool.dumps(answer)


def submit(root: Path, req: SubmitRequest) -> bytes:
    """``nbops submit`` of the saved notebook; its JSON (paths repository-relative)."""
    from nbops.review.submit import SubmitOptions
    from nbops.review.submit import submit as submit_notebook

    options = SubmitOptions(
        title=req.title,
        message=req.message,
        reviewers=req.reviewers,
        base=req.base,
        remote=req.remote,
        dry_run=req.dry_run,
        env=None,  # forge tokens: the server process's environment
    )
    try:
        result = submit_notebook(req.target.file, options)
    except NbopsError as exc:
        raise _scrubbed(root, exc) from None
    return WorkerPool.dumps(public(root, result.to_json()))


def error_extra(root: Path, exc: NbopsError) -> tuple[int | None, dict[str, Any]]:
    """What a submit's error answer adds to the ``Error`` object: a status other than
    :func:`nbops.errors.http_status` (None: that one) and fields.

    The gate blocks: 422 with the checklist in ``gate``. A text to commit, push or send holds
    a secret: 422 with the ``field`` that holds it (``title``, ``message``, ``reviewers``,
    ``base``, ``remote``, ``author``, ``branch``, ``commit_message``, ``report`` or ``file``).
    A push failed: ``reason`` (``rejected``, ``declined``, ``auth``, ``network`` or ``other``;
    502 as any tool failure).
    """
    from nbops.review.git import PushError
    from nbops.review.submit import GateFailed, SecretInSubmission

    if isinstance(exc, GateFailed):
        return GATE_BLOCKED, {"gate": public(root, exc.gate.to_json())}
    if isinstance(exc, SecretInSubmission):
        return GATE_BLOCKED, {"field": exc.field}
    if isinstance(exc, PushError):
        return None, {"reason": exc.reason}
    return None, {}
