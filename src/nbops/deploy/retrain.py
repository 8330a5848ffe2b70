"""The loop back to the notebook: an ALERT of ``nbops monitor --retrain`` starts a tracked run of
the model's notebook on the new data.

The notebook is the one the model was released from (the version's ``nbops.release.notebook``
tag, relative to the repository) unless one is named; the new data goes in as one of its
parameters: ``--retrain-param``, else ``[tool.nbops.health] retrain-parameter``, else the one
parameter whose name says it is the data (``data``, ``data_path``, ``input_path``...). The run
is an ordinary ``nbops run`` (a subprocess, argument list), tagged with the check that started
it. Its model goes through review like any other (``nbops submit``, then the merge releases
it): a retrain never registers a version and never touches ``champion``.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nbops.errors import NotFoundError, ToolError, UsageError

__all__ = ["DATA_NAMES", "RETRAIN_TAG", "Retrain", "data_parameter", "released_notebook", "retrain"]

RETRAIN_TAG = "nbops.retrain.check"  # on the retrain run: the health check's run id
# parameter names taken for the data when none is named, in this order
DATA_NAMES = ("data", "data_path", "data_file", "dataset", "input_path", "input_file",
              "train_path", "train_file", "training_data", "csv_path", "path")


@dataclass(frozen=True)
class Retrain:
    """The run a retrain started: its notebook (as shown), the parameter given the data, the
    run id and status ``nbops run`` reported."""

    notebook: str
    parameter: str
    run_id: str | None
    status: str

    def to_json(self) -> dict[str, Any]:
        return {"notebook": self.notebook, "parameter": self.parameter, "run_id": self.run_id,
                "status": self.status}


def released_notebook(client: Any, name: str, version: int, root: Path) -> Path:
    """The notebook ``name`` version ``version`` was released from (its
    ``nbops.release.notebook`` tag), under ``root``; NotFoundError when the version has no
    such tag or the file is not there."""
    tags = dict(client.get_model_version(name, str(version)).tags or {})
    rel = tags.get("nbops.release.notebook")
    if not rel:
        raise NotFoundError(
            f"model {name} version {version} was not released by nbops release: no notebook "
            "to retrain",
            hint="name it: --retrain NOTEBOOK",
        )
    path = root / str(rel)
    if not path.is_file():
        raise NotFoundError(f"the released notebook {rel} is not here",
                            hint="run from the repository's root, or name it: --retrain NOTEBOOK")
    return path


def data_parameter(notebook: Path, shown: str, named: str | None) -> str:
    """The parameter of ``notebook`` that takes the new data: ``named`` (checked), else the
    first of :data:`DATA_NAMES` the notebook declares; a UsageError naming the parameters
    there are otherwise."""
    from nbops.run.params import read_parameters

    params = read_parameters(notebook)
    names = [spec.name for spec in params.specs]
    if named:
        if named not in names:
            raise UsageError(
                f"{shown} has no parameter {named!r}",
                hint=f"its parameters: {', '.join(names)}" if names else
                "add a parameters cell (tagged `parameters`) that reads the data from a path",
            )
        return named
    for name in DATA_NAMES:
        if name in names:
            return name
    raise UsageError(
        f"{shown} has no parameter for the new data (none named "
        f"{', '.join(DATA_NAMES[:4])}, ...)",
        hint=(f"name it: --retrain-param NAME (its parameters: {', '.join(names)}), or set "
              "[tool.nbops.health] retrain-parameter") if names else
        "add a parameters cell (tagged `parameters`) with the data's path, e.g. data_path = "
        "\"data/train.csv\"",
    )


def retrain(notebook: Path, shown: str, parameter: str, data: Path, check_run: str | None,
            tracking_uri: str) -> Retrain:
    """``nbops run NOTEBOOK -p PARAMETER DATA`` (tracked in the project's store as usual),
    then the run tagged with the check that started it. A run that cannot start is a
    ToolError with ``nbops run``'s own message; a run that fails is reported FAILED."""
    argv = [sys.executable, "-m", "nbops", "run", str(notebook), "-p", parameter,
            str(data.resolve()), "--format", "json", "--progress", "none"]
    done = subprocess.run(argv, capture_output=True, text=True, check=False,
                          cwd=notebook.parent)
    try:
        answer = json.loads(done.stdout)
        [run] = answer["runs"]
    except (ValueError, KeyError, TypeError):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise ToolError(f"the retrain run of {shown} did not start: {last}",
                        hint="run it by hand: nbops run " + shown) from None
    run_id = run.get("run_id") or None
    if run_id and check_run:
        from nbops.run.tracking import MlflowTracker

        MlflowTracker(tracking_uri).set_tags(run_id, {RETRAIN_TAG: check_run})
    return Retrain(shown, parameter, run_id, str(run.get("status") or "UNKNOWN"))
