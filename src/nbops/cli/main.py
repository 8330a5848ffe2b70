"""The ``nbops`` command: parses arguments, dispatches to a command, maps errors to exit codes.

This is the only place that turns exceptions into exit codes and one-line messages: a
user never sees a traceback (set ``NBOPS_DEBUG=1`` to get one when reporting a bug).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from types import ModuleType

from nbops._process import without_iri_grammars
from nbops._version import version
from nbops.cli import exits
from nbops.errors import NbopsError, exit_code, relative_text

__all__ = ["build_parser", "main", "run"]


def _modules(command: str | None) -> list[ModuleType]:
    """The command modules to register: for ``nbops run``, its own alone (its recorder helper,
    nbops.run.recorder, starts ~0.4 s sooner without lint and the other commands' imports)."""
    if command == "run":
        from nbops.cli import run_commands

        return [run_commands]
    from nbops.cli import (
        deploy_commands,
        hackathon_commands,
        init_commands,
        lint_commands,
        modularize_commands,
        monitor_commands,
        params_commands,
        review_commands,
        run_commands,
    )

    return [lint_commands, modularize_commands, params_commands, run_commands, review_commands,
            init_commands, hackathon_commands, deploy_commands, monitor_commands]


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The ``nbops`` parser; with ``command`` (the first argument), maybe only its part."""
    parser = argparse.ArgumentParser(
        prog="nbops",
        description="From Jupyter notebooks to reviewed, tested, reproducible production code.",
        epilog=exits.epilog({}, note="Each command's --help lists all the codes it returns."),
        formatter_class=exits.HelpFormatter,
    )
    parser.add_argument("--version", action=_Version, nargs=0, help="show the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _modules(command):
        module.register(sub)
    _format_all(parser)
    return parser


class _Version(argparse.Action):
    """``--version``, the version read only when asked for (see :mod:`nbops._version`)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> None:
        print(f"nbops {version()}")
        parser.exit()


def _format_all(parser: argparse.ArgumentParser) -> None:
    """Every command's help keeps its ``exit codes:`` rows one per line."""
    parser.formatter_class = exits.HelpFormatter
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                _format_all(sub)


def main(argv: Sequence[str] | None = None) -> int:
    words = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(words[0] if words else None)
    args = parser.parse_args(words)
    if not getattr(args, "handler", None):
        parser.print_help()
        return exits.USAGE
    try:
        code: int = args.handler(args)
        return code
    except NbopsError as exc:
        print(f"nbops: error: {_cwd_relative(exc)}", file=sys.stderr)
        return exit_code(exc)
    except KeyboardInterrupt:
        print("nbops: interrupted", file=sys.stderr)
        return exits.INTERRUPTED
    except BrokenPipeError:
        # output piped into `head` and closed: not an error of ours
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except Exception as exc:  # last resort: one line, never a traceback
        if os.environ.get("NBOPS_DEBUG"):
            raise
        print(
            f"nbops: internal error: {type(exc).__name__}: {exc} "
            "(re-run with NBOPS_DEBUG=1 for a traceback and please report it)",
            file=sys.stderr,
        )
        return exits.INTERNAL


def _cwd_relative(exc: NbopsError) -> NbopsError:
    """The error with the paths under the working directory written relative to it, as the
    user typed them (``pyproject.toml: ...``, not ``/home/me/proj/pyproject.toml: ...``)."""
    try:
        cwd = os.getcwd()
    except OSError:  # the working directory was removed
        return exc

    def rel(text: str | None) -> str | None:
        return relative_text(cwd, text) if text else text

    exc.path, exc.message, exc.hint = rel(exc.path), rel(exc.message) or "", rel(exc.hint)
    return exc


def run() -> None:
    """The console script: ``main()``, then exit (quickly when MLflow was loaded)."""
    without_iri_grammars()  # before anything imports jsonschema
    code = main()
    # nbops run (its helper had MLflow); Dask's modules take ~0.2 s to free as well
    if any(name in sys.modules for name in ("mlflow", "papermill", "distributed")):
        _exit_now(code)
    sys.exit(code)


def _exit_now(code: int) -> None:
    """Exit without tearing down the interpreter's modules.

    Freeing the module graph ``nbops run`` loads (MLflow, SQLAlchemy, pandas, nbconvert)
    takes ~1 s at exit, a quarter of a short run. Everything a normal exit does that
    matters is done first: other threads finish, ``atexit`` handlers run, logs and
    standard streams are flushed. Files nbops writes are closed by then, and the
    tracking store's transactions are committed.
    """
    import atexit
    import logging
    import threading

    shutdown = getattr(threading, "_shutdown", None)
    if shutdown is not None:
        # what interpreter exit does first: the thread pools' exit hooks (an idle
        # ThreadPoolExecutor's workers, MLflow's among them, wait for them), then the joins
        shutdown()
    else:  # pragma: no cover - every CPython nbops supports has it
        for thread in threading.enumerate():
            if thread is not threading.current_thread() and not thread.daemon:
                thread.join()
    getattr(atexit, "_run_exitfuncs", lambda: None)()
    logging.shutdown()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


if __name__ == "__main__":
    run()
