"""The one Dask connection of nbops: a scheduler that does not answer is a clear error, fast."""

from __future__ import annotations

import socket
import time

import pytest

from nbops.errors import UsageError
from nbops.run.dask_client import CONNECT_TIMEOUT_S, connected


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
