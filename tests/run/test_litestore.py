"""The light store writes what MLflow writes, and leaves to MLflow everything else."""

from __future__ import annotations

import io
import json
import math
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from nbops.run import litestore, recorder
from nbops.run.litestore import Fallback, LiteStore
from nbops.run.tracking import MlflowTracker

START = 1_700_000_000.5
TS = 1_700_000_001_000


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A real MLflow SQLite store with the experiment ``exp`` (made by MLflow)."""
    root = tmp_path_factory.mktemp("store")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    tracker = MlflowTracker(uri)
    tracker.end_run(tracker.start_run("exp", "first", {}, {}), "FINISHED")
    return uri


@pytest.fixture(scope="module")
def mlflow(store: str) -> MlflowTracker:
    return MlflowTracker(store)


@pytest.fixture()
def lite(store: str) -> Any:
    light = LiteStore(store)
    yield light
    light.close()


def _files(root: Path) -> Path:
    (root / "folder" / "deep").mkdir(parents=True, exist_ok=True)
    (root / "out.ipynb").write_text('{"cells": []}')
    (root / "folder" / "a.txt").write_text("a")
    (root / "folder" / "deep" / "b.bin").write_bytes(b"\x00\x01")
    return root


def _sequence(tracker: Any, files: Path) -> str:
    """What a run asks of its tracker, start to end (as the recorder serves it)."""
    run = tracker.start_run(
        "exp", "compare", {"alpha": 0.5, "layers": [1, 2], "long": "x" * 7000},
        {"mlflow.user": "ann", "mlflow.source.name": "nb.ipynb", "mlflow.source.type": "NOTEBOOK",
         "nbops.notebook.path": "nb.ipynb", "big": "y" * 9000},
        parent_run_id="a" * 32, start_time=START)
    tracker.log_batch(run, [("loss", 0.5, 0, TS), ("loss", math.nan, 1, TS + 1),
                            ("acc", math.inf, 2, TS + 2), ("acc", 0.1, 1, TS + 3),
                            ("neg", -math.inf, 0, TS), ("loss", 0.5, 0, TS)], {"seed": "3"})
    tracker.log_batch(run, [("loss", 0.25, 1, TS + 1), ("now", 1.0, 0, 0)], {"seed": "3"})
    tracker.log_artifact(run, files / "out.ipynb")
    tracker.log_artifact(run, files / "folder", "extra")
    tracker.set_tags(run, {"nbops.status": "done", "mlflow.note.content": "hi"})
    tracker.set_tags(run, {"nbops.status": "final"})
    tracker.end_run(run, "FINISHED")
    return str(run)


def _rows(uri: str, run_id: str) -> dict[str, Any]:
    """Every row the store holds for the run, its id and times masked."""
    db = sqlite3.connect(uri[len("sqlite:///"):])
    try:
        def rows(sql: str) -> list[Any]:
            out = [tuple("<id>" if v == run_id else (v.replace(run_id, "<id>")
                                                      if isinstance(v, str) else v) for v in row)
                   for row in db.execute(sql, (run_id,))]
            return sorted(out, key=repr)

        cols = [r[1] for r in db.execute("PRAGMA table_info(runs)")]
        run = dict(zip(cols, rows("SELECT * FROM runs WHERE run_uuid = ?")[0], strict=True))
        assert isinstance(run.pop("end_time"), int)
        return {
            "run": run,
            "tags": rows("SELECT key, value FROM tags WHERE run_uuid = ?"),
            "params": rows("SELECT key, value FROM params WHERE run_uuid = ?"),
            "metrics": rows("SELECT key, value, timestamp, step, is_nan FROM metrics "
                            "WHERE run_uuid = ? AND key != 'now'"),
            "latest": rows("SELECT key, value, timestamp, step, is_nan FROM latest_metrics "
                           "WHERE run_uuid = ? AND key != 'now'"),
        }
    finally:
        db.close()


def _client_view(mlflow: MlflowTracker, run_id: str) -> dict[str, Any]:
    """The run as MlflowClient reads it back, ids and times masked."""
    client = mlflow.client
    run = client.get_run(run_id)
    info = run.info
    assert len(info.run_id) == 32 and int(info.run_id, 16) >= 0
    assert info.end_time >= info.start_time
    history = {key: sorted((m.step, m.timestamp, repr(m.value))
                           for m in client.get_metric_history(run_id, key))
               for key in run.data.metrics if key != "now"}

    def listing(path: str | None = None) -> list[Any]:
        out: list[Any] = []
        for item in client.list_artifacts(run_id, path):
            out.append((item.path, item.is_dir, item.file_size))
            if item.is_dir:
                out.extend(listing(item.path))
        return out

    artifacts = listing()
    folder = Path(client.download_artifacts(run_id, ""))
    contents = {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mode,
                                             p.stat().st_mtime_ns)
                for p in sorted(folder.rglob("*")) if p.is_file()}
    return {
        "info": (info.run_name, info.status, info.lifecycle_stage, info.user_id,
                 info.experiment_id, info.start_time,
                 info.artifact_uri.replace(run_id, "<id>")),
        "params": run.data.params,
        "tags": {k: v.replace(run_id, "<id>") for k, v in run.data.tags.items()},
        "metrics": {k: repr(v) for k, v in run.data.metrics.items() if k != "now"},
        "history": history,
        "artifacts": artifacts,
        "contents": contents,
    }


def test_a_run_is_written_exactly_as_mlflow_writes_it(
    store: str, mlflow: MlflowTracker, lite: LiteStore, tmp_path: Path
) -> None:
    files = _files(tmp_path)
    by_mlflow = _sequence(mlflow, files)
    by_lite = _sequence(lite, files)
    assert by_lite != by_mlflow
    assert _rows(store, by_lite) == _rows(store, by_mlflow)
    assert _client_view(mlflow, by_lite) == _client_view(mlflow, by_mlflow)
    # what the runner reads at the end: the latest values, NaN as NaN
    ours, theirs = lite.metrics(by_lite), dict(mlflow.get_run(by_mlflow).metrics)
    assert {k: repr(v) for k, v in ours.items()} == {k: repr(v) for k, v in theirs.items()}
    assert ours["loss"] == 0.25 and ours["acc"] == 1.7976931348623157e308


_batches = st.lists(
    st.lists(st.tuples(st.sampled_from(["a", "b/c"]), st.floats(), st.integers(-2, 2),
                       st.integers(1, 3)), max_size=6),
    min_size=1, max_size=4)


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batches=_batches)
@example(batches=[[("a", 1.0, 0, 1), ("a", 2.0, 0, 1)], [("a", 1.5, 0, 1)]])  # value decides
@example(batches=[[("a", 0.0, 1, 1), ("a", math.nan, 1, 1)]])  # NaN counts as 0: a tie
@example(batches=[[("a", math.nan, 1, 1)], [("a", 0.0, 1, 1)]])  # a tie keeps the first
@example(batches=[[("a", math.inf, 2, 1)], [("a", -math.inf, 3, 1), ("a", 5.0, 1, 9)]])
def test_latest_metrics_and_history_match_mlflow(
    store: str, mlflow: MlflowTracker, lite: LiteStore, batches: list[list[Any]]
) -> None:
    """Steps out of order, equal steps, NaN and infinities: MLflow's latest, MLflow's history."""
    runs = [t.start_run("exp", "metrics", {}, {}) for t in (mlflow, lite)]
    for batch in batches:
        for tracker, run in zip((mlflow, lite), runs, strict=True):
            tracker.log_batch(run, [(k, v, step, TS + ts) for k, v, step, ts in batch])
    for run in runs:
        mlflow.end_run(run, "FINISHED")
    a, b = (_rows(store, run) for run in runs)
    assert b["latest"] == a["latest"]
    assert b["metrics"] == a["metrics"]


def test_a_param_logged_again_with_another_value_is_mlflows_error(
    store: str, lite: LiteStore
) -> None:
    run = lite.start_run("exp", "params", {"p": 1}, {})
    lite.log_batch(run, [], {"p": "1"})  # the same value: nothing to do
    with pytest.raises(Fallback):
        lite.log_batch(run, [("m", 1.0, 0, TS)], {"p": "2"})
    assert lite.metrics(run) == {}  # nothing of the call was written


def _serve(requests: list[tuple[str, list[Any], dict[str, Any]]]) -> list[dict[str, Any]]:
    """The recorder's helper loop, in this process, on ``requests``; its answers."""
    lines = "".join(json.dumps({"id": i, "method": m, "args": a, "kwargs": k}) + "\n"
                    for i, (m, a, k) in enumerate(requests))
    out = io.StringIO()
    recorder._serve(io.StringIO(lines), out)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def _a_run(uri: str, experiment: str, files: Path, *, artifact: bool = True) -> list[Any]:
    requests: list[Any] = [
        ("open", [uri], {}), ("end_orphaned_runs", [], {}),
        ("start_run", [experiment, "served", {"p": "1"}, {"mlflow.user": "ann"}, None],
         {"start_time": START}),
        ("log_batch", ["<run>", [["m", 2.0, 0, TS]], {}], {}),
    ]
    if artifact:
        requests.append(("log_artifact", ["<run>", str(files / "out.ipynb"), None], {}))
    requests += [("set_tags", ["<run>", {"t": "v"}], {}), ("end_run", ["<run>", "FINISHED"], {}),
                 ("metrics", ["<run>"], {})]
    # the run's id comes from start_run's answer: serve up to it, then the rest
    first = _serve(requests[:3])
    run_id = first[2]["result"]
    rest = [(m, [run_id if a == "<run>" else a for a in args], k)
            for m, args, k in [requests[0], *requests[3:]]]
    return [*first, *_serve(rest)[1:]]


