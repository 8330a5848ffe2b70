"""The run journal: how ``nbops.log_metric`` in a kernel reaches the run without MLflow there.

``nbops run`` starts the kernel *before* its MLflow run exists (opening MLflow costs ~2.5 s
cold; it happens in a thread while the notebook executes), so the kernel gets a journal
folder instead of a run id (``NBOPS_RUN_DIR``):

- ``events.jsonl``: one JSON object per line, appended by the kernel: ``{"t": "metric",
  "key", "value", "step", "ts"}``, ``{"t": "param", "key", "value"}``, ``{"t": "artifact",
  "file", "artifact_path"}`` (``file`` is a copy under ``artifacts/`` taken at call time);
  ``{"t": "model", "file", "name"}`` (``file``: a ``nbops.log_model`` call pickled under
  ``models/``, with the kernel's working folder beside it as ``<file>.cwd``; the runner hands
  it to its tracker, which logs the model while the notebook runs on);
- ``run_id``: written (atomically) by nbops once the MLflow run is open, for what needs the
  id itself (``nbops.active_run_id()``, ``nbops.log_model``);
- ``python``: the runner's ``sys.prefix``: a kernel of another environment logs its models
  itself (what it pickles may not load in the runner's).

The runner reads new complete lines while the notebook runs (so metrics appear live) and
once more at the end, and logs them in batches. Stdlib only: the kernel side imports this.

**Who owns a run.** A run's process may die without closing it (SIGKILL, a crash, a machine
that stops). So that such a run does not stay RUNNING for ever, the runner holds an exclusive
``flock`` on ``owner.lock`` in the journal folder from before the MLflow run exists until after
it is closed (:class:`Owner`), and tags the run with the lock's path, the process id and the host
(:data:`OWNER_LOCK_TAG`, ...). The operating system releases the lock when the process dies,
whatever kills it, and a reused process id cannot hold it: :func:`orphaned` takes the lock of a
RUNNING run and, when it gets it, the owner is gone (the caller ends the run KILLED while holding
it, then the folder is removed). Runs of another host are never judged from here.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no flock; runs are not claimed (nothing is ended for them)
    fcntl = None  # type: ignore[assignment]

__all__ = [
    "DIR_ENV",
    "KILLED_REASON_TAG",
    "OWNER_HOST_TAG",
    "OWNER_LOCK_TAG",
    "OWNER_PID_TAG",
    "PARAMS_ENV",
    "Journal",
    "JournalWriter",
    "Owner",
    "orphaned",
    "read_run_id",
    "remove_stale",
    "write_run_id",
]

DIR_ENV = "NBOPS_RUN_DIR"  # the journal folder, in the kernel's environment
PARAMS_ENV = "NBOPS_RUN_PARAMS"  # the run's parameters as MLflow stores them (JSON)
EVENTS = "events.jsonl"
RUN_ID = "run_id"
PYTHON = "python"  # the runner's sys.prefix: kernels of the same environment defer log_model
OWNER = "owner.lock"  # in the journal folder, flock'ed by the process that owns the run
SUFFIX = ".journal"  # journal folders are <runs>/<notebook>/.<stamp>-<token>.journal
OWNER_LOCK_TAG = "nbops.owner.lock"  # the lock file's absolute path
OWNER_PID_TAG = "nbops.owner.pid"
OWNER_HOST_TAG = "nbops.owner.host"
KILLED_REASON_TAG = "nbops.killed_reason"  # why nbops ended a run KILLED for its owner
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

    def model(self, request: Any, name: str) -> bool:
        """Pickle ``request`` (cloudpickle when importable: classes of the notebook itself)
        under ``models/`` and append its event; False (nothing written) when it cannot be
        pickled or the runner runs another Python environment: the caller logs it itself."""
        import pickle
        import sys

        try:
            prefix = (self.folder / PYTHON).read_text(encoding="utf-8").strip()
        except OSError:
            return False
        if os.path.realpath(prefix) != os.path.realpath(sys.prefix):
            return False
        try:
            import cloudpickle  # type: ignore[import-untyped,import-not-found,unused-ignore]

            data = cloudpickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
        except ImportError:
            try:
                data = pickle.dumps(request, protocol=pickle.HIGHEST_PROTOCOL)
            except Exception:  # noqa: BLE001 - an unpicklable model: logged in the kernel
                return False
        except Exception:  # noqa: BLE001
            return False
        stem = self.folder / "models" / uuid.uuid4().hex
        stem.parent.mkdir(exist_ok=True)
        stem.with_suffix(".cwd").write_text(os.getcwd(), encoding="utf-8")
        partial = stem.with_suffix(".partial")
        partial.write_bytes(data)
        os.replace(partial, stem.with_suffix(".pkl"))  # complete before its event exists
        self._append({"t": "model", "file": str(stem.with_suffix(".pkl").relative_to(self.folder)),
                      "name": name})
        return True

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
        self.owner = Owner(folder / OWNER)  # before the run exists, until it is closed
        self._offset = 0
        self._lock = threading.Lock()
        self.errors: list[str] = []
        self.failures: list[str] = []  # deferred log_model calls that failed: the run FAILS
        (folder / PYTHON).write_text(sys.prefix, encoding="utf-8")

    def env(self) -> dict[str, str]:
        return {DIR_ENV: str(self.folder)}

    def discard(self) -> None:
        """Remove the folder (once its run is closed and everything in it logged), then give up
        the claim on the run."""
        shutil.rmtree(self.folder, ignore_errors=True)
        self.owner.release()

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
        log_model_file: Callable[[str, Path], Any] | None = None,
    ) -> int:
        """Log the events written since the last call; returns how many. Never raises for a
        bad event: the problem is kept in :attr:`errors` (nbops tags the run with them); a
        model that could not be logged in :attr:`failures` (the run ends FAILED)."""
        with self._lock:
            events = self._new_events()
            metrics: list[tuple[str, float, int, int]] = []
            params: dict[str, str] = {}
            artifacts: list[tuple[Path, str | None]] = []
            models: list[tuple[Path, str]] = []
            for event in events:
                kind = event.get("t")
                if kind == "metric":
                    metrics.append((str(event["key"]), float(event["value"]),
                                    int(event.get("step") or 0), int(event.get("ts") or 0)))
                elif kind == "param":
                    params[str(event["key"])] = str(event["value"])
                elif kind == "artifact":
                    artifacts.append((self.folder / str(event["file"]), event.get("artifact_path")))
                elif kind == "model":
                    models.append((self.folder / str(event["file"]), str(event.get("name"))))
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
            for file, name in models:
                try:
                    if log_model_file is None:
                        raise RuntimeError("this run's tracker cannot log models")
                    log_model_file(run_id, file)
                except Exception as exc:  # noqa: BLE001 - the run ends FAILED with it
                    message = getattr(exc, "message", None) or str(exc)
                    self.failures.append(f"model {name!r} could not be logged "
                                         f"({type(exc).__name__}: {message})")
            return len(events)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process: alive
        return True
    return True


_CHECKER_WAIT_S = 10.0  # how long another checker may hold a dead owner's lock


def _lock_from_owner_or_checker(fd: int, pid: int) -> bool:
    """Take the lock on ``fd``; False when its owner (``pid``) holds it. A lock held while that
    process is gone is another checker's (a server ending a killed job's runs while a history
    read does the same): wait for it, so both see the run ended, never "the owner lives"."""
    import time

    deadline = time.monotonic() + _CHECKER_WAIT_S
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            if not pid or _pid_alive(pid) or time.monotonic() > deadline:
                return False
            time.sleep(0.05)


class Owner:
    """This process's claim on one run: an exclusive ``flock`` on ``file``, released by the
    operating system when the process dies (see the module's docstring)."""

    def __init__(self, file: Path) -> None:
        self.file = file
        self._fd: int | None = None
        if fcntl is None:
            return
        fd = os.open(file, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # a new file: nobody else holds it
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError:
            os.close(fd)
            return
        self._fd = fd  # opened close-on-exec: kernels and other children do not inherit it

    @property
    def held(self) -> bool:
        return self._fd is not None

    def tags(self) -> dict[str, str]:
        """The run's owner tags (none when no lock is held: nothing will judge the run)."""
        if self._fd is None:
            return {}
        return {
            OWNER_LOCK_TAG: str(self.file.resolve()),
            OWNER_PID_TAG: str(os.getpid()),
            OWNER_HOST_TAG: socket.gethostname(),
        }

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = None


@contextlib.contextmanager
def orphaned(tags: Mapping[str, str]) -> Iterator[str | None]:
    """Why the run with these tags has no live owner, holding its lock while the caller ends it;
    None when its owner lives, or when that cannot be told from here (no lock tag, another host,
    no flock). After the block, the orphan's journal folder is removed."""
    lock = tags.get(OWNER_LOCK_TAG)
    host = tags.get(OWNER_HOST_TAG)
    pid_text = tags.get(OWNER_PID_TAG, "")
    pid = int(pid_text) if pid_text.isdigit() else 0
    if not lock or fcntl is None or host != socket.gethostname():
        yield None
        return
    who = f"the nbops process that ran it (pid {pid} on {host})"
    try:
        fd = os.open(lock, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        # the owner removes it only after closing the run: its folder was deleted by hand
        yield None if pid and _pid_alive(pid) else f"{who} ended without closing it"
        return
    except OSError:  # unreadable from here: no judgement
        yield None
        return
    try:
        if not _lock_from_owner_or_checker(fd, pid):  # held by the owner: it lives
            yield None
            return
        yield f"{who} ended without closing it"
        folder = Path(lock).parent
        if folder.name.endswith(SUFFIX):
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        os.close(fd)


def remove_stale(folder: Path) -> int:
    """Remove the journal folders in ``folder`` whose owner has died (their runs are ended
    by :func:`orphaned` when the history is read); returns how many."""
    removed = 0
    if fcntl is None:
        return 0
    with contextlib.suppress(OSError):
        for journal in folder.glob(f".*{SUFFIX}"):
            lock = journal / OWNER
            try:
                fd = os.open(lock, os.O_RDWR | getattr(os, "O_CLOEXEC", 0))
            except OSError:  # no lock yet (being created) or unreadable: leave it
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                continue  # its owner lives
            else:
                shutil.rmtree(journal, ignore_errors=True)
                removed += 1
            finally:
                os.close(fd)
    return removed
