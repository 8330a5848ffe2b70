"""The one Dask connection of nbops: a scheduler that does not answer is a clear error, fast;
the connection is made in the background; a LocalCluster's workers exit without the last GC."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from nbops.errors import UsageError
from nbops.run.dask_client import CONNECT_TIMEOUT_S, Connection, connected


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_no_scheduler_at_the_address_is_a_usage_error_naming_it_and_where_it_came_from() -> None:
    address = f"tcp://127.0.0.1:{_free_port()}"
    began = time.monotonic()
    with pytest.raises(UsageError) as info, connected(address, 1, hint="--scheduler"):
        pass
    assert address in info.value.message
    assert "--scheduler" in (info.value.hint or "")
    assert time.monotonic() - began < CONNECT_TIMEOUT_S + 10


class _Marker:
    """A reference cycle that creates ``path`` when the garbage collector frees it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.me = self

    def __del__(self, _open: Any = os.open, _close: Any = os.close,
                _flags: int = os.O_CREAT | os.O_WRONLY) -> None:
        _close(_open(self.path, _flags))  # at exit the builtins may be gone: os, kept above


def _plant(path: str) -> bool:
    import gc

    gc.disable()  # the cycle stays garbage until the process exits
    _Marker(path)
    return True


@pytest.mark.slow
def test_a_connection_connects_in_the_background_and_calls_ready_there() -> None:
    order: list[str] = []
    threads: list[threading.Thread] = []

    def ready(client: Any, local: bool) -> None:
        order.append(f"ready local={local} workers={len(client.scheduler_info()['workers'])}")
        threads.append(threading.current_thread())

    connection = Connection(None, 2, ready=ready)
    order.append("made")
    with contextlib.closing(connection):
        client = connection.client()
        assert client.submit(sum, [1, 2]).result() == 3
    assert order == ["made", "ready local=True workers=2"]
    assert threads != [threading.main_thread()]


@pytest.mark.slow
def test_a_connection_closed_while_its_cluster_starts_leaves_no_worker_process() -> None:
    Connection(None, 2).close()
    deadline = time.monotonic() + 10
    while multiprocessing.active_children() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert multiprocessing.active_children() == []


@pytest.mark.slow
def test_the_workers_of_a_local_cluster_skip_the_last_collection_at_exit(tmp_path: Path) -> None:
    """Closing a LocalCluster waits for its workers to exit; the interpreter's last garbage
    collection (a second or two with MLflow and papermill imported) is not waited for."""
    marker = tmp_path / "collected"
    with connected(None, 1) as client:
        assert client.submit(_plant, str(marker), pure=False).result()
    time.sleep(0.5)
    assert not marker.exists()
    # the same worker code without nbops' connection: the cycle is collected at exit
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True,
                      dashboard_address=None) as cluster, Client(cluster) as plain:
        assert plain.submit(_plant, str(marker), pure=False).result()
    deadline = time.monotonic() + 5
    while not marker.exists() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert marker.exists()