def _recorded(mlflow: Any, answers: list[Any]) -> Any:
    assert all("error" not in a for a in answers), answers
    run = mlflow.client.get_run(answers[2]["result"])
    assert run.info.status == "FINISHED"
    assert run.data.params == {"p": "1"} and run.data.tags["t"] == "v"
    assert run.data.metrics == {"m": 2.0} and answers[-1]["result"] == {"m": 2.0}
    return run


def test_the_recorder_serves_a_run_through_the_light_store(
    store: str, mlflow: MlflowTracker, tmp_path: Path
) -> None:
    run = _recorded(mlflow, _a_run(store, "exp", _files(tmp_path)))
    assert [a.path for a in mlflow.client.list_artifacts(run.info.run_id)] == ["out.ipynb"]


def test_the_helper_does_not_import_mlflow_on_the_light_path(
    store: str, mlflow: MlflowTracker, tmp_path: Path
) -> None:
    script = textwrap.dedent("""
        import io, json, sys
        from nbops.run import recorder
        out = io.StringIO()
        recorder._serve(io.StringIO(sys.argv[1]), out)
        print(json.dumps({"answers": out.getvalue(), "mlflow": "mlflow" in sys.modules}))
    """)
    requests = [{"id": 0, "method": "open", "args": [store]},
                {"id": 1, "method": "end_orphaned_runs", "args": []},
                {"id": 2, "method": "start_run", "args": ["exp", "light", {}, {}, None]}]
    lines = "".join(json.dumps(r) + "\n" for r in requests)
    done = subprocess.run([sys.executable, "-c", script, lines], capture_output=True, text=True,
                          check=True, timeout=120)
    report = json.loads(done.stdout.splitlines()[-1])
    answers = [json.loads(line) for line in report["answers"].splitlines()]
    assert report["mlflow"] is False
    assert mlflow.client.get_run(answers[2]["result"]).info.status == "RUNNING"


