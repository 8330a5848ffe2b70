"""MLflow tracking against a real local store (SQLite + artifacts folder), no mocks.

MLflow's import and its first store migration are slow: the tests of one worker share one
module-scoped store (in a folder with a space in its name) and use their own experiments.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbops import tracking_api
from nbops.errors import NotFoundError, ToolError, UsageError
from nbops.run import model_log
from nbops.run.tracking import (
    CHALLENGER,
    TRACKERS,
    MlflowTracker,
    RunRecord,
    TrackerRegistry,
    default_artifact_root,
    default_tracking_uri,
    import_mlflow,
)

pytest.importorskip("mlflow")
os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")  # tests never phone home


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mlflow store")


@pytest.fixture(scope="module")
def tracker(root: Path) -> MlflowTracker:
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("MLFLOW_TRACKING_URI", raising=False)
        return MlflowTracker(default_tracking_uri(root))


@pytest.fixture
def experiment() -> str:
    return f"exp-{uuid.uuid4().hex[:8]}"


@pytest.fixture
def in_run(tracker: MlflowTracker, experiment: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A run opened the way nbops opens one for a kernel: its id and store in the env."""
    run_id = tracker.start_run(experiment, "nb", {"alpha": 0.5}, {})
    for key, value in tracker.kernel_env(run_id).items():
        monkeypatch.setenv(key, value)
    return run_id


@pytest.fixture
def model() -> object:
    from sklearn.linear_model import LogisticRegression

    return LogisticRegression().fit([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1])


def test_the_default_store_is_the_projects_sqlite_file_unless_the_env_names_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    db = (tmp_path.resolve() / ".nbops" / "mlflow.db").as_posix()
    assert default_tracking_uri(tmp_path) == f"sqlite:///{db}"
    assert (
        default_artifact_root(tmp_path) == (tmp_path.resolve() / ".nbops" / "mlartifacts").as_uri()
    )
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert default_tracking_uri(tmp_path) == "http://127.0.0.1:5000"


def test_the_projects_run_table_can_name_a_tracking_server_and_the_env_still_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbops.errors import ConfigError

    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text('[tool.nbops.run]\ntracking-uri = "http://mlflow.team:5000"\n')
    assert default_tracking_uri(tmp_path) == "http://mlflow.team:5000"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")
    assert default_tracking_uri(tmp_path) == "http://127.0.0.1:5000"
    monkeypatch.delenv("MLFLOW_TRACKING_URI")
    pyproject.write_text("[tool.nbops.run]\ntracking-uri = 5000\n")
    with pytest.raises(ConfigError, match="tracking-uri must be a string") as caught:
        default_tracking_uri(tmp_path)
    assert caught.value.path == "pyproject.toml"


def test_mlflow_prints_no_run_url_on_stdout_once_nbops_imported_it() -> None:
    import_mlflow()
    assert os.environ["MLFLOW_SUPPRESS_PRINTING_URL_TO_STDOUT"] == "true"


def test_a_run_keeps_params_tags_metrics_and_artifacts_in_the_project(
    tracker: MlflowTracker, root: Path, experiment: str, tmp_path: Path
) -> None:
    params = {"alpha": 0.5, "layers": [64, 32], "name": "it's", "flag": True, "blob": "x" * 7000}
    run_id = tracker.start_run(experiment, "churn", params, {"nbops.kind": "notebook"})
    tracker.log_metric(run_id, "loss", 0.9, step=1)
    tracker.log_metric(run_id, "loss", 0.4, step=2)
    tracker.log_metric(run_id, "auc", 0.81)
    (tmp_path / "report.txt").write_text("hello")
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "a.csv").write_text("1,2\n")
    tracker.log_artifact(run_id, tmp_path / "report.txt")
    tracker.log_artifact(run_id, tmp_path / "plots", "figures")
    with pytest.raises(NotFoundError):
        tracker.log_artifact(run_id, tmp_path / "missing.txt")
    tracker.set_tags(run_id, {"note": "n" * 9000})

    running = tracker.get_run(run_id)
    assert running.status == "RUNNING" and running.end_time is None and running.duration_s is None
    tracker.end_run(run_id, "FINISHED")

    record = tracker.get_run(run_id)
    assert record.name == "churn" and record.status == "FINISHED"
    assert record.params["alpha"] == "0.5" and record.params["layers"] == "[64, 32]"
    assert record.params["name"] == "it's" and record.params["flag"] == "True"
    assert (
        len(record.params["blob"]) == 6000 and "truncated by nbops: 7000" in record.params["blob"]
    )
    assert record.tags["nbops.params.truncated"] == "blob"
    assert record.tags["nbops.kind"] == "notebook" and "truncated" in record.tags["note"]
    assert record.metrics == {"loss": 0.4, "auc": 0.81}
    history = tracker.client.get_metric_history(run_id, "loss")
    assert [(m.step, m.value) for m in history] == [(1, 0.9), (2, 0.4)]
    assert record.start_time is not None and record.end_time is not None
    assert record.duration_s is not None and record.duration_s >= 0
    assert record.parent_run_id is None
    # artifacts live in the project's .nbops/mlartifacts, never in the current directory
    stored = Path(tracker.artifact_root.removeprefix("file://").replace("%20", " "))
    assert stored == root.resolve() / ".nbops" / "mlartifacts"
    files = {p.relative_to(stored).as_posix() for p in stored.rglob("*") if p.is_file()}
    assert f"{run_id}/artifacts/report.txt" in files
    assert f"{run_id}/artifacts/figures/a.csv" in files
    assert json.loads(json.dumps(record.to_json()))["metrics"] == {"loss": 0.4, "auc": 0.81}


