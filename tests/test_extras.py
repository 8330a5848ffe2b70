"""nbops.extras: which extra provides what, and the errors that say what to install.

Packages are made missing the way Python itself sees a missing one: ``sys.modules[name] =
None`` makes ``find_spec`` find nothing and ``import`` fail (this dev environment has every
extra installed).
"""

from __future__ import annotations

import sys

import pytest

from nbops import extras
from nbops.errors import MissingPackageError, UsageError, exit_code, http_status


def test_install_lines_are_quoted_for_the_shell() -> None:
    assert extras.install_line("run") == "pip install 'nbops[run]'"
    assert extras.install_line("lab") == "pip install 'nbops[lab]'"


def test_the_table_covers_the_heavy_packages() -> None:
    provided = {name for table in extras.EXTRAS.values() for name in table}
    assert {"jupyter_server", "jupyterlab", "papermill", "mlflow", "ipykernel", "nbclient",
            "ipywidgets", "distributed"} <= provided


def test_everything_is_installed_here() -> None:
    for extra in extras.EXTRAS:
        assert extras.missing(extra) == []
        assert extras.available(extra)
        extras.require(extra, "a test")  # does not raise


def test_a_missing_package_is_missing_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    monkeypatch.setitem(sys.modules, "papermill", None)
    assert extras.missing("run") == ["papermill", "mlflow"]
    assert not extras.available("run")
    assert extras.available("run", ["ipykernel"])  # only the modules asked for
    with pytest.raises(MissingPackageError) as info:
        extras.require("run", "nbops run")
    error = info.value
    assert str(error) == ("nbops run needs the nbops[run] extra: papermill and MLflow are not "
                          "installed (pip install 'nbops[run]')")
    assert error.hint == "pip install 'nbops[run]'"
    assert exit_code(error) == 3 and http_status(error) == 503


def test_require_checks_only_the_modules_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    extras.require("run", "nbops verify", modules=["papermill"])  # MLflow is not needed
    with pytest.raises(MissingPackageError, match=r"^nbops ui needs .*: MLflow is not installed"):
        extras.require("run", "nbops ui", modules=["mlflow"])


def test_unknown_extras_and_modules_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="no such nbops extra"):
        extras.require("tracking", "x")  # type: ignore[arg-type]
    with pytest.raises(UsageError, match="not in the run extra"):
        extras.missing("run", ["jupyterlab"])


def test_import_optional(monkeypatch: pytest.MonkeyPatch) -> None:
    assert extras.import_optional("papermill", "run") is sys.modules["papermill"]
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    with pytest.raises(MissingPackageError) as info:
        extras.import_optional("ipywidgets", "widgets", "the nbops panel")
    assert str(info.value) == ("the nbops panel needs the nbops[widgets] extra: ipywidgets is "
                               "not installed (pip install 'nbops[widgets]')")


def test_import_optional_of_a_broken_install_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    # installed (find_spec finds it) but its import fails: not "not installed"
    monkeypatch.setitem(sys.modules, "mlflow.entities", None)
    with pytest.raises(MissingPackageError, match="MLflow is installed but cannot be imported"):
        extras.import_optional("mlflow.entities", "run")


def test_status_is_the_version_answers_extras(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)
    status = extras.status()
    assert set(status) == {"lab", "run", "ui", "widgets", "dask"}
    assert status["widgets"] == {"available": False, "missing": ["ipywidgets"],
                                 "install": "pip install 'nbops[widgets]'"}
    assert status["run"]["available"] and status["run"]["missing"] == []
