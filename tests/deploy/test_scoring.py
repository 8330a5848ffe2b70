"""nbops score: files checked against the signature first, bad rows reported, good rows scored."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from deployproject import Project

from nbops.deploy.models import load, parse_spec, resolve
from nbops.deploy.score import errors_path, score_file

NBOPS = [sys.executable, "-m", "nbops"]
BAD_ROWS = {3: "alcohol", 7: "year", 10: "acidity"}  # 1-based data rows


def _env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "MLFLOW_TRACKING_URI"}


def _data(project: Project, folder: Path) -> tuple[Path, Any]:
    """A CSV of 20 rows, three of them bad; and the good rows as the model takes them."""
    frame = project.frame.head(20).copy()
    text = frame.astype(object)
    text.loc[2, "alcohol"] = "twelve"
    text.loc[6, "year"] = "2001.5"
    text.loc[9, "acidity"] = None  # an empty cell: a missing required value
    path = folder / "data.csv"
    text.to_csv(path, index=False)
    good = frame.drop(index=[2, 6, 9])
    return path, good


def _score(project: Project, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*NBOPS, "score", "wine", *args], cwd=project.root, env=_env(),
                          capture_output=True, text=True, timeout=300, check=False)


def _expected(project: Project, good: Any) -> list[int]:
    return [int(v) for v in project.model.predict(good)]


@pytest.mark.parametrize("partitions", ["1", "3"])
def test_bad_rows_are_reported_by_number_and_the_good_rows_scored(
    project: Project, partitions: str
) -> None:
    import pandas as pd

    folder = project.root / f"score-{partitions}"
    folder.mkdir()
    data, good = _data(project, folder)
    out = folder / "out.csv"
    done = _score(project, data.relative_to(project.root).as_posix(), "-o",
                  out.relative_to(project.root).as_posix(), "--partitions", partitions,
                  "--progress", "json")
    assert done.returncode == 2, done.stderr
    for row, column in BAD_ROWS.items():
        assert f"row {row}: column {column!r}" in done.stderr
    assert f"3 rows rejected (listed in score-{partitions}/out.csv.errors.csv)" in done.stderr
    assert str(project.root) not in done.stderr + done.stdout
    progress = [json.loads(x) for x in done.stderr.splitlines() if x.startswith("{")]
    assert progress[-1] == {"done": int(partitions), "total": int(partitions)}
    with errors_path(out).open(encoding="utf-8") as handle:
        listed = {int(r["row"]): r["column"] for r in csv.DictReader(handle)}
    assert listed == BAD_ROWS
    scored = pd.read_csv(out)
    assert list(scored["row"]) == [i + 1 for i in good.index]
    assert list(scored["prediction"]) == _expected(project, good)
    assert "scored 17 of 20 rows with wine/1" in done.stdout


def test_allow_bad_rows_exits_0_and_parquet_goes_in_and_out(project: Project) -> None:
    import pandas as pd

    folder = project.root / "parquet"
    folder.mkdir()
    frame = project.frame.head(30)
    frame.to_parquet(folder / "data.parquet")
    done = _score(project, "parquet/data.parquet", "-o", "parquet/out.parquet",
                  "--allow-bad-rows", "--progress", "none")
    assert done.returncode == 0, done.stderr
    scored = pd.read_parquet(folder / "out.parquet")
    assert list(scored["prediction"]) == _expected(project, frame)
    assert not errors_path(folder / "out.parquet").exists()

    _, good = _data(project, folder)
    done = _score(project, "parquet/data.csv", "-o", "parquet/out.parquet", "--allow-bad-rows")
    assert done.returncode == 0, done.stderr
    assert "3 rows rejected" in done.stderr
    assert list(pd.read_parquet(folder / "out.parquet")["prediction"]) == _expected(project, good)


@pytest.mark.parametrize(("args", "message"), [
    (["missing.csv", "-o", "out.csv"], "no such file: missing.csv"),
    (["data.txt", "-o", "out.csv"], "data.txt: not a .csv or .parquet file"),
    (["data.csv", "-o", "out.csv", "--partitions", "0"], "--partitions must be at least 1"),
    (["data.csv", "-o", "out.csv", "--scheduler", "tcp://10.0.0.9:8786"],
     "--scheduler is for the dask executor"),
])
def test_bad_input_is_one_line_with_exit_2(
    project: Project, args: list[str], message: str
) -> None:
    (project.root / "data.txt").write_text("x\n", encoding="utf-8")
    project.frame.head(3).to_csv(project.root / "data.csv", index=False)
    done = _score(project, *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_missing_column_rejects_every_row_and_says_which(
    project: Project, tmp_path: Path
) -> None:
    loaded = load(resolve(parse_spec("wine"), project.uri))
    data = tmp_path / "data.csv"
    project.frame.head(5).drop(columns=["year"]).to_csv(data, index=False)
    result = score_file(loaded, data, tmp_path / "out.csv")
    assert (result.rows, result.scored, result.rejected) == (5, 0, 5)
    assert [str(p) for p in result.problems] == [
        "column 'year': missing column (the model's signature requires it: long)"]
    assert errors_path(tmp_path / "out.csv").read_text().splitlines()[1].startswith(",year,")


def test_the_dask_executor_scores_the_same(project: Project, tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    import pandas as pd

    loaded = load(resolve(parse_spec("wine"), project.uri))
    data, good = _data(project, tmp_path)
    seen: list[tuple[int, int]] = []
    result = score_file(loaded, data, tmp_path / "out.csv", partitions=2, executor="dask",
                        progress=lambda done, total: seen.append((done, total)))
    assert (result.scored, result.rejected) == (17, 3)
    assert seen[-1] == (2, 2)
    assert list(pd.read_csv(tmp_path / "out.csv")["prediction"]) == _expected(project, good)
