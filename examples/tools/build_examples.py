"""Build the example notebooks in ``examples/`` and execute them through a real kernel.

The notebooks are the demo and the test bed of nbops: realistic, messy data-science notebooks
with problems planted on purpose. This script is their source of truth. For each notebook it
holds the cells as text, builds the notebook with nbformat, and executes the code cells through
a real IPython kernel (nbclient / jupyter_client) in a chosen, deliberately human order:

* cells are run out of document order and some are re-run, so the execution counts are the
  genuine counts the kernel handed out (non-linear order, gaps);
* some cells are executed and then deleted before saving, so later cells use names that no cell
  of the saved notebook defines (hidden state);
* some cells are executed with one source and saved with another (edited after running, so the
  saved outputs are stale);
* some cells are never executed, and some raise (their error output is kept).

It then writes every notebook (nbformat 4.5, kernelspec ``python3``, ``language_info`` from the
kernel), ``examples/expected_findings.json`` and ``examples/README.md`` (both generated from the
planted-problem annotations below, so cell numbers never go stale), and checks that the planted
structural problems really are in the written files (and, when ruff / black are installed, that
the planted style problems are reported by them).

Usage (from anywhere; takes roughly 15-25 s on 2 cores)::

    /work/venv/bin/python examples/tools/build_examples.py            # build all
    /work/venv/bin/python examples/tools/build_examples.py churn      # only names containing it
    /work/venv/bin/python examples/tools/build_examples.py --check    # only re-check the files

Requirements: nbformat, nbclient, ipykernel, numpy, pandas, scikit-learn, matplotlib
(``pip install -e '.[examples]'``). The notebooks import only numpy, pandas, scikit-learn,
matplotlib and the standard library, and run offline.

Kernel: the script uses the kernelspec named ``python3``. ipykernel provides it for the running
interpreter; if ``jupyter kernelspec list`` shows no ``python3``, register one with::

    /work/venv/bin/python -m ipykernel install --user --name python3

Determinism: cell ids are derived from the notebook name and the cell's position, timing
metadata is not recorded, the kernel runs with ``PYTHONHASHSEED=0`` in a temporary working
directory, and before the first cell the script seeds numpy's and ``random``'s global generators
with a silent, history-less execute request (it gets no execution count and leaves no trace in
the notebook). So the notebook that is *unseeded on purpose* (house_prices_regression) still
produces the same numbers on every build. Only ``%time`` / ``%%time`` outputs change between
builds. The committed ``.ipynb`` files are this script's output: edit the cells here, not there.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient

EXAMPLES = Path(__file__).resolve().parent.parent
KERNEL_NAME = "python3"
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": KERNEL_NAME}
SEED_SNIPPET = "import random as _r, numpy as _np\n_r.seed(0); _np.random.seed(0)\ndel _r, _np\n"


# --------------------------------------------------------------------------------------------
# Notebook description model
# --------------------------------------------------------------------------------------------
@dataclass
class Cell:
    kind: str  # "code" | "markdown"
    source: str  # the source saved in the notebook
    label: str | None = None
    deleted: bool = False  # executed, then removed before saving (hidden state)
    raises: bool = False  # its (last) execution is expected to raise; the error output is kept
    tags: tuple[str, ...] = ()


def _text(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def md(text: str, label: str | None = None) -> Cell:
    return Cell("markdown", _text(text), label=label)


def code(label: str, text: str, **kw: Any) -> Cell:
    return Cell("code", _text(text), label=label, **kw)


# A run step: a label (execute the cell's saved source) or (label, source) to execute a
# different source than the one saved, i.e. an earlier version of the cell.
Step = str | tuple[str, str]


@dataclass
class Spec:
    filename: str
    title: str
    story: str
    cells: list[Cell]
    run: list[Step]
    plants: dict[str, str]  # rule code -> where / why ({label} becomes "cell N")
    incidental: dict[str, str] = field(default_factory=dict)  # threshold-dependent extras


# --------------------------------------------------------------------------------------------
# 1. churn_classifier.ipynb
# --------------------------------------------------------------------------------------------
CHURN_LOGREG = """
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, classification_report

