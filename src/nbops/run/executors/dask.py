"""The ``dask`` executor: each run is one Dask task whose kernel runs in the worker process.

``nbops run NB --executor dask [--scheduler tcp://HOST:8786]``. Without an address, a
LocalCluster on this machine (processes, one thread per worker, as many workers as
``--parallel`` or the machine's cores), closed at the end. An address where no scheduler
answers is a UsageError before any kernel starts.

A task (:func:`run_task`) opens its MLflow run itself, in the worker (a sweep's child nests
under the parent run, created here, by id), executes the notebook with papermill (one kernel
per task: never kernels inside a multiprocessing pool) with the run's own output path, logs
what the notebook logged and the executed notebook, ends the run, and returns the executed
notebook's bytes and the run's status; this process writes them into ``nbops-runs/`` and the
run index as the ``local`` executor does. On a scheduler of this machine (a LocalCluster,
127.0.0.1) the workers share the notebook's folder; on another machine each task runs in its
own copy of the folder, sent with the tasks. So that workers can write runs, a local SQLite
store with a remote scheduler is refused before anything starts.

A kernel that would not start or died is started again ``retries`` times (``[tool.nbops.run]
retries``, default 1); the run's ``nbops.retries`` tag says how many times it was. Results
arrive as they complete. Stop (Ctrl-C, SIGTERM, the job service's cancel) sets a Dask Event
the tasks watch: their kernels are killed and their runs end KILLED; tasks not started yet
start no run, and any child still RUNNING after a while is ended KILLED from here. A worker
lost mid-run (its process killed, its machine gone): Dask runs the task again elsewhere, and the
lost attempt's child run is ended FAILED (tag ``nbops.error``) when the sweep ends.

What Dask adds to a run is kept off its path: the cluster starts (and connects) in the
background while this process reads and checks the notebook and opens the parent run; the
workers of a LocalCluster, as soon as their process is up (a preload script), start the run's
kernel in the notebook's folder for their first task (:func:`_take_spare`: one task only; the
run's environment set in it by a silent execution; shut down if no task took it) and import
the run machinery (papermill, nbformat, MLflow, nbconvert's templates); a cluster made for one
run gives its MLflow work to a recorder process (:mod:`nbops.run.recorder`), a sweep's worker
opens the tracking store once for all its tasks; a worker imports what a ``log_model`` needs
while the kernel runs; and the cluster closes without waiting for its workers' last garbage
collection (:mod:`nbops.run.dask_client`).
"""

from __future__ import annotations

import contextlib
import functools
import io
import os
import tarfile
import tempfile
import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nbops import extras
from nbops.errors import NbopsError, ToolError, UsageError
from nbops.run.dask_client import Connection, distributed
from nbops.run.executors.base import Executor, Progress
from nbops.run.runner import (
    Interrupted,
    RunOutcome,
    RunSettings,
    SweepOutcome,
    _absolute,
    _index_run,
    _NotebookRun,
    _SweepRun,
)

if TYPE_CHECKING:
    from nbops.kernel import CellHook

__all__ = ["DaskExecutor", "check_scheduler_store", "is_local_address", "run_task"]

STOP_WAIT_S = 30.0  # after Stop: how long the running tasks have to end their runs KILLED
WATCH_S = 0.5  # how often a task looks whether Stop was asked for
RETRIES_TAG = "nbops.retries"
EXECUTOR_TAG = "nbops.executor"
SCHEDULER_TAG = "nbops.scheduler"
WORKER_TAG = "nbops.worker"
# not sent to workers with the notebook's folder: what nbops and tools keep beside it
_NOT_COPIED = frozenset({
    ".git", ".nbops", "nbops-runs", ".venv", "venv", "__pycache__", ".ipynb_checkpoints",
    "node_modules", ".nbops_cache", ".mypy_cache", ".ruff_cache", ".pytest_cache",
})
_MAX_COPY = 512 * 1024 * 1024  # a folder larger than this is not sent to workers


def _distributed() -> Any:
    """``distributed``, imported lazily (the ``dask`` extra)."""
    return distributed("nbops run --executor dask")


def _read(notebook: Path) -> Any:
    import importlib

    return importlib.import_module("nbformat").read(notebook, as_version=4)


