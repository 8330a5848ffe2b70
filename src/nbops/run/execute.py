"""Execute a notebook with parameters through papermill on a real kernel.

One place turns papermill's outcomes into nbops terms: a cell that raises becomes a
:class:`CellFailure` (cell index in the *input* notebook, error name, message), a missing
kernel or a kernel that dies becomes a :class:`~nbops.errors.ToolError` naming the file and
what to do. Kernels talk over IPC sockets in a private temporary folder, so concurrent runs
never race for TCP ports.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbops.errors import ToolError

__all__ = ["ORIGINAL_INDEX_KEY", "CellFailure", "Execution", "execute_notebook", "stop_all_kernels"]

# Cell metadata key recording a cell's index in the notebook before cells were inserted.
ORIGINAL_INDEX_KEY = "nbops_index"

# Kernels running right now (any thread), so an interrupted sweep can stop them all.
_ACTIVE: set[Any] = set()
_ACTIVE_LOCK = threading.Lock()


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
    for position, cell in enumerate(nb.cells):
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                index = cell.get("metadata", {}).get(ORIGINAL_INDEX_KEY, position)
                return CellFailure(
                    index if isinstance(index, int) else None,
                    str(out.get("ename", "Error")),
                    str(out.get("evalue", "")),
                )
    return None


def _with_env(base: Any, extra: Mapping[str, str | None]) -> Any:
    """A kernel manager class whose kernels get ``extra`` in their environment (None: the
    variable is removed); papermill gives no way to pass ``env`` down to ``start_kernel``."""

    class _EnvKernelManager(base):  # type: ignore[misc]
        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: Any) -> None:
            env = dict(kw.get("env") or os.environ)
            for key, value in extra.items():
                if value is None:
                    env.pop(key, None)
                else:
                    env[key] = value
            kw["env"] = env
            await super()._async_launch_kernel(kernel_cmd, **kw)

    return _EnvKernelManager


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
) -> Execution:
    """Run ``source`` (a path or a NotebookNode) with papermill, writing ``output``.

    ``env``: variables set in the kernel's environment on top of this process's (None: removed).

    A cell error is returned as ``failure`` (the partial output is written); a kernel that
    cannot start, dies or times out raises ``ToolError``.
    """
    import nbformat
    import papermill
    from jupyter_client.kernelspec import NoSuchKernel
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_core.utils import run_sync
    from papermill.exceptions import PapermillExecutionError

    name = label or (str(source) if isinstance(source, Path) else "notebook")
    nb = nbformat.read(source, as_version=4) if isinstance(source, Path) else source
    kernel = kernel_name or nb.metadata.get("kernelspec", {}).get("name") or "python3"
    logging.getLogger("papermill").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory(prefix="nbops-kernel-") as sockets:
        manager = AsyncKernelManager if not env else _with_env(AsyncKernelManager, env)
        km = manager(kernel_name=kernel, transport="ipc", ip=str(Path(sockets) / "k"))
        with _ACTIVE_LOCK:
            _ACTIVE.add(km)
        try:
            papermill.execute_notebook(
                nb,
                str(output),
                parameters=dict(parameters or {}),
                kernel_name=kernel,
                progress_bar=False,
                cwd=str(cwd),
                execution_timeout=timeout,
                km=km,
            )
        except PapermillExecutionError:
            pass  # the failing cell is read back from the output notebook
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
            # nbclient leaves a kernel it did not create running: stop it here
            if km.has_kernel:
                run_sync(km.shutdown_kernel)(now=True)
    executed = nbformat.read(output, as_version=4)
    return Execution(output, _failure(executed), executed)