scaler = StandardScaler()
X_train_s = scaler.fit_transform(X_train)
X_test_s = scaler.transform(X_test)
lr = LogisticRegression(C=0.5, max_iter=1000)
lr.fit(X_train_s, y_train)
lr_auc = roc_auc_score(y_test, lr.predict_proba(X_test_s)[:, 1])
print(f"LogReg AUC: {lr_auc:.3f}")
""".strip()

CHURN = Spec(
    filename="churn_classifier.ipynb",
    title="Customer churn classifier",
    story=(
        "Jane's churn model for the retention team. The CRM export is not reachable from here, "
        "so the notebook simulates a 5,000-customer table with numpy (tenure, charges, contract, "
        "support calls, payment method...), fills missing charges, derives a few features, and "
        "compares a logistic regression with a random forest by ROC AUC, ending with a feature "
        "importance plot, a classification report and the top customers to call. It was run "
        "the way people really work: a helper cell was executed and later deleted, the feature "
        "list was defined in a cell below the one using it and run first, the logistic "
        "regression was re-run after changing C, and a `!pip install xgboost` cell was never run."
    ),
    cells=[
        md(
            """
            # Customer churn model

            Goal: flag customers likely to cancel in the next 30 days so the retention team can
            call them first. Data is the monthly CRM export (`customers.csv`).
            """,
            label="title",
        ),
        code(
            "imports",
            """
            import os
            import json
            import numpy as np
            import pandas as pd
            import matplotlib.pyplot as plt
            %matplotlib inline
            """,
        ),
        code(
            "params",
            """
            DATA_PATH = "/Users/jane/projects/churn/data/customers.csv"
            SEED = 42
            TEST_SIZE = 0.2
            N_ESTIMATORS = 200
            THRESHOLD = 0.5
            CHARGE_THRESHOLD = 90
            N_CUSTOMERS = 5000
            """,
        ),
        md("## Load the export"),
        code(
            "secret",
            """
            # CRM API, for pushing the scores back later -- TODO move to an env var before sharing!!
            CRM_API_KEY = "sk_live_51HxExampleExampleExample00"
            headers = {"Authorization": "Bearer " + CRM_API_KEY, "Content-Type": "application/json"}
            print(headers)
            """,
        ),
        code(
            "load",
            """
            if os.path.exists(DATA_PATH):
                df = pd.read_csv(DATA_PATH)
            else:
                # no access to the share from the notebook server -> simulate an export with the same columns
                rng = np.random.default_rng(SEED)
                n = N_CUSTOMERS
                df = pd.DataFrame({
                    "customer_id": np.arange(100000, 100000 + n),
                    "tenure_months": rng.integers(1, 73, n),
                    "monthly_charges": rng.normal(70, 20, n).clip(18, 130).round(2),
                    "contract": rng.choice(["month-to-month", "one year", "two year"], n, p=[0.55, 0.25, 0.2]),
                    "support_calls": rng.poisson(1.5, n),
                    "payment_method": rng.choice(["card", "bank transfer", "electronic check", "mailed check"], n),
                    "internet_service": rng.choice(["fiber", "dsl", "none"], n, p=[0.45, 0.4, 0.15]),
                    "senior": rng.integers(0, 2, n),
                })
                df["total_charges"] = (df.tenure_months * df.monthly_charges * rng.uniform(0.9, 1.1, n)).round(2)
                logit = (-1.6 + 1.5 * (df.contract == "month-to-month") - 0.8 * (df.contract == "two year")
                         + 0.03 * (df.monthly_charges - 70) + 0.45 * df.support_calls
                         - 0.04 * df.tenure_months + 0.6 * (df.payment_method == "electronic check"))
                df["churn"] = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
                # the real export has holes: new customers have no total yet, some charges are lost
                df.loc[rng.random(n) < 0.02, "total_charges"] = np.nan
                df.loc[rng.random(n) < 0.01, "monthly_charges"] = np.nan
            df.shape
            """,
        ),
        code("head", "df.head()"),
        code("describe", "df.describe()"),
        code("balance", 'df["churn"].value_counts(normalize=True)'),
        md("## Cleaning"),
        code(
            "helper",
            """
            def fix_columns(d):
                d = d.copy()
                d.columns = [c.strip().lower().replace(" ", "_") for c in d.columns]
                d = d.drop_duplicates("customer_id")
                return d
            """,
            deleted=True,
        ),
        code(
            "clean",
            """
            df2 = fix_columns(df)
            df2.isna().sum()
            """,
        ),
        code(
            "typo",
            """
            df2["total_charge"] = df2["total_charge"].fillna(df2["monthly_charges"] * df2["tenure_months"])
            """,
            raises=True,
        ),
        code(
            "fill",
            """
            # new customers have no total yet -> monthly * tenure
            df2["monthly_charges"] = df2["monthly_charges"].fillna(df2["monthly_charges"].median())
            df2["total_charges"] = df2["total_charges"].fillna(df2["monthly_charges"] * df2["tenure_months"])
            """,
        ),
        code(
            "none_check",
            """
            print("rows still missing total_charges:", len(df2[df2.total_charges == None]))  # should be 0 now
            """,
        ),
        md(
            """
            ## Features

            High charges and many support calls looked bad in last month's EDA.
            """
        ),
        code(
            "features",
            """
            def add_features(df):
                df = df.copy()
                df["high_charges"] = (df["monthly_charges"] > CHARGE_THRESHOLD).astype(int)
                df["charges_per_month"] = df["total_charges"] / df["tenure_months"].clip(lower=1)
                df["is_new"] = (df["tenure_months"] < 6).astype(int)
                df["many_calls"] = (df["support_calls"] >= 4).astype(int)
                return df


            df_feat = add_features(df2)
            df_feat.shape
            """,
        ),
        code(
            "xy",
            """
            X = pd.get_dummies(df_feat[num_cols + cat_cols], columns=cat_cols, drop_first=True, dtype=int)
            y = df_feat["churn"]
            X.shape, y.mean()
            """,
        ),
        code(
            "cols",
            """
            cat_cols = ["contract", "payment_method", "internet_service"]
            num_cols = ["tenure_months", "monthly_charges", "total_charges", "support_calls", "senior", "high_charges", "charges_per_month", "is_new", "many_calls"]
            """,
        ),
        code("empty", ""),
        code(
            "split",
            """
            from sklearn.model_selection import train_test_split
            from sklearn.preprocessing import StandardScaler

            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=TEST_SIZE, random_state=SEED, stratify=y)
            print(X_train.shape, X_test.shape)
            """,
        ),
        md(
            """
            ## Models

            Baseline logistic regression first, then a random forest.
            """
        ),
        code("logreg", CHURN_LOGREG),
        code(
            "rf",
            """
            %%time
            from sklearn.ensemble import RandomForestClassifier

            rf = RandomForestClassifier(n_estimators=N_ESTIMATORS, max_depth=8, min_samples_leaf=5, random_state=SEED, n_jobs=-1)
            rf.fit(X_train, y_train)
            rf_auc = roc_auc_score(y_test, rf.predict_proba(X_test)[:, 1])
            print(f"RandomForest AUC: {rf_auc:.3f}")
            """,
        ),
        code(
            "xgb",
            """
            !pip install xgboost
            import xgboost as xgb
            """,
        ),
        code(
            "importance",
            """
            imp = pd.Series(rf.feature_importances_, index=X.columns).sort_values()
            fig, ax = plt.subplots(figsize=(5, 3.5), dpi=60)
            imp.tail(10).plot.barh(ax=ax)
            ax.set_title("RF feature importance (top 10)")
            plt.tight_layout()
            """,
        ),
        code(
            "report",
            """
            preds = (rf.predict_proba(X_test)[:, 1] > THRESHOLD).astype(int)
            print(classification_report(y_test, preds, digits=3))
            """,
        ),
        code(
            "final",
            """
            # TODO clean this up -> send the list to the CRM
            df_final = X_test.copy()
            df_final["churn_prob"] = rf.predict_proba(X_test)[:, 1]
            df_final = df_final.sort_values("churn_prob", ascending=False)
            df_final[["tenure_months", "monthly_charges", "support_calls", "churn_prob"]].head(10)
            """,
        ),
    ],
    run=[
        "imports",
        "params",
        "secret",
        "load",
        "head",
        "describe",
        "balance",
        "helper",
        "clean",
        "typo",
        "fill",
        "none_check",
        "features",
        "cols",
        "xy",  # the feature lists were written below and run first
        "split",
        ("logreg", CHURN_LOGREG.replace("C=0.5", "C=1.0")),  # first run, before tuning C
        "logreg",
        "rf",
        "importance",
        "report",
        "final",
    ],
    plants={
        "NB102": "the last cell ({final}) is code: no closing markdown text",
        "NB107": "{empty} is an empty code cell",
        "NB201": "{xy} (X, y) was executed after {cols} (feature lists), so its count is higher "
        "than that of the cell below it",
        "NB202": "{xgb} (`!pip install xgboost`) was never executed while the rest ran",
        "NB203": "counts skip numbers: the deleted helper cell's count and the first run of "
        "{logreg} (re-run after changing C) are missing",
        "NB204": "{xy} reads `num_cols` and `cat_cols`, which only {cols}, a later cell, defines "
        "(it worked because {cols} ran first)",
        "NB205": "{clean} was executed and calls `fix_columns`, defined in a cell that was "
        "executed and then deleted; no cell of the saved notebook defines it",
        "NB208": "{typo} keeps a KeyError traceback (typo `total_charge`), fixed in {fill}",
        "NB301": '{params}: DATA_PATH = "/Users/jane/projects/churn/data/customers.csv" '
        "(guarded by os.path.exists in {load}, so the notebook still runs)",
        "NB302": "{xgb}: `!pip install xgboost`",
        "NB303": "no cell is tagged `parameters`; {params} is the obvious one (first code cell "
        "after the imports, only literal assignments): `nbops fix` should tag it",
        "NB401": '{secret}: CRM_API_KEY = "sk_live_51HxExampleExampleExample00"',
        "NB402": "{secret}'s output prints the headers dict with the `Bearer sk_live_...` key",
        "NB502": "imports in later cells: {split}, {logreg}, {rf}, {xgb}",
        "NB503": "`add_features` in {features} reads the notebook global CHARGE_THRESHOLD",
        "F401": "`import json` in {imports} is never used (also `xgb` in {xgb})",
        "FMT001": "black would reformat several cells (long lines in {load}, {cols}, {split}, "
        "{rf}; the hand-wrapped DataFrame literal in {load})",
    },
    incidental={
        "E711": "{none_check}: `df2.total_charges == None` (a real bug: always False in pandas); "
        "reported when E711 is selected (ruff < 0.17 defaults; not in ruff 0.17's default set)",
        "F821": "ruff sees `fix_columns` ({clean}) and `num_cols`/`cat_cols` ({xy}) as undefined",
        "NB210": "{fill} rebinds df2 columns from themselves (df2[...] = df2[...].fillna(...))",
        "E501": "long lines (> 100) in {load}, {cols}, {split}, {rf} if E501 is selected",
    },
)

# --------------------------------------------------------------------------------------------
# 2. house_prices_regression.ipynb
# --------------------------------------------------------------------------------------------
HOUSE_CLEAN_AS_RUN = """
print(houses.isnull().sum())
houses = houses[(houses.sqft_living > 300) & (houses.bedrooms < 15)]
houses.shape
""".strip()

HOUSE = Spec(
    filename="house_prices_regression.ipynb",
    title="House prices regression",
    story=(
        "A 'v2' house price model: the King-County-style export lives in `~/Downloads`, which the "
        "notebook server cannot see, so it fakes a 3,000-house table with unseeded "
        "`np.random` calls inside one huge cell (sqft, bedrooms, lot size, year built, "
        "renovation, neighborhood...). It converts prices to k$, drops junk rows, engineers age / "
        "renovation / log-size features, one-hot encodes the neighborhood, and fits a ridge "
        "regression on log(price) (alpha chosen by RidgeCV) and a random forest, reporting RMSE "
        "in k$ with a residual plot and the ridge coefficients. The first ridge fit failed on "
        "NaN lot sizes and its traceback is still there; the cleaning cell was edited after it "
        "ran; `describe()` was re-run after cleaning."
    ),
    cells=[
        code(
            "imports",
            """
            import pandas as pd
            import numpy as np
            import os, sys
            from sklearn.metrics import *
            """,
        ),
        md(
            """
            house price model v2 -- trying ridge on log(price) instead of last week's xgboost thing.
            Data: the county sales export (see the Slack thread), 2023 sales only.
            """,
            label="intro",
        ),
        code(
            "plots",
            """
            %matplotlib inline
            import matplotlib.pyplot as plt
            plt.rcParams["figure.dpi"] = 60
            """,
        ),
        code(
            "path",
            """
            raw_path = os.path.expanduser("~/Downloads/kc_house_data_2023.csv")
            os.path.exists(raw_path)
            """,
        ),
        code(
            "generate",
            """
            if os.path.exists(raw_path):
                houses = pd.read_csv(raw_path, parse_dates=["date"])
            else:
                # VPN blocks the download from the notebook server, so fake a table with the same columns
                n = 3000
                neighborhoods = ["Downtown", "Riverside", "Hillcrest", "Oakwood", "Lakeview", "Industrial"]
                premium = {"Downtown": 1.35, "Riverside": 1.15, "Hillcrest": 1.25,
                           "Oakwood": 1.0, "Lakeview": 1.3, "Industrial": 0.8}
                hood = np.random.choice(neighborhoods, size=n, p=[0.15, 0.2, 0.15, 0.25, 0.1, 0.15])
                sqft_living = np.random.lognormal(mean=7.5, sigma=0.35, size=n).round()
                bedrooms = np.clip(np.round(sqft_living / 600 + np.random.normal(0, 0.8, n)), 1, 8).astype(int)
                bathrooms = np.clip(np.round((bedrooms * 0.6 + np.random.normal(0, 0.5, n)) * 2) / 2, 1, 5)
                sqft_lot = np.random.lognormal(mean=8.8, sigma=0.6, size=n).round()
                floors = np.random.choice([1, 1.5, 2, 3], size=n, p=[0.45, 0.1, 0.4, 0.05])
                yr_built = np.random.randint(1900, 2023, size=n)
                yr_renovated = np.where(np.random.rand(n) < 0.12, np.random.randint(1990, 2023, size=n), 0)
                yr_renovated = np.where(yr_renovated < yr_built, 0, yr_renovated)
                condition = np.random.choice([1, 2, 3, 4, 5], size=n, p=[0.02, 0.08, 0.55, 0.25, 0.10])
                waterfront = (np.random.rand(n) < 0.03).astype(int)
                garage = np.random.choice([0, 1, 2, 3], size=n, p=[0.2, 0.35, 0.4, 0.05])
                date = pd.to_datetime("2023-01-01") + pd.to_timedelta(np.random.randint(0, 365, size=n), unit="D")
                age = 2023 - np.maximum(yr_built, yr_renovated)
                price = (
                    300 * sqft_living ** 0.95
                    * np.array([premium[h] for h in hood])
                    * (1 + 0.04 * (condition - 3))
                    * (1 + 0.5 * waterfront)
                    * (1 - 0.002 * age)
                    * (1 + 0.03 * garage)
                    * np.exp(np.random.normal(0, 0.12, n))
                ).round(-3)
                houses = pd.DataFrame({
                    "id": np.arange(1, n + 1) * 7 + 1000000,
                    "date": date,
                    "price": price,
                    "bedrooms": bedrooms,
                    "bathrooms": bathrooms,
                    "sqft_living": sqft_living,
                    "sqft_lot": sqft_lot,
                    "floors": floors,
                    "waterfront": waterfront,
                    "condition": condition,
                    "garage": garage,
                    "yr_built": yr_built,
                    "yr_renovated": yr_renovated,
                    "neighborhood": hood,
                })
                # the real export has junk rows: sqft typed in hundreds, a few 33-bedroom houses
                bad = np.random.choice(n, 12, replace=False)
                houses.loc[bad[:6], "sqft_living"] = houses.loc[bad[:6], "sqft_living"] / 100
                houses.loc[bad[6:], "bedrooms"] = 33
                houses.loc[np.random.rand(n) < 0.04, "sqft_lot"] = np.nan
            print(houses.shape)
            houses.head()
            """,
        ),
        code("describe", "houses.describe().T"),
        md("## Cleaning"),
        code(
            "price_k",
            """
            # prices in k$ -- careful, don't run twice!!
            houses["price"] = houses["price"] / 1000
            """,
        ),
        code(
            "clean",
            """
            print(houses.isnull().sum())
            houses = houses[(houses.sqft_living > 300) & (houses.bedrooms < 15)]
            houses = houses.reset_index(drop=True)
            """,
        ),
        md("## Features"),
        code(
            "features",
            """
            CURRENT_YEAR=2023
            houses["age"] = CURRENT_YEAR - houses["yr_built"]
            houses["renovated"] = (houses.yr_renovated>0).astype(int)
            houses["years_since_reno"] = np.where(houses.renovated==1, CURRENT_YEAR-houses.yr_renovated, houses.age)
            houses["log_sqft"] = np.log(houses.sqft_living)
            houses["bath_per_bed"] = houses.bathrooms/houses.bedrooms.replace(0,1)
            houses["month"] = houses.date.dt.month
            houses[["age","renovated","log_sqft","bath_per_bed"]].describe()
            """,
        ),
        code(
            "eda_plot",
            """
            fig, axes = plt.subplots(1, 2, figsize=(9, 3))
            axes[0].scatter(houses.sqft_living, houses.price, s=3, alpha=0.4)
            axes[0].set_xlabel("sqft_living"); axes[0].set_ylabel("price (k$)")
            houses.groupby("neighborhood").price.median().sort_values().plot.barh(ax=axes[1])
            axes[1].set_title("median price by neighborhood")
            plt.tight_layout()
            """,
        ),
        code(
            "xy",
            """
            X = pd.get_dummies(houses.drop(columns=["price", "id", "date", "yr_renovated"]), columns=["neighborhood"], drop_first = True, dtype=float)
            y = np.log(houses["price"])
            X.shape
            """,
        ),
        code(
            "split",
            """
            from sklearn.model_selection import train_test_split
            X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
            len(X_train), len(X_test)
            """,
        ),
        md("## Ridge regression"),
        code(
            "ridge_fail",
            """
            from sklearn.linear_model import Ridge
            ridge = Ridge(alpha=1.0)
            ridge.fit(X_train, y_train)
            """,
            raises=True,
        ),
        code(
            "fillna",
            """
            # lot size is missing for condos -> fill with the train median
            lot_median = X_train["sqft_lot"].median()
            X_train = X_train.fillna({"sqft_lot": lot_median})
            X_test = X_test.fillna({"sqft_lot": lot_median})
            """,
        ),
        code(
            "alpha",
            """
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler
            from sklearn.linear_model import RidgeCV
            cv = make_pipeline(StandardScaler(), RidgeCV(alphas=np.logspace(-3, 3, 25))).fit(X_train, y_train)
            best_alpha = cv[-1].alpha_
            best_alpha
            """,
        ),
        code(
            "ridge",
            """
            ridge = make_pipeline(StandardScaler(), Ridge(alpha=best_alpha))
            ridge.fit(X_train, y_train)
            pred = ridge.predict(X_test)
            rmse = np.sqrt(mean_squared_error(np.exp(y_test), np.exp(pred)))
            print("Ridge RMSE (k$):", round(rmse, 1))
            print("R2 (log price):", round(r2_score(y_test, pred), 3))
            """,
        ),
        code(
            "rf",
            """
            from sklearn.ensemble import RandomForestRegressor
            %time rf = RandomForestRegressor(n_estimators=150, min_samples_leaf=2, n_jobs=-1).fit(X_train, y_train)
            rf_pred = rf.predict(X_test)
            print("RF RMSE (k$):", round(np.sqrt(mean_squared_error(np.exp(y_test), np.exp(rf_pred))), 1))
            """,
        ),
        code(
            "resid",
            """
            resid = np.exp(y_test) - np.exp(pred)
            fig, ax = plt.subplots(figsize=(5, 3))
            ax.scatter(np.exp(pred), resid, s=4, alpha=0.5)
            ax.axhline(0, color="k", lw=1)
            ax.set_xlabel("predicted price (k$)"); ax.set_ylabel("residual (k$)")
            """,
        ),
        code(
            "coefs",
            """
            coefs = pd.Series(ridge[-1].coef_, index=X.columns).sort_values()
            coefs
            """,
        ),
        md(
            """
            ## Results

            * ridge on log(price), scaled features: RMSE about {ridge_rmse} k$ on the test set
              (R2 {ridge_r2} on log price)
            * random forest: RMSE about {rf_rmse} k$, slower and no better
            * size, waterfront and the neighborhood dummies dominate; renovation barely matters
            * TODO: ask the data team about the 33-bedroom rows; try log(sqft_lot); get the real export
            """,
            label="results",
        ),
    ],
    run=[
        "imports",
        "plots",
        "path",
        "generate",
        "describe",
        "price_k",
        ("clean", HOUSE_CLEAN_AS_RUN),  # saved source was edited afterwards, never re-run
        "describe",  # re-run after cleaning to check the ranges
        "features",
        "eda_plot",
        "xy",
        "split",
        "ridge_fail",
        "fillna",
        "alpha",
        "ridge",
        "rf",
        "resid",
        "coefs",
    ],
    plants={
        "NB101": "the first cell ({imports}) is code; the only intro ({intro}) is plain text, "
        "no H1 title anywhere",
        "NB108": "{generate} (data simulation) is over 40 lines",
        "NB201": "{describe} was re-run after {clean}, so its count is higher than the counts "
        "of the cells below it",
        "NB203": "the first run of {describe} left a gap in the counts",
        "NB207": "{clean}'s saved source ends with an assignment "
        "(`houses = houses.reset_index(drop=True)`) but it keeps an execute_result "
        "(the shape tuple) from the version that ended with `houses.shape`: edited after it ran",
        "NB208": "{ridge_fail} keeps a ValueError traceback (Ridge on NaN lot sizes), fixed in "
        "{fillna}",
        "NB209": "{describe}'s last execution read `houses` as rebound by {clean} (and mutated "
        "by {price_k}), later cells, not the {generate} that document order gives",
        "NB210": '{price_k}: houses["price"] = houses["price"] / 1000 (running it twice '
        "divides twice); also {clean} and {fillna} rebind names they read",
        "NB301": '{path}: "~/Downloads/kc_house_data_2023.csv" (home-relative; guarded in '
        "{generate})",
        "NB303": "no cell is tagged `parameters` (and there is no obvious candidate)",
        "NB304": "{generate} uses np.random.* with no seed; {split}: train_test_split without "
        "random_state; {rf}: RandomForestRegressor without random_state",
        "NB501": "{imports}: `from sklearn.metrics import *`",
        "NB502": "imports in later cells: {plots}, {split}, {ridge_fail}, {alpha}, {rf}",
        "F401": "{imports}: `sys` is imported and never used",
        "FMT001": "black would reformat {features} (`CURRENT_YEAR=2023`, `yr_renovated>0`, "
        "`replace(0,1)`), {xy} (`drop_first = True`), the long lines in {generate}...",
    },
    incidental={
        "NB507": "no function definitions in {n_code} code cells (whether it is 'long' depends on "
        "the threshold)",
        "E401": "{imports}: `import os, sys` (two modules on one line), when E401 is selected",
        "F403": "{imports}: `from sklearn.metrics import *`, when F403 is selected",
        "F405": "mean_squared_error / r2_score in {ridge}, {rf} may come from the star import",
        "E702": "`;` between statements in {eda_plot} and {resid}",
    },
)

# --------------------------------------------------------------------------------------------
# 3. sales_forecast.ipynb
# --------------------------------------------------------------------------------------------
SALES_SPLIT = """
cutoff = "2023-09-01"
train = feats[feats.date < cutoff]
test = feats[feats.date >= cutoff]
len(train), len(test)
""".strip()

SALES = Spec(
    filename="sales_forecast.ipynb",
    title="Daily sales forecast",
    story=(
        "A quick forecast for a planning meeting: three years of daily sales for one store, "
        "generated with numpy (trend, weekly and yearly seasonality, promotions, noise, a few "
        "missing days), interpolated, turned into lag / rolling / calendar features by a "
        "`make_features` function, split by date, and scored with MAPE for a seasonal-naive "
        "baseline, a linear regression and gradient boosting; the boosted model then forecasts "
        "the next 28 days recursively, and the forecast is plotted and saved to CSV. Only two "
        "markdown cells, AWS credentials pasted into the environment, warnings silenced, a shell "
        "`!mkdir`, and a `max` that shadows the builtin. The summary plot was run before "
        "`describe()`, and the split was re-run with a later cutoff (then the models)."
    ),
    cells=[
        md(
            """
            # Daily sales forecast - store 12
            quick model for the planning meeting: forecast the next 4 weeks of daily sales
            """,
            label="title",
        ),
        code(
            "imports",
            """
            import numpy as np
            import pandas as pd
            import warnings
            warnings.filterwarnings("ignore")
            """,
        ),
        code(
            "creds",
            """
            import os
            # TODO ask Raj for read-only creds, these are mine
            os.environ["AWS_ACCESS_KEY_ID"] = "AKIAIOSFODNN7EXAMPLE"
            os.environ["AWS_SECRET_ACCESS_KEY"] = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
            """,
        ),
        code("mkdir", "!mkdir -p output/plots"),
        code(
            "generate",
            """
            np.random.seed(7)
            dates = pd.date_range("2021-01-01", "2023-12-31", freq="D")
            n = len(dates)
            trend = np.linspace(220, 340, n)
            weekly = np.array([0, -8, -5, 0, 15, 45, 30])[dates.dayofweek]
            yearly = 35 * np.sin(2 * np.pi * (dates.dayofyear - 100) / 365.25)
            promo = np.random.binomial(1, 0.08, n)
            noise = np.random.normal(0, 12, n)
            sales = pd.DataFrame({"date": dates, "sales": (trend + weekly + yearly + 60 * promo + noise).round(1), "promo": promo})
            # till outages -> missing days
            sales.loc[np.random.choice(n, 15, replace=False), "sales"] = np.nan
            sales.head(10)
            """,
        ),
        code("describe", "sales.describe()"),
        code(
            "plot",
            """
            import matplotlib.pyplot as plt
            %matplotlib inline
            plt.rcParams["figure.dpi"] = 60
            ax = sales.plot(x="date", y="sales", figsize=(9, 3), lw=0.6, legend=False)
            """,
        ),
        code(
            "interpolate",
            """
            sales["sales"] = sales["sales"].interpolate()
            sales.isna().sum()
            """,
        ),
        code(
            "make_features",
            """
            LAGS = [1, 7, 14, 28]

            def make_features(df):
                out = df.copy()
                for l in LAGS:
                    out[f"lag_{l}"] = out["sales"].shift(l)
                out["rolling_7"] = out["sales"].shift(1).rolling(7).mean()
                out["dow"] = out["date"].dt.dayofweek
                out["month"] = out.date.dt.month
                return out.dropna()
            """,
        ),
        code(
            "feats",
            """
            feats = make_features(sales)
            print(feats.shape)
            feats.tail()
            """,
        ),
        code("split", SALES_SPLIT),
        code(
            "mape",
            """
            def mape(y_true, y_pred):
                return np.mean(np.abs((y_true - y_pred) / y_true)) * 100

            print("seasonal naive (same day last week) MAPE: %.2f%%" % mape(test.sales, test.lag_7))
            """,
        ),
        code(
            "linreg",
            """
            from sklearn.linear_model import LinearRegression
            features = [c for c in feats.columns if c not in ("date","sales")]
            lin = LinearRegression().fit(train[features], train.sales)
            print("linreg MAPE: %.2f%%" % mape(test.sales, lin.predict(test[features])))
            """,
        ),
        code(
            "gbr",
            """
            from sklearn.ensemble import GradientBoostingRegressor
            %time gbr = GradientBoostingRegressor(n_estimators=300, max_depth=3, learning_rate=0.05, random_state=0).fit(train[features], train.sales)
            gbr_pred = gbr.predict(test[features])
            print("GBR MAPE: %.2f%%" % mape(test.sales, gbr_pred))
            """,
        ),
        code(
            "plot_test",
            """
            fig, ax = plt.subplots(figsize=(9, 3))
            ax.plot(test.date, test.sales, label="actual", lw=1)
            ax.plot(test.date, gbr_pred, label="GBR", lw=1)
            ax.plot(test.date, test.lag_7, label="naive", lw=1, alpha=0.6)
            ax.legend()
            plt.savefig("output/plots/test_period.png")
            """,
        ),
        code(
            "peak",
            """
            max = test.sales.max()
            print("peak day in the test period:", test.loc[test.sales.idxmax(), "date"].date(), max)
            """,
        ),
        code(
            "forecast",
            """
            HORIZON = 28
            hist = sales.set_index("date")["sales"].copy()
            future = {}
            for d in pd.date_range(hist.index.max() + pd.Timedelta(days=1), periods=HORIZON):
                row = {"promo": 0, "dow": d.dayofweek, "month": d.month}
                for l in LAGS:
                    row[f"lag_{l}"] = hist[d - pd.Timedelta(days=l)]
                row["rolling_7"] = hist[d - pd.Timedelta(days=7):d - pd.Timedelta(days=1)].mean()
                yhat = gbr.predict(pd.DataFrame([row])[features])[0]
                hist[d] = yhat
                future[d] = yhat
            forecast = pd.Series(future, name="forecast").round(1)
            forecast.head(7)
            """,
        ),
        code(
            "plot_forecast",
            """
            fig, ax = plt.subplots(figsize=(9, 3))
            sales.set_index("date").sales["2023-10-01":].plot(ax=ax, label="history")
            forecast.plot(ax=ax, label="forecast", style="--")
            ax.legend()
            plt.show()
            """,
        ),
        code(
            "save",
            """
            forecast.to_csv("output/forecast_store12.csv")
            print("saved", len(forecast), "days to output/forecast_store12.csv")
            """,
        ),
        md(
            """
            notes for the meeting: GBR beats the seasonal naive baseline ({naive_mape}% -> {gbr_mape}% MAPE on Sep-Dec 2023), linreg about the same ({lin_mape}%??).
            forecast for Jan 2024 is in output/forecast_store12.csv (send to Priya).
            TODO: holidays, 2024 promo calendar, prediction intervals, try prophet?
            """,
            label="notes",
        ),
    ],
    run=[
        "imports",
        "creds",
        "mkdir",
        "generate",
        "plot",
        "describe",  # plotted first, looked at the numbers afterwards
        "interpolate",
        "make_features",
        "feats",
        ("split", SALES_SPLIT.replace("2023-09-01", "2023-07-01")),  # first cutoff
        "mape",
        "linreg",
        "split",
        "mape",
        "linreg",  # moved the cutoff to September, re-ran split and models
        "gbr",
        "plot_test",
        "peak",
        "forecast",
        "plot_forecast",
        "save",
    ],
    plants={
        "NB103": "{n_markdown} markdown cells ({title}, {notes}) for {n_code} code cells",
        "NB109": "{n_code} code cells and no section headings: the only heading is the H1 in {title}",
        "NB201": "{plot} ran before {describe}, which is above it",
        "NB203": "the first runs of {split}, {mape} and {linreg} (cutoff changed) left gaps",
        "NB303": "no cell is tagged `parameters` (and there is no obvious candidate)",
        "NB305": "{mkdir}: `!mkdir -p output/plots`",
        "NB401": '{creds}: AWS access key id "AKIAIOSFODNN7EXAMPLE" and secret '
        '"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY" (AWS\'s documented example key pair; it '
        "must be flagged all the same)",
        "NB502": "imports in later cells: {creds}, {plot}, {linreg}, {gbr}",
        "NB503": "`make_features` in {make_features} reads the notebook global LAGS",
        "NB506": '{imports}: warnings.filterwarnings("ignore")',
        "NB508": "{peak}: `max = test.sales.max()` shadows the builtin",
        "FMT001": 'black would reformat {generate}, {linreg} (`("date","sales")`), {gbr}, '
        "{forecast} (slice spacing)...",
    },
    incidental={
        "NB210": '{interpolate}: sales["sales"] = sales["sales"].interpolate()',
        "E501": "long lines in {generate}, {gbr}",
        "E741": "`for l in LAGS` in {make_features} and {forecast} (ambiguous name `l`), when "
        "E741 is selected",
    },
)

# --------------------------------------------------------------------------------------------
# 4. wine_classifier.ipynb -- the tidy control
# --------------------------------------------------------------------------------------------
WINE = Spec(
    filename="wine_classifier.ipynb",
    title="Wine cultivar classifier (tidy control)",
    story=(
        "The control: a small, tidy notebook that classifies the 178 wines of scikit-learn's "
        "bundled wine data into three cultivars with a scaled logistic regression and plots its "
        "coefficients. Title and closing text, section headings, all imports in the first cell, "
        "a cell tagged `parameters`, seeded, functions that take their inputs as arguments, run "
        "once top to bottom, black- and ruff-clean. nbops should report nothing here with its "
        "default settings; a finding on it is a false positive (or a deliberate rule change)."
    ),
    cells=[
        md(
            """
            # Wine cultivar classifier

            Classify wines into their three cultivars from 13 chemical measurements (the UCI wine
            data bundled with scikit-learn). This notebook is the tidy reference example.
            """
        ),
        code(
            "imports",
            """
            import matplotlib.pyplot as plt
            import pandas as pd
            from sklearn.datasets import load_wine
            from sklearn.linear_model import LogisticRegression
            from sklearn.metrics import accuracy_score, confusion_matrix
            from sklearn.model_selection import train_test_split
            from sklearn.pipeline import make_pipeline
            from sklearn.preprocessing import StandardScaler
            """,
        ),
        code(
            "params",
            """
            TEST_SIZE = 0.25
            SEED = 0
            C = 1.0
            """,
            tags=("parameters",),
        ),
        md(
            """
            ## Data

            178 wines, 13 measurements each, three classes of roughly equal size.
            """
        ),
        code(
            "load",
            """
            def load_data():
                \"\"\"Return the measurements and the cultivar labels.\"\"\"
                bunch = load_wine(as_frame=True)
                return bunch.data, bunch.target


            features, target = load_data()
            features.shape
            """,
        ),
        code("describe", "features.describe().T.round(2)"),
        md(
            """
            ## Model

            Standardize the measurements, then fit a multinomial logistic regression on a
            stratified split.
            """
        ),
        code(
            "train",
            """
            def train_model(x_train, y_train, c, seed):
                \"\"\"Fit a standardized logistic regression.\"\"\"
                model = make_pipeline(
                    StandardScaler(),
                    LogisticRegression(C=c, max_iter=1000, random_state=seed),
                )
                return model.fit(x_train, y_train)


            x_train, x_test, y_train, y_test = train_test_split(
                features, target, test_size=TEST_SIZE, random_state=SEED, stratify=target
            )
            model = train_model(x_train, y_train, C, SEED)
            """,
        ),
        code(
            "evaluate",
            """
            predictions = model.predict(x_test)
            print(f"accuracy: {accuracy_score(y_test, predictions):.3f}")
            confusion_matrix(y_test, predictions)
            """,
        ),
        md(
            """
            ## Which measurements matter

            The size of each standardized coefficient, averaged over the three classes.
            """
        ),
        code(
            "plot",
            """
            def plot_importance(model, names):
                \"\"\"Bar chart of the mean absolute coefficient of each feature.\"\"\"
                coefs = model[-1].coef_
                importance = pd.Series(abs(coefs).mean(axis=0), index=names).sort_values()
                fig, ax = plt.subplots(figsize=(5, 3.5), dpi=60)
                importance.plot.barh(ax=ax)
                ax.set_xlabel("mean |coefficient|")
                fig.tight_layout()
                return fig


            fig = plot_importance(model, features.columns)
            """,
        ),
        md(
            """
            ## Conclusion

            A standardized logistic regression separates the three cultivars very well
            (accuracy {wine_acc} on the held-out quarter). Proline, flavanoids, alcohol and
            colour intensity carry the most weight.
            """,
            label="conclusion",
        ),
    ],
    run=["imports", "params", "load", "describe", "train", "evaluate", "plot"],
    plants={},
)

SPECS = [CHURN, HOUSE, SALES, WINE]


# --------------------------------------------------------------------------------------------
# Building and executing
# --------------------------------------------------------------------------------------------
def _cell_id(filename: str, position: int) -> str:
    return hashlib.sha1(f"{filename}:{position}".encode()).hexdigest()[:8]


def _new_cell(spec: Spec, position: int, cell: Cell) -> nbformat.NotebookNode:
    if cell.kind == "markdown":
        node = nbformat.v4.new_markdown_cell(cell.source)
    else:
        node = nbformat.v4.new_code_cell(cell.source)
    node.id = _cell_id(spec.filename, position)
    if cell.tags:
        node.metadata["tags"] = list(cell.tags)
    return node


def _check_kernel() -> None:
    from jupyter_client.kernelspec import KernelSpecManager

    if KERNEL_NAME not in KernelSpecManager().find_kernel_specs():
        sys.exit(
            f"no '{KERNEL_NAME}' kernelspec; register one with:\n"
            f"  {sys.executable} -m ipykernel install --user --name {KERNEL_NAME}"
        )


def execute(spec: Spec, workdir: Path) -> nbformat.NotebookNode:
    """Build the notebook, run its steps through a fresh kernel, drop deleted cells."""
    nb = nbformat.v4.new_notebook()
    nb.nbformat, nb.nbformat_minor = 4, 5
    nb.cells = [_new_cell(spec, i, c) for i, c in enumerate(spec.cells)]
    by_label = {c.label: i for i, c in enumerate(spec.cells) if c.label}

    client = NotebookClient(
        nb,
        kernel_name=KERNEL_NAME,
        timeout=120,
        allow_errors=True,
        record_timing=False,
        coalesce_streams=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    env = dict(os.environ, PYTHONHASHSEED="0")
    env.pop("MPLBACKEND", None)
    with client.setup_kernel(env=env):
        assert client.kc is not None
        info = client.wait_for_reply(client.kc.kernel_info())
        nb.metadata["language_info"] = info["content"]["language_info"]
        # seed the global generators without an execution count (see the module docstring)
        reply = client.wait_for_reply(
            client.kc.execute(SEED_SNIPPET, silent=True, store_history=False)
        )
        if reply is None or reply["content"]["status"] != "ok":
            raise RuntimeError(f"seeding the kernel failed: {reply}")

        last_step = {(s if isinstance(s, str) else s[0]): i for i, s in enumerate(spec.run)}
        for i, step in enumerate(spec.run):
            label, source = (step, None) if isinstance(step, str) else step
            index = by_label[label]
            node = nb.cells[index]
            saved = node.source
            if source is not None:
                node.source = source
            client.execute_cell(node, index)
            node.source = saved
            errors = [o for o in node.outputs if o.output_type == "error"]
            if errors and not spec.cells[index].raises:
                tb = "\n".join(errors[0].get("traceback", []))
                raise RuntimeError(f"{spec.filename}: cell {label!r} raised unexpectedly:\n{tb}")
            if not errors and spec.cells[index].raises and i == last_step[label]:
                raise RuntimeError(f"{spec.filename}: cell {label!r} was expected to raise")

    nb.metadata["kernelspec"] = dict(KERNELSPEC)
    nb.cells = [node for node, c in zip(nb.cells, spec.cells) if not c.deleted]
    return nb


def cell_numbers(spec: Spec) -> dict[str, int]:
    """1-based numbers of the saved cells (deleted cells removed), as nbops shows them."""
    saved = [c for c in spec.cells if not c.deleted]
    return {c.label: i + 1 for i, c in enumerate(saved) if c.label}


def _resolve(spec: Spec, note: str) -> str:
    numbers = cell_numbers(spec)
    saved = [c for c in spec.cells if not c.deleted]
    counts = {
        "n_code": str(sum(c.kind == "code" for c in saved)),
        "n_markdown": str(sum(c.kind == "markdown" for c in saved)),
    }

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        return counts[name] if name in counts else f"cell {numbers[name]}"

    return re.sub(r"\{(\w+)\}", sub, note)


# --------------------------------------------------------------------------------------------
# Numbers quoted in the closing markdown cells come from the executed outputs
# --------------------------------------------------------------------------------------------
def _stream_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                parts.append(out.text)
    return "".join(parts)


def _fill_quoted_numbers(spec: Spec, nb: nbformat.NotebookNode) -> None:
    text = _stream_text(nb)
    values: dict[str, str] = {}
    patterns = {
        "ridge_rmse": r"Ridge RMSE \(k\$\): ([\d.]+)",
        "ridge_r2": r"R2 \(log price\): ([\d.]+)",
        "rf_rmse": r"RF RMSE \(k\$\): ([\d.]+)",
        "naive_mape": r"seasonal naive \(same day last week\) MAPE: ([\d.]+)%",
        "gbr_mape": r"GBR MAPE: ([\d.]+)%",
        "lin_mape": r"linreg MAPE: ([\d.]+)%",
        "wine_acc": r"accuracy: ([\d.]+)",
    }
    for key, pattern in patterns.items():
        found = re.findall(pattern, text)
        if found:
            value = found[-1]
            values[key] = str(round(float(value))) if key.endswith("rmse") else value
    for cell in nb.cells:
        if cell.cell_type == "markdown" and "{" in cell.source:
            cell.source = re.sub(
                r"\{(\w+)\}", lambda m: values.get(m.group(1), m.group(0)), cell.source
            )
            if re.search(r"\{\w+\}", cell.source):
                raise RuntimeError(f"{spec.filename}: unfilled placeholder in {cell.source!r}")


# --------------------------------------------------------------------------------------------
# Checks: the planted structural problems are really in the written files
# --------------------------------------------------------------------------------------------
def _code_cells(nb: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [c for c in nb.cells if c.cell_type == "code"]


def _structural_checks(nb: nbformat.NotebookNode) -> dict[str, bool]:
    cells = nb.cells
    code_cells = _code_cells(nb)
    counts = [c.execution_count for c in code_cells if c.execution_count is not None]
    first = cells[0] if cells else None
    outputs_text = json.dumps([c.get("outputs", []) for c in code_cells])
    return {
        "NB101": not (
            first is not None
            and first.cell_type == "markdown"
            and any(line.startswith("# ") for line in first.source.splitlines())
        ),
        "NB102": bool(cells) and cells[-1].cell_type != "markdown",
        "NB107": any(not c.source.strip() for c in cells),
        "NB108": any(len(c.source.splitlines()) > 40 for c in code_cells),
        "NB201": any(b < a for a, b in itertools.pairwise(counts)),
        "NB202": bool(counts)
        and any(c.execution_count is None and c.source.strip() for c in code_cells),
        "NB203": bool(counts) and sorted(counts) != list(range(1, len(counts) + 1)),
        "NB208": any(o.output_type == "error" for c in code_cells for o in c.outputs),
        "NB303": not any("parameters" in c.metadata.get("tags", []) for c in cells),
        "NB402": "sk_live_" in outputs_text or "AKIA" in outputs_text,
    }


def _tool(name: str) -> str | None:
    candidate = Path(sys.executable).parent / name
    return str(candidate) if candidate.exists() else shutil.which(name)


def _ruff_codes(path: Path) -> set[str] | None:
    ruff = _tool("ruff")
    if ruff is None:
        return None
    proc = subprocess.run(
        [
            ruff,
            "check",
            "--isolated",
            "--no-cache",
            "--output-format",
            "json",
            "--exit-zero",
            str(path),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    return {item["code"] for item in json.loads(proc.stdout) if item.get("code")}


def _black_would_change(path: Path) -> bool | None:
    black = _tool("black")
    if black is None:
        return None
    proc = subprocess.run(
        [black, "--check", "--quiet", str(path)], capture_output=True, text=True, check=False
    )
    if proc.returncode == 123:
        raise RuntimeError(f"black failed on {path}: {proc.stderr}")
    return proc.returncode == 1


def check(spec: Spec, path: Path) -> list[str]:
    """Problems with the written notebook: planted findings missing, or the control unclean."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    problems = []
    structural = _structural_checks(nb)
    for code_, present in structural.items():
        if code_ in spec.plants and not present:
            problems.append(f"{spec.filename}: planted {code_} not found")
        if not spec.plants and present:
            problems.append(f"{spec.filename}: control notebook has {code_}")
    ruff_codes = _ruff_codes(path)
    if ruff_codes is not None:
        planted = {
            c
            for c in spec.plants
            if re.fullmatch(r"[A-Z]+\d+", c) and not c.startswith(("NB", "FMT"))
        }
        for code_ in sorted(planted - ruff_codes):
            problems.append(f"{spec.filename}: planted ruff {code_} not reported by ruff")
        if not spec.plants and ruff_codes:
            problems.append(
                f"{spec.filename}: control notebook has ruff findings {sorted(ruff_codes)}"
            )
    changes = _black_would_change(path)
    if changes is not None:
        if "FMT001" in spec.plants and not changes:
            problems.append(f"{spec.filename}: planted FMT001 but black is happy")
        if not spec.plants and changes:
            problems.append(f"{spec.filename}: control notebook is not black-formatted")
    return problems