def is_local_address(address: str | None) -> bool:
    """Whether a scheduler address is on this machine (no address: a LocalCluster)."""
    from urllib.parse import urlsplit

    if address is None:
        return True
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme == "inproc":
        return True
    host = (parts.hostname or "").lower()
    return host in ("localhost", "::1") or host.startswith("127.")


def _local_store(uri: str) -> bool:
    """A store only this machine can write: a SQLite file or a folder."""
    from urllib.parse import urlsplit

    scheme = urlsplit(uri).scheme.lower()
    return scheme in ("", "file", "sqlite") or len(scheme) == 1  # one letter: a Windows drive


def _shown_store(uri: str, root: Path) -> str:
    """The store as a message shows it: a local file relative to the project."""
    from nbops.run.tracking import describe_store

    shown = describe_store(uri)
    with contextlib.suppress(ValueError):
        return str(Path(shown).relative_to(root))
    return shown


def check_scheduler_store(settings: RunSettings, address: str | None) -> None:
    """Refuse a local store with a scheduler on another machine: its workers cannot write it.
    Checked without connecting to anything."""
    if is_local_address(address) or not _local_store(settings.store_uri):
        return
    raise UsageError(
        f"the tracking store {_shown_store(settings.store_uri, settings.project_root)} is a "
        f"file on this machine: the workers of the Dask scheduler at {address} cannot write "
        "their runs to it",
        hint="start a tracking server for the team (`nbops tracking-server`) and set "
        "tracking-uri in [tool.nbops.run] (or MLFLOW_TRACKING_URI) to its http:// address; "
        "or leave out --scheduler to run on a local cluster",
    )


# --------------------------------------------------------------------------- in the worker


@dataclass(frozen=True)
class _Task:
    """What a worker needs to run the notebook once (plain data: it is pickled)."""

    notebook: str  # absolute, on the client
    parameters: dict[str, Any]
    name: str
    experiment: str
    kernel: str | None
    timeout: float | None
    store_uri: str
    parent_run_id: str | None
    tags: dict[str, str]  # lineage of the notebook on the client
    out_dir: str  # where the client keeps the executed notebook (the nbops.output tag)
    retries: int
    stop: str  # the name of the Dask Event that asks the tasks to stop


def _kernel_trouble(error: NbopsError) -> bool:
    """A kernel that would not start or died (a RuntimeError under nbops' ToolError), not a
    cell that ran out of time (a TimeoutError) nor a kernel that is not installed."""
    cause = error.__cause__
    return isinstance(cause, RuntimeError) and not isinstance(cause, TimeoutError)


class _WorkerRun(_NotebookRun):
    """A notebook run in a worker: the client's lineage, retried on kernel trouble."""

    def __init__(self, task: _Task, notebook: Path, nb: Any, settings: RunSettings,
                 cancelled: threading.Event) -> None:
        super().__init__(
            task.notebook, notebook, nb, task.parameters, settings, name=task.name, tracker=None,
            parent_run_id=task.parent_run_id, cancelled=cancelled,
        )
        self.task = task
        self.retried = 0
        self.final: Path | None = None
        self.spare: _Spare | None = None  # the kernel started ahead it took, if any

    def tags(self) -> dict[str, str]:
        import socket

        return {**self.task.tags, EXECUTOR_TAG: "dask", WORKER_TAG: socket.gethostname()}

    def open(self) -> tuple[Any, str]:
        if self.helper is None:  # else the recorder the warm-up started does the MLflow work
            _warmed(whole=True)  # MLflow and nbconvert: imported by the warm-up
            self.tracker = _worker_tracker(self.settings)
        else:  # the installed distributions, read by the warm-up (not twice at once)
            _warmed(whole=False, requirements=True)
        return super().open()

    def on_open(self, tracker: Any, run_id: str) -> None:
        super().on_open(tracker, run_id)
        if self.helper is None:  # what logging the notebook's model needs, while it runs
            source = "\n".join(c.source for c in self.nb.cells if c.cell_type == "code")
            from nbops.run.model_log import warm_in_background, warm_modules

            warm_in_background(warm_modules(source))

    def output_tag(self, final: Path) -> str:
        self.final = final
        return str(Path(self.task.out_dir) / final.name)

    def ready_kernel(self, env: Mapping[str, str | None]) -> Any:
        from nbops.kernel import kernel_name_of

        spare = _take_spare(kernel_name_of(self.nb, self.settings.kernel),
                            str(self.notebook.resolve().parent), env)
        if spare is None:
            return None
        self.spare = spare
        return spare.km

    def execute(self) -> Any:
        while True:
            try:
                return super().execute()
            except ToolError as exc:
                if self._killed() or self.retried >= self.task.retries or not _kernel_trouble(exc):
                    raise
                self.retried += 1
            finally:
                if self.spare is not None:  # its kernel was stopped by the run: the sockets go
                    self.spare.shut_down()
                    self.spare = None

    def end(self, tracker: Any, run_id: str, status: Any, tags: dict[str, str] | None = None) -> None:
        super().end(tracker, run_id, status, {**(tags or {}), RETRIES_TAG: str(self.retried)})


