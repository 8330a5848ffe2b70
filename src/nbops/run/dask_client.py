"""One way to get a Dask client: of the scheduler at an address, or of a LocalCluster.

Runs and sweeps (``nbops.run.executors.dask``), pipelines (``nbops.run.graph``) and batch
scoring (``nbops.deploy.score``) all connect through :class:`Connection` (or its context
manager :func:`connected`), so they wait the same time for a scheduler, say the same thing when
none answers, and start the same LocalCluster (processes, one thread per worker: a kernel or a
model per process) when no address is given. Dask is the ``dask`` extra, imported here lazily.

A :class:`Connection` connects in a background thread, so the caller prepares meanwhile (reads
and checks the notebook, opens the parent run) and waits only in :meth:`Connection.client`. The
worker processes of a LocalCluster skip the interpreter's last garbage collection when they
exit (``gc.freeze`` at exit): with MLflow and papermill imported, that collection takes a
second or two, and closing the cluster waited for it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from typing import Any

from nbops import extras
from nbops.errors import UsageError

__all__ = ["CONNECT_TIMEOUT_S", "Connection", "connected", "distributed"]

CONNECT_TIMEOUT_S = 5.0  # how long to try reaching a scheduler before saying it is not there

_exit_fast = False  # this (worker) process skips the last collection at exit


def distributed(what: str = "--executor dask") -> Any:
    """The ``distributed`` module, or a MissingPackageError naming ``what`` and the install."""
    return extras.import_optional("distributed", "dask", what)


def _freeze_at_exit() -> bool:
    """In a worker of a LocalCluster nbops started: at exit, freeze what is left instead of
    collecting it (the process is ending: its memory goes back whole). Once per process."""
    global _exit_fast
    if not _exit_fast:
        import atexit
        import gc

        atexit.register(gc.freeze)  # registered last, so it runs first: before the collection
        _exit_fast = True
    return True


class Connection:
    """A client of the scheduler at ``address`` or, with no address, of a LocalCluster of
    ``workers`` processes with one thread each, connected in a background thread from the
    moment this is made. :meth:`client` waits for it (a UsageError when no scheduler answers
    within CONNECT_TIMEOUT_S; ``hint`` names where the address came from); :meth:`close`
    (``contextlib.closing``) closes the client and the cluster it started. ``ready(client,
    local)`` is called in that thread once connected (``local``: the LocalCluster made here):
    warming the workers, say; its failure is ignored. ``preload()``, called there before a
    LocalCluster starts, gives the text of a Dask preload script its workers run as they start
    (``dask_setup(worker)``, before they register), or None."""

    def __init__(self, address: str | None, workers: int, *, what: str = "--executor dask",
                 hint: str = "--scheduler",
                 ready: Callable[[Any, bool], None] | None = None,
                 preload: Callable[[], str | None] | None = None) -> None:
        self.address, self.workers, self.what, self.hint = address, max(1, workers), what, hint
        self._ready, self._preload = ready, preload
        self._client: Any = None
        self._cluster: Any = None
        self._error: BaseException | None = None
        self._closed = False
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._connect, name="nbops-dask-connect",
                                        daemon=True)
        self._thread.start()

    def _connect(self) -> None:
        try:
            dask = distributed(self.what)
            if self.address is None:
                cluster = self._local(dask)
                with self._lock:
                    self._cluster = cluster
                client = dask.Client(cluster)
                with contextlib.suppress(Exception):  # closing it does not wait for the GC
                    client.run(_freeze_at_exit)
            else:
                client = self._remote(dask)
            with self._lock:
                self._client = client
                closed = self._closed
            if not closed and self._ready is not None:
                with contextlib.suppress(Exception):
                    self._ready(client, self.address is None)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller in client()
            self._error = exc

    def _local(self, dask: Any) -> Any:
        # its HTTP endpoints move off a port in use: fine (a filter for the process, not
        # catch_warnings: that swaps the filters of every thread while this one starts)
        warnings.filterwarnings("ignore", message="Port .* is already in use")
        preload = None
        if self._preload is not None:
            with contextlib.suppress(Exception):
                preload = self._preload()
        return dask.LocalCluster(
            n_workers=self.workers, threads_per_worker=1, processes=True,
            dashboard_address=None, silence_logs=logging.ERROR,
            preload=[preload] if preload else [],
        )

    def _remote(self, dask: Any) -> Any:
        try:
            return dask.Client(self.address, timeout=CONNECT_TIMEOUT_S)
        except (OSError, TimeoutError, ValueError) as exc:
            raise UsageError(
                f"cannot reach the Dask scheduler at {self.address}: {exc}",
                hint="start it (`dask scheduler`, then `dask worker ADDRESS` on the workers), "
                f"check the address ({self.hint}), or leave it out to run on a local cluster",
            ) from None

    def client(self) -> Any:
        """The connected client, once it is (the error if it could not be)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._client

    def close(self) -> None:
        """Close the client and the LocalCluster started for it, waiting for a connection
        still under way (it is closed once made). Never raises."""
        with self._lock:
            self._closed = True
        self._thread.join()
        if self._client is not None:
            with contextlib.suppress(Exception):
                self._client.close()
        if self._cluster is not None:
            with contextlib.suppress(Exception):
                self._cluster.close()


@contextlib.contextmanager
def connected(address: str | None, workers: int, *, what: str = "--executor dask",
              hint: str = "--scheduler") -> Iterator[Any]:
    """A client of the scheduler at ``address`` (a UsageError when none answers within
    CONNECT_TIMEOUT_S; ``hint`` names where the address came from), or, with no address, of a
    LocalCluster of ``workers`` processes with one thread each. Closed at the end."""
    with contextlib.closing(Connection(address, workers, what=what, hint=hint)) as connection:
        yield connection.client()