@pytest.mark.parametrize("status", ["FAILED", "KILLED"])
def test_a_run_ends_failed_or_killed(tracker: MlflowTracker, experiment: str, status: str) -> None:
    run_id = tracker.start_run(experiment, "nb", {}, {})
    tracker.end_run(run_id, status)  # type: ignore[arg-type]
    assert tracker.get_run(run_id).status == status


def test_a_run_cannot_end_running(tracker: MlflowTracker, experiment: str) -> None:
    run_id = tracker.start_run(experiment, "nb", {}, {})
    with pytest.raises(UsageError, match="FINISHED, FAILED or KILLED"):
        tracker.end_run(run_id, "RUNNING")  # type: ignore[arg-type]


def test_children_name_their_parent_and_list_newest_first(
    tracker: MlflowTracker, experiment: str
) -> None:
    parent = tracker.start_run(experiment, "sweep", {}, {"nbops.kind": "sweep"})
    children = []
    for i in range(2):
        time.sleep(0.01)  # distinct start times
        children.append(tracker.start_run(experiment, f"#{i + 1}", {"i": i}, {}, parent))
    tracker.end_run(parent, "FINISHED")
    listed = tracker.list_runs(experiment)
    assert [r.run_id for r in listed] == [children[1], children[0], parent]
    assert [r.parent_run_id for r in listed] == [parent, parent, None]
    assert tracker.get_run(children[0]).tags["mlflow.parentRunId"] == parent
    assert [r.run_id for r in tracker.list_runs(experiment, max_results=2)] == children[::-1]


def test_runs_are_listed_by_experiment_and_by_notebook(
    tracker: MlflowTracker, experiment: str, tmp_path: Path
) -> None:
    notebook = tmp_path / "churn.ipynb"
    notebook.write_text("{}")
    other = f"{experiment}-other"
    a = tracker.start_run(experiment, "a", {}, {"nbops.notebook.path": notebook.as_posix()})
    b = tracker.start_run(experiment, "b", {}, {"nbops.notebook.path": "nb/it's.ipynb"})
    c = tracker.start_run(other, "c", {}, {"nbops.notebook.path": "nb/it's.ipynb"})
    assert {r.run_id for r in tracker.list_runs(experiment)} == {a, b}
    assert [r.run_id for r in tracker.list_runs(experiment, notebook)] == [a]  # a real file
    assert {r.run_id for r in tracker.list_runs(None, "nb/it's.ipynb")} >= {b, c}
    assert [r.run_id for r in tracker.list_runs(other, "nb/it's.ipynb")] == [c]
    assert tracker.list_runs("no such experiment") == []
    assert {a, b, c} <= {r.run_id for r in tracker.list_runs(None, max_results=10_000)}