def _watch(stop: str, cancelled: threading.Event, done: threading.Event) -> None:
    """Until ``done``: when the client sets the Event ``stop``, kill this worker's kernels.
    It asks the scheduler every WATCH_S and waits here, never there: once ``done``, it ends at
    once (its task returns without waiting out a scheduler-side wait, and a cluster closing
    leaves no wait to cancel)."""
    from nbops.kernel import stop_all_kernels

    distributed = _distributed()
    event = distributed.Event(stop, client=distributed.get_client())
    while not done.wait(WATCH_S):
        with contextlib.suppress(Exception):  # the scheduler may be going away: keep looking
            if event.is_set() and not done.is_set():
                cancelled.set()
                while not done.wait(WATCH_S):  # a kernel may be starting: stop it too
                    stop_all_kernels()
                stop_all_kernels()
                return


_warm_lock = threading.Lock()
_warming: threading.Thread | None = None
_kernel_ready = threading.Event()  # the warm-up imported what starting the kernel needs
_requirements_ready = threading.Event()  # the warm-up read the installed distributions
_trackers: dict[str, Any] = {}  # this worker process's tracker of each store
# what a task's own thread imports to start the kernel, then what its tracking thread needs
_FOR_THE_KERNEL = ("jupyter_client", "jupyter_client.manager", "nbformat", "papermill",
                   "papermill.execute", "papermill.engines", "nbops.run.journal")
_FOR_TRACKING = ("mlflow", "mlflow.tracking", "nbops.run.tracking")


def _warm_up(kernel: str | None, cwd: str | None, recorder: bool) -> None:
    """Import what a task needs, kernel side first, start a kernel ahead (``kernel`` in
    ``cwd``, when given) and load nbconvert's templates (each failure left to the task, which
    reports it in its own words). With ``recorder`` (a worker made for one run), the run's
    MLflow work goes to a recorder process started first (:mod:`nbops.run.recorder`, as
    ``nbops run`` does), which imports MLflow beside this one, not in it."""
    import importlib

    if recorder:
        with contextlib.suppress(Exception):
            from nbops.run.recorder import prestart

            prestart()
    try:
        for module in _FOR_THE_KERNEL:
            with contextlib.suppress(Exception):
                importlib.import_module(module)
            if module == "jupyter_client.manager" and kernel and cwd:
                with contextlib.suppress(Exception):  # the task starts one of its own
                    _start_spare(kernel, cwd)
    finally:
        _kernel_ready.set()
    try:  # what the run's open needs first: read once here, not beside this thread
        from nbops.run.lineage import frozen_requirements

        with contextlib.suppress(Exception):  # the run's open reads them, reporting its trouble
            frozen_requirements()
    finally:
        _requirements_ready.set()
    for module in () if recorder else _FOR_TRACKING:
        with contextlib.suppress(Exception):
            importlib.import_module(module)
    from nbops.run.runner import _html_exporter

    with contextlib.suppress(Exception):  # the render at the run's end
        _html_exporter()


def _warmed(*, whole: bool, requirements: bool = False) -> None:
    """Wait for the warm-up, if one started: for what the kernel needs (a task's own thread),
    the installed distributions (``requirements``: a run's open, the warm-up reads them once)
    or ``whole`` (its tracking thread). A thread imports nothing the warm-up is importing: two
    threads importing modules that import each other can see them half made."""
    with _warm_lock:
        warming = _warming
    if warming is None:
        return
    if whole:
        warming.join()
    elif requirements:
        _requirements_ready.wait()
    else:
        _kernel_ready.wait()


