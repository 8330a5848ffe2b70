"""The rule of the hackathon's ``library`` component: what a notebook still computes, on
notebooks of the new library shape (steps without display flags, dataclass results, a slim
notebook that explores the library's results) and on the bundled exercise."""

from __future__ import annotations

from pathlib import Path

from nbops.core.snippets import notebook_from_snippet
from nbops.hackathon.moved import library_packages, notebook_code

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = ROOT / "examples" / "hackathon"

START = '''
# %% [markdown]
# # Wine
# %% tags=parameters
SEED = 0
# %%
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
df = pd.read_csv("wine.csv")
df = df.dropna()
df.head()
# %%
df.describe()
x, y = df.drop(columns="target"), df.target
# %%
model = LogisticRegression(random_state=SEED).fit(x, y)
accuracy = accuracy_score(y, model.predict(x))
print(accuracy)
'''

# the new shape: the slim notebook imports the steps, calls them, and only looks at results
SLIM_EXPLORING = '''
# %% [markdown]
# # Wine
# %%
import matplotlib.pyplot as plt
import seaborn as sns
from wine.wine import load_data, train_model
# %% tags=parameters
SEED = 0
# %%
df = load_data("wine.csv")
df.head()
# %%
df.describe()
corr = df.corr()
sns.heatmap(corr)
for column in ["alcohol", "ash"]:
    plt.hist(df[column])
# %%
train_result = train_model(df, SEED=SEED)
model = train_result.model
print(f"accuracy: {train_result.accuracy:.3f}")
train_result.accuracy
'''

# the same, but the model and its metric are fitted and computed again in the notebook
SLIM_RECOMPUTING = SLIM_EXPLORING + '''
# %%
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score
x = df.drop(columns="target")
mine = LogisticRegression(random_state=SEED).fit(x, df.target)
print(accuracy_score(df.target, mine.predict(x)))
'''


def code(snippet: str, *packages: str):  # type: ignore[no-untyped-def]
    return notebook_code(notebook_from_snippet(snippet), packages)


def test_the_starting_notebook_computes_its_data_model_and_metric_not_its_exploration() -> None:
    share = code(START)
    # read_csv, dropna, x/y, fit, accuracy: 5 lines; head(), describe(), print: exploration
    assert share.computing == 5 and share.exploration == 3 and share.cells == (3, 4, 5)


def test_a_slim_notebook_that_only_explores_the_library_results_computes_nothing() -> None:
    share = code(SLIM_EXPLORING, "wine")
    assert share.computing == 0 and share.cells == ()
    assert share.exploration >= 7  # head, describe, corr, heatmap, the loop, print, the value
    assert share.library == 3  # load_data, train_model, .model


def test_recomputing_the_model_in_the_slim_notebook_counts() -> None:
    share = code(SLIM_RECOMPUTING, "wine")
    assert share.computing == 3 and share.cells == (7,)  # x, fit, the printed metric


def test_a_library_step_fed_with_data_the_notebook_prepared_counts_that_preparation() -> None:
    share = code('''
# %%
import pandas as pd
from wine.wine import train_model
raw = pd.read_csv("wine.csv")
clean = raw.dropna()
result = train_model(clean)
result.accuracy
''', "wine")
    assert share.computing == 2 and share.library == 1


def test_without_the_team_package_the_same_calls_are_computation() -> None:
    assert code(SLIM_EXPLORING).computing > 0  # load_data / train_model are not the library's


def test_values_carried_to_later_cells_and_files_written_are_results() -> None:
    share = code('''
# %%
import pandas as pd
sales = pd.read_csv("sales.csv")
# %%
summary = sales.groupby("region").sales.sum()
# %%
summary.plot.bar()
# %%
peak = sales.sales.max()
print(peak)
sales.to_csv("out.csv")
''')
    # sales (read later, and written), the to_csv; summary (read by a later cell, but only
    # read off sales to be plotted) and peak are only looked at
    assert share.computing == 2 and share.cells == (1, 4)


def test_setup_and_magics_are_not_counted() -> None:
    share = code('''
# %%
%matplotlib inline
!pip install pandas
import os
import matplotlib.pyplot as plt
plt.rcParams["figure.dpi"] = 60
LAGS = [1, 7]
''')
    assert share.computing == share.exploration == share.library == 0


def test_library_packages_are_the_top_level_names_under_src(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "single.py").write_text("")
    (tmp_path / "notes").mkdir()
    assert library_packages(tmp_path) == {"pkg", "single"}
    assert library_packages(tmp_path / "missing") == frozenset()


def test_the_bundled_strong_slim_notebook_has_moved_everything() -> None:
    from nbops.core.notebook import read_notebook

    team = EXERCISE / "submissions" / "strong"
    packages = library_packages(team / "src")
    start = notebook_code(read_notebook(EXERCISE / "notebooks" / "sales_forecast.ipynb"), packages)
    slim = notebook_code(read_notebook(team / "notebooks" / "sales_forecast_slim.ipynb"), packages)
    weak = notebook_code(read_notebook(EXERCISE / "submissions" / "weak" / "notebooks" / "sales_forecast.ipynb"))
    assert start.computing > 30 and slim.computing == 0 and weak.computing >= start.computing


def team(tmp_path: Path) -> Path:
    """A team's checkout with a library (``src/wine``), as nbops modularize lays it out."""
    (tmp_path / "src" / "wine").mkdir(parents=True)
    (tmp_path / "src" / "wine" / "__init__.py").write_text("")
    (tmp_path / "src" / "wine" / "wine.py").write_text(
        '"""Wine."""\n\nfrom dataclasses import dataclass\n\n\n@dataclass(frozen=True)\n'
        "class TrainModelResult:\n    model: object\n    accuracy: float\n\n\n"
        "def load_data(path):\n    return path\n\n\ndef train_model(df, SEED=0):\n"
        "    return TrainModelResult(df, 1.0)\n")
    return tmp_path


def test_the_component_gives_full_marks_to_a_slim_notebook_that_only_explores(tmp_path: Path) -> None:
    from nbops.hackathon.score import library_component

    start = notebook_from_snippet(START)
    card = library_component(team(tmp_path), start, notebook_from_snippet(SLIM_EXPLORING))
    assert card.score == 1.0, card.explanation
    assert card.explanation.startswith("notebook computes 5 -> 0 lines; exploration kept: ")
    assert "show" not in card.explanation


def test_the_component_takes_points_from_a_slim_notebook_that_refits_the_model(tmp_path: Path) -> None:
    from nbops.hackathon.score import library_component

    start = notebook_from_snippet(START)
    card = library_component(team(tmp_path), start, notebook_from_snippet(SLIM_RECOMPUTING))
    assert card.score is not None and abs(card.score - (1 - 3 / 5)) < 1e-9
    assert "notebook computes 5 -> 3 lines (still computed in cell 7)" in card.explanation


def test_the_component_is_zero_without_a_library(tmp_path: Path) -> None:
    from nbops.hackathon.score import library_component

    card = library_component(tmp_path, notebook_from_snippet(START), notebook_from_snippet(SLIM_EXPLORING))
    assert card.score == 0.0 and card.explanation.startswith("no library under src/")
