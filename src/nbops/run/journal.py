"""The run journal: how ``nbops.log_metric`` in a kernel reaches the run without MLflow there.

``nbops run`` starts the kernel *before* its MLflow run exists (opening MLflow costs ~2.5 s
cold; it happens in a thread while the notebook executes), so the kernel gets a journal
folder instead of a run id (``NBOPS_RUN_DIR``):

- ``events.jsonl``: one JSON object per line, appended by the kernel: ``{"t": "metric",
  "key", "value", "step", "ts"}``, ``{"t": "param", "key", "value"}``, ``{"t": "artifact",
  "file", "artifact_path"}`` (``file`` is a copy under ``artifacts/`` taken at call time);
- ``run_id``: written (atomically) by nbops once the MLflow run is open, for what needs the
  id itself (``nbops.active_run_id()``, ``nbops.log_model``).

The runner reads new complete lines while the notebook runs (so metrics appear live) and
once more at the end, and logs them in batches. Stdlib only: the kernel side imports this.
"""

from __future__ import annotations

import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

__all__ = [
    "DIR_ENV",
    "PARAMS_ENV",
    "Journal",
    "JournalWriter",
    "read_run_id",
    "write_run_id",
]

DIR_ENV = "NBOPS_RUN_DIR"  # the journal folder, in the kernel's environment
PARAMS_ENV = "NBOPS_RUN_PARAMS"  # the run's parameters as MLflow stores them (JSON)
EVENTS = "events.jsonl"
RUN_ID = "run_id"
_KEY_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-./ ")


def check_key(kind: str, key: str) -> None:
    """MLflow's rule for metric and param names, checked where the notebook calls."""
    if not isinstance(key, str) or not key or len(key) > 250 or not set(key) <= _KEY_CHARS:
        raise ValueError(
            f"invalid {kind} name {key!r}: use letters, digits, '_', '-', '.', ' ' and '/' "
            "(1 to 250 characters)"
        )


def write_run_id(folder: Path, run_id: str) -> None:
    """Publish the run id to the kernel (rename: a reader never sees half a file)."""
    partial = folder / f".{RUN_ID}.{uuid.uuid4().hex}"
    partial.write_text(run_id, encoding="utf-8")
    os.replace(partial, folder / RUN_ID)


def read_run_id(folder: Path, wait: float) -> str | None:
    """The run id nbops wrote into ``folder``, waiting up to ``wait`` seconds for it."""
    deadline = time.monotonic() + wait
    target = folder / RUN_ID
    while True:
        try:
            return target.read_text(encoding="utf-8").strip() or None
        except FileNotFoundError:
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.05)


class JournalWriter:
    """The kernel's side: appends events, one ``write`` per line, from any thread."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._params: dict[str, str] = {}
        try:
            given = json.loads(os.environ.get(PARAMS_ENV, "") or "{}")
            self._params = {str(k): str(v) for k, v in given.items()}
        except (ValueError, AttributeError):
            pass

    def _append(self, event: Mapping[str, Any]) -> None:
        line = json.dumps(event, separators=(",", ":")) + "\n"
        with self._lock, open(self.folder / EVENTS, "a", encoding="utf-8") as handle:
            handle.write(line)

    def metric(self, key: str, value: float, step: int | None) -> None:
        check_key("metric", key)
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"metric {key!r} must be a number, not {value!r}") from None
        self._append({"t": "metric", "key": key, "value": number, "step": step or 0,
                      "ts": int(time.time() * 1000)})

    def param(self, key: str, text: str) -> None:
        """``text`` is the stored form; a key logged before with another value raises."""
        check_key("param", key)
        with self._lock:
            before = self._params.get(key)
            if before is not None and before != text:
                raise ValueError(f"param {key!r} already logged as {before!r}")
            self._params[key] = text
        if before is None:
            self._append({"t": "param", "key": key, "value": text})

    def artifact(self, path: Path, artifact_path: str | None) -> None:
        """Copy ``path`` (file or folder) now, so later changes by the notebook do not count."""
        staged = self.folder / "artifacts" / uuid.uuid4().hex[:12] / path.name
        staged.parent.mkdir(parents=True)
        if path.is_dir():
            shutil.copytree(path, staged)
        else:
            shutil.copy2(path, staged)
        self._append({"t": "artifact", "file": str(staged.relative_to(self.folder)),
                      "artifact_path": artifact_path})


class Journal:
    """The runner's side: a run's journal folder and how far it has been read."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._offset = 0
        self._lock = threading.Lock()
        self.errors: list[str] = []

    def env(self) -> dict[str, str]:
        return {DIR_ENV: str(self.folder)}

    def _new_events(self) -> list[dict[str, Any]]:
        try:
            with open(self.folder / EVENTS, "rb") as handle:
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            return []
        end = data.rfind(b"\n") + 1  # complete lines only; the rest is still being written
        self._offset += end
        events = []
        for raw in data[:end].splitlines():
            try:
                event = json.loads(raw)
            except ValueError:
                self.errors.append(f"unreadable journal line: {raw[:80]!r}")
                continue
            if isinstance(event, dict):
                events.append(event)
        return events

    def ingest(
        self,
        run_id: str,
        log_batch: Callable[[str, list[tuple[str, float, int, int]], dict[str, str]], None],
        log_artifact: Callable[[str, Path, str | None], None],
    ) -> int:
        """Log the events written since the last call; returns how many. Never raises for a
        bad event: the problem is kept in :attr:`errors` (nbops tags the run with them)."""
        with self._lock:
            events = self._new_events()
            metrics: list[tuple[str, float, int, int]] = []
            params: dict[str, str] = {}
            artifacts: list[tuple[Path, str | None]] = []
            for event in events:
                kind = event.get("t")
                if kind == "metric":
                    metrics.append((str(event["key"]), float(event["value"]),
                                    int(event.get("step") or 0), int(event.get("ts") or 0)))
                elif kind == "param":
                    params[str(event["key"])] = str(event["value"])
                elif kind == "artifact":
                    artifacts.append((self.folder / str(event["file"]), event.get("artifact_path")))
            if metrics or params:
                try:
                    log_batch(run_id, metrics, params)
                except Exception as exc:  # noqa: BLE001 - recorded, the run goes on
                    self.errors.append(f"{type(exc).__name__}: {exc}")
            for file, artifact_path in artifacts:
                try:
                    log_artifact(run_id, file, artifact_path)
                except Exception as exc:  # noqa: BLE001
                    self.errors.append(f"artifact {file.name}: {type(exc).__name__}: {exc}")
            return len(events)
