"""Background jobs: a subprocess, watched, with one state vocabulary and one stop policy.

Every long piece of work a front starts (``nbops run`` and its sweeps, hackathon scoring, and
the job kinds to come) runs as a subprocess that :class:`JobTable` starts and watches: an
argument list (never a shell) in a working directory, with an environment that never carries
the server's token, in a process group of its own (a terminal's Ctrl-C aimed at the server
stays away from it), under an optional time limit. A :class:`JobKind` adapter says what the
work is: how to read progress from its stderr lines, and how to judge the result from its
exit code and stdout. The table keeps the jobs (start, get, list, cancel, prune, close).

States (the REST schema's ``JobState``): ``queued``, ``running``, ``finished``, ``failed``,
``cancelled``. Stopping is one policy (:func:`stop_group`): SIGINT (the CLI's Ctrl-C), then
SIGTERM, then SIGKILL to the process group, :data:`STOP_GRACE_S` apart.
"""

from nbops.jobs.service import (
    KEEP,
    SHUTDOWN_S,
    STOP_GRACE_S,
    Finish,
    Job,
    JobKind,
    JobState,
    JobTable,
    cli_error,
    detached,
    environment,
    now,
    stop_group,
)

__all__ = [
    "KEEP",
    "SHUTDOWN_S",
    "STOP_GRACE_S",
    "Finish",
    "Job",
    "JobKind",
    "JobState",
    "JobTable",
    "cli_error",
    "detached",
    "environment",
    "now",
    "stop_group",
]