def test_a_run_is_found_by_a_unique_prefix_like_git(
    tracker: MlflowTracker, experiment: str
) -> None:
    ids = [tracker.start_run(experiment, "nb", {}, {})]
    assert tracker.get_run(ids[0]).run_id == ids[0]
    assert tracker.get_run(ids[0][:7]).run_id == ids[0]
    assert tracker.get_run(ids[0][:7].upper()).run_id == ids[0]
    by_first: dict[str, str] = {}
    while True:  # two runs whose ids start alike (16 first characters: a few runs do it)
        run_id = tracker.start_run(experiment, "nb", {}, {})
        if run_id[0] in by_first:
            break
        by_first[run_id[0]] = run_id
    with pytest.raises(NotFoundError, match="ambiguous") as info:
        tracker.get_run(run_id[0])
    assert info.value.hint == "give more characters of the run id"
    with pytest.raises(NotFoundError, match="no run"):
        tracker.get_run("0" * 32)
    with pytest.raises(NotFoundError, match="hexadecimal"):
        tracker.get_run("not-a-run")


def test_compare_shows_what_differs_between_two_runs(
    tracker: MlflowTracker, experiment: str
) -> None:
    a = tracker.start_run(experiment, "a", {"alpha": 0.1, "n": 3, "only_a": "x"}, {})
    b = tracker.start_run(experiment, "b", {"alpha": 0.2, "n": 3, "only_b": "y"}, {})
    tracker.log_metric(a, "auc", 0.7)
    tracker.log_metric(b, "auc", 0.8)
    tracker.log_metric(a, "loss", 0.5)
    diff = tracker.compare(a[:8], b)
    assert diff["a"] == a and diff["b"] == b
    assert diff["params"] == {
        "only_in_a": {"only_a": "x"},
        "only_in_b": {"only_b": "y"},
        "changed": {"alpha": {"a": "0.1", "b": "0.2"}},
        "same": ["n"],
    }
    assert diff["metrics"] == {
        "only_in_a": {"loss": 0.5},
        "only_in_b": {},
        "changed": {"auc": {"a": 0.7, "b": 0.8}},
        "same": [],
    }


def test_promote_registers_the_runs_sklearn_model_as_challenger_and_leaves_champion(
    tracker: MlflowTracker, in_run: str, model: object, experiment: str
) -> None:
    name = f"churn-{uuid.uuid4().hex[:6]}"
    assert tracker.champion(name) is None  # no such registered model
    uri = tracking_api.log_model(model, pip_requirements=["scikit-learn"])
    assert uri is not None and uri.startswith(("models:/", "runs:/"))
    tracker.end_run(in_run, "FINISHED")

    assert tracker.promote(in_run[:10], name) == 1
    registered = tracker.client.get_registered_model(name)
    assert dict(registered.aliases) == {CHALLENGER: 1} or dict(registered.aliases) == {
        CHALLENGER: "1"
    }
    assert tracker.champion(name) is None  # promote never sets champion
    mlflow_sklearn = import_mlflow("mlflow.sklearn")
    loaded = mlflow_sklearn.load_model(f"models:/{name}@{CHALLENGER}")
    assert list(loaded.predict([[0.0], [3.0]])) == [0, 1]

    # a human makes version 1 the champion; a later promotion moves only the challenger
    tracker.client.set_registered_model_alias(name, "champion", "1")
    second = tracker.start_run(experiment, "nb2", {}, {})
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NBOPS_RUN_ID", second)
        tracking_api.log_model(model, pip_requirements=["scikit-learn"])
    assert tracker.promote(second, name) == 2
    aliases = {k: int(v) for k, v in tracker.client.get_registered_model(name).aliases.items()}
    assert aliases == {"champion": 1, CHALLENGER: 2}
    champion = tracker.champion(name)
    assert isinstance(champion, RunRecord) and champion.run_id == in_run

    with pytest.raises(UsageError, match="champion"):
        tracker.promote(second, name, alias="champion")


def test_a_model_in_the_runs_artifacts_mlflow_2_layout_is_promoted_too(
    tracker: MlflowTracker, experiment: str, model: object
) -> None:
    run_id = tracker.start_run(experiment, "nb", {}, {})
    uri = model_log.log_as_artifacts(
        tracker, model, run_id, "model", pip_requirements=["scikit-learn"]
    )
    assert uri == f"runs:/{run_id}/model"
    name = f"legacy-{uuid.uuid4().hex[:6]}"
    assert tracker.promote(run_id, name) == 1
    version = tracker.client.get_model_version(name, "1")
    assert version.run_id == run_id and version.source.endswith(f"{run_id}/artifacts/model")
    assert tracker.client.get_model_version_by_alias(name, CHALLENGER).version in (1, "1")


