"""Execute a notebook with parameters through papermill on a real kernel.

The kernel runner of nbops, below every layer that runs notebooks: ``nbops run`` (runs and
sweeps) and ``nbops verify`` (the notebook beside its pipeline) both use it, so it knows
nothing about either (see docs/architecture.md).

One place turns papermill's outcomes into nbops terms: a cell that raises becomes a
:class:`CellFailure` (cell index in the *input* notebook, error name, message), a missing
kernel or a kernel that dies becomes a :class:`~nbops.errors.ToolError` naming the file and
what to do. Kernels talk over IPC sockets in a private temporary folder, so concurrent runs
never race for TCP ports.

The kernel gets its working directory (and environment) through its kernel manager: nothing
here changes this process's working directory (papermill's ``cwd=`` does ``os.chdir``, which
other threads of the process would see), and papermill's file I/O is not used (its local
handler changes directory around every read and write, and formats output paths with the
parameters). :func:`check_kernel` finds a missing kernel before anything starts.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbops.errors import ToolError, UsageError

__all__ = [
    "ORIGINAL_INDEX_KEY",
    "CellFailure",
    "Execution",
    "HiddenCode",
    "check_kernel",
    "execute_notebook",
    "kernel_name_of",
    "stop_all_kernels",
]

# Cell metadata key recording a cell's index in the notebook before cells were inserted.
ORIGINAL_INDEX_KEY = "nbops_index"

# Kernels running right now (any thread), so an interrupted sweep can stop them all.
_ACTIVE: set[Any] = set()
_ACTIVE_LOCK = threading.Lock()

# papermill formats the parameters cell with black when it is installed; black's first import
# in two threads at once (a sweep's runs) finds it half-initialised, and papermill logs "Black
# encountered an error ... FileMode" on stderr: one thread at a time injects parameters
_PARAMETERIZE_LOCK = threading.Lock()

# ``on_cell(done, total, source)``: a cell starts (``source``: its text) or ends (None)
CellHook = Callable[[int, int, "str | None"], None]


def stop_all_kernels() -> int:
    """Kill every kernel this process is running a notebook on; returns how many."""
    with _ACTIVE_LOCK:
        managers = list(_ACTIVE)
    stopped = 0
    for km in managers:
        process = getattr(getattr(km, "provisioner", None), "process", None)
        if process is not None and process.poll() is None:
            process.kill()
            stopped += 1
    return stopped


@dataclass(frozen=True)
class CellFailure:
    """A cell that raised: its 0-based index in the input notebook and the error."""

    cell: int | None
    ename: str
    evalue: str

    def describe(self) -> str:
        where = f"cell {self.cell + 1}" if self.cell is not None else "a cell"
        return f"{where} raised {self.ename}: {self.evalue}".rstrip(": ")


@dataclass(frozen=True)
class Execution:
    """How a run ended; ``failure`` is None when every cell ran."""

    output: Path
    failure: CellFailure | None
    notebook: Any  # the executed NotebookNode


def _failure(nb: Any) -> CellFailure | None:
    """The first error of a cell, but not one tagged ``raises-exception`` (nbclient runs on
    past its expected error)."""
    for position, cell in enumerate(nb.cells):
        if "raises-exception" in (cell.get("metadata", {}).get("tags") or []):
            continue
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                index = cell.get("metadata", {}).get(ORIGINAL_INDEX_KEY, position)
                return CellFailure(
                    index if isinstance(index, int) else None,
                    str(out.get("ename", "Error")),
                    str(out.get("evalue", "")),
                )
    return None


@dataclass(frozen=True)
class HiddenCode:
    """Code run in the kernel of a notebook's execution without adding cells to it (silent,
    out of history, its own client): ``before`` once the kernel is ready, ``after[i]`` right
    after the cell whose :data:`ORIGINAL_INDEX_KEY` (else position) is ``i`` ran without an
    error it stops on. ``nbops verify``'s step captures travel this way into a tracked run."""

    before: str = ""
    after: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"before": self.before, "after": {str(k): list(v) for k, v in self.after.items()}}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> HiddenCode:
        after = data.get("after") or {}
        return cls(str(data.get("before") or ""), {int(k): tuple(map(str, v)) for k, v in after.items()})