def warm_worker(kernel: str | None = None, cwd: str | None = None,
                recorder: bool = False) -> bool:
    """In a worker (``client.run``): start warming up in a thread of its own, at most once per
    process, and return at once (``client.run`` runs this on the worker's event loop). With
    ``kernel`` and ``cwd`` (a LocalCluster's workers, which share the notebook's folder), the
    warm-up starts that kernel there for the worker's first task; ``recorder``: and a recorder
    process for its MLflow work (a cluster made for one run)."""
    global _warming
    from nbops._process import without_iri_grammars

    without_iri_grammars()  # this worker is a process nbops started: before papermill's imports
    with _warm_lock:
        if _warming is None:
            _warming = threading.Thread(target=_warm_up, args=(kernel, cwd, recorder),
                                        name="nbops-warm-up", daemon=True)
            _warming.start()
    return True


@dataclass
class _Spare:
    """A kernel started ahead by this worker's warm-up, for one task (never a second)."""

    kernel: str
    cwd: str
    km: Any
    sockets: tempfile.TemporaryDirectory[str]
    env: dict[str, str]  # this process's environment when the kernel was launched

    def shut_down(self) -> None:
        """Stop the kernel and remove its sockets' folder (never raises)."""
        from jupyter_core.utils import run_sync

        with contextlib.suppress(Exception):
            if self.km.has_kernel:
                run_sync(self.km.shutdown_kernel)(now=True)
        with contextlib.suppress(Exception):
            self.sockets.cleanup()


_spare: _Spare | None = None  # this worker's kernel started ahead, until a task takes it


def _start_spare(kernel: str, cwd: str) -> None:
    """Launch ``kernel`` in ``cwd`` as a run would (IPC sockets in a private folder, this
    process's environment) and keep it for the first task; not waiting for it to be ready."""
    global _spare
    import atexit

    with _warm_lock:
        if _spare is not None:  # one at a time
            return
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync

    from nbops.kernel import _launching

    sockets = tempfile.TemporaryDirectory(prefix="nbops-kernel-")
    manager = _launching(AsyncKernelManager, Path(cwd), {})
    km = manager(kernel_name=kernel, transport="ipc", ip=str(Path(sockets.name) / "k"))
    spare = _Spare(kernel, cwd, km, sockets, dict(os.environ))
    try:
        run_sync(km.start_kernel)()
        # its control socket belongs to this thread's event loop: made again where it is used
        km._close_control_socket()
    except BaseException:
        spare.shut_down()
        raise
    with _warm_lock:
        extra = spare if _spare is not None else None
        if extra is None:
            _spare = spare
    if extra is not None:  # another was started meanwhile: one at a time
        extra.shut_down()
        return
    atexit.unregister(_drop_spare)
    atexit.register(_drop_spare)  # the worker exits: no kernel outlives it


def _drop_spare() -> bool:
    """Shut down the kernel started ahead if no task took it (the cluster closes)."""
    global _spare
    from nbops.run.recorder import take

    helper = take()  # a recorder no run took: it exits at the end of its input
    if helper is not None:
        helper.close()
    with _warm_lock:
        spare, _spare = _spare, None
    if spare is not None:  # in a thread of its own: ``client.run`` calls this on an event loop
        stopping = threading.Thread(target=spare.shut_down, name="nbops-spare-stop")
        stopping.start()
        stopping.join(timeout=30)
    return True


def _take_spare(kernel: str, cwd: str, env: Mapping[str, str | None]) -> _Spare | None:
    """The kernel started ahead, taken for this task, its environment made what a kernel
    launched now with ``env`` would see; None (a kernel is started for the task) when there
    is none, or it is another kernel, another folder, or no longer running (shut down)."""
    global _spare
    with _warm_lock:
        spare, _spare = _spare, None
    if spare is None:
        return None
    if (spare.kernel, spare.cwd) != (kernel, cwd) or not spare.km.has_kernel:
        spare.shut_down()
        return None
    target = dict(os.environ)
    for key, value in env.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    try:
        _set_environment(spare.km, spare.env, target)
    except Exception:  # noqa: BLE001 - it did not answer as it should: start a fresh one
        spare.shut_down()
        return None
    return spare


