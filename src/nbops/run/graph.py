"""Run a generated pipeline's step graph on Dask: each step one task, independent steps at once.

``nbops modularize`` writes a module whose ``PIPELINE`` describes its steps (inputs,
parameters and the step function's argument for each, outputs, results, the dataclass a step
returns, the steps it comes after) and whose ``run()`` calls them one after the other.
:func:`run_graph` calls the same functions the same way, as Dask tasks: a step's inputs are the
values the latest earlier step that produced each name returned (positional, as ``run()`` passes
them), its parameters the keyword arguments ``run()`` gives; a step waits only for the steps
whose values it reads, so independent branches run at the same time on different workers, and
values travel between workers with Dask's serialization. It returns what ``run()`` returns.

Workers import the module by name (and ``nbops``): a LocalCluster's workers share this
process's ``sys.path`` and folder; the workers of another scheduler need the package installed.
A value Dask cannot serialize (a generator, a lock, a socket) is an error naming the step and
the value, found in the worker that made it (pickle, then cloudpickle: what Dask tries).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import importlib
import inspect
import os
import pickle
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from nbops.errors import NbopsError, UsageError
from nbops.run.dask_client import CONNECT_TIMEOUT_S, connected, distributed

__all__ = ["CONNECT_TIMEOUT_S", "StepTiming", "check_scheduler", "run_graph"]

_WHAT = "the pipeline's --executor dask"


@dataclass(frozen=True)
class StepTiming:
    """When and where one step ran (``time.time()`` on its worker)."""

    step: str
    started: float
    ended: float
    worker: str


class _Unserializable(Exception):
    """Raised in a worker: ``(step, value name, reason)`` of a value Dask cannot send."""


class _NotImportable(Exception):
    """Raised in a worker: ``(module, reason)`` when the worker cannot import the module."""


def _distributed() -> Any:
    return distributed(_WHAT)


# --------------------------------------------------------------------------- in the worker


def _check_serializable(step: str, name: str, value: Any) -> None:
    """Raise ``_Unserializable`` when neither pickle nor cloudpickle (Dask's fallback) can
    serialize ``value``; large buffers are not copied (pickle protocol 5, out of band)."""
    buffers: list[pickle.PickleBuffer] = []
    with contextlib.suppress(Exception):  # any pickling failure: cloudpickle, as Dask does
        pickle.dumps(value, protocol=5, buffer_callback=buffers.append)
        return
    cloudpickle = importlib.import_module("cloudpickle")
    try:
        cloudpickle.dumps(value, protocol=5, buffer_callback=buffers.append)
    except Exception as exc:  # noqa: BLE001 - what Dask would fail on, in words
        raise _Unserializable(step, name, f"{type(exc).__name__}: {exc}") from None


def _worker_address() -> str:
    with contextlib.suppress(Exception):
        return str(_distributed().get_worker().address)
    return ""


def run_step(module_name: str, step: str, args: list[Any], kwargs: dict[str, Any],
             undefined: list[str]) -> dict[str, Any]:
    """Run one step in this (worker) process, as ``run()`` calls it; its values by name, with
    when and where it ran. ``undefined``: names the notebook read before defining (a
    ``NameError`` before the step runs, as in ``run()``)."""
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure, named for the client
        raise _NotImportable(module_name, f"{type(exc).__name__}: {exc}") from None
    spec = next(s for s in module.PIPELINE["steps"] if s["name"] == step)
    if undefined:
        raise NameError(f"name {undefined[0]!r} is not defined (step {step!r} reads it before "
                        "any cell defines it)")
    started = time.time()
    value = getattr(module, step)(*args, **kwargs)
    if inspect.iscoroutine(value):  # the notebook awaited at top level: run() uses asyncio.run
        value = asyncio.run(value)
    ended = time.time()
    returned = [*spec["outputs"], *spec["results"]]
    values: dict[str, Any] = {}
    if spec["returns"]:  # the step's frozen dataclass: its fields in that order
        fields = dataclasses.fields(value)
        values = {name: getattr(value, f.name) for name, f in zip(returned, fields)}
    elif returned:
        values = {returned[0]: value}
    for name, item in values.items():
        _check_serializable(step, name, item)
    return {"values": values, "started": started, "ended": ended, "worker": _worker_address()}


def import_check(module_name: str) -> str | None:
    """Import the module here (a worker, before any step runs): None, or why it failed."""
    try:
        importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any import failure, named for the client
        return f"{type(exc).__name__}: {exc}"
    return None


def pick(result: dict[str, Any], name: str) -> Any:
    """One value of a step's result (a task on the producer's worker: only it travels)."""
    return result["values"][name]


# --------------------------------------------------------------------------- on the client


def _load(module: ModuleType | str) -> ModuleType:
    if isinstance(module, ModuleType):
        return module
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise UsageError(f"cannot import the pipeline module {module!r}: {exc}",
                         hint="run `nbops modularize NOTEBOOK` first, and put its src/ folder "
                         "on PYTHONPATH (or install the package)") from None


def _module_name(module: ModuleType) -> str:
    """The name workers import it by (its spec's: ``__main__`` under ``python -m``)."""
    spec = getattr(module, "__spec__", None)
    return str(spec.name) if spec is not None else module.__name__


def _module_state(module: ModuleType) -> list[str]:
    """Names the steps share as module state (``global x``): declared, never bound at import."""
    notes = getattr(module, "__annotations__", {})
    return sorted(name for name in notes if not hasattr(module, name))


def _params(module: ModuleType, params: Mapping[str, Any] | None) -> dict[str, Any]:
    """PARAMETERS with ``params`` over them; unknown names a TypeError, as ``run()`` says."""
    defaults: dict[str, Any] = module.PARAMETERS
    unknown = sorted(set(params or {}) - set(defaults))
    if unknown:
        raise TypeError(f"unknown parameters: {', '.join(unknown)} "
                        f"(known: {', '.join(defaults)})")
    return {**defaults, **(params or {})}


def check_scheduler(address: str) -> None:
    """Connect to the scheduler at ``address`` and leave: a UsageError when nothing answers
    within CONNECT_TIMEOUT_S."""
    with _connected(address, workers=1):
        pass


@contextlib.contextmanager
def _connected(client: Any, workers: int) -> Iterator[Any]:
    """``client`` itself (left open), a client of the scheduler at that address, or of a
    LocalCluster of ``workers`` processes with one thread each (closed at the end)."""
    if client is not None and not isinstance(client, str):
        yield client
        return
    with connected(client, workers, what=_WHAT) as dask_client:
        yield dask_client


def _failure(exc: BaseException, step: str, module: str) -> BaseException:
    """A worker's failure in nbops' words; a step's own exception as it is (as ``run()``)."""
    if isinstance(exc, _Unserializable):
        name, value, reason = exc.args
        return NbopsError(
            f"step {name!r} returned {value!r}, which cannot be sent between Dask workers: "
            f"{reason}",
            hint="return values pickle or cloudpickle can serialize (a list rather than a "
            "generator; keep locks, open connections and the like inside the step), or run the "
            "pipeline without --executor dask",
        )
    if isinstance(exc, _NotImportable):
        name, reason = exc.args
        return NbopsError(
            f"the Dask worker running step {step!r} cannot import {name!r}: {reason}",
            hint="install the package (and what it imports) on the workers, or put its src/ "
            "folder on their PYTHONPATH",
        )
    return exc


def run_graph(
    module: ModuleType | str,
    params: Mapping[str, Any] | None = None,
    *,
    client: Any = None,
    workers: int | None = None,
    on_step: Callable[[str, dict[str, Any]], None] | None = None,
    on_timing: Callable[[StepTiming], None] | None = None,
) -> dict[str, Any]:
    """Run the generated pipeline ``module`` (the module or its import name) on Dask.

    ``client``: a ``distributed.Client`` (used, left open), a scheduler address
    (``tcp://HOST:8786``; nothing answering is a UsageError before any step runs) or None (a
    LocalCluster of ``workers`` processes, by default one per core up to the number of steps,
    closed at the end). ``params`` overrides PARAMETERS (unknown names are a TypeError, as
    ``run()`` says). ``on_step(name, values)`` is called here as each step ends, in the order
    they end, with what it returned; ``on_timing`` with when and where it ran. A step's
    exception is raised as ``run()`` raises it; the steps not started are cancelled. Returns
    what ``run()`` returns: every step's outputs and results by name.
    """
    loaded = _load(module)
    name = _module_name(loaded)
    steps: list[dict[str, Any]] = list(loaded.PIPELINE["steps"])
    values = _params(loaded, params)
    shared = _module_state(loaded)
    if shared:
        raise UsageError(
            f"the steps of {name} share module state ({', '.join(shared)}, set through "
            "`global`): separate Dask workers would not see each other's",
            hint="run it without --executor dask, or pass the value from step to step (return "
            "it) in the notebook and modularize it again",
        )
    size = workers or max(1, min(os.cpu_count() or 1, len(steps)))
    with _connected(client, size) as dask_client:
        return _submit(dask_client, name, steps, values, on_step, on_timing)


def _check_workers(client: Any, module: str) -> None:
    """Every worker imports the module before any step runs (a clear error if one cannot)."""
    answers: dict[str, str | None] = client.run(import_check, module)
    failed = {worker: why for worker, why in answers.items() if why}
    if failed:
        worker, why = min(failed.items())
        raise NbopsError(
            f"the Dask worker {worker} cannot import {module!r}: {why}",
            hint="install the package (and what it imports) on the workers, or put its src/ "
            "folder on their PYTHONPATH",
        )


def _homes(client: Any, steps: list[dict[str, Any]]) -> dict[str, str]:
    """A worker to prefer for each step: its first producer's, unless a sibling (another
    step reading the same producer) took that one already: then the next worker in turn.
    Dask alone would queue every consumer on the worker holding their inputs."""
    workers = sorted(client.scheduler_info().get("workers", {}))
    if not workers:
        return {}
    turn = 0
    homes: dict[str, str] = {}
    provider: dict[str, str] = {}
    taken: dict[str, int] = {}  # producer -> how many of its consumers were placed
    for spec in steps:
        first = next((provider[n] for n in spec["inputs"] if n in provider), None)
        if first is not None and not taken.get(first):
            homes[spec["name"]] = homes[first]
        else:
            homes[spec["name"]] = workers[turn % len(workers)]
            turn += 1
        if first is not None:
            taken[first] = taken.get(first, 0) + 1
        for value in (*spec["outputs"], *spec["results"]):
            provider[value] = spec["name"]
    return homes


def _submit(
    client: Any, module: str, steps: list[dict[str, Any]], params: dict[str, Any],
    on_step: Callable[[str, dict[str, Any]], None] | None,
    on_timing: Callable[[StepTiming], None] | None,
) -> dict[str, Any]:
    distributed = _distributed()
    _check_workers(client, module)
    homes = _homes(client, steps)
    run = uuid.uuid4().hex[:8]
    provider: dict[str, str] = {}  # value name -> the latest step so far that returned it
    futures: dict[str, Any] = {}  # step name -> its future
    picked: dict[tuple[str, str], Any] = {}  # (step, value) -> the future of that one value
    names: dict[Any, str] = {}
    for spec in steps:
        step = spec["name"]
        args: list[Any] = []
        undefined: list[str] = []
        for value in spec["inputs"]:
            source = provider.get(value)
            if value in spec["undefined"] or source is None:
                undefined.append(value)
                args.append(None)
                continue
            if (source, value) not in picked:
                picked[(source, value)] = client.submit(
                    pick, futures[source], value, key=f"nbops-{run}-{source}-{value}")
            args.append(picked[(source, value)])
        kwargs = {arg: params[p] for p, arg in zip(spec["parameters"], spec["arguments"])}
        home = [homes[step]] if step in homes else None
        future = client.submit(run_step, module, step, args, kwargs, undefined,
                               key=f"nbops-{run}-{step}", pure=False, workers=home,
                               allow_other_workers=home is not None)
        futures[step] = future
        names[future] = step
        for value in (*spec["outputs"], *spec["results"]):
            provider[value] = step
    done: dict[str, dict[str, Any]] = {}
    try:
        for future in distributed.as_completed(list(futures.values())):
            step = names[future]
            try:
                answer = future.result()
            except Exception as exc:  # a step's own error is re-raised as is
                failure = _failure(exc, step, module)
                if failure is exc:
                    raise
                raise failure from None
            done[step] = answer
            if on_timing is not None:
                on_timing(StepTiming(step, answer["started"], answer["ended"], answer["worker"]))
            if on_step is not None:
                on_step(step, dict(answer["values"]))
    finally:
        pending = [f for f in [*futures.values(), *picked.values()] if not f.done()]
        if pending:
            with contextlib.suppress(Exception):
                client.cancel(pending)
    result: dict[str, Any] = {}
    for spec in steps:  # in notebook order, a value's latest producer last: run()'s dict
        for value, item in done[spec["name"]]["values"].items():
            result.pop(value, None)
            result[value] = item
    return result