def _hidden_hooks(km: Any, hidden: HiddenCode, timeout: float | None, clients: list[Any]) -> dict[str, Any]:
    """nbclient's ``on_notebook_start`` / ``on_cell_executed`` hooks that run ``hidden`` on a
    second client of the same kernel (nbclient ignores replies to messages it did not send)."""

    async def run(code: str) -> None:
        if not clients:
            from jupyter_client.session import Session

            # a session of its own: a client's socket identity is its session's id, and two
            # clients with one identity lose the kernel's replies to nbclient's
            session = Session(key=km.session.key, signature_scheme=km.session.signature_scheme)
            kc = km.client(session=session)
            kc.start_channels()
            clients.append(kc)
            await kc.wait_for_ready(timeout=60)
        kc = clients[0]
        msg_id = kc.execute(code, silent=True, store_history=False, allow_stdin=False)
        waited = 0.0
        while True:
            try:
                reply = await kc.get_shell_msg(timeout=1)
            except Exception:  # noqa: BLE001 - queue.Empty: is the kernel still there?
                waited += 1
                if not await km.is_alive():
                    raise RuntimeError("the kernel died during a hidden execution") from None
                if timeout and waited > timeout:
                    raise TimeoutError(f"a hidden execution ran longer than {timeout:g} s") from None
                continue
            if reply.get("parent_header", {}).get("msg_id") == msg_id:
                return

    async def on_notebook_start(**_: Any) -> None:
        if hidden.before:
            await run(hidden.before)

    async def on_cell_executed(cell: Any, cell_index: int, execute_reply: Any = None, **_: Any) -> None:
        index = cell.get("metadata", {}).get(ORIGINAL_INDEX_KEY, cell_index)
        codes = hidden.after.get(index) if isinstance(index, int) else None
        if not codes or execute_reply is None:
            return
        failed = execute_reply.get("content", {}).get("status") != "ok"
        if failed and "raises-exception" not in (cell.get("metadata", {}).get("tags") or []):
            return  # the run stops here: nothing after it runs (as a cell after it would not)
        for code in codes:
            await run(code)

    return {"on_notebook_start": on_notebook_start, "on_cell_executed": on_cell_executed}


def _launching(base: Any, cwd: Path, extra: Mapping[str, str | None]) -> Any:
    """A kernel manager class whose kernels start in ``cwd`` with ``extra`` in their
    environment (None: the variable is removed); papermill passes neither down to
    ``start_kernel`` without changing this process's working directory."""

    class _LaunchingKernelManager(base):  # type: ignore[misc]
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            env = dict(kw.get("env") or os.environ)
            for key, value in extra.items():
                if value is None:
                    env.pop(key, None)
                else:
                    env[key] = value
            kw["env"] = env
            kw["cwd"] = str(cwd)
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return _LaunchingKernelManager


def _reporting(base: Any, on_cell: CellHook) -> Any:
    """A papermill engine class that reports each cell's start and end to ``on_cell`` (a
    failing hook never stops the run)."""

    def report(done: int, total: int, source: str | None) -> None:
        try:
            on_cell(done, total, source)
        except Exception:  # noqa: BLE001, S110 - progress is a convenience, the run goes on
            pass

    class _ReportingEngine(base):  # type: ignore[misc]
        @classmethod
        def execute_managed_notebook(cls, nb_man: Any, kernel_name: str, **kw: Any) -> Any:
            total = len(nb_man.nb.cells)
            start, complete = nb_man.cell_start, nb_man.cell_complete

            def cell_start(cell: Any, cell_index: int = 0, **more: Any) -> Any:
                report(cell_index, total, str(cell.get("source", "")))
                return start(cell, cell_index, **more)

            def cell_complete(cell: Any, cell_index: int = 0, **more: Any) -> Any:
                result = complete(cell, cell_index=cell_index, **more)
                report(cell_index + 1, total, None)
                return result

            nb_man.cell_start, nb_man.cell_complete = cell_start, cell_complete
            return super().execute_managed_notebook(nb_man, kernel_name, **kw)

    return _ReportingEngine


def kernel_name_of(nb: Any, kernel_name: str | None = None) -> str:
    """The kernel a run of ``nb`` uses: ``kernel_name``, else its kernelspec's, else python3."""
    if kernel_name:
        return kernel_name
    spec = nb.get("metadata", {}).get("kernelspec")
    name = spec.get("name") if isinstance(spec, Mapping) else None
    return name if isinstance(name, str) and name else "python3"


