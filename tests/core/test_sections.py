"""Tests for nbops.core.sections: splitting a notebook into pipeline steps."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbops.core.notebook import read_notebook
from nbops.core.sections import Step, StepPlan, plan_steps, step_name
from nbops.core.snippets import notebook_from_snippet

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def plan(text: str) -> StepPlan:
    return plan_steps(notebook_from_snippet(text))


def shape(result: StepPlan) -> list[tuple[str, tuple[int, ...], str]]:
    return [(s.name, s.cells, s.source) for s in result.steps]


def by_name(result: StepPlan) -> dict[str, Step]:
    return {s.name: s for s in result.steps}


TAGS = """
# %%
import pandas as pd
# %% tags=step:load
df = pd.read_csv("x.csv")
# %%
df.head()
# %% tags=step:train
model = fit(df)
"""

HEADINGS = """
# %% [markdown]
# Title
# %%
import pandas as pd
# %% [markdown]
## Load data

Read the export.
# %%
df = pd.read_csv("x.csv")
# %%
df.head()
# %% [markdown]
## Train
# %%
model = fit(df)
"""

CLUSTERS = """
# %%
import pandas as pd
# %%
df = pd.read_csv("x.csv")
# %%
df2 = df.dropna()
# %%
other = pd.DataFrame()
# %%
other.describe()
"""


@pytest.mark.parametrize(
    ("text", "strategy", "expected"),
    [
        (
            TAGS,
            "tags",
            [("setup", (0,), "single"), ("load", (1, 2), "tag"), ("train", (3,), "tag")],
        ),
        (
            HEADINGS,
            "headings",
            [
                ("setup", (1,), "single"),
                ("load_data", (3, 4), "heading"),
                ("train", (6,), "heading"),
            ],
        ),
        # no headings: named after what each step does
        (
            CLUSTERS,
            "clusters",
            [("load_data", (0, 1, 2), "cluster"), ("show_other", (3, 4), "cluster")],
        ),
    ],
    ids=["tags", "headings", "clusters"],
)
def test_strategies(
    text: str, strategy: str, expected: list[tuple[str, tuple[int, ...], str]]
) -> None:
    result = plan(text)
    assert result.strategy == strategy
    assert shape(result) == expected


def test_tags_take_priority_over_headings_and_name_the_pre_step_from_a_heading() -> None:
    result = plan(
        """
        # %% [markdown]
        ## Imports
        # %%
        import os
        # %% [markdown]
        ## Ignored heading
        # %% tags=step:work
        x = os.getcwd()
        """
    )
    assert result.strategy == "tags"
    assert shape(result) == [("imports", (1,), "heading"), ("work", (3,), "tag")]


def test_heading_doc_is_the_section_prose_without_the_heading() -> None:
    steps = by_name(plan(HEADINGS))
    assert steps["load_data"].doc == "Read the export."
    assert steps["load_data"].title == "Load data"
    assert steps["train"].doc == ""


def test_single_h1_is_not_a_section_but_several_are() -> None:
    one = plan("# %% [markdown]\n# Title\n# %%\na = 1\n# %%\nb = 2\n")
    assert one.strategy == "clusters"
    several = plan("# %% [markdown]\n# One\n# %%\na = 1\n# %% [markdown]\n# Two\n# %%\nb = a\n")
    assert several.strategy == "headings"
    assert [s.name for s in several.steps] == ["one", "two"]


def test_heading_in_fenced_code_is_not_a_heading() -> None:
    result = plan("# %% [markdown]\n```\n## not a heading\n```\n# %%\na = 1\n")
    assert result.strategy == "clusters"
    assert shape(result) == [("step_1", (1,), "single")]


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Load data!", "load_data"),
        ("Churn Model v2", "churn_model_v2"),
        ("1. Clean the data", "clean_the_data"),
        ("Données brutes", "donnees_brutes"),
        ("class", "class_step"),
        ("???", ""),
        ("2024", ""),
    ],
)
def test_step_name_keeps_every_word_for_module_names(title: str, expected: str) -> None:
    assert step_name(title) == expected


def test_duplicate_and_empty_names() -> None:
    result = plan(
        """
        # %% [markdown]
        ## Plot
        # %%
        a = 1
        # %% [markdown]
        ## Plot
        # %%
        b = 2
        # %% [markdown]
        ## Plot
        # %%
        c = 3
        # %% [markdown]
        ## ???
        # %%
        d = 4
        """
    )
    assert [s.name for s in result.steps] == ["plot", "plot_2", "plot_3", "step_4"]
    assert result.steps[3].title == "???"


def test_steps_without_code_are_dropped() -> None:
    result = plan("# %% [markdown]\n## Intro\n# %% [markdown]\n## Work\n# %%\nx = 1\n")
    assert [s.name for s in result.steps] == ["work"]


def test_parameters_cells_are_in_no_step_and_are_inputs() -> None:
    result = plan(
        """
        # %% tags=parameters
        SEED = 42
        # %% [markdown]
        ## Train
        # %%
        model = fit(SEED)
        """
    )
    assert result.parameters == (0,)
    assert shape(result) == [("train", (2,), "heading")]
    assert result.steps[0].inputs == ("SEED",)


def test_parameters_cell_excluded_from_clusters() -> None:
    result = plan("# %% tags=parameters\nN = 3\n# %%\nx = N\n")
    assert result.parameters == (0,)
    assert [s.cells for s in result.steps] == [(1,)]


PIPELINE = """
# %%
import pandas as pd
from sklearn.linear_model import LogisticRegression

def prepare(frame):
    return frame.dropna()

class Wrapper:
    pass
