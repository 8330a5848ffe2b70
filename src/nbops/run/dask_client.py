"""One way to get a Dask client: of the scheduler at an address, or of a LocalCluster.

Runs and sweeps (``nbops.run.executors.dask``), pipelines (``nbops.run.graph``) and batch
scoring (``nbops.deploy.score``) all connect through :func:`connected`, so they wait the same
time for a scheduler, say the same thing when none answers, and start the same LocalCluster
(processes, one thread per worker: a kernel or a model per process) when no address is given.
Dask is the ``dask`` extra, imported here lazily.
"""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator
from typing import Any

from nbops import extras
from nbops.errors import UsageError

__all__ = ["CONNECT_TIMEOUT_S", "connected", "distributed"]

CONNECT_TIMEOUT_S = 5.0  # how long to try reaching a scheduler before saying it is not there


def distributed(what: str = "--executor dask") -> Any:
    """The ``distributed`` module, or a MissingPackageError naming ``what`` and the install."""
    return extras.import_optional("distributed", "dask", what)


@contextlib.contextmanager
def connected(address: str | None, workers: int, *, what: str = "--executor dask",
              hint: str = "--scheduler") -> Iterator[Any]:
    """A client of the scheduler at ``address`` (a UsageError when none answers within
    CONNECT_TIMEOUT_S; ``hint`` names where the address came from), or, with no address, of a
    LocalCluster of ``workers`` processes with one thread each. Closed at the end."""
    dask = distributed(what)
    if address is None:
        with warnings.catch_warnings():  # its HTTP endpoints move off a port in use: fine
            warnings.filterwarnings("ignore", message="Port .* is already in use")
            cluster = dask.LocalCluster(
                n_workers=max(1, workers), threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=logging.ERROR,
            )
        try:
            with dask.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        remote = dask.Client(address, timeout=CONNECT_TIMEOUT_S)
    except (OSError, TimeoutError, ValueError) as exc:
        raise UsageError(
            f"cannot reach the Dask scheduler at {address}: {exc}",
            hint="start it (`dask scheduler`, then `dask worker ADDRESS` on the workers), "
            f"check the address ({hint}), or leave it out to run on a local cluster",
        ) from None
    try:
        yield remote
    finally:
        remote.close()