def test_promoting_a_run_without_a_model_is_not_found(
    tracker: MlflowTracker, experiment: str
) -> None:
    run_id = tracker.start_run(experiment, "nb", {}, {})
    with pytest.raises(NotFoundError, match="logged no model") as info:
        tracker.promote(run_id, "nothing")
    assert "nbops.log_model" in (info.value.hint or "")


def test_a_missing_mlflow_is_a_tool_error_with_the_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)
    with pytest.raises(ToolError, match="MLflow is not installed") as info:
        MlflowTracker(default_tracking_uri(tmp_path))
    assert info.value.hint == "pip install 'nbops[run]'"
    # in a notebook: quiet outside a run, the same error inside one
    monkeypatch.delenv("NBOPS_RUN_ID", raising=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert tracking_api.log_metric("auc", 0.9) is None
    monkeypatch.setenv("NBOPS_RUN_ID", "0" * 32)
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path.as_posix()}/elsewhere.db")
    with pytest.raises(ToolError, match="MLflow is not installed"):
        tracking_api.log_metric("auc", 0.9)
    assert not (tmp_path / "elsewhere.db").exists()


def test_outside_nbops_the_notebook_api_does_nothing_and_warns_once(
    tracker: MlflowTracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, model: object
) -> None:
    monkeypatch.delenv("NBOPS_RUN_ID", raising=False)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    monkeypatch.setattr(tracking_api, "_warned", False)
    monkeypatch.chdir(tmp_path)
    before = len(tracker.list_runs(max_results=100_000))
    with pytest.warns(UserWarning, match="nothing is tracked"):
        assert tracking_api.log_metric("auc", 0.9) is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # only the first call warns
        assert tracking_api.log_metric("auc", 0.9, step=2) is None
        assert tracking_api.log_param("alpha", 1) is None
        assert tracking_api.log_artifact(tmp_path / "missing.png") is None
        assert tracking_api.log_model(model) is None
    assert tracking_api.active_run_id() is None
    assert list(tmp_path.iterdir()) == []  # no ./mlruns, no ./mlflow.db
    assert len(tracker.list_runs(max_results=100_000)) == before
    assert import_mlflow().active_run() is None


def test_in_a_run_the_notebook_api_writes_into_it(
    tracker: MlflowTracker, in_run: str, tmp_path: Path
) -> None:
    assert tracking_api.active_run_id() == in_run
    tracking_api.log_metric("loss", 0.5, step=1)
    tracking_api.log_metric("loss", 0.25, step=2)
    tracking_api.log_param("features", ["a", "b"])
    tracking_api.log_param("alpha", 0.5)  # the value nbops logged: fine
    with pytest.raises(UsageError, match="params are fixed"):
        tracking_api.log_param("alpha", 0.7)
    with pytest.raises(UsageError) as info:
        tracking_api.log_param("bad\nkey", 1)
    assert "params are fixed" not in str(info.value)
    (tmp_path / "plot.png").write_bytes(b"png")
    tracking_api.log_artifact(tmp_path / "plot.png")
    tracking_api.log_artifact(str(tmp_path / "plot.png"), "figures")
    with pytest.raises(UsageError, match="no flavor for it"):
        tracking_api.log_model(object())
    record = tracker.get_run(in_run)
    assert record.metrics == {"loss": 0.25}
    assert record.params == {"alpha": "0.5", "features": '["a", "b"]'}
    paths = {a.path for a in tracker.client.list_artifacts(in_run)}
    assert paths == {"plot.png", "figures"}
    assert record.status == "RUNNING"  # the notebook API never ends the run


_CHILD = textwrap.dedent(
    """
    import os, sys, time
    import mlflow  # the slow import before the start line
    from nbops.run.tracking import MlflowTracker
    uri, go = sys.argv[1], sys.argv[2]
    print("ready", flush=True)
    while not os.path.exists(go):
        time.sleep(0.001)
    tracker = MlflowTracker(uri)  # both processes open the fresh store at once
    run_id = tracker.start_run("sweep", "child", {"p": sys.argv[3]}, {})
    for i in range(50):
        tracker.log_metric(run_id, "m", float(i), step=i)
    tracker.end_run(run_id, "FINISHED")
    print(run_id)
    """
)