def _set_environment(km: Any, launched: Mapping[str, str], target: Mapping[str, str]) -> None:
    """Make ``os.environ`` in ``km``'s kernel, launched with ``launched``, what ``target``
    says: a silent execution out of history, on a client of its own, waiting for the kernel
    to be ready; a RuntimeError when it does not answer in time or fails."""
    import json
    import time

    from jupyter_client.blocking.client import BlockingKernelClient

    changed = {k: v for k, v in target.items() if launched.get(k) != v}
    removed = sorted(k for k in launched if k not in target)
    code = (f"(lambda e: (e.update({json.dumps(changed)}), [e.pop(k, None) for k in "
            f"{json.dumps(removed)}]))(__import__('os').environ)")
    client = BlockingKernelClient()
    client.load_connection_info(km.get_connection_info())
    client.start_channels()
    try:
        client.wait_for_ready(timeout=60)
        msg_id = client.execute(code, silent=True, store_history=False, allow_stdin=False)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            reply = client.get_shell_msg(timeout=max(0.1, deadline - time.monotonic()))
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                if reply["content"].get("status") != "ok":
                    raise RuntimeError("the kernel could not set the run's environment")
                return
        raise RuntimeError("the kernel did not set the run's environment in time")
    finally:
        client.stop_channels()


def _worker_tracker(settings: RunSettings) -> Any:
    """This worker process's tracker of the task's store, opened by its first task (its
    orphaned runs ended then, as a sweep does once) and shared by the tasks after it."""
    from nbops.run.runner import _tracker

    uri = settings.store_uri
    with _warm_lock:
        tracker = _trackers.get(uri)
    if tracker is None:
        tracker = _tracker(settings)  # an error (the store cannot be opened) is not kept
        with _warm_lock:
            tracker = _trackers.setdefault(uri, tracker)
    return tracker


def _stopped(stop: str) -> bool:
    distributed = _distributed()
    with contextlib.suppress(Exception):
        return bool(distributed.Event(stop, client=distributed.get_client()).is_set())
    return False


def run_task(task: _Task, folder: bytes | None) -> dict[str, Any]:
    """Run the notebook once in this (worker) process; ``folder``: the notebook's folder as a
    tar archive when this worker does not share the client's files. The run's status, id and
    executed notebook (bytes) as plain data; ``fatal`` when no run could be opened at all."""
    if task.stop and _stopped(task.stop):  # stopped before it started: no run is opened
        return {"status": "KILLED", "run_id": ""}
    _warmed(whole=False)
    with tempfile.TemporaryDirectory(prefix="nbops-dask-") as tmp:
        work = Path(tmp)
        notebook = Path(task.notebook)
        if folder is not None:  # its own copy of what the notebook reads
            with tarfile.open(fileobj=io.BytesIO(folder)) as archive:
                archive.extractall(work / "copy", filter="data")
            notebook = work / "copy" / notebook.name
        settings = RunSettings(
            project_root=work, runs_dir=work / "runs", experiment=task.experiment,
            kernel=task.kernel, timeout=task.timeout, tracking_uri=task.store_uri,
        )
        cancelled, done = threading.Event(), threading.Event()
        run = _WorkerRun(task, notebook, _read(notebook), settings,
                         cancelled)
        watcher = None
        if task.stop:
            watcher = threading.Thread(target=_watch, args=(task.stop, cancelled, done),
                                       name="nbops-stop", daemon=True)
            watcher.start()
        try:
            outcome = run.run()
        except NbopsError as exc:  # the store could not be opened: no run
            return {"status": "FAILED", "run_id": "", "fatal": str(exc)}
        finally:
            run.close_helper()
            done.set()
            if watcher is not None:
                watcher.join(timeout=5)
        final = run.final
        failure = outcome.failure
        return {
            "status": outcome.status,
            "run_id": outcome.run_id,
            "file": final.name if final else None,
            "notebook": final.read_bytes() if final and final.exists() else None,
            "html": (final.with_suffix(".html").read_bytes()
                     if final and final.with_suffix(".html").exists() else None),
            "failure": (failure.cell, failure.ename, failure.evalue) if failure else None,
            "error": outcome.error,
            "duration_s": outcome.duration_s,
            "metrics": dict(outcome.metrics),
            "retries": run.retried,
        }