def _experiment(mlflow: MlflowTracker, name: str, location: str) -> None:
    if mlflow.client.get_experiment_by_name(name) is None:
        mlflow.client.create_experiment(name, artifact_location=location)


def test_every_fallback_falls_back_and_the_run_is_still_recorded(
    store: str, mlflow: MlflowTracker, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _files(tmp_path)
    with pytest.raises(Fallback):
        LiteStore("http://127.0.0.1:9/")
    with pytest.raises(Fallback):
        LiteStore(f"sqlite:///{tmp_path / 'none.db'}")

    # an experiment MLflow must create first
    with pytest.raises(Fallback):
        LiteStore(store).start_run("made-by-mlflow", "x", {}, {})
    _recorded(mlflow, _a_run(store, "made-by-mlflow", files))

    # artifacts elsewhere than a local folder: the run is MLflow's from its start
    _experiment(mlflow, "in-s3", "s3://bucket/somewhere")
    with pytest.raises(Fallback):
        LiteStore(store).start_run("in-s3", "x", {}, {})
    run = _recorded(mlflow, _a_run(store, "in-s3", files, artifact=False))
    assert run.info.artifact_uri == f"s3://bucket/somewhere/{run.info.run_id}/artifacts"

    # a schema this module does not know (another MLflow): no light store at all
    monkeypatch.setattr(litestore, "KNOWN_REVISIONS", ("0123456789ab",))
    with pytest.raises(Fallback):
        LiteStore(store)
    _recorded(mlflow, _a_run(store, "exp", files))


@pytest.mark.slow
def test_a_concurrent_mlflow_writer_loses_nothing(store: str, mlflow: MlflowTracker) -> None:
    experiment = mlflow.client.get_experiment_by_name("exp").experiment_id
    script = textwrap.dedent(f"""
        import sys
        from mlflow.entities import Metric
        from nbops.run.tracking import mlflow_client
        client = mlflow_client({store!r})
        print("ready", flush=True)
        for i in range(10):
            run = client.create_run({experiment!r}, run_name="other", tags={{"who": "mlflow"}})
            client.log_batch(run.info.run_id, metrics=[Metric("m", i, 1, i)])
            client.set_terminated(run.info.run_id, "FINISHED")
    """)
    other = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert other.stdout is not None and other.stdout.readline().strip() == "ready"
    light = LiteStore(store)
    ours: list[str] = []
    while other.poll() is None and len(ours) < 200:  # all the while MLflow writes
        i = len(ours)
        run = light.start_run("exp", "ours", {"i": i}, {"who": "lite"})
        light.log_batch(run, [("m", float(i), i, TS)])
        light.end_run(run, "FINISHED")
        ours.append(run)
    assert other.wait(timeout=300) == 0
    light.close()
    assert len(ours) > 20
    found = mlflow.client.search_runs([experiment], "tags.who = 'mlflow'", max_results=1000)
    assert len(found) == 10 and all(r.data.metrics["m"] in range(10) for r in found)
    for i, run_id in enumerate(ours):
        run = mlflow.client.get_run(run_id)
        assert run.data.metrics == {"m": float(i)} and run.data.params == {"i": str(i)}


def test_a_call_left_to_mlflow_mid_run_switches_the_helper_to_mlflow_for_good(
    store: str, mlflow: MlflowTracker, tmp_path: Path
) -> None:
    first = _serve([("open", [store], {}), ("start_run", ["exp", "mid", {}, {}, None], {})])
    run_id = first[1]["result"]
    answers = _serve([
        ("open", [store], {}),
        ("log_model_file", [run_id, str(tmp_path / "no-such.pkl")], {}),  # MLflow's business
        ("log_batch", [run_id, [["m", 3.0, 0, TS]], {}], {}),
        ("end_run", [run_id, "FINISHED"], {}),
        ("metrics", [run_id], {}),
    ])
    assert "error" in answers[1]  # answered by MLflow's side: the file is not there
    assert all("error" not in a for a in answers[2:]), answers
    run = mlflow.client.get_run(run_id)
    assert run.info.status == "FINISHED" and run.data.metrics == {"m": 3.0}
    assert answers[-1]["result"] == {"m": 3.0}


SERVER_RUN = textwrap.dedent("""
    import io, json, os, sys, threading
    root = sys.argv[1]
    os.environ["_MLFLOW_SERVER_FILE_STORE"] = f"sqlite:///{root}/server.db"
    os.environ["_MLFLOW_SERVER_ARTIFACT_ROOT"] = f"{root}/artifacts"
    from mlflow.server import app
    from werkzeug.serving import make_server
    from nbops.run import recorder
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    uri = f"http://127.0.0.1:{server.server_port}"

    def serve(requests):
        out = io.StringIO()
        recorder._serve(io.StringIO("".join(json.dumps(r) + "\\n" for r in requests)), out)
        return [json.loads(line) for line in out.getvalue().splitlines()]

    first = serve([{"id": 0, "method": "open", "args": [uri]},
                   {"id": 1, "method": "start_run", "args": ["exp", "srv", {"p": "1"}, {}, None]}])
    run_id = first[1]["result"]
    rest = serve([{"id": 0, "method": "open", "args": [uri]},
                  {"id": 1, "method": "log_batch", "args": [run_id, [["m", 2.0, 0, 5]], {}]},
                  {"id": 2, "method": "end_run", "args": [run_id, "FINISHED"]},
                  {"id": 3, "method": "metrics", "args": [run_id]}])
    from mlflow import MlflowClient
    run = MlflowClient(uri).get_run(run_id)
    print(json.dumps({"answers": first + rest, "status": run.info.status,
                      "params": run.data.params, "metrics": run.data.metrics}))
    server.shutdown()
""")


@pytest.mark.slow
def test_a_tracking_server_is_mlflows_and_the_run_is_recorded(tmp_path: Path) -> None:
    """An ``http://`` store: the helper answers through MLflow (a real server on 127.0.0.1)."""
    with pytest.raises(Fallback):
        LiteStore("http://127.0.0.1:5000")
    done = subprocess.run([sys.executable, "-c", SERVER_RUN, str(tmp_path)], capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    report = json.loads(done.stdout.splitlines()[-1])
    assert all("error" not in a for a in report["answers"]), report
    assert report["status"] == "FINISHED" and report["params"] == {"p": "1"}
    assert report["metrics"] == {"m": 2.0} and report["answers"][-1]["result"] == {"m": 2.0}


def test_orphaned_runs_are_ended_as_mlflow_tracker_ends_them(
    store: str, mlflow: MlflowTracker, lite: LiteStore, tmp_path: Path
) -> None:
    """A RUNNING run of this host whose owner died (its lock file gone, its pid dead): KILLED
    with the reason tag, the same rows as through MlflowTracker; a live owner's run stays."""
    import os
    import socket

    from nbops.run.journal import KILLED_REASON_TAG, OWNER_HOST_TAG, OWNER_LOCK_TAG, OWNER_PID_TAG

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    orphan = {OWNER_LOCK_TAG: str(tmp_path / "gone.journal" / "owner.lock"),
              OWNER_PID_TAG: str(dead.pid), OWNER_HOST_TAG: socket.gethostname()}
    alive = {**orphan, OWNER_PID_TAG: str(os.getpid())}
    runs = []
    for tracker in (mlflow, lite):
        run = tracker.start_run("exp", "orphan", {}, orphan, start_time=START)
        living = tracker.start_run("exp", "living", {}, alive, start_time=START)
        assert run in tracker.end_orphaned_runs()
        runs.append(run)
        assert mlflow.client.get_run(living).info.status == "RUNNING"
        tracker.end_run(living, "FINISHED")
    a, b = (_rows(store, run) for run in runs)
    assert b == a
    assert a["run"]["status"] == "KILLED" and KILLED_REASON_TAG in dict(a["tags"])