def test_two_processes_log_into_one_fresh_store_at_once(tmp_path: Path) -> None:
    uri = f"sqlite:///{(tmp_path / '.nbops' / 'mlflow.db').as_posix()}"
    go = tmp_path / "go"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MLFLOW_", "NBOPS_RUN"))}
    env["MLFLOW_DISABLE_TELEMETRY"] = "true"
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, uri, str(go), str(i)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
            cwd=tmp_path,
        )
        for i in range(2)
    ]
    for child in children:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
    go.touch()
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, outputs):
        assert child.returncode == 0, err
    run_ids = [out.strip().splitlines()[-1] for out, _ in outputs]
    assert len(set(run_ids)) == 2
    tracker = MlflowTracker(uri)
    for run_id in run_ids:
        history = tracker.client.get_metric_history(run_id, "m")
        assert sorted(m.step for m in history) == list(range(50))
        assert tracker.get_run(run_id).status == "FINISHED"


def test_a_store_that_cannot_be_opened_is_a_tool_error(tmp_path: Path) -> None:
    (tmp_path / "mlflow.db").write_text("this is not a database, and never was " * 200)
    with pytest.raises(ToolError, match="cannot open the MLflow tracking store"):
        MlflowTracker(f"sqlite:///{(tmp_path / 'mlflow.db').as_posix()}")


def test_ui_command_serves_the_store_on_localhost(tracker: MlflowTracker) -> None:
    argv = tracker.ui_command(5123)
    assert argv[:4] == [sys.executable, "-m", "mlflow", "ui"]
    assert argv[argv.index("--backend-store-uri") + 1] == tracker.tracking_uri
    assert argv[argv.index("--default-artifact-root") + 1] == tracker.artifact_root
    assert argv[-4:] == ["--host", "127.0.0.1", "--port", "5123"]
    with pytest.raises(UsageError, match="server"):
        MlflowTracker("http://127.0.0.1:1").ui_command(5000)


def test_a_deleted_experiment_is_not_silently_reused(
    tracker: MlflowTracker, experiment: str
) -> None:
    tracker.start_run(experiment, "nb", {}, {})
    eid = tracker.client.get_experiment_by_name(experiment).experiment_id
    tracker.client.delete_experiment(eid)
    with pytest.raises(UsageError, match="deleted"):
        MlflowTracker(tracker.tracking_uri).start_run(experiment, "nb", {}, {})


@pytest.fixture
def plugin_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A fake installed distribution declaring two nbops.trackers entry points."""
    (tmp_path / "fake_tracker.py").write_text(
        "from nbops.run.tracking import MlflowTracker\n"
        "class FakeTracker(MlflowTracker):\n    name = 'fake'\n"
    )
    info = tmp_path / "fake_tracker-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: fake-tracker\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(
        "[nbops.trackers]\nfake = fake_tracker:FakeTracker\nbroken = no_such_module:Nope\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    yield tmp_path
    sys.modules.pop("fake_tracker", None)


def test_mlflow_is_the_built_in_tracker() -> None:
    assert TRACKERS.get("mlflow") is MlflowTracker
    assert "mlflow" in TRACKERS.names()


def test_trackers_come_from_the_registry_and_entry_points(plugin_path: Path) -> None:
    registry = TrackerRegistry()
    registry.register("mlflow", MlflowTracker)
    with pytest.warns(RuntimeWarning, match="'broken'"):
        names = registry.names()
    assert names == ["fake", "mlflow"]
    assert registry.get("fake").__name__ == "FakeTracker"
    with pytest.raises(UsageError, match="no tracker named 'nope'") as info:
        registry.get("nope")
    assert info.value.hint == "known trackers: fake, mlflow"


def test_an_interrupted_migration_is_cleared_before_the_store_opens(tmp_path: Path) -> None:
    # what `mlflow.db` holds when a process is killed while alembic copies `jobs` (seen with
    # a run stopped during its store's creation: every later open failed "already exists")
    import sqlite3

    from nbops.run.tracking import _drop_interrupted_migration

    db = tmp_path / "mlflow.db"
    with sqlite3.connect(db) as con:
        for table in ("jobs", "_alembic_tmp_jobs", "_alembic_tmp_swapped"):
            con.execute(f"CREATE TABLE {table} (x)")
    _drop_interrupted_migration(db)
    with sqlite3.connect(db) as con:
        names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    # an unfinished copy goes; a copy whose original is gone holds the data: it stays
    assert names == {"jobs", "_alembic_tmp_swapped"}
