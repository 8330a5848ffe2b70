#!/usr/bin/env python3
"""Write the executable notebooks that `benchmarks/modularize.py` runs `nbops verify` on.

Realistic small data-science notebooks, written by hand here (cell by cell) rather than
taken from elsewhere, that run offline in a few seconds on the stdlib, numpy, pandas,
scikit-learn and matplotlib: scikit-learn's bundled toy datasets and numpy random data
with fixed seeds, no network, no files outside a temporary directory. Their structure
varies on purpose, since that is what `nbops modularize` has to cope with: H2 / H3 / H1-only
headings or none at all, ``step:*`` tags, a ``parameters`` cell, functions reading notebook
globals, a ``global`` statement, data mutated in a later section, names redefined, loops and
branches at top level, classes and dataclasses, plotting, magics (``%matplotlib inline``,
``%time``, ``%%time``, ``!echo``), a star import, ``try``/``except``, ``del``, ``display()``.

Also provides ``big_notebook(n_cells)``: the realistic N-cell notebook the timing part of
the benchmark modularizes (sections of load / clean / features / model / plot cells).

Deterministic: no timestamps, fixed cell ids. The notebooks carry no outputs.

Usage
  python benchmarks/make_verify_corpus.py             # -> benchmarks/verify_corpus/*.ipynb
  python benchmarks/make_verify_corpus.py --check     # ... and execute each one (nbclient)
  python benchmarks/make_verify_corpus.py --big 200 --out /tmp/x   # also write big_200.ipynb
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "verify_corpus"

PY_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3",
        "version": "3.11",
    },
}

Cell = tuple  # ("md", text) | ("code", text) | ("code", text, [tags])


def md(text: str) -> Cell:
    return ("md", textwrap.dedent(text).strip("\n"))


def code(text: str, *tags: str) -> Cell:
    return ("code", textwrap.dedent(text).strip("\n"), list(tags))


def build(name: str, cells: list[Cell]) -> dict[str, Any]:
    out = []
    for i, c in enumerate(cells):
        cid = hashlib.sha1(f"{name}:{i}".encode()).hexdigest()[:8]
        src = c[1]
        lines = src.splitlines(keepends=True)
        if c[0] == "md":
            out.append({"cell_type": "markdown", "id": cid, "metadata": {}, "source": lines})
        else:
            meta: dict[str, Any] = {"tags": c[2]} if len(c) > 2 and c[2] else {}
            out.append(
                {
                    "cell_type": "code",
                    "execution_count": None,
                    "id": cid,
                    "metadata": meta,
                    "outputs": [],
                    "source": lines,
                }
            )
    return {"cells": out, "metadata": PY_METADATA, "nbformat": 4, "nbformat_minor": 5}


# --------------------------------------------------------------------------
# the notebooks
# --------------------------------------------------------------------------
NOTEBOOKS: dict[str, list[Cell]] = {}


def notebook(fn):
    NOTEBOOKS[fn.__name__] = fn()
    return fn


@notebook
def iris_logreg_headings() -> list[Cell]:
    return [
        md("""
        # Iris species classifier

        A baseline logistic regression on the iris measurements, as a first model for the
        botany team. Sections: data, features, model, evaluation.
        """),
        code("""
        import numpy as np
        import pandas as pd
        from sklearn.datasets import load_iris
        from sklearn.linear_model import LogisticRegression
        from sklearn.model_selection import train_test_split
        from sklearn.metrics import accuracy_score, confusion_matrix
        """),
        code(
            """
        SEED = 7
        TEST_SIZE = 0.3
        C = 0.5
        """,
            "parameters",
        ),
        md("## Data"),
        code("""
        iris = load_iris(as_frame=True)
        df = iris.frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))
        df["species"] = df["target"].map(dict(enumerate(iris.target_names)))
        df.head()
        """),
        code("""
        df.groupby("species").mean(numeric_only=True).round(2)
        """),
        md(
            "## Features\n\nPetal area and the sepal ratio separate the classes better than raw sizes."
        ),
        code("""
        df["petal_area"] = df["petal_length"] * df["petal_width"]
        df["sepal_ratio"] = df["sepal_length"] / df["sepal_width"]
        feature_cols = ["sepal_length", "sepal_width", "petal_length", "petal_width", "petal_area", "sepal_ratio"]
        X = df[feature_cols].to_numpy()
        y = df["target"].to_numpy()
        """),
        md("## Model"),
        code("""
        X_train, X_test, y_train, y_test = train_test_split(
            X, y, test_size=TEST_SIZE, random_state=SEED, stratify=y
        )
        clf = LogisticRegression(C=C, max_iter=500)
        clf.fit(X_train, y_train)
        """),
        md("## Evaluation"),
        code("""
        pred = clf.predict(X_test)
        acc = accuracy_score(y_test, pred)
        cm = confusion_matrix(y_test, pred)
        print(f"accuracy {acc:.3f}")
        cm
        """),
        code("""
        coef = pd.DataFrame(clf.coef_, columns=feature_cols, index=iris.target_names).round(3)
        coef
        """),
    ]


@notebook
def wine_no_markdown() -> list[Cell]:
    return [
        code("""
        import numpy as np
        import pandas as pd
        from sklearn.datasets import load_wine
        from sklearn.preprocessing import StandardScaler
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.model_selection import cross_val_score
        """),
        code("wine = load_wine(as_frame=True)"),
        code("data = wine.data.copy()\ntarget = wine.target.copy()"),
        code("data.shape, target.value_counts().sort_index().tolist()"),
        code("missing = data.isna().sum().sum()\nmissing"),
        code("scaler = StandardScaler()\nscaled = scaler.fit_transform(data)"),
        code(
            "scaled_df = pd.DataFrame(scaled, columns=data.columns)\nscaled_df.describe().loc[['mean', 'std']].round(2)"
        ),
        code("ks = [1, 3, 5, 7, 9, 11]"),
        code("""
        scores = {}
        for k in ks:
            knn = KNeighborsClassifier(n_neighbors=k)
            scores[k] = cross_val_score(knn, scaled, target, cv=5).mean()
        """),
        code("best_k = max(scores, key=scores.get)\nbest_k, round(scores[best_k], 3)"),
        code("final = KNeighborsClassifier(n_neighbors=best_k).fit(scaled, target)"),
        code("train_acc = (final.predict(scaled) == target).mean()\nprint(round(train_acc, 3))"),
        code("summary = pd.Series(scores).round(3)\nsummary"),
    ]


@notebook
def diabetes_step_tags() -> list[Cell]:
    return [
        md(
            "# Diabetes progression: ridge regression\n\nCells are tagged with the pipeline step they belong to."
        ),
        code("""
        import numpy as np
        import pandas as pd
        from sklearn.datasets import load_diabetes
        from sklearn.linear_model import Ridge
        from sklearn.model_selection import train_test_split
        from sklearn.metrics import mean_absolute_error, r2_score
        """),
        code(
            """
        raw = load_diabetes(as_frame=True).frame
        raw.shape
        """,
            "step:load",
        ),
        code("raw.describe().T[['mean', 'std']].round(3)"),
        code(
            """
        frame = raw.copy()
        frame["bmi_bp"] = frame["bmi"] * frame["bp"]
        frame["s_sum"] = frame[["s1", "s2", "s3", "s4", "s5", "s6"]].sum(axis=1)
        """,
            "step:features",
        ),
        code(
            """
        X = frame.drop(columns="target")
        y = frame["target"]
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=3)
        """,
            "step:split",
        ),
        code(
            """
        model = Ridge(alpha=0.3)
        model.fit(X_train, y_train)
        """,
            "step:train",
        ),
        code(
            """
        pred = model.predict(X_test)
        metrics = {"mae": mean_absolute_error(y_test, pred), "r2": r2_score(y_test, pred)}
        metrics = {k: round(float(v), 4) for k, v in metrics.items()}
        metrics
        """,
            "step:evaluate",
        ),
        code("""
        top = pd.Series(model.coef_, index=X.columns).abs().sort_values(ascending=False).head(5)
        top.round(2)
        """),
    ]


@notebook
def breast_cancer_params_gridsearch() -> list[Cell]:
    return [
        md(
            "# Breast cancer screening model\n\nGrid search over a scaled SVM; parameters can be injected with papermill."
        ),
        code("""
        import numpy as np
        import pandas as pd
        from sklearn.datasets import load_breast_cancer
        from sklearn.model_selection import GridSearchCV, train_test_split
        from sklearn.pipeline import Pipeline
        from sklearn.preprocessing import StandardScaler
        from sklearn.svm import SVC
        from sklearn.metrics import classification_report, roc_auc_score
        """),
        code(
            """
        seed = 11
        folds = 3
        c_grid = [0.1, 1.0, 10.0]
        test_fraction = 0.25
        """,
            "parameters",
        ),
        md("## Load"),
        code("""
        bc = load_breast_cancer(as_frame=True)
        X, y = bc.data, bc.target
        print(X.shape, y.mean().round(3))
        """),
        md("## Split"),
        code("""
        X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=test_fraction, random_state=seed, stratify=y)
        """),
        md("## Search"),
        code("""
        pipe = Pipeline([("scale", StandardScaler()), ("svc", SVC(probability=True, random_state=seed))])
        search = GridSearchCV(pipe, {"svc__C": c_grid, "svc__gamma": ["scale"]}, cv=folds)
        search.fit(X_tr, y_tr)
        best_params = search.best_params_
        best_params
        """),
        code("""
        cv_table = pd.DataFrame(search.cv_results_)[["param_svc__C", "mean_test_score", "rank_test_score"]]
        cv_table
        """),
        md("## Report"),
        code("""
        proba = search.predict_proba(X_te)[:, 1]
        auc = roc_auc_score(y_te, proba)
        report = classification_report(y_te, (proba > 0.5).astype(int), output_dict=True)
        print(f"AUC={auc:.4f}")
        """),
    ]


@notebook
def digits_pca_kmeans() -> list[Cell]:
    return [
        md("# Handwritten digits: PCA and k-means"),
        code("""
        %matplotlib inline
        import numpy as np
        import matplotlib.pyplot as plt
        from sklearn.datasets import load_digits
        from sklearn.decomposition import PCA
        from sklearn.cluster import KMeans
        """),
        md("## Data"),
        code("""
        digits = load_digits()
        images = digits.data / 16.0
        labels = digits.target
        images.shape
        """),
        md("## Projection\n\nTwo principal components for plotting, twenty for clustering."),
        code("""
        pca2 = PCA(n_components=2, random_state=0)
        proj = pca2.fit_transform(images)
        pca20 = PCA(n_components=20, random_state=0)
        reduced = pca20.fit_transform(images)
        explained = pca20.explained_variance_ratio_.sum().round(3)
        explained
        """),
        code("""
        fig, ax = plt.subplots(figsize=(5, 4), dpi=60)
        sc = ax.scatter(proj[:, 0], proj[:, 1], c=labels, s=6, cmap="tab10")
        ax.set_title("digits, first two components")
        plt.show()
        """),
        md("## Clustering"),
        code("""
        km = KMeans(n_clusters=10, n_init=4, random_state=0)
        clusters = km.fit_predict(reduced)
        """),
        code("""
        def purity(clusters, labels):
            total = 0
            for c in np.unique(clusters):
                members = labels[clusters == c]
                total += np.bincount(members).max()
            return total / len(labels)

        score = round(float(purity(clusters, labels)), 4)
        score
        """),
    ]


@notebook
def sales_groupby_pivot() -> list[Cell]:
    return [
        md(
            "# Regional sales review\n\nSimulated order lines for 2023: revenue by region and month, margins, top products."
        ),
        code("""
        import numpy as np
        import pandas as pd
        rng = np.random.default_rng(2023)
        """),
        md("## Orders"),
        code("""
        n = 2000
        orders = pd.DataFrame({
            "date": pd.Timestamp("2023-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D"),
            "region": rng.choice(["north", "south", "east", "west"], n),
            "product": rng.choice([f"P{i:02d}" for i in range(12)], n),
            "units": rng.integers(1, 20, n),
            "unit_price": rng.gamma(3.0, 12.0, n).round(2),
        })
        orders["revenue"] = orders["units"] * orders["unit_price"]
        orders.head()
        """),
        md("## Monthly revenue"),
        code("""
        orders["month"] = orders["date"].dt.month
        monthly = orders.pivot_table(index="month", columns="region", values="revenue", aggfunc="sum").round(0)
        monthly
        """),
        md(
            "## Margins\n\nCosts were only known later: the margin columns are added to `orders` here."
        ),
        code("""
        cost_ratio = {"north": 0.62, "south": 0.58, "east": 0.65, "west": 0.6}
        orders["cost"] = orders["revenue"] * orders["region"].map(cost_ratio)
        orders["margin"] = orders["revenue"] - orders["cost"]
        orders.drop(columns=["unit_price"], inplace=True)
        """),
        code("""
        by_region = orders.groupby("region").agg(revenue=("revenue", "sum"), margin=("margin", "sum"))
        by_region["margin_pct"] = (by_region["margin"] / by_region["revenue"] * 100).round(1)
        by_region
        """),
        md("## Top products"),
        code("""
        top_products = (
            orders.groupby("product")["margin"].sum().sort_values(ascending=False).head(5).round(2)
        )
        top_products
        """),
    ]


@notebook
def sensor_timeseries() -> list[Cell]:
    return [
        md("# Sensor drift monitoring"),
        code("""
        import numpy as np
        import pandas as pd
        """),
        code(
            """
        SENSORS = ["t1", "t2", "t3"]
        WINDOW = 24
        THRESHOLD = 3.0
        """,
            "parameters",
        ),
        md("## Readings"),
        code("""
        rng = np.random.default_rng(5)
        index = pd.date_range("2024-03-01", periods=24 * 14, freq="h")
        readings = pd.DataFrame(index=index)
        for i, name in enumerate(SENSORS):
            base = 20 + 2 * i + np.sin(np.arange(len(index)) * 2 * np.pi / 24)
            drift = np.linspace(0, 0.5 * i, len(index))
            readings[name] = base + drift + rng.normal(0, 0.3, len(index))
        readings.iloc[100, 1] += 6.0
        readings.shape
        """),
        md("## Rolling statistics"),
        code("""
        rolling_mean = readings.rolling(WINDOW, min_periods=1).mean()
        rolling_std = readings.rolling(WINDOW, min_periods=2).std().bfill()
        zscores = (readings - rolling_mean) / rolling_std
        """),
        md("## Alerts"),
        code("""
        alerts = []
        for name in SENSORS:
            hits = zscores.index[zscores[name].abs() > THRESHOLD]
            if len(hits) == 0:
                status = "ok"
            elif len(hits) < 3:
                status = "check"
            else:
                status = "alarm"
            alerts.append({"sensor": name, "hits": len(hits), "status": status})
        alert_table = pd.DataFrame(alerts)
        alert_table
        """),
        md("## Daily summary"),
        code("""
        daily = readings.resample("D").agg(["mean", "max"]).round(2)
        daily.head()
        """),
    ]


@notebook
def monte_carlo_star_import() -> list[Cell]:
    return [
        md(
            "# Monte Carlo estimates\n\nQuick estimates of pi and of an integral, using the math module's names directly."
        ),
        code("""
        from math import *
        import numpy as np
        """),
        md("## Pi"),
        code("""
        rng = np.random.default_rng(123)
        n_points = 200_000
        xy = rng.random((n_points, 2))
        inside = (xy ** 2).sum(axis=1) <= 1.0
        pi_hat = 4 * inside.mean()
        error = abs(pi_hat - pi)
        round(pi_hat, 4), round(error, 4)
        """),
        md("## An integral\n\nThe integral of exp(-x^2) from 0 to 2, against erf."),
        code("""
        xs = rng.random(n_points) * 2
        estimate = 2 * np.exp(-xs ** 2).mean()
        exact = sqrt(pi) / 2 * erf(2)
        rel_err = abs(estimate - exact) / exact
        round(estimate, 4), round(exact, 4)
        """),
        md("## Convergence"),
        code("""
        sizes = [10 ** k for k in range(2, 6)]
        errors = []
        for size in sizes:
            sample = rng.random((size, 2))
            est = 4 * ((sample ** 2).sum(axis=1) <= 1).mean()
            errors.append(abs(est - pi))
        slope = (log(errors[-1]) - log(errors[0])) / (log(sizes[-1]) - log(sizes[0]))
        round(slope, 2)
        """),
    ]


@notebook
def text_wordcount_globals() -> list[Cell]:
    return [
        md("# Support ticket keywords"),
        code("""
        import re
        import random
        from collections import Counter
        """),
        md("## Tickets\n\nGenerated tickets (the ticket system export is not available offline)."),
        code("""
        random.seed(42)
        subjects = ["login", "password", "invoice", "refund", "shipping", "app", "crash", "payment"]
        verbs = ["fails", "is slow", "is missing", "was charged twice", "does not load", "broke"]
        tickets = [
            f"The {random.choice(subjects)} {random.choice(verbs)} after the update, please help with the {random.choice(subjects)}"
            for _ in range(500)
        ]
        len(tickets)
        """),
        md("## Cleaning\n\n`tokenize` uses the notebook-level `STOPWORDS` and `MIN_LEN`."),
        code("""
        STOPWORDS = {"the", "is", "after", "please", "with", "does", "not", "was", "help"}
        MIN_LEN = 3

        def tokenize(text):
            words = re.findall(r"[a-z]+", text.lower())
            return [w for w in words if w not in STOPWORDS and len(w) >= MIN_LEN]

        tokens = [tokenize(t) for t in tickets]
        tokens[0]
        """),
        md("## Counts"),
        code("""
        counts = Counter(w for ts in tokens for w in ts)
        top10 = counts.most_common(10)
        top10
        """),
        code("""
        def share(word):
            return counts[word] / sum(counts.values())

        shares = {w: round(share(w), 4) for w, _ in top10}
        shares
        """),
    ]


@notebook
def feature_engineering_globals() -> list[Cell]:
    return [
        md("# Loan default features"),
        code("""
        import numpy as np
        import pandas as pd
        from sklearn.ensemble import GradientBoostingClassifier
        from sklearn.model_selection import cross_val_score
        """),
        code("""
        rng = np.random.default_rng(99)
        n = 1500
        loans = pd.DataFrame({
            "income": rng.lognormal(10.5, 0.5, n).round(0),
            "amount": rng.lognormal(9.2, 0.6, n).round(0),
            "term": rng.choice([12, 24, 36, 60], n),
            "grade": rng.choice(list("ABCDE"), n, p=[0.2, 0.3, 0.25, 0.15, 0.1]),
            "age": rng.integers(19, 75, n),
        })
        risk = 0.00002 * loans["amount"] - 0.00001 * loans["income"] + loans["grade"].map({"A": -1, "B": -0.5, "C": 0, "D": 0.5, "E": 1})
        loans["default"] = (risk + rng.normal(0, 0.7, n) > 0.2).astype(int)
        loans["default"].mean().round(3)
        """),
        md(
            "## Features\n\nThe helpers read the thresholds and the grade map defined at notebook level."
        ),
        code("""
        DTI_CAP = 2.5
        GRADE_SCORE = {"A": 5, "B": 4, "C": 3, "D": 2, "E": 1}
        YOUNG = 25
        created = []

        def debt_to_income(row):
            return min(row["amount"] / row["income"] * 12 / row["term"] * 10, DTI_CAP)

        def add_features(frame):
            frame = frame.copy()
            frame["dti"] = frame.apply(debt_to_income, axis=1)
            frame["grade_score"] = frame["grade"].map(GRADE_SCORE)
            frame["young"] = (frame["age"] < YOUNG).astype(int)
            created.extend(["dti", "grade_score", "young"])
            return frame

        features = add_features(loans)
        features[["dti", "grade_score", "young"]].describe().round(3)
        """),
        md("## Model"),
        code("""
        cols = ["income", "amount", "term", "age"] + created
        gb = GradientBoostingClassifier(n_estimators=60, max_depth=2, random_state=0)
        cv_auc = cross_val_score(gb, features[cols], features["default"], cv=3, scoring="roc_auc")
        round(cv_auc.mean(), 4)
        """),
        code("""
        gb.fit(features[cols], features["default"])
        importance = pd.Series(gb.feature_importances_, index=cols).sort_values(ascending=False).round(3)
        importance
        """),
    ]


@notebook
def redefinition_chain() -> list[Cell]:
    return [
        md("# Customer table clean-up"),
        code("""
        import numpy as np
        import pandas as pd
        from sklearn.linear_model import LinearRegression
        """),
        md("## Raw data"),
        code("""
        rng = np.random.default_rng(8)
        df = pd.DataFrame({
            "spend": rng.normal(120, 40, 800),
            "visits": rng.poisson(6, 800).astype(float),
            "tenure": rng.integers(0, 60, 800).astype(float),
        })
        df.loc[rng.choice(800, 40, replace=False), "spend"] = np.nan
        df.loc[rng.choice(800, 15, replace=False), "visits"] = -1
        df.shape
        """),
        md(
            "## Clean-up\n\nThe same name `df` is rebound at every step, the way it usually happens."
        ),
        code("df = df.dropna()"),
        code("df = df[df['visits'] >= 0]"),
        code("df = df.assign(spend_per_visit=df['spend'] / (df['visits'] + 1))"),
        code("df = df.reset_index(drop=True)\nlen(df)"),
        md(
            "## Models\n\nFirst a one-feature model, then the name `model` is reused for the full one."
        ),
        code("""
        model = LinearRegression().fit(df[["tenure"]], df["spend"])
        r2_single = round(model.score(df[["tenure"]], df["spend"]), 4)
        """),
        code("""
        model = LinearRegression().fit(df[["tenure", "visits"]], df["spend"])
        r2_full = round(model.score(df[["tenure", "visits"]], df["spend"]), 4)
        r2_single, r2_full
        """),
        code("""
        coefs = dict(zip(["tenure", "visits"], model.coef_.round(3)))
        coefs
        """),
    ]


@notebook
def class_preprocessor() -> list[Cell]:
    return [
        md("# Housing prices with a custom preprocessor"),
        code("""
        from dataclasses import dataclass, field
        import numpy as np
        import pandas as pd
        from sklearn.linear_model import Lasso
        from sklearn.model_selection import train_test_split
        """),
        md("## Configuration"),
        code("""
        @dataclass
        class Config:
            seed: int = 21
            alpha: float = 0.05
            clip_quantile: float = 0.99
            log_cols: list = field(default_factory=lambda: ["area", "lot"])

        cfg = Config()
        cfg
        """),
        md("## Data"),
        code("""
        rng = np.random.default_rng(cfg.seed)
        n = 1200
        houses = pd.DataFrame({
            "area": rng.lognormal(4.8, 0.35, n),
            "lot": rng.lognormal(6.5, 0.6, n),
            "rooms": rng.integers(1, 8, n),
            "age": rng.integers(0, 90, n),
        })
        houses["price"] = (
            1500 * houses["area"] + 8 * houses["lot"] + 9000 * houses["rooms"] - 600 * houses["age"]
            + rng.normal(0, 20000, n)
        )
        """),
        md("## Preprocessing"),
        code("""
        class Preprocessor:
            def __init__(self, log_cols, clip_quantile):
                self.log_cols = log_cols
                self.clip_quantile = clip_quantile
                self.upper_ = {}
                self.mean_ = None
                self.std_ = None

            def fit(self, frame):
                for col in frame.columns:
                    self.upper_[col] = frame[col].quantile(self.clip_quantile)
                t = self._basic(frame)
                self.mean_, self.std_ = t.mean(), t.std()
                return self

            def _basic(self, frame):
                out = frame.copy()
                for col, upper in self.upper_.items():
                    out[col] = out[col].clip(upper=upper)
                for col in self.log_cols:
                    out[col] = np.log1p(out[col])
                return out

            def transform(self, frame):
                return (self._basic(frame) - self.mean_) / self.std_
        """),
        code("""
        features = houses.drop(columns="price")
        X_train, X_test, y_train, y_test = train_test_split(features, houses["price"], random_state=cfg.seed)
        prep = Preprocessor(cfg.log_cols, cfg.clip_quantile).fit(X_train)
        Xt_train, Xt_test = prep.transform(X_train), prep.transform(X_test)
        """),
        md("## Model"),
        code("""
        lasso = Lasso(alpha=cfg.alpha, max_iter=5000).fit(Xt_train, y_train)
        test_r2 = round(lasso.score(Xt_test, y_test), 4)
        test_r2
        """),
    ]


@notebook
def magics_mix() -> list[Cell]:
    return [
        md(
            "# Timing a few estimators\n\nThe way people really write notebooks: magics everywhere."
        ),
        code("""
        %matplotlib inline
        %config InlineBackend.figure_format = 'png'
        import numpy as np
        import pandas as pd
        import matplotlib.pyplot as plt
        from sklearn.datasets import make_classification
        from sklearn.ensemble import RandomForestClassifier
        from sklearn.linear_model import LogisticRegression
        """),
        code("!echo preparing data"),
        md("## Data"),
        code("""
        %time X, y = make_classification(n_samples=1500, n_features=12, n_informative=6, random_state=4)
        X.shape
        """),
        md("## Fit"),
        code("""
        %%time
        forest = RandomForestClassifier(n_estimators=50, random_state=4).fit(X, y)
        logit = LogisticRegression(max_iter=1000).fit(X, y)
        """),
        code("""
        accuracies = {"forest": forest.score(X, y), "logit": logit.score(X, y)}
        accuracies = {k: round(v, 4) for k, v in accuracies.items()}
        accuracies
        """),
        md("## Plot"),
        code("""
        fig, ax = plt.subplots(figsize=(4, 3), dpi=60)
        pd.Series(forest.feature_importances_).sort_values().plot.barh(ax=ax)
        ax.set_title("importance")
        plt.show()
        """),
        code("%who_ls"),
    ]


@notebook
def ridge_alpha_sweep() -> list[Cell]:
    return [
        md("# Choosing the ridge penalty"),
        code("""
        import numpy as np
        import pandas as pd
        from sklearn.datasets import make_regression
        from sklearn.linear_model import Ridge
        from sklearn.model_selection import KFold, cross_val_score
        """),
        code(
            """
        N_SAMPLES = 400
        NOISE = 15.0
        ALPHAS = [0.01, 0.1, 1.0, 10.0, 100.0]
        """,
            "parameters",
        ),
        md("## Data"),
        code("""
        X, y, true_coef = make_regression(
            n_samples=N_SAMPLES, n_features=30, n_informative=8, noise=NOISE, coef=True, random_state=12
        )
        """),
        md("## Sweep"),
        code("""
        results = []
        kf = KFold(n_splits=5, shuffle=True, random_state=12)
        for alpha in ALPHAS:
            score = cross_val_score(Ridge(alpha=alpha), X, y, cv=kf, scoring="r2").mean()
            results.append((alpha, round(score, 4)))
        results
        """),
        code("""
        best_alpha, best_score = max(results, key=lambda r: r[1])
        if best_score < 0.5:
            verdict = "underfit"
        elif best_alpha == ALPHAS[-1]:
            verdict = "widen the grid"
        else:
            verdict = "ok"
        best_alpha, verdict
        """),
        md("## Final model"),
        code("""
        final = Ridge(alpha=best_alpha).fit(X, y)
        coef_err = np.abs(final.coef_ - true_coef).mean().round(3)
        coef_err
        """),
    ]


@notebook
def random_walk_h3() -> list[Cell]:
    return [
        md("# Random walks"),
        md("### Simulation"),
        code("""
        import numpy as np
        rng = np.random.default_rng(31)
        n_walks, n_steps = 500, 1000
        steps = rng.choice([-1, 1], size=(n_walks, n_steps))
        walks = steps.cumsum(axis=1)
        """),
        md("### Statistics"),
        code("""
        final_pos = walks[:, -1]
        stats = {
            "mean": float(final_pos.mean()),
            "std": float(final_pos.std()),
            "theory_std": float(np.sqrt(n_steps)),
        }
        stats = {k: round(v, 2) for k, v in stats.items()}
        stats
        """),
        code("""
        crossing = (np.abs(walks) >= 30).any(axis=1)
        first_hit = np.where(crossing, np.argmax(np.abs(walks) >= 30, axis=1), -1)
        share_crossing = round(float(crossing.mean()), 3)
        """),
        md("### Percentiles"),
        code("""
        pct = np.percentile(walks, [5, 50, 95], axis=0)
        band_width_end = float(pct[2, -1] - pct[0, -1])
        band_width_end
        """),
    ]


@notebook
def h1_sections_only() -> list[Cell]:
    return [
        md("# Load"),
        code("""
        import pandas as pd
        from sklearn.datasets import load_wine
        wine = load_wine(as_frame=True).frame
        """),
        md("# Explore"),
        code("""
        corr = wine.corr()["target"].drop("target").sort_values()
        strongest = corr.abs().idxmax()
        strongest
        """),
        md("# Summarise"),
        code("""
        per_class = wine.groupby("target")[[strongest, "alcohol"]].median().round(2)
        per_class
        """),
        md("# Export"),
        code("""
        export = per_class.reset_index().to_dict(orient="records")
        export
        """),
    ]


@notebook
def long_mixed_notebook() -> list[Cell]:
    cells: list[Cell] = [
        md(
            "# Marketing mix: end to end\n\nA long working notebook: simulated spend, response, attribution, model, budget."
        ),
        code("""
        import numpy as np
        import pandas as pd
        from sklearn.linear_model import LinearRegression
        from sklearn.metrics import r2_score
        """),
        code(
            """
        WEEKS = 104
        CHANNELS = ["tv", "search", "social", "email"]
        SEED = 17
        """,
            "parameters",
        ),
        md("## Spend"),
        code("rng = np.random.default_rng(SEED)"),
        code("weeks = pd.RangeIndex(WEEKS, name='week')"),
        code(
            "spend = pd.DataFrame({c: rng.gamma(2.0, 50 + 25 * i, WEEKS) for i, c in enumerate(CHANNELS)}, index=weeks)"
        ),
        code("spend.sum().round(0)"),
        md("## Adstock\n\nCarry-over of advertising, geometric decay per channel."),
        code("""
        DECAY = {"tv": 0.6, "search": 0.2, "social": 0.4, "email": 0.1}

        def adstock(series, decay):
            out = np.zeros(len(series))
            carry = 0.0
            for i, value in enumerate(series):
                carry = value + decay * carry
                out[i] = carry
            return out
        """),
        code(
            "stocked = pd.DataFrame({c: adstock(spend[c].to_numpy(), DECAY[c]) for c in CHANNELS}, index=weeks)"
        ),
        code("stocked.head(3).round(1)"),
        md("## Response"),
        code("""
        true_effect = {"tv": 0.8, "search": 1.6, "social": 0.5, "email": 2.1}
        season = 300 * np.sin(np.arange(WEEKS) * 2 * np.pi / 52)
        sales = 5000 + season + sum(true_effect[c] * np.sqrt(stocked[c]) * 20 for c in CHANNELS)
        sales = sales + rng.normal(0, 80, WEEKS)
        """),
        code("sales.describe().round(1)"),
        md("## Design matrix"),
        code("X = np.sqrt(stocked)"),
        code("X['season_sin'] = np.sin(np.arange(WEEKS) * 2 * np.pi / 52)"),
        code("X['season_cos'] = np.cos(np.arange(WEEKS) * 2 * np.pi / 52)"),
        code("train = weeks < 80\ntest = ~train"),
        md("## Model"),
        code("mmm = LinearRegression().fit(X[train], sales[train])"),
        code("fit_r2 = round(r2_score(sales[test], mmm.predict(X[test])), 3)\nfit_r2"),
        code("contrib = pd.DataFrame({c: mmm.coef_[i] * X[c] for i, c in enumerate(CHANNELS)})"),
        code("share = (contrib.sum() / contrib.sum().sum()).round(3)\nshare"),
        md("## ROI"),
        code("roi = (contrib.sum() / spend.sum()).round(3)"),
        code("ranking = roi.sort_values(ascending=False)\nranking"),
        code("best_channel = ranking.index[0]\nworst_channel = ranking.index[-1]"),
        md("## Budget shift\n\nMove 10% of the worst channel's budget to the best one."),
        code("new_spend = spend.copy()"),
        code("moved = 0.1 * new_spend[worst_channel]"),
        code("new_spend[worst_channel] -= moved\nnew_spend[best_channel] += moved"),
        code(
            "new_stocked = pd.DataFrame({c: adstock(new_spend[c].to_numpy(), DECAY[c]) for c in CHANNELS}, index=weeks)"
        ),
        code(
            "X_new = np.sqrt(new_stocked)\nX_new['season_sin'] = X['season_sin']\nX_new['season_cos'] = X['season_cos']"
        ),
        code("uplift = float((mmm.predict(X_new) - mmm.predict(X)).sum())"),
        code("print(f'uplift from the shift: {uplift:,.0f}')"),
        md("## Checks"),
        code("assert set(roi.index) == set(CHANNELS)"),
        code("checks = {'r2_ok': fit_r2 > 0.3, 'positive_roi': bool((roi > 0).all())}\nchecks"),
        md("## Conclusion\n\nThe shift pays off when the best channel is not yet saturated."),
    ]
    return cells


@notebook
def global_statement_counter() -> list[Cell]:
    return [
        md("# Retry simulation"),
        code("""
        import random
        import statistics
        """),
        md("## Model of a flaky service"),
        code("""
        random.seed(2024)
        calls = 0
        FAIL_RATE = 0.3

        def flaky_call():
            global calls
            calls += 1
            return random.random() > FAIL_RATE

        def with_retries(max_tries):
            for attempt in range(1, max_tries + 1):
                if flaky_call():
                    return attempt
            return None
        """),
        md("## Runs"),
        code("""
        attempts = [with_retries(4) for _ in range(1000)]
        failures = sum(a is None for a in attempts)
        mean_attempts = statistics.mean(a for a in attempts if a is not None)
        calls, failures, round(mean_attempts, 3)
        """),
        md("## Cost"),
        code("""
        cost_per_call = 0.002
        total_cost = round(calls * cost_per_call, 3)
        total_cost
        """),
    ]


@notebook
def try_except_del() -> list[Cell]:
    return [
        md("# Parsing a messy CSV export"),
        code("""
        import io
        import numpy as np
        import pandas as pd
        """),
        md("## Raw text"),
        code("""
        raw_text = "id;amount;currency;date\\n"
        rng = np.random.default_rng(3)
        rows = []
        for i in range(300):
            amount = f"{rng.normal(100, 30):.2f}".replace(".", ",") if i % 7 else "n/a"
            currency = ["EUR", "USD", "eur", " GBP"][i % 4]
            rows.append(f"{i};{amount};{currency};2024-0{1 + i % 9}-1{i % 10}")
        raw_text += "\\n".join(rows)
        """),
        md("## Parse"),
        code("""
        tmp = pd.read_csv(io.StringIO(raw_text), sep=";", dtype=str, keep_default_na=False)
        parsed_amounts = []
        bad_rows = 0
        for value in tmp["amount"]:
            try:
                parsed_amounts.append(float(value.replace(",", ".")))
            except ValueError:
                parsed_amounts.append(np.nan)
                bad_rows += 1
        table = tmp.assign(amount=parsed_amounts, currency=tmp["currency"].str.strip().str.upper())
        table["date"] = pd.to_datetime(table["date"])
        del tmp
        bad_rows
        """),
        md("## Totals"),
        code("""
        totals = table.groupby("currency")["amount"].agg(["count", "sum"]).round(2)
        totals
        """),
    ]


@notebook
def models_dict_comprehensions() -> list[Cell]:
    return [
        md("# Model zoo on the digits data"),
        code("""
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split
        from sklearn.naive_bayes import GaussianNB
        from sklearn.tree import DecisionTreeClassifier
        from sklearn.neighbors import KNeighborsClassifier
        from sklearn.linear_model import LogisticRegression
        """),
        md("## Data"),
        code("""
        X, y = load_digits(return_X_y=True)
        X = X / 16.0
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0)
        """),
        md("## Models"),
        code("""
        models = {
            "nb": GaussianNB(),
            "tree": DecisionTreeClassifier(max_depth=8, random_state=0),
            "knn": KNeighborsClassifier(n_neighbors=3),
            "logit": LogisticRegression(max_iter=300),
        }
        fitted = {name: m.fit(X_train, y_train) for name, m in models.items()}
        """),
        md("## Scores"),
        code("""
        scores = {name: round(m.score(X_test, y_test), 4) for name, m in fitted.items()}
        ranking = sorted(scores, key=scores.get, reverse=True)
        ranking, scores
        """),
        code("""
        per_digit = {
            name: [round(float((m.predict(X_test[y_test == d]) == d).mean()), 3) for d in range(10)]
            for name, m in fitted.items()
        }
        hardest_digit = min(range(10), key=lambda d: sum(per_digit[n][d] for n in per_digit))
        hardest_digit
        """),
    ]


@notebook
def linnerud_display() -> list[Cell]:
    return [
        md("# Linnerud: exercise vs physiology"),
        code("""
        import pandas as pd
        from IPython.display import display
        from sklearn.datasets import load_linnerud
        from sklearn.cross_decomposition import PLSRegression
        """),
        md("## Data"),
        code("""
        lin = load_linnerud(as_frame=True)
        exercise, physio = lin.data, lin.target
        display(exercise.head())
        display(physio.head())
        """),
        md("## Correlations"),
        code("""
        joint = pd.concat([exercise, physio], axis=1)
        cross = joint.corr().loc[exercise.columns, physio.columns].round(2)
        display(cross)
        """),
        md("## PLS"),
        code("""
        pls = PLSRegression(n_components=2).fit(exercise, physio)
        r2 = round(pls.score(exercise, physio), 4)
        loadings = pd.DataFrame(pls.x_loadings_, index=exercise.columns).round(3)
        display(loadings)
        r2
        """),
    ]


@notebook
def ab_test_bootstrap() -> list[Cell]:
    return [
        md("# Checkout A/B test"),
        code("""
        import numpy as np
        """),
        code(
            """
        n_a = 4000
        n_b = 4000
        rate_a = 0.081
        rate_b = 0.089
        n_boot = 2000
        seed = 1
        """,
            "parameters",
        ),
        code("""
        rng = np.random.default_rng(seed)
        conv_a = rng.random(n_a) < rate_a
        conv_b = rng.random(n_b) < rate_b
        observed_lift = conv_b.mean() - conv_a.mean()
        """),
        code("""
        boot = np.empty(n_boot)
        for i in range(n_boot):
            a = rng.choice(conv_a, n_a)
            b = rng.choice(conv_b, n_b)
            boot[i] = b.mean() - a.mean()
        ci = np.percentile(boot, [2.5, 97.5]).round(4)
        """),
        code("""
        pooled = np.concatenate([conv_a, conv_b])
        perm = np.empty(n_boot)
        for i in range(n_boot):
            rng.shuffle(pooled)
            perm[i] = pooled[n_a:].mean() - pooled[:n_a].mean()
        p_value = float((np.abs(perm) >= abs(observed_lift)).mean())
        """),
        code("""
        decision = "ship B" if ci[0] > 0 else ("keep A" if ci[1] < 0 else "inconclusive")
        print(round(float(observed_lift), 4), ci, p_value, decision)
        """),
    ]


@notebook
def cohort_retention() -> list[Cell]:
    return [
        md("# Subscription cohorts"),
        code("""
        import numpy as np
        import pandas as pd
        """),
        md("## Signups and activity"),
        code("""
        rng = np.random.default_rng(77)
        users = pd.DataFrame({
            "user": np.arange(3000),
            "signup_month": rng.integers(0, 12, 3000),
            "plan": rng.choice(["basic", "pro"], 3000, p=[0.7, 0.3]),
        })
        lifetimes = rng.geometric(np.where(users["plan"] == "pro", 0.12, 0.25))
        users["last_month"] = np.minimum(users["signup_month"] + lifetimes, 12)
        """),
        md("## Cohort table"),
        code("""
        rows = []
        for m in range(12):
            cohort = users[users["signup_month"] == m]
            for age in range(0, 12 - m):
                rows.append({"cohort": m, "age": age, "active": int((cohort["last_month"] > m + age).sum()), "size": len(cohort)})
        cohorts = pd.DataFrame(rows)
        cohorts["retention"] = cohorts["active"] / cohorts["size"]
        """),
        md(
            "## Corrections\n\nMonth 5 had a billing outage: its churn is not real, so it is patched in place."
        ),
        code("""
        outage = cohorts["cohort"] == 5
        cohorts.loc[outage, "retention"] = cohorts.loc[outage, "retention"].clip(lower=0.2)
        users.loc[users["signup_month"] == 5, "plan"] = users.loc[users["signup_month"] == 5, "plan"].str.upper()
        """),
        md("## Curves"),
        code("""
        curve = cohorts.pivot_table(index="age", values="retention", aggfunc="mean").round(3)
        by_plan = users.groupby(users["plan"].str.lower())["last_month"].mean().round(2)
        curve.head(), by_plan
        """),
    ]


@notebook
def knn_from_scratch() -> list[Cell]:
    return [
        md("# k-nearest neighbours from scratch"),
        code("""
        import numpy as np
        from sklearn.datasets import load_iris
        """),
        md("## Implementation"),
        code("""
        def distances(a, b):
            return np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(axis=2))

        class KNN:
            def __init__(self, k=3):
                self.k = k

            def fit(self, X, y):
                self.X_, self.y_ = X, y
                return self

            def predict(self, X):
                d = distances(X, self.X_)
                nearest = np.argsort(d, axis=1)[:, : self.k]
                votes = self.y_[nearest]
                return np.array([np.bincount(v).argmax() for v in votes])
        """),
        md("## Data"),
        code("""
        X, y = load_iris(return_X_y=True)
        rng = np.random.default_rng(0)
        order = rng.permutation(len(y))
        X, y = X[order], y[order]
        X_train, y_train, X_test, y_test = X[:100], y[:100], X[100:], y[100:]
        """),
        md("## Choosing k"),
        code("""
        accuracy = {}
        for k in range(1, 16, 2):
            accuracy[k] = float((KNN(k).fit(X_train, y_train).predict(X_test) == y_test).mean())
        best = max(accuracy, key=accuracy.get)
        best, accuracy[best]
        """),
    ]


@notebook
def decision_tree_plot() -> list[Cell]:
    return [
        md("# Decision tree on breast cancer data"),
        code("""
        import tempfile
        from pathlib import Path
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
        import pandas as pd
        from sklearn.datasets import load_breast_cancer
        from sklearn.tree import DecisionTreeClassifier, export_text
        from sklearn.model_selection import cross_val_score
        """),
        code("MAX_DEPTH = 3\nMIN_LEAF = 10", "parameters"),
        md("## Fit"),
        code("""
        data = load_breast_cancer(as_frame=True)
        tree = DecisionTreeClassifier(max_depth=MAX_DEPTH, min_samples_leaf=MIN_LEAF, random_state=0)
        cv = cross_val_score(tree, data.data, data.target, cv=5).round(3)
        tree.fit(data.data, data.target)
        rules = export_text(tree, feature_names=list(data.feature_names))
        print(rules[:400])
        """),
        md("## Importance plot"),
        code("""
        imp = pd.Series(tree.feature_importances_, index=data.feature_names)
        imp = imp[imp > 0].sort_values()
        fig, ax = plt.subplots(figsize=(5, 3), dpi=60)
        imp.plot.barh(ax=ax)
        out_dir = Path(tempfile.mkdtemp())
        fig.savefig(out_dir / "importance.png")
        plt.close(fig)
        n_used = len(imp)
        n_used
        """),
    ]


@notebook
def energy_forecast_no_headings_params() -> list[Cell]:
    return [
        code("""
        import numpy as np
        import pandas as pd
        from sklearn.ensemble import RandomForestRegressor
        from sklearn.metrics import mean_absolute_percentage_error
        """),
        code("HORIZON = 48\nLAGS = [1, 2, 24, 168]\nTREES = 40", "parameters"),
        code("""
        rng = np.random.default_rng(10)
        hours = pd.date_range("2023-01-01", periods=24 * 7 * 10, freq="h")
        load = (
            100 + 20 * np.sin(2 * np.pi * hours.hour / 24) + 10 * (hours.dayofweek < 5)
            + rng.normal(0, 3, len(hours))
        )
        series = pd.Series(load, index=hours, name="load")
        """),
        code("""
        frame = pd.DataFrame({"load": series})
        for lag in LAGS:
            frame[f"lag_{lag}"] = frame["load"].shift(lag)
        frame["hour"] = frame.index.hour
        frame["weekday"] = frame.index.dayofweek
        frame = frame.dropna()
        """),
        code("""
        train, test = frame.iloc[:-HORIZON], frame.iloc[-HORIZON:]
        features = [c for c in frame.columns if c != "load"]
        forest = RandomForestRegressor(n_estimators=TREES, random_state=0, n_jobs=1)
        forest.fit(train[features], train["load"])
        """),
        code("""
        forecast = pd.Series(forest.predict(test[features]), index=test.index)
        mape = round(float(mean_absolute_percentage_error(test["load"], forecast)), 4)
        naive = round(float(mean_absolute_percentage_error(test["load"], test["lag_24"])), 4)
        mape, naive
        """),
    ]


@notebook
def churn_survival_sections() -> list[Cell]:
    return [
        md(
            "# Churn survival analysis\n\nKaplan-Meier curves by contract type, implemented with numpy."
        ),
        code("""
        import numpy as np
        import pandas as pd
        import matplotlib.pyplot as plt
        """),
        md("## Customers"),
        code("""
        rng = np.random.default_rng(44)
        n = 1000
        customers = pd.DataFrame({"contract": rng.choice(["monthly", "yearly"], n, p=[0.6, 0.4])})
        scale = np.where(customers["contract"] == "monthly", 14, 40)
        customers["duration"] = np.ceil(rng.exponential(scale)).astype(int)
        customers["observed"] = customers["duration"] <= 36
        customers.loc[~customers["observed"], "duration"] = 36
        """),
        md("## Kaplan-Meier"),
        code("""
        def kaplan_meier(durations, observed):
            times = np.sort(np.unique(durations[observed]))
            surv, s = [], 1.0
            for t in times:
                at_risk = (durations >= t).sum()
                events = ((durations == t) & observed).sum()
                s *= 1 - events / at_risk
                surv.append(s)
            return pd.Series(surv, index=times)

        curves = {
            name: kaplan_meier(g["duration"].to_numpy(), g["observed"].to_numpy())
            for name, g in customers.groupby("contract")
        }
        """),
        md("## Median lifetime"),
        code("""
        medians = {name: int(c.index[np.argmax(c.to_numpy() <= 0.5)]) if (c <= 0.5).any() else None for name, c in curves.items()}
        medians
        """),
        md("## Plot"),
        code("""
        fig, ax = plt.subplots(figsize=(5, 3), dpi=60)
        for name, c in curves.items():
            ax.step(c.index, c.to_numpy(), where="post", label=name)
        ax.legend()
        plt.close(fig)
        """),
    ]


# --------------------------------------------------------------------------
# the big notebook for the timing part
# --------------------------------------------------------------------------
def big_notebook(n_cells: int = 200) -> dict[str, Any]:
    """A realistic notebook of exactly ``n_cells`` cells (about 3/4 code), executable offline.

    Sections of one markdown heading and a handful of code cells, cycling through
    load / clean / features / helper function / model / evaluation / plot, each section
    working on names the earlier ones made.
    """
    cells: list[Cell] = [
        md(
            "# Quarterly demand study\n\nA long analysis notebook: many sections, each building on the last."
        ),
        code("""
        %matplotlib inline
        import numpy as np
        import pandas as pd
        import matplotlib.pyplot as plt
        from sklearn.linear_model import Ridge
        from sklearn.model_selection import train_test_split
        """),
        code("SEED = 0\nN_ROWS = 300\nALPHA = 1.0", "parameters"),
        md("## Base data"),
        code("""
        rng = np.random.default_rng(SEED)
        base = pd.DataFrame({
            "x1": rng.normal(0, 1, N_ROWS), "x2": rng.normal(2, 1, N_ROWS),
            "cat": rng.choice(list("abc"), N_ROWS),
        })
        base["y"] = 3 * base["x1"] - 2 * base["x2"] + rng.normal(0, 0.5, N_ROWS)
        """),
    ]
    templates = [
        lambda k, p: md(f"## Section {k}: refresh\n\nRe-derive the working table for round {k}."),
        lambda k, p: code(
            f"df_{k} = {p}.copy()\ndf_{k}['x{k}_sq'] = df_{k}['x1'] ** 2 + {k} * 0.01"
        ),
        lambda k, p: code(f"df_{k} = df_{k}[df_{k}['x2'].between(-5, 9)]\nlen(df_{k})"),
        lambda k, p: code(
            f"def summarize_{k}(frame):\n    out = frame.groupby('cat')['y'].agg(['mean', 'std'])\n"
            f"    return out.round(3)\n\nsummary_{k} = summarize_{k}(df_{k})\nsummary_{k}"
        ),
        lambda k, p: code(
            f"X_{k} = df_{k}[['x1', 'x2', 'x{k}_sq']].to_numpy()\ny_{k} = df_{k}['y'].to_numpy()\n"
            f"X_tr_{k}, X_te_{k}, y_tr_{k}, y_te_{k} = train_test_split(X_{k}, y_{k}, random_state=SEED + {k})"
        ),
        lambda k, p: code(
            f"model_{k} = Ridge(alpha=ALPHA).fit(X_tr_{k}, y_tr_{k})\nscore_{k} = round(model_{k}.score(X_te_{k}, y_te_{k}), 4)"
        ),
        lambda k, p: md(f"### Check {k}\n\nThe score should stay close to the previous round."),
        lambda k, p: code(
            f"if score_{k} < 0.5:\n    print('round {k}: weak fit', score_{k})\nelse:\n    print('round {k}: ok', score_{k})"
        ),
        lambda k, p: code(
            f"fig, ax = plt.subplots(figsize=(3, 2), dpi=40)\nax.hist(df_{k}['y'], bins=20)\nax.set_title('round {k}')\nplt.close(fig)"
        ),
    ]
    k = 0
    prev = "base"
    while len(cells) < n_cells:
        k += 1
        for t in templates:
            if len(cells) >= n_cells:
                break
            cells.append(t(k, prev))
        prev = f"df_{k}"
    return build(f"big_{n_cells}", cells[:n_cells])


# --------------------------------------------------------------------------
def write_all(out: Path) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, cells in NOTEBOOKS.items():
        p = out / f"{name}.ipynb"
        text = json.dumps(build(name, cells), indent=1, ensure_ascii=False) + "\n"
        if not p.exists() or p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")
        written.append(p)
    # drop notebooks of an earlier version of this script
    for p in out.glob("*.ipynb"):
        if p.stem not in NOTEBOOKS:
            p.unlink()
    return written


def execute(path: Path, timeout: int = 120) -> tuple[bool, float, str]:
    """Run a notebook in a temp dir with nbclient: (ok, seconds, error)."""
    import tempfile

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            NotebookClient(
                nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": tmp}}
            ).execute()
        except Exception as e:  # noqa: BLE001 - report any failure
            return False, time.perf_counter() - t0, f"{type(e).__name__}: {str(e)[-500:]}"
    return True, time.perf_counter() - t0, ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="execute every notebook (nbclient)")
    ap.add_argument("--big", type=int, default=0, help="also write big_N.ipynb with N cells")
    args = ap.parse_args(argv)
    paths = write_all(args.out)
    if args.big:
        p = args.out / f"big_{args.big}.ipynb"
        p.write_text(json.dumps(big_notebook(args.big), indent=1) + "\n", encoding="utf-8")
        paths.append(p)
    print(f"[verify_corpus] {len(paths)} notebooks in {args.out}")
    bad = 0
    if args.check:
        for p in paths:
            ok, secs, err = execute(p)
            bad += not ok
            print(f"  {'ok  ' if ok else 'FAIL'} {secs:5.1f}s {p.name} {err}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
