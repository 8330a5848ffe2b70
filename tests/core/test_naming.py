"""Tests for nbops.core.naming: readable step names from headings and from what a step produces."""

from __future__ import annotations

import ast
import builtins
import keyword

import pytest

from nbops.core.naming import MAX_LENGTH, heading_name, identifier, produced_name, unique_name


@pytest.mark.parametrize(
    ("heading", "expected"),
    [
        ("Load data!", "load_data"),
        ("Model and evaluation", "model_and_evaluation"),
        ("Cleaning and", "cleaning"),
        ("1. Clean the data", "clean_data"),
        ("2) Clean", "clean"),
        ("3.2 Feature engineering", "feature_engineering"),
        ("Step 2: Load the sales data", "load_sales_data"),
        ("STEP 3 - Train", "train"),
        ("Part II - Feature engineering", "feature_engineering"),
        ("Part 1, Step 2: Split", "split"),
        ("II. Exploration", "exploration"),
        ("a) Load", "load"),
        ("Q1. Which customers churn?", "customers_churn"),
        ("Exercise: train a model", "train_model"),
        ("Data: 178 wines, 13 measurements each", "data"),
        ("Train / evaluate (v2)", "train_evaluate"),
        ("Loading, cleaning and joining the customer tables", "loading_cleaning_and_joining"),
        ("Let's look at the data. It has 13 columns", "look_data"),
        ("Données brutes", "donnees_brutes"),
        ("DataLoading with XGBoost", "data_loading_xgboost"),
        ("**Load** the `csv`", "load_csv"),
        ("What is this?", "what_is_this"),
        ("???", ""),
        ("2024", ""),
        ("Step 1", ""),
        ("Part II.", ""),
        (
            (
                "3.2 Training a Random Forest classifier on the balanced training set with "
                "five-fold cross validation and early stopping"
            ),
            "training_random_forest",
        ),
    ],
)
def test_heading_name(heading: str, expected: str) -> None:
    assert heading_name(heading) == expected


@pytest.mark.parametrize(
    "heading",
    [
        "Loading, cleaning and joining the customer, order and product tables from the warehouse",
        "Supercalifragilisticexpialidocious_and_more_words_without_spaces_at_all",
        "Step 12: " + "very " * 40 + "long",
        "Entraînement du modèle de régression logistique multinomiale standardisée",
    ],
)
def test_heading_names_are_short_readable_identifiers(heading: str) -> None:
    name = heading_name(heading)
    assert name.isidentifier() and name == name.lower()
    assert 0 < len(name) <= MAX_LENGTH
    assert "__" not in name and not name.endswith("_")


def code(*sources: str) -> list[ast.Module]:
    return [ast.parse(s) for s in sources]


@pytest.mark.parametrize(
    ("sources", "outputs", "expected"),
    [
        (('sales = pd.read_csv("data/sales.csv")',), ["sales"], "load_sales"),
        (('df = pd.read_csv("data/sales_2024.csv")',), ["df"], "load_sales"),
        (('df = pd.read_csv("x.csv")',), ["df"], "load_data"),
        (("bunch = load_wine(as_frame=True)",), ["bunch"], "load_bunch"),
        (("model = RandomForestClassifier()", "model.fit(x, y)"), ["model"], "train_model"),
        (("clf.fit(x_train, y_train)",), ["clf"], "train_model"),
        (("scaler.fit(x)",), ["scaler"], "fit_scaler"),
        (("lin = LinearRegression().fit(x, y)",), ["lin"], "train_model"),
        (("x_tr, x_te, y_tr, y_te = train_test_split(x, y)",), ["x_tr"], "split_data"),
        (("acc = accuracy_score(y, p)",), [], "score_accuracy"),
        (("acc = accuracy_score(y, p)\nf1 = f1_score(y, p)",), [], "evaluate"),
        (("pred = model.predict(x)",), ["pred"], "predict"),
        (("features = df.drop(columns=['y'])",), ["features"], "make_features"),
        (("plt.plot(history)",), [], "plot_history"),
        (("sns.heatmap(corr)",), [], "plot_corr"),
        (("summary.describe()",), [], "show_summary"),
        (("print(total)",), [], "show_total"),
        (("for i in range(3):\n    pass",), [], ""),
        (("import os",), [], ""),
    ],
)
def test_produced_name(sources: tuple[str, ...], outputs: list[str], expected: str) -> None:
    assert produced_name(code(*sources), outputs) == expected


def test_produced_name_ignores_code_inside_functions() -> None:
    assert produced_name(code("def f():\n    model.fit(x, y)\n"), []) == ""


@pytest.mark.parametrize(
    ("base", "taken", "used", "expected"),
    [
        ("load_data", set(), set(), "load_data"),
        ("model", {"model"}, set(), "model_step"),  # a name the notebook binds
        ("class", set(), set(), "class_step"),  # keyword
        ("filter", set(), set(), "filter_step"),  # builtin
        ("match", set(), set(), "match_step"),  # soft keyword
        ("plot", set(), {"plot"}, "plot_2"),  # another step
        ("plot", set(), {"plot", "plot_2"}, "plot_3"),
        ("model", {"model"}, {"model_step"}, "model_step_2"),
        (
            "training_random_forest_model",
            {"training_random_forest_model"},
            set(),
            "training_random_forest_step",
        ),
    ],
)
def test_unique_name(base: str, taken: set[str], used: set[str], expected: str) -> None:
    name = unique_name(base, taken, used)
    assert name == expected
    assert len(name) <= MAX_LENGTH
    assert not keyword.iskeyword(name) and name not in dir(builtins)


def test_identifier_keeps_every_word() -> None:
    assert identifier("Churn Model v2") == "churn_model_v2"
    assert identifier("01 the data") == "the_data"


def test_produced_name_falls_back_to_what_the_step_calls() -> None:
    # nothing produced, shown or plotted: the first telling call names the step
    assert produced_name(code("hv.extension('bokeh')\n"), []) == "extension"
    assert produced_name(code("os.makedirs(\"out\")\n"), []) == "makedirs"
    # builtins and code inside functions do not name a step
    assert produced_name(code("for i in range(3):\n    pass\n"), []) == ""