# --------------------------------------------------------------------------------------------
# Generated documentation
# --------------------------------------------------------------------------------------------
def write_expected(specs: list[Spec]) -> None:
    data: dict[str, Any] = {}
    notes: dict[str, dict[str, str]] = {}
    incidental: dict[str, dict[str, str]] = {}
    for spec in specs:
        data[spec.filename] = sorted(spec.plants)
        notes[spec.filename] = {k: _resolve(spec, v) for k, v in sorted(spec.plants.items())}
        if spec.incidental:
            incidental[spec.filename] = {
                k: _resolve(spec, v) for k, v in sorted(spec.incidental.items())
            }
    notes["_about"] = {
        "cells": "cell numbers are 1-based positions among all cells (markdown included) of "
        "the saved notebook, as nbops reports them",
        "ruff": "F401 is ruff's unused-import, in ruff's default rule selection (old and new); "
        "other ruff codes planted (E711, E401, F403, E741) depend on the selected rules and are "
        "under _incidental. FMT001 is black's format check with black's defaults",
        "control": "wine_classifier.ipynb is the tidy control: it lists no code because nbops "
        "should report nothing on it with default settings. Its functions read only their "
        "parameters and imported names (plt, pd, sklearn classes): imports are not the globals "
        "NB503 is about",
        "source": "generated by examples/tools/build_examples.py from the annotations next to "
        "each notebook's cells",
    }
    data["_notes"] = notes
    data["_incidental"] = {
        "_about": "also present, but whether nbops reports them depends on thresholds or on "
        "how rules split a case; not required",
        **incidental,
    }
    (EXAMPLES / "expected_findings.json").write_text(json.dumps(data, indent=2) + "\n")