# %% [markdown]
## Load
# %%
df = pd.read_csv("x.csv")
# %% [markdown]
## Clean
# %%
df = prepare(df)
df["ratio"] = df.a / df.b
w = Wrapper()
# %% [markdown]
## Train
# %%
model = LogisticRegression()
model.fit(df, df.y)
# %% [markdown]
## Report
# %%
print(model.score(df, df.y))
"""


def test_inputs_and_outputs_across_steps() -> None:
    steps = by_name(plan(PIPELINE))
    assert list(steps) == ["setup", "load", "clean", "train", "report"]
    assert (steps["load"].inputs, steps["load"].outputs) == ((), ("df",))
    assert (steps["clean"].inputs, steps["clean"].outputs) == (("df",), ("df",))
    assert (steps["train"].inputs, steps["train"].outputs) == (("df",), ("model",))
    assert (steps["report"].inputs, steps["report"].outputs) == (("df", "model"), ())


def test_imports_functions_and_classes_are_not_inputs_or_outputs() -> None:
    steps = by_name(plan(PIPELINE))
    assert steps["setup"].outputs == ()
    everything = {n for s in steps.values() for n in s.inputs + s.outputs}
    assert not everything & {"pd", "LogisticRegression", "prepare", "Wrapper"}
    # w is written but never read later: not an output
    assert "w" not in steps["clean"].outputs


def test_name_mutated_in_a_later_step_is_that_steps_output() -> None:
    steps = by_name(
        plan(
            """
            # %% tags=step:load
            rows = []
            # %% tags=step:extend
            rows.append(1)
            # %% tags=step:use
            total = len(rows)
            """
        )
    )
    assert steps["load"].outputs == ("rows",)
    assert steps["extend"].inputs == ("rows",)
    assert steps["extend"].outputs == ("rows",)
    assert steps["use"].inputs == ("rows",)


def test_reads_within_a_step_are_not_inputs() -> None:
    steps = by_name(plan(TAGS))
    assert steps["load"].inputs == ()
    assert steps["load"].outputs == ("df",)
    assert steps["train"].inputs == ("df",)


def test_churn_example_plans_by_headings() -> None:
    nb = read_notebook(EXAMPLES / "churn_classifier.ipynb")
    result = plan_steps(nb)
    assert result.strategy == "headings"
    assert len(result.steps) > 3
    names = [s.name for s in result.steps]
    assert len(set(names)) == len(names)
    assert all(name.isidentifier() for name in names)
    cells = [c for s in result.steps for c in s.cells]
    assert cells == sorted(cells)


def test_one_heading_above_all_the_code_falls_back_to_clusters() -> None:
    result = plan(
        """
        # %% [markdown]
        #### Title: Bars
        # %%
        a = 1
        # %%
        b = a + 1
        # %%
        c = 3
        """
    )
    assert result.strategy == "clusters"
    assert [s.cells for s in result.steps] == [(1, 2), (3,)]


CODEBASICS = """
# %% [markdown]
<h1 style="color:blue" align="center">Home Prices: Linear Regression</h1>
# %%
import pandas as pd
from sklearn import linear_model
# %% [markdown]
<h3 style='color:purple'>Load the <b>home prices</b> &amp; areas</h3>
# %%
df = pd.read_csv("homeprices.csv")
# %% [markdown]
<h2>
  Step 2: Train a linear regression model on the whole data set
</h2>
# %%
reg = linear_model.LinearRegression()
reg.fit(df[["area"]], df.price)
# %% [markdown]
Predict
-------
# %%
reg.predict([[3300]])
"""


def test_html_and_setext_headings_split_into_named_steps() -> None:
    result = plan(CODEBASICS)
    assert result.strategy == "headings"
    assert shape(result) == [
        ("setup", (1,), "single"),
        ("load_home_prices_areas", (3,), "heading"),
        ("train_linear_regression_model", (5,), "heading"),
        ("predict", (7,), "heading"),
    ]
    assert result.steps[1].title == "Load the home prices & areas"


def test_headings_in_html_comments_do_not_split() -> None:
    result = plan("# %% [markdown]\n<!-- ## Old -->\n# %%\na = 1\n")
    assert result.strategy == "clusters"


NO_HEADINGS = """
# %%
import pandas as pd
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import accuracy_score
# %%
sales = pd.read_csv("data/sales.csv")
# %%
sales = sales.dropna()
# %%
model = RandomForestClassifier(random_state=0)
# %%
model.fit(sales[["x"]], sales.y)
# %%
accuracy = accuracy_score(sales.y, model.predict(sales[["x"]]))
"""


def test_steps_without_headings_are_named_after_what_they_produce() -> None:
    result = plan(NO_HEADINGS)
    assert result.strategy == "clusters"
    # the scoring cell reads the model: it joins the training step
    assert [s.name for s in result.steps] == ["load_sales", "train_model"]
    assert plan(NO_HEADINGS.replace('model.predict(sales[["x"]])', "sales.p")).steps[-1].name == (
        "score_accuracy"
    )


def test_step_names_are_short_and_never_a_name_of_the_notebook() -> None:
    result = plan(
        """
        # %% [markdown]
        ## Model
        # %%
        model = 1
        # %% [markdown]
        ## 3. In this section we load every monthly customer file and join them together
        # %%
        files = model + 1
        # %% [markdown]
        ## Print
        # %%
        print(files)
        """
    )
    assert [s.name for s in result.steps] == [
        "model_step",
        "load_monthly_customer_file",
        "print_step",
    ]
    assert all(len(s.name) <= 30 for s in result.steps)


def test_step_tags_keep_the_name_as_written() -> None:
    result = plan("# %% tags=step:load_and_clean_the_data\na = 1\n")
    assert [s.name for s in result.steps] == ["load_and_clean_the_data"]