# --------------------------------------------------------------------------- on the client


def _pack(folder: Path) -> bytes:
    """``folder`` as a gzipped tar archive, without what nbops and tools keep beside notebooks."""
    buffer = io.BytesIO()

    def keep(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        return None if Path(info.name).name in _NOT_COPIED else info

    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for child in sorted(folder.iterdir()):
            if child.name not in _NOT_COPIED:
                archive.add(child, arcname=child.name, filter=keep)
    data = buffer.getvalue()
    if len(data) > _MAX_COPY:
        raise UsageError(
            f"the notebook's folder {folder.name}/ is {len(data) // 2**20} MB compressed: too "
            "large to send to the Dask workers with every run",
            hint="put the data where the workers read it (a shared filesystem, object storage) "
            "and keep the notebook's folder small",
        )
    return data


class DaskExecutor(Executor):
    name = "dask"

    @contextlib.contextmanager
    def _checked(self, notebook: Path, shown: str, settings: RunSettings,
                 runs: int) -> Iterator[Connection]:
        """Check before anything starts (Dask installed, the store with the scheduler, the
        kernel on a local cluster, the store), connecting meanwhile: a connection to the
        scheduler, or to a LocalCluster made for these runs whose workers warm up as soon as
        they are up; closed at the end."""
        from nbops.kernel import check_kernel
        from nbops.run.tracking import check_store_uri

        extras.require("dask", "nbops run --executor dask")
        check_scheduler_store(settings, self.options.scheduler)  # before connecting anywhere
        workers = min(self.options.parallel or os.cpu_count() or 1, runs)
        # the kernel the LocalCluster's workers start ahead, once the notebook is read
        ahead: Future[tuple[str, str, bool] | None] = Future()
        connection = Connection(self.options.scheduler, workers, what="nbops run --executor dask",
                                hint="--scheduler, [tool.nbops.run] scheduler",
                                ready=functools.partial(_warm_workers, ahead=ahead),
                                preload=functools.partial(_preload, ahead))
        with contextlib.closing(connection):
            try:
                nb = _read(notebook)
                if is_local_address(self.options.scheduler):  # elsewhere: the workers' kernels
                    kernel = check_kernel(nb, settings.kernel, label=shown)
                    ahead.set_result((kernel, str(notebook.resolve().parent), runs == 1))
            finally:
                if not ahead.done():
                    ahead.set_result(None)
            check_store_uri(settings.store_uri)
            try:
                yield connection
            finally:
                if self.options.scheduler is None:  # kernels started ahead and not taken
                    with contextlib.suppress(Exception):
                        connection.client().run(_drop_spare)

    def _task(self, notebook: Path, settings: RunSettings, parameters: Mapping[str, Any],
              name: str, parent: str | None, stop: str) -> _Task:
        from nbops.run.lineage import lineage_tags

        tags = lineage_tags(notebook)
        tags["nbops.kind"] = "notebook"
        tags[SCHEDULER_TAG] = self.options.scheduler or "local"  # as the parent: a LocalCluster
        return _Task(
            notebook=str(notebook), parameters=dict(parameters), name=name,
            experiment=settings.experiment, kernel=settings.kernel, timeout=settings.timeout,
            store_uri=settings.store_uri, parent_run_id=parent, tags=tags,
            out_dir=str(settings.runs_dir / notebook.stem), retries=self.options.retries,
            stop=stop,
        )

    def _folder(self, client: Any, notebook: Path) -> Any:
        """The notebook's folder for workers that do not share this machine's files (sent
        once, as a future every task reads), else None."""
        if is_local_address(self.options.scheduler):
            return None
        return client.scatter(_pack(notebook.parent), broadcast=False)

    def run_notebook(
        self, notebook: Path, parameters: Mapping[str, Any], settings: RunSettings, *,
        on_cell: CellHook | None = None,
    ) -> RunOutcome:
        shown, notebook, settings = _absolute(notebook, settings)
        with self._checked(notebook, shown, settings, 1) as connection:
            client = connection.client()
            stop = f"nbops-stop-{uuid.uuid4().hex}"
            task = self._task(notebook, settings, parameters, notebook.stem, None, stop)
            future = client.submit(run_task, task, self._folder(client, notebook), pure=False)
            try:
                result = future.result()
            except NbopsError:
                raise
            except Exception as exc:  # noqa: BLE001 - the task was lost (its worker died)
                raise ToolError(f"the Dask task running {shown} failed: "
                                f"{type(exc).__name__}: {exc}") from None
            except KeyboardInterrupt:
                (answer,) = _stop(_distributed().Event(stop, client=client), [future])
                killed = RunOutcome("", dict(parameters), "KILLED", None)
                if answer is not None and answer.get("run_id"):
                    killed = _record(answer, notebook, settings, parameters)
                raise Interrupted(killed) from None
        return _record(_checked(result), notebook, settings, parameters)

    def run_sweep(
        self, notebook: Path, parameter_sets: Sequence[Mapping[str, Any]], settings: RunSettings,
        *, progress: Progress | None = None,
    ) -> SweepOutcome:
        shown, notebook, settings = _absolute(notebook, settings)
        with self._checked(notebook, shown, settings, len(parameter_sets)) as connection:
            return _DaskSweep(self, connection, notebook, parameter_sets, settings,
                              progress).run()


def _warm_workers(client: Any, local: bool, *,
                  ahead: Future[tuple[str, str, bool] | None] | None = None) -> None:
    """Once connected: the workers of a LocalCluster (fresh processes, this run's own) start
    importing the run machinery, and each starts the run's kernel in the notebook's folder
    (``ahead``, once the notebook is read). A remote cluster's workers are left as they are."""
    if local:
        client.run(warm_worker, *((ahead.result() if ahead else None) or ()))


_PRELOAD = """
import threading

def dask_setup(worker):  # a thread of its own: the worker registers meanwhile
    def warm():
        from nbops.run.executors.dask import warm_worker
        warm_worker(*{ahead!r})
    threading.Thread(target=warm, name="nbops-preload", daemon=True).start()
"""


def _preload(ahead: Future[tuple[str, str, bool] | None]) -> str | None:
    """The preload script of a LocalCluster's workers: they start warming up (and the run's
    kernel, once the notebook is read: ``ahead``) as soon as their process is up, before
    registering with the scheduler."""
    spec = ahead.result(timeout=30)
    return _PRELOAD.format(ahead=tuple(spec)) if spec else None


def _checked(result: dict[str, Any]) -> dict[str, Any]:
    """``result``, or the ToolError of a task that could not open its run at all."""
    if result.get("fatal"):
        raise ToolError(str(result["fatal"]))
    return result


def _record(result: dict[str, Any], notebook: Path, settings: RunSettings,
            parameters: Mapping[str, Any]) -> RunOutcome:
    """A task's result as the local executor keeps it: the executed notebook (and its HTML)
    in ``<runs>/<notebook>/``, the run index, the outcome."""
    from nbops.kernel import CellFailure

    outcome = RunOutcome(str(result.get("run_id", "")), dict(parameters), result["status"], None)
    outcome.duration_s = float(result.get("duration_s") or 0.0)
    outcome.metrics = dict(result.get("metrics") or {})
    outcome.error = result.get("error")
    if result.get("failure"):
        outcome.failure = CellFailure(*result["failure"])
    if result.get("notebook") is not None and result.get("file"):
        out_dir = settings.runs_dir / notebook.stem
        out_dir.mkdir(parents=True, exist_ok=True)
        final = out_dir / str(result["file"])
        final.write_bytes(result["notebook"])
        if result.get("html") is not None:
            final.with_suffix(".html").write_bytes(result["html"])
        outcome.output = final
        _index_run(out_dir, notebook, outcome, settings)
    return outcome


def _stop(event: Any, futures: Sequence[Any]) -> list[dict[str, Any] | None]:
    """Ask the tasks to stop, give the running ones time to end their runs KILLED; each
    future's result, None for one that did not answer (cancelled)."""
    with contextlib.suppress(Exception):
        event.set()
    with contextlib.suppress(Exception):
        _distributed().wait(list(futures), timeout=STOP_WAIT_S)
    results: list[dict[str, Any] | None] = []
    for future in futures:
        result = None
        if future.status == "finished":
            with contextlib.suppress(Exception):
                result = future.result()
        else:
            with contextlib.suppress(Exception):
                future.cancel()
        results.append(result)
    return results


class _DaskSweep(_SweepRun):
    """A sweep's parent run, opened here; its children are Dask tasks."""

    def __init__(self, executor: DaskExecutor, connection: Connection, notebook: Path,
                 parameter_sets: Sequence[Mapping[str, Any]], settings: RunSettings,
                 progress: Progress | None) -> None:
        super().__init__(notebook, parameter_sets, settings, 1, progress)
        self.executor, self.connection = executor, connection

    def open(self) -> tuple[Any, str]:
        opened, run_id = super().open()
        opened.set_tags(run_id, {EXECUTOR_TAG: "dask",
                                 SCHEDULER_TAG: self.executor.options.scheduler or "local"})
        return opened, run_id

    def execute(self) -> SweepOutcome:
        distributed = _distributed()
        result = self.result
        sets = self.parameter_sets
        client = self.connection.client()  # connected while the parent run opened
        parent = self.tracking.run_id_future.result()  # the children nest under it
        stop = f"nbops-stop-{uuid.uuid4().hex}"
        folder = self.executor._folder(client, self.notebook)
        slots = max(1, sum(client.nthreads().values()))
        futures = {
            client.submit(
                run_task,
                self.executor._task(self.notebook, self.settings, params,
                                    f"{self.notebook.stem} #{index + 1}", parent, stop),
                folder, pure=False,
            ): index
            for index, params in enumerate(sets)
        }
        self.running = min(len(sets), slots)
        self._report()
        try:
            seen: set[Any] = set()
            for future in distributed.as_completed(futures):
                seen.add(future)
                params = sets[futures[future]]
                try:
                    answer = _checked(future.result())
                except NbopsError:
                    _stop(distributed.Event(stop, client=client), list(futures))
                    raise
                except Exception as exc:  # noqa: BLE001 - a lost worker: this run failed
                    outcome = RunOutcome("", dict(params), "FAILED", None)
                    outcome.error = f"the Dask task failed: {type(exc).__name__}: {exc}"
                else:
                    outcome = _record(answer, self.notebook, self.settings, params)
                with self.lock:
                    result.runs.append(outcome)
                    self.running = min(len(sets) - len(result.runs), slots)
                    self._report()
        except KeyboardInterrupt:
            result.interrupted = True
            self.cancelled.set()
            pending = [f for f in futures if f not in seen]
            answers = _stop(distributed.Event(stop, client=client), pending)
            for future, late in zip(pending, answers):
                params = sets[futures[future]]
                if late is None or not late.get("run_id"):  # it never started a run
                    result.runs.append(RunOutcome("", dict(params), "KILLED", None))
                else:
                    result.runs.append(_record(late, self.notebook, self.settings, params))
            _end_running_children(self.tracking.tracker, parent, "KILLED",
                                  {"nbops.interrupted": "true"})
            return result
        # every task answered: a child still RUNNING was opened by a worker that was lost (on
        # this host, the retry's orphan check may have ended it KILLED already: not a Stop)
        _end_running_children(self.tracking.tracker, parent, "FAILED",
                              {"nbops.error": "the Dask worker running it was lost"},
                              orphans=True)
        return result


def _end_running_children(tracker: Any, parent: str, status: str, tags: dict[str, str],
                          *, orphans: bool = False) -> None:
    """End the children of ``parent`` still RUNNING as ``status`` with ``tags``: a task that
    did not answer Stop, or whose worker was lost (Dask ran it again elsewhere); with
    ``orphans``, also those nbops ended KILLED because their process died."""
    from nbops.run.journal import KILLED_REASON_TAG
    from nbops.run.tracking import PARENT_RUN_TAG

    with contextlib.suppress(Exception):
        client = tracker.client
        experiment = client.get_run(parent).info.experiment_id
        running = [run for state in (("RUNNING", "KILLED") if orphans else ("RUNNING",))
                   for run in client.search_runs([experiment], filter_string=(
                       f"tags.`{PARENT_RUN_TAG}` = '{parent}' and attributes.status = '{state}'"))]
        for run in running:
            if run.info.status == "KILLED" and KILLED_REASON_TAG not in run.data.tags:
                continue
            tracker.set_tags(run.info.run_id, tags)
            tracker.end_run(run.info.run_id, status)
