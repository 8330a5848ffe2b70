"""Health checks of the wine model on a real MLflow store: shifted and unshifted data, labels,
missing and retyped columns, the prediction log, chunks, the record and its history."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from deployproject import Project
from monitorproject import SHIFTED, WineProject, current, wine_project

from nbops.deploy import models
from nbops.deploy.health import DEFAULTS, parse_health
from nbops.deploy.monitor import check, history, run_check
from nbops.errors import NotFoundError, UsageError

__all__ = ["wine_project"]


@pytest.fixture(scope="module")
def loaded(wine_project: WineProject) -> models.LoadedModel:
    return models.load(models.resolve(models.parse_spec("wine"), wine_project.uri))


def _write(frame: Any, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def test_unshifted_data_is_ok(wine_project: WineProject, loaded: models.LoadedModel,
                              tmp_path: Path) -> None:
    data = _write(current(wine_project, shifted=False), tmp_path / "same.csv")
    report, verdict = check(loaded, data, triggers=DEFAULTS)
    assert verdict.level == "OK", [str(r) for r in verdict.reasons]
    assert report["rows"] == 3000 and report["invalid_rows"] == 0
    assert all(f["status"] == "compared" for f in report["features"])
    assert report["performance"] is None  # no labels


def test_shifted_data_alerts_naming_the_shifted_features_only(
    wine_project: WineProject, loaded: models.LoadedModel, tmp_path: Path
) -> None:
    data = _write(current(wine_project, shifted=True), tmp_path / "shifted.parquet")
    report, verdict = check(loaded, data, triggers=DEFAULTS, chunk_rows=700)
    assert verdict.level == "ALERT"
    assert sorted(verdict.drifted) == sorted(SHIFTED)
    alerts = {r.subject for r in verdict.reasons if r.level == "ALERT"}
    assert alerts == set(SHIFTED)
    by_name = {f["name"]: f for f in report["features"]}
    assert by_name["alcohol"]["psi"] > 1 and by_name["hue"]["psi"] < 0.1
    assert report["current"]["kind"] == "parquet"


def test_chunks_give_the_same_statistics(wine_project: WineProject,
                                         loaded: models.LoadedModel, tmp_path: Path) -> None:
    data = _write(current(wine_project, shifted=True), tmp_path / "c.csv")
    whole, _ = check(loaded, data, triggers=DEFAULTS)
    parts, _ = check(loaded, data, triggers=DEFAULTS, chunk_rows=333)
    for a, b in zip(whole["features"], parts["features"], strict=True):
        assert (a["psi"], a["ks"], a["ks_pvalue"]) == pytest.approx((b["psi"], b["ks"],
                                                                     b["ks_pvalue"]))
    assert whole["predictions"]["psi"] == pytest.approx(parts["predictions"]["psi"])


def test_labels_measure_the_classifier_and_trigger(wine_project: WineProject,
                                                   loaded: models.LoadedModel,
                                                   tmp_path: Path) -> None:
    frame = current(wine_project, shifted=True)
    data = _write(frame, tmp_path / "labelled.csv")
    triggers = parse_health({"accuracy": {"alert-below": 0.95}, "psi": {}})
    report, verdict = check(loaded, data, triggers=triggers, labels="target")
    predicted = wine_project.model.predict(frame.drop(columns="target"))
    accuracy = float((predicted == frame["target"]).mean())
    assert report["performance"]["task"] == "classification"
    assert report["performance"]["accuracy"] == pytest.approx(accuracy)
    assert 0 < report["performance"]["f1"] <= 1
    assert accuracy < 0.95
    assert "ALERT: accuracy" in str(verdict.reasons[0])
    assert all(f["name"] != "target" for f in report["features"])
    with pytest.raises(UsageError, match="no labels column 'label'"):
        check(loaded, data, triggers=triggers, labels="label")


def test_a_missing_and_a_retyped_column_are_findings(wine_project: WineProject,
                                                     loaded: models.LoadedModel,
                                                     tmp_path: Path) -> None:
    frame = current(wine_project, shifted=False).drop(columns=["hue"])
    frame["proline"] = "high"
    data = _write(frame, tmp_path / "broken.csv")
    report, verdict = check(loaded, data, triggers=DEFAULTS)
    status = {f["name"]: f["status"] for f in report["features"]}
    assert status["hue"] == "missing" and status["proline"] == "retyped"
    assert status["alcohol"] == "compared"
    assert "column 'hue' is missing from the current data" in report["findings"]
    assert any("'proline' was numbers" in f for f in report["findings"])
    # no row fits the model's signature any more: that is the alert
    assert report["invalid_share"] == 1.0
    assert verdict.level == "ALERT" and verdict.reasons[0].metric == "invalid-rows"


def test_nothing_to_compare_is_an_error_naming_the_columns(loaded: models.LoadedModel,
                                                           tmp_path: Path) -> None:
    data = tmp_path / "other.csv"
    data.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(UsageError, match=r"nothing to compare .*'alcohol' \(missing\)"):
        check(loaded, data, triggers=DEFAULTS)


def test_the_prediction_log_of_nbops_serve_is_read(wine_project: WineProject,
                                                   loaded: models.LoadedModel,
                                                   tmp_path: Path) -> None:
    frame = current(wine_project, shifted=True, rows=400).drop(columns="target")
    log = tmp_path / "predictions.log"
    records = frame.to_dict(orient="records")
    with log.open("w", encoding="utf-8") as handle:
        for i in range(0, len(records), 7):  # requests of 7 rows
            handle.write(json.dumps({"time": "t", "model": "wine/1",
                                     "inputs": records[i:i + 7], "outputs": [0]}) + "\n")
    report, verdict = check(loaded, log, triggers=DEFAULTS, chunk_rows=100)
    assert report["current"]["kind"] == "prediction-log" and report["rows"] == 400
    assert verdict.level == "ALERT" and set(verdict.drifted) == set(SHIFTED)
    bad = tmp_path / "notes.txt"
    bad.write_text("hello\n", encoding="utf-8")
    with pytest.raises(UsageError, match="notes.txt: not a .csv or .parquet file"):
        check(loaded, bad, triggers=DEFAULTS)


def test_checks_are_recorded_and_read_back_newest_first(
    wine_project: WineProject, loaded: models.LoadedModel, tmp_path: Path
) -> None:
    same = _write(current(wine_project, shifted=False), tmp_path / "same.csv")
    moved = _write(current(wine_project, shifted=True), tmp_path / "moved.csv")
    first = run_check(loaded, same, triggers=DEFAULTS, folder=tmp_path / "one")
    second = run_check(loaded, moved, triggers=DEFAULTS, folder=tmp_path / "two")
    assert (first.folder / "report.json").is_file() and (second.folder / "report.html").is_file()
    timeline = history("wine", wine_project.uri)
    assert [t["run_id"] for t in timeline[:2]] == [second.run_id, first.run_id]
    assert [t["verdict"] for t in timeline[:2]] == ["ALERT", "OK"]
    assert timeline[0]["version"] == 1 and sorted(timeline[0]["drifted"]) == sorted(SHIFTED)
    assert timeline[0]["metrics"]["psi/alcohol"] > 1
    from mlflow import MlflowClient

    client = MlflowClient(wine_project.uri)
    run = client.get_run(str(second.run_id))
    assert run.data.tags["nbops.health.model"] == "wine"
    assert run.data.tags["nbops.health.model_run"] == loaded.resolved.run_id
    artifacts = {a.path for a in client.list_artifacts(str(second.run_id), "health")}
    assert artifacts == {"health/report.json", "health/report.html"}
    assert history("no-such-model", wine_project.uri) == []


def test_a_reason_containing_a_semicolon_stays_whole(
    wine_project: WineProject, loaded: models.LoadedModel, tmp_path: Path
) -> None:
    from nbops.deploy.health import Reason, Verdict
    from nbops.deploy.health_view import read_health
    from nbops.deploy.monitor import record
    from nbops.run.tracking import MlflowTracker

    moved = _write(current(wine_project, shifted=True), tmp_path / "moved.csv")
    report, verdict = check(loaded, moved, triggers=DEFAULTS)
    odd = Reason("ALERT", "psi", "colour; hue", 3.5, 0.2)
    run_id = record(report, Verdict("ALERT", (odd, *verdict.reasons)), [], loaded.resolved)
    entry = next(t for t in history("wine", wine_project.uri) if t["run_id"] == run_id)
    expected = [str(odd), *(str(r) for r in verdict.reasons)]
    assert entry["reasons"] == expected and "colour; hue" in expected[0]
    served, _ = read_health(MlflowTracker(wine_project.uri))
    shown = next(c for m in served for c in m["checks"] if c["run_id"] == run_id)
    assert shown["reasons"] == expected


def test_the_reasons_tag_keeps_whole_reasons_and_reads_older_checks() -> None:
    from nbops.deploy.monitor import REASONS_MAX, decode_reasons, encode_reasons

    reasons = [f"ALERT: psi of 'f{i}; x' {i} > alert 0.2" for i in range(300)]
    tag = encode_reasons(reasons)
    assert len(tag) <= REASONS_MAX
    kept = decode_reasons(tag)
    assert 0 < len(kept) < len(reasons) and kept == reasons[:len(kept)]
    assert decode_reasons(encode_reasons([])) == []
    # a check recorded before the tag was JSON: the reasons joined with "; "
    assert decode_reasons("ALERT: psi of 'alcohol' 3.1 > alert 0.2; WARN: accuracy 0.7 < warn 0.8"
                          ) == ["ALERT: psi of 'alcohol' 3.1 > alert 0.2",
                                "WARN: accuracy 0.7 < warn 0.8"]
    assert decode_reasons("") == [] and decode_reasons("[not json") == ["[not json"]


def test_the_html_report_is_self_contained(wine_project: WineProject,
                                           loaded: models.LoadedModel, tmp_path: Path) -> None:
    moved = _write(current(wine_project, shifted=True), tmp_path / "moved.csv")
    done = run_check(loaded, moved, triggers=DEFAULTS, folder=tmp_path / "r", save=False)
    page = (done.folder / "report.html").read_text(encoding="utf-8")
    assert done.run_id is None
    assert "<script" not in page and "<link" not in page
    assert "https://" not in page and "http://" not in page.replace(
        'xmlns="http://www.w3.org/2000/svg"', "")
    assert page.count("<svg") == len(SHIFTED) + 1  # the drifted features, the predictions
    assert "ALERT: psi of &#x27;alcohol&#x27;" in page
    saved = json.loads((done.folder / "report.json").read_text(encoding="utf-8"))
    assert saved["verdict"]["level"] == "ALERT" and str(tmp_path) not in json.dumps(saved)


def test_a_model_without_reference_data_is_a_clear_error(project: Project) -> None:
    resolved = models.resolve(models.parse_spec("wine"), project.uri)
    loaded = models.load(resolved)
    data = project.root / "rows.csv"
    project.frame.to_csv(data, index=False)
    with pytest.raises(NotFoundError, match=r"model wine/1 has no reference data") as caught:
        check(loaded, data, triggers=DEFAULTS)
    assert "nbops.log_model(model, X)" in str(caught.value)


def test_parquet_is_read_in_bounded_memory(tmp_path: Path) -> None:
    """pyarrow's memory while the chunks are read stays under a fraction of the file's size
    (with pyarrow's pre-buffering it grew with the file)."""
    import numpy as np
    import pandas as pd
    import pyarrow as pa
    import pyarrow.parquet as pq

    from nbops.deploy.monitor import read_chunks

    path = tmp_path / "big.parquet"
    rng = np.random.default_rng(0)
    writer = None
    for _ in range(20):
        frame = pd.DataFrame(rng.normal(size=(40_000, 10)), columns=[f"x{j}" for j in range(10)])
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(path, table.schema)
        writer.write_table(table)
    assert writer is not None
    writer.close()
    base, peak, rows = pa.total_allocated_bytes(), 0, 0
    kind, chunks = read_chunks(path, [], 40_000)
    for chunk in chunks:
        rows += len(chunk)
        peak = max(peak, pa.total_allocated_bytes() - base)
    assert (kind, rows) == ("parquet", 800_000)
    assert peak < path.stat().st_size * 0.3, (peak, path.stat().st_size)


class _RefusingModel:
    """A model that refuses every input, as a model does on values it cannot take."""

    def predict(self, frame: Any) -> Any:
        raise ValueError(f"cannot take {len(frame)} rows")


def test_a_model_that_cannot_predict_is_a_finding(wine_project: WineProject,
                                                  loaded: models.LoadedModel,
                                                  tmp_path: Path) -> None:
    refusing = models.LoadedModel(loaded.resolved, _RefusingModel(), loaded.check)
    data = _write(current(wine_project, shifted=True), tmp_path / "moved.csv")
    report, verdict = check(refusing, data, triggers=DEFAULTS, labels="target")
    assert any(f.startswith("the model could not predict its reference sample: ValueError")
               for f in report["findings"])
    assert report["predictions"]["psi"] is None and report["performance"]["rows"] == 0
    assert verdict.level == "ALERT" and set(verdict.drifted) == set(SHIFTED)
