"""nbops serve: a real server process on 127.0.0.1 answering MLflow's scoring protocol."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from deployproject import FEATURES, Project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

NBOPS = [sys.executable, "-m", "nbops"]


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    port: int
    log: Path


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}


def start(project: Project, *args: str) -> Server:
    log = project.root / "predictions" / f"log-{time.monotonic_ns()}.jsonl"
    process = subprocess.Popen(
        [*NBOPS, "serve", "wine@champion", "--port", "0", "--log-predictions",
         str(log.relative_to(project.root)), *args],
        cwd=project.root, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    assert process.stdout is not None
    line = process.stdout.readline()  # "serving wine/1 on http://127.0.0.1:PORT ..."
    if "serving wine/1 on http://127.0.0.1:" not in line:
        process.kill()
        raise AssertionError(f"no announcement: {line!r} {process.communicate()}")
    url = line.split(" on ", 1)[1].split()[0]
    return Server(process, url, int(url.rsplit(":", 1)[1]), log)


@pytest.fixture(scope="module")
def server(project: Project) -> Iterator[Server]:
    running = start(project, "--sample", "0.5")
    yield running
    running.process.terminate()
    running.process.wait(30)


def post(server: Server, body: bytes | str, content_type: str | None = "application/json"
         ) -> tuple[int, Any]:
    data = body.encode() if isinstance(body, str) else body
    request = urllib.request.Request(server.url + "/invocations", data=data, method="POST")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        text = error.read().decode()
        assert "Traceback" not in text
        return error.code, json.loads(text)


def test_ping_and_version_answer(server: Server) -> None:
    import mlflow

    with urllib.request.urlopen(server.url + "/ping", timeout=10) as answer:
        assert answer.status == 200
    with urllib.request.urlopen(server.url + "/version", timeout=10) as answer:
        assert answer.read().decode() == mlflow.__version__


def _payloads(frame: Any) -> dict[str, tuple[str, str]]:
    split = json.loads(frame.to_json(orient="split", index=False))
    records = json.loads(frame.to_json(orient="records"))
    return {
        "dataframe_split": (json.dumps({"dataframe_split": split}), "application/json"),
        "dataframe_records": (json.dumps({"dataframe_records": records}), "application/json"),
        "instances": (json.dumps({"instances": records}), "application/json"),
        "inputs": (json.dumps({"inputs": {c: list(frame[c]) for c in frame.columns}}),
                   "application/json; charset=utf-8"),
        "csv": (frame.to_csv(index=False), "text/csv"),
    }


@pytest.mark.parametrize("form", ["dataframe_split", "dataframe_records", "instances", "inputs",
                                  "csv"])
def test_predictions_equal_the_models_own_in_every_format(
    server: Server, project: Project, form: str
) -> None:
    frame = project.frame.head(12)
    frame = frame.astype({"year": int})
    body, kind = _payloads(frame)[form]
    status, answer = post(server, body, kind)
    assert status == 200, answer
    assert answer["predictions"] == [int(v) for v in project.model.predict(frame)]


@pytest.mark.parametrize(("body", "kind", "status", "column", "words"), [
    ('{"dataframe_records": [{"alcohol": 12, "year": 2001}]}', "application/json", 422,
     "acidity", "missing column"),
    ('{"dataframe_records": [{"alcohol": "abc", "acidity": 3, "year": 2001}]}',
     "application/json", 422, "alcohol", "not a valid double"),
    ('{"dataframe_records": [{"alcohol": null, "acidity": 3, "year": 2001}]}',
     "application/json", 422, "alcohol", "missing required value"),
    ('{"dataframe_records": [{"alcohol": 1, "acidity": 3, "year": 2001.5}]}',
     "application/json", 422, "year", "not a valid long"),
    ("alcohol,acidity,year\n12,x,2001\n", "text/csv", 422, "acidity", "not a valid double"),
    ('{"dataframe_records": [{"alcohol": "inf", "acidity": 3, "year": 2001}]}',
     "application/json", 422, None, "the model refused the input: Input X contains infinity"),
    ('{"dataframe_records": [{"alcohol": 1', "application/json", 400, None, "cannot be parsed"),
    ("", "application/json", 400, None, "empty"),
    ('{"rows": []}', "application/json", 400, None, "exactly one of"),
    ("[1, 2]", "application/json", 400, None, "exactly one of"),
    ('{"dataframe_split": 3}', "application/json", 400, None, "dataframe_split"),
    ('{"dataframe_records": []}', "application/json", 400, None, "no rows"),
    ("alcohol", "text/plain", 415, None, "application/json or text/csv"),
    ("alcohol", None, 415, None, "not supported"),
    (b"\xff\xfe", "application/json", 400, None, "not UTF-8"),
])
def test_each_bad_request_is_a_4xx_naming_the_column_and_the_problem(
    server: Server, body: str, kind: str | None, status: int, column: str | None, words: str
) -> None:
    got, answer = post(server, body, kind)
    assert got == status, answer
    assert words in answer["message"]
    if column is not None:
        assert f"column {column!r}" in answer["message"]
        assert answer["problems"][0]["column"] == column


_value = st.one_of(st.none(), st.booleans(), st.integers(-10**9, 10**9),
                   st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.fixed_dictionaries({c: _value for c in FEATURES}), min_size=1, max_size=4))
def test_any_rows_get_predictions_equal_to_the_models_or_a_4xx_never_a_5xx(
    server: Server, project: Project, rows: list[dict[str, Any]]
) -> None:
    import pandas as pd

    status, answer = post(server, json.dumps({"dataframe_records": rows}))
    if status == 200:
        frame = pd.DataFrame(rows, columns=FEATURES).astype({"alcohol": float, "acidity": float})
        frame["year"] = frame["year"].astype("int64")
        assert answer["predictions"] == [int(v) for v in project.model.predict(frame)]
    else:
        assert 400 <= status < 500, answer
        assert all(p["column"] in FEATURES for p in answer["problems"])
        assert answer["problems"] or answer["message"].startswith("the model refused the input")


def test_the_prediction_log_has_the_sampled_requests_inputs_and_outputs(
    server: Server, project: Project
) -> None:
    before = len(server.log.read_text().splitlines()) if server.log.exists() else 0
    frame = project.frame.head(1).astype({"year": int})
    body, kind = _payloads(frame)["dataframe_records"]
    for _ in range(60):
        assert post(server, body, kind)[0] == 200
    time.sleep(0.5)  # the line is written after the answer
    lines = [json.loads(x) for x in server.log.read_text().splitlines()[before:]]
    assert 0 < len(lines) < 60  # sampled: --sample 0.5
    last = lines[-1]
    assert set(last) == {"time", "model", "inputs", "outputs"}
    assert last["model"] == "wine/1"
    assert last["inputs"] == json.loads(frame.to_json(orient="records"))
    assert last["outputs"] == [int(project.model.predict(frame)[0])]


def _free(port: int) -> bool:
    with socket.socket() as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_errors_before_starting_are_one_line_with_the_fix(project: Project) -> None:
    done = subprocess.run([*NBOPS, "serve", "nope@champion"], cwd=project.root, env=_env(),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("nbops: error: no registered model 'nope'")
    assert "registered: wine" in done.stderr and "Traceback" not in done.stderr
    assert str(project.root) not in done.stderr


def test_sigterm_stops_the_server_with_exit_0_and_frees_the_port(project: Project) -> None:
    running = start(project)
    try:
        taken = subprocess.run([*NBOPS, "serve", "wine/1", "--port", str(running.port)],
                               cwd=project.root, env=_env(), capture_output=True, text=True,
                               timeout=120, check=False)
        assert taken.returncode == 2
        assert f"cannot listen on 127.0.0.1:{running.port}" in taken.stderr
        assert "--port" in taken.stderr
    finally:
        running.process.send_signal(signal.SIGTERM)
        _, err = running.process.communicate(timeout=30)
    assert running.process.returncode == 0, err
    assert "Traceback" not in err
    assert _free(running.port)


def test_answers_are_not_held_back_by_nagle() -> None:
    from nbops.deploy.serve import bind

    # without TCP_NODELAY a one-row answer waited ~40 ms for the client's delayed ACK
    sock = bind("127.0.0.1", 0)
    try:
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) != 0
    finally:
        sock.close()


def test_ctrl_c_stops_the_server_with_exit_0_too(project: Project) -> None:
    running = start(project)
    running.process.send_signal(signal.SIGINT)
    _, err = running.process.communicate(timeout=30)
    assert running.process.returncode == 0, err
    assert "Traceback" not in err and "interrupted" not in err
    assert _free(running.port)


class _Fragile:
    """A pyfunc model that fails the way a model can: on the input, or for its own reasons."""

    def predict(self, context: Any, model_input: Any, params: Any = None) -> Any:
        if (model_input["alcohol"] < 0).any():
            raise ValueError("alcohol cannot be negative")
        if (model_input["alcohol"] > 100).any():
            raise RuntimeError("CUDA out of memory at /srv/models/secret/path")
        return list(model_input["alcohol"] * 2)


def test_a_model_error_is_a_422_with_its_message_or_a_503_without_details(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema
    from starlette.testclient import TestClient

    from nbops.deploy.models import load, parse_spec, resolve
    from nbops.deploy.serve import build_app
    from nbops.run.tracking import MlflowTracker

    uri = "sqlite:///" + (tmp_path / "mlflow.db").as_posix()  # its own store
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    tracker = MlflowTracker(uri)
    run_id = tracker.start_run("fragile", "nb", {}, {})

    class Fragile(_Fragile, mlflow.pyfunc.PythonModel):
        pass

    with mlflow.start_run(run_id=run_id):
        mlflow.pyfunc.log_model(name="model", python_model=Fragile(), signature=ModelSignature(
            Schema([ColSpec("double", "alcohol")])))
    tracker.end_run(run_id, "FINISHED")
    tracker.promote(run_id, "fragile")
    client = TestClient(build_app(load(resolve(parse_spec("fragile"), uri))))

    def ask(value: float) -> Any:
        return client.post("/invocations", json={"dataframe_records": [{"alcohol": value}]})

    assert ask(2.0).json() == {"predictions": [4.0]}
    refused = ask(-1.0)
    assert refused.status_code == 422
    assert refused.json()["message"] == "the model refused the input: alcohol cannot be negative"
    failed = ask(1000.0)
    assert failed.status_code == 503
    assert "secret" not in failed.text and "Traceback" not in failed.text
    assert "server's log" in failed.json()["message"]
