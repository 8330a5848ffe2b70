"""Progress of the long commands on stderr: a tqdm bar on a terminal, JSON lines, or nothing.

``--progress`` of ``nbops run``, ``nbops verify`` and ``nbops hackathon score | status`` takes
one of :data:`MODES`:

- ``auto`` (the default): a tqdm bar on stderr when stderr is a terminal (and ``TERM`` is not
  ``dumb``, whose terminals cannot redraw a line); nothing otherwise (a pipe, a file, CI);
- ``json``: one JSON object per line, ``{"done": N, ...counts, "total": M}`` and what is
  under way as ``"current"`` when there is a name for it (``nbops run``'s
  ``{"done", "failed", "running", "total"}``, which the server's run jobs read, comes out
  key for key as before);
- ``none``: nothing.

The bar has no colours (NO_COLOR and FORCE_COLOR have nothing to switch). The library layers
take plain callbacks; the CLI turns them into a :class:`Progress`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
from typing import Any, Literal, TextIO

__all__ = ["MODES", "Mode", "Progress", "interactive"]

Mode = Literal["auto", "json", "none"]
MODES: tuple[Mode, ...] = ("auto", "json", "none")


def interactive(stream: TextIO) -> bool:
    """Whether a bar can be drawn on ``stream``: a terminal that is not ``TERM=dumb``."""
    try:
        tty = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        return False
    return tty and os.environ.get("TERM") != "dumb"


def _columns(stream: TextIO) -> int:
    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (AttributeError, OSError, ValueError):
        return 0


class Progress:
    """Progress of one task of ``total`` units (cells, runs, components, steps) on ``stream``
    (stderr by default) in ``mode``; thread-safe; :meth:`close` ends the bar."""

    def __init__(self, mode: Mode, total: int, *, unit: str, desc: str = "",
                 stream: TextIO | None = None) -> None:
        self.mode, self.total, self.done = mode, total, 0
        self.stream = stream if stream is not None else sys.stderr
        self._lock = threading.Lock()
        self._bar: Any = None
        if mode == "auto" and interactive(self.stream):
            from tqdm import tqdm  # type: ignore[import-untyped]  # no stubs installed

            # follow the terminal's size; one that reports none (a bare pty) is taken as 80x24
            sized = _columns(self.stream) > 0
            self._bar = tqdm(total=total, unit=unit, desc=desc, file=self.stream, leave=True,
                             dynamic_ncols=sized, ncols=None if sized else 80,
                             nrows=None if sized else 24)

    @property
    def shown(self) -> bool:
        """Whether anything is written at all."""
        return self._bar is not None or self.mode == "json"

    def update(self, done: int | None = None, *, desc: str | None = None, **counts: int) -> None:
        """``done`` units so far (None: unchanged), the bar's description, and counts shown
        beside it (``failed=1``); in ``json`` mode one line ``{"done", **counts, "total"}``."""
        with self._lock:
            if done is not None:
                self.done = done
            if self.mode == "json":
                line: dict[str, Any] = {"done": self.done, **counts, "total": self.total}
                if desc is not None:
                    line["current"] = desc
                self.stream.write(json.dumps(line) + "\n")
                self.stream.flush()
            elif self._bar is not None:
                if desc is not None:
                    self._bar.set_description_str(desc, refresh=False)
                if counts:
                    self._bar.set_postfix(counts, refresh=False)
                self._bar.n = self.done
                self._bar.refresh()

    def close(self) -> None:
        """Leave the bar as it ended (a finished bar stays on screen)."""
        with self._lock:
            if self._bar is not None:
                self._bar.close()
                self._bar = None