def check_kernel(nb: Any, kernel_name: str | None = None, *, label: str | None = None) -> str:
    """The kernel a run of ``nb`` uses, checked installed (before anything starts); a
    :class:`~nbops.errors.UsageError` naming the notebook and the installed kernels when not."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    name = kernel_name_of(nb, kernel_name)
    manager = KernelSpecManager()
    try:
        manager.get_kernel_spec(name)
    except NoSuchKernel:
        pass
    else:
        return name
    installed = ", ".join(sorted(manager.find_kernel_specs())) or "none"
    asked = (
        f"no Jupyter kernel named {name!r} (--kernel)"
        if kernel_name
        else f"the notebook's kernelspec names the kernel {name!r}, which is not installed"
    )
    raise UsageError(
        asked,
        path=label,
        hint=f"installed kernels: {installed}; `jupyter kernelspec list` shows them; pass "
        "--kernel NAME, or install one: python -m ipykernel install --user --name NAME",
    )


def execute_notebook(
    source: Path | Any,
    output: Path,
    *,
    parameters: Mapping[str, Any] | None = None,
    cwd: Path,
    kernel_name: str | None = None,
    timeout: float | None = None,
    label: str | None = None,
    env: Mapping[str, str | None] | None = None,
    on_cell: CellHook | None = None,
    hidden: HiddenCode | None = None,
    kernel_manager: Any = None,
) -> Execution:
    """Run ``source`` (a path or a NotebookNode) with papermill, writing ``output``; the
    kernel starts in ``cwd``. Relative paths are taken from this process's working directory,
    which nothing here changes.

    ``env``: variables set in the kernel's environment on top of this process's (None: removed).
    ``on_cell(done, total, source)``: called as each cell starts (its source) and ends (None).
    ``hidden``: code run in the kernel besides the cells, adding none (:class:`HiddenCode`).
    ``kernel_manager``: one whose kernel already runs in ``cwd`` with ``env`` (its caller saw
    to both): used instead of starting a kernel, and shut down at the end all the same.

    A cell error is returned as ``failure`` (the partial output is written); a kernel that
    cannot start, dies or times out raises ``ToolError``.
    """
    import nbformat
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from papermill.engines import papermill_engines
    from papermill.exceptions import PapermillExecutionError
    from papermill.execute import (
        prepare_notebook_metadata,
        raise_for_execution_errors,
        remove_error_markers,
    )
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    output, cwd = Path(os.path.abspath(output)), Path(os.path.abspath(cwd))
    name = label or (str(source) if isinstance(source, Path) else "notebook")
    nb = nbformat.read(source, as_version=4) if isinstance(source, Path) else source
    kernel = kernel_name_of(nb, kernel_name)
    logging.getLogger("papermill").setLevel(logging.WARNING)
    # what papermill.execute_notebook does, minus its chdir and its path handling
    nb = load_notebook_node(nb)  # a copy, with papermill's metadata
    if parameters:
        with _PARAMETERIZE_LOCK:
            nb = parameterize_notebook(nb, dict(parameters), kernel_name=kernel)
    nb = remove_error_markers(prepare_notebook_metadata(nb, name, str(output)))
    with tempfile.TemporaryDirectory(prefix="nbops-kernel-") as sockets:
        manager = _launching(AsyncKernelManager, cwd, env or {})
        km = kernel_manager or manager(
            kernel_name=kernel, transport="ipc", ip=str(Path(sockets) / "k"))
        with _ACTIVE_LOCK:
            _ACTIVE.add(km)
        clients: list[Any] = []  # the hidden code's kernel client, once started
        hooks = _hidden_hooks(km, hidden, timeout, clients) if hidden is not None else {}
        try:
            engine = papermill_engines.get_engine(None)  # a class (nbclient's by default)
            nb = (_reporting(engine, on_cell) if on_cell else engine).execute_notebook(
                nb,
                kernel_name=kernel,
                output_path=None,  # written below, without papermill's I/O
                progress_bar=False,
                log_output=False,
                start_timeout=60,
                execution_timeout=timeout,
                km=km,
                **hooks,
            )
        except NoSuchKernel as exc:
            raise ToolError(
                f"no Jupyter kernel named {kernel!r}",
                path=name,
                hint="install it (python -m ipykernel install --user) or pass --kernel NAME",
            ) from exc
        except (TimeoutError, RuntimeError) as exc:
            # nbclient: CellTimeoutError (a TimeoutError), DeadKernelError (a RuntimeError)
            raise ToolError(
                f"the kernel stopped: {type(exc).__name__}: {exc}".strip(),
                path=name,
                hint="raise --timeout, or check the cell for a crash (memory, native code)",
            ) from exc
        finally:
            with _ACTIVE_LOCK:
                _ACTIVE.discard(km)
            for kc in clients:
                kc.stop_channels()
            # nbclient leaves a kernel it did not create running: stop it here
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
    try:
        raise_for_execution_errors(nb, None)  # marks the failing cell in ``nb`` (no write)
    except PapermillExecutionError:
        pass  # the failing cell is read back below
    nbformat.write(nb, str(output))
    return Execution(output, _failure(nb), nb)
