"""What every test shares: no test leaves nbops' or MLflow's variables behind in os.environ.

A leaked ``NBOPS_RUN_ID`` once reached, through a later test of the same worker, the generated
tests a subprocess ran (they logged into a run that did not exist): which test leaked depended
on how the tests were spread over the workers. This guard makes the leaking test fail instead.
The same for MLflow's process-wide tracking URI (``mlflow.set_tracking_uri``): left set, it
sent a later test's reads to an earlier test's deleted store.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import pytest

_WATCHED = ("NBOPS_", "MLFLOW_")
# set once per process on purpose when nbops imports MLflow: its telemetry off, no run URL on stdout
_PROCESS_WIDE = frozenset({
    "MLFLOW_DISABLE_TELEMETRY", "MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT",
    "MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR",
})


def _watched() -> dict[str, str]:
    return {
        k: v for k, v in os.environ.items() if k.startswith(_WATCHED) and k not in _PROCESS_WIDE
    }


_MLFLOW_URI_MODULE = "mlflow.tracking._tracking_service.utils"  # holds set_tracking_uri's value


def _mlflow_uri() -> object:
    module = sys.modules.get(_MLFLOW_URI_MODULE)
    return None if module is None else getattr(module, "_tracking_uri", None)


@pytest.fixture(autouse=True)
def _no_leaked_mlflow_tracking_uri() -> Iterator[None]:
    before = _mlflow_uri()
    yield
    after = _mlflow_uri()
    if after != before:
        sys.modules[_MLFLOW_URI_MODULE]._tracking_uri = before  # type: ignore[attr-defined]
        pytest.fail(f"the test left MLflow's tracking URI set (mlflow.set_tracking_uri({after!r})"
                    " and not put back): later tests would read another store")


@pytest.fixture(autouse=True)
def _no_leaked_environment() -> Iterator[None]:
    before = _watched()
    yield
    after = _watched()
    if after == before:
        return
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    for key in changed:  # put it back, so that one leak fails one test, not the ones after it
        if key in before:
            os.environ[key] = before[key]
        else:
            os.environ.pop(key, None)
    pytest.fail(
        f"the test changed os.environ and did not undo it: {', '.join(changed)} "
        "(use monkeypatch.setenv, which undoes what it sets)"
    )