def _first_cell(note: str) -> int:
    found = [int(n) for n in re.findall(r"cell (\d+)", note)]
    return min(found) if found else 0


def write_readme(specs: list[Spec]) -> None:
    lines = [
        "# Example notebooks",
        "",
        (
            "Realistic, messy data-science notebooks: the demo and the test bed of every nbops "
            "feature. Each runs offline in a few seconds on numpy, pandas, scikit-learn and "
            "matplotlib, with a real load -> clean -> features -> train -> evaluate flow, and each "
            "has problems planted on purpose. `expected_findings.json` lists, per notebook, the rule "
            "codes nbops must report (`_notes` says where each one is, `_incidental` lists extras "
            "that depend on thresholds)."
        ),
        "",
        (
            "Cell numbers below are 1-based positions among all cells, markdown included, as "
            "nbops reports them; each notebook's problems are listed in cell order. Codes in "
            "bold must be reported; those marked 'may be reported' are there too but depend on "
            "thresholds or on the selected ruff rules."
        ),
        "",
        "## Rebuilding",
        "",
        (
            "The `.ipynb` files, this README and `expected_findings.json` are generated: "
            "`tools/build_examples.py` holds every cell as text, executes the cells through a "
            "real kernel in a deliberately human order (out of order, re-runs, a cell run and "
            "then deleted, a cell edited after it ran, a cell never run, cells that raised), so "
            "execution counts, outputs and tracebacks are genuine, then writes the files and "
            "checks that the planted problems are really there. Edit the script, not the "
            "notebooks, and run `/work/venv/bin/python examples/tools/build_examples.py` (about "
            "20 s on 2 cores; `--check` only re-checks). It needs nbformat, nbclient, ipykernel, "
            "numpy, pandas, scikit-learn and matplotlib (`pip install -e '.[examples]'`) and a "
            "`python3` kernelspec (if `jupyter kernelspec list` shows none: `python -m ipykernel "
            "install --user --name python3`). Builds are identical apart from `%time` / `%%time` "
            "timings: cell ids are derived from positions, and the kernel's global random "
            "generators are seeded by a silent request that leaves no trace in the notebook, so "
            "even the deliberately unseeded notebook gives the same numbers."
        ),
        "",
    ]
    for spec in specs:
        lines += [f"## `{spec.filename}` - {spec.title}", "", spec.story, ""]
        if spec.plants:
            lines.append("Planted problems:")
            lines.append("")
            entries = [(code_, _resolve(spec, note), True) for code_, note in spec.plants.items()]
            entries += [(c, _resolve(spec, n), False) for c, n in spec.incidental.items()]
            entries.sort(key=lambda e: (_first_cell(e[1]), not e[2], e[0]))
            for code_, note, required in entries:
                shown = f"**{code_}**" if required else f"({code_}, may be reported)"
                lines.append(f"- {shown}: {note}")
            lines.append("")
    (EXAMPLES / "README.md").write_text("\n".join(lines))


# --------------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="build only notebooks whose name contains this")
    parser.add_argument("--check", action="store_true", help="only check the written notebooks")
    args = parser.parse_args(argv)

    chosen = [s for s in SPECS if not args.only or any(o in s.filename for o in args.only)]
    if not args.check:
        _check_kernel()
        for spec in chosen:
            start = time.perf_counter()
            with tempfile.TemporaryDirectory(prefix="nbops-example-") as tmp:
                nb = execute(spec, Path(tmp))
            _fill_quoted_numbers(spec, nb)
            nbformat.validate(nb)
            nbformat.write(nb, EXAMPLES / spec.filename)
            print(f"built {spec.filename} in {time.perf_counter() - start:.1f}s")
        write_expected(SPECS)
        write_readme(SPECS)

    problems = [p for spec in chosen for p in check(spec, EXAMPLES / spec.filename)]
    for problem in problems:
        print("CHECK FAILED:", problem, file=sys.stderr)
    if not problems:
        print(f"checked {len(chosen)} notebook(s): planted problems present, control clean")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
