#!/usr/bin/env python
"""A logged model's pip requirements (issue 20): nbops' pickle scan against MLflow's inference.

MLflow infers them by loading the saved model in a subprocess and recording what it imports
(``mlflow.utils.environment.infer_pip_requirements``, what ``log_model`` runs);
``nbops.run.requirements.pip_requirements`` reads them off the model's pickle. Both are timed
side by side, interleaved, on the wine model (StandardScaler + LogisticRegression, skops as
MLflow saves it by default) and on a random forest (cloudpickle) of about ``--forest-mb`` MB (its pickled size, printed), after one warm-up each
(mlflow.sklearn imported, as it is inside ``log_model``). The first call of ours in the
process (the distribution index built) is printed apart. For the forest, a full in-band
cloudpickle dump is timed too: the scan keeps the arrays out of band, so it costs a fraction.
Medians of wall time; both lists of requirements are printed.

    .venv/bin/python benchmarks/requirements_bench.py                    # 3 runs, 200 MB forest
    .venv/bin/python benchmarks/requirements_bench.py --runs 1 --forest-mb 20   # a quick look
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def _wine() -> Any:
    from sklearn.datasets import load_wine
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    x, y = load_wine(return_X_y=True, as_frame=True)
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000)).fit(x, y)


def _forest(megabytes: float) -> tuple[Any, float]:
    """A forest of fully grown trees on random labels, about ``megabytes`` pickled."""
    import numpy as np
    from sklearn.ensemble import RandomForestClassifier

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40_000, 10)), rng.integers(0, 2, 40_000)
    one = RandomForestClassifier(n_estimators=1, random_state=0).fit(x, y)
    per_tree = _size_mb(one)
    trees = max(1, round(megabytes / per_tree))
    forest = RandomForestClassifier(n_estimators=trees, random_state=0, n_jobs=1).fit(x, y)
    return forest, _size_mb(forest)


def _size_mb(model: Any) -> float:
    import pickle

    return len(pickle.dumps(model, protocol=5)) / 1e6


def _time(fn: Callable[[], Any]) -> tuple[Any, float]:
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def _compare(label: str, model: Any, runs: int, fmt: str, full_dump: bool) -> None:
    import cloudpickle
    import mlflow.sklearn
    from mlflow.utils.environment import infer_pip_requirements

    from nbops.run import requirements

    with tempfile.TemporaryDirectory(prefix="nbops-reqbench-") as tmp:
        saved = Path(tmp) / "model"
        mlflow.sklearn.save_model(model, str(saved), pip_requirements=[],
                                  serialization_format=fmt)
        # warm-up of each
        ours_list = requirements.pip_requirements(model, "sklearn", serialization_format=fmt)
        theirs_list = infer_pip_requirements(str(saved), "sklearn")
        ours_t: list[float] = []
        theirs_t: list[float] = []
        dump_t: list[float] = []
        for _ in range(runs):
            ours_t.append(_time(lambda: requirements.pip_requirements(
                model, "sklearn", serialization_format=fmt))[1])
            theirs_t.append(_time(lambda: infer_pip_requirements(str(saved), "sklearn"))[1])
            if full_dump:
                dump_t.append(_time(lambda: cloudpickle.dumps(model, protocol=5))[1])
    ours_m, theirs_m = statistics.median(ours_t), statistics.median(theirs_t)
    print(f"{label}: nbops {ours_m:.3f} s, MLflow {theirs_m:.3f} s "
          f"({theirs_m / ours_m:.0f}x), medians of {runs}")
    if dump_t:
        print(f"  full in-band cloudpickle dump: {statistics.median(dump_t):.3f} s")
    print(f"  nbops:  {ours_list}")
    print(f"  MLflow: {theirs_list}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each (default 3)")
    parser.add_argument("--forest-mb", type=float, default=200.0,
                        help="the forest's pickled size to aim at, MB (default 200)")
    args = parser.parse_args(argv)

    import mlflow.sklearn  # noqa: F401 - imported before timing, as inside log_model

    from nbops.run import requirements

    wine = _wine()
    _, first = _time(lambda: requirements.pip_requirements(wine, "sklearn"))
    print(f"first call in the process (distribution index built): {first:.3f} s")
    _compare("wine", wine, args.runs, "skops", full_dump=False)
    forest, size = _forest(args.forest_mb)
    print(f"forest: {len(forest.estimators_)} trees, {size:.0f} MB pickled")
    # skops refuses a forest's trees unless they are trusted: cloudpickle, as a user would
    _compare("forest", forest, args.runs, "cloudpickle", full_dump=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
