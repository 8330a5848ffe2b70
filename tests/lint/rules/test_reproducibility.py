"""NB3 reproducibility and portability rules: every rule fails and passes, positions, fixes."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from helpers import lint_snippet

from nbops.config import Config
from nbops.core.snippets import notebook_from_snippet
from nbops.lint.diagnostic import Diagnostic, Edit
from nbops.lint.engine import Linter
from nbops.lint.rules.reproducibility import absolute_path_kind, install_targets



def run(
    text: str, code: str, *, path: str = "analysis.ipynb", options: dict[str, Any] | None = None
) -> list[Diagnostic]:
    """Lint with one rule; a crash inside the rule (reported as NB005) fails the test."""
    diags = lint_snippet(textwrap.dedent(text), select=(code, "NB005"), path=path, options=options)
    crashes = [d.message for d in diags if d.code == "NB005"]
    assert not crashes, crashes
    return [d for d in diags if d.code == code]


def positions(diags: list[Diagnostic]) -> list[tuple[int | None, int | None, int | None]]:
    return [(d.cell_index, d.line, d.column) for d in diags]


# --------------------------------------------------------------------------- examples




# --------------------------------------------------------------------------- NB301


@pytest.mark.parametrize(
    "source",
    [
        pytest.param('df = pd.read_csv("/Users/jane/data.csv")', id="macos-home"),
        pytest.param('root = "/home/bob/project"', id="linux-home-no-extension"),
        pytest.param('p = "/mnt/shared/raw"', id="mount"),
        pytest.param('p = "/data/raw/2024"', id="data-root"),
        pytest.param('p = "/reports/2023/summary.pdf"', id="extension-any-root"),
        pytest.param('p = r"C:\\data\\churn.csv"', id="windows-backslash"),
        pytest.param('p = "C:/data/churn.csv"', id="windows-slash"),
        pytest.param('p = r"\\\\server\\share\\churn.csv"', id="unc"),
        pytest.param('p = "~/data/churn.csv"', id="home-relative"),
        pytest.param('p = f"/mnt/data/{name}.csv"', id="f-string"),
        pytest.param('sys.path.append("/home/jane/lib")', id="sys-path"),
        pytest.param("%cd /home/jane/project", id="cd-magic"),
        pytest.param("!ls /data/raw", id="shell"),
        pytest.param("files = !ls /data/raw", id="assigned-shell"),
        pytest.param("%%bash\ncp out.csv /mnt/share/out.csv", id="bash-cell-body"),
        pytest.param('%time df = pd.read_csv("/data/raw/x.csv")', id="time-magic"),
    ],
)
def test_absolute_path_flagged(source: str) -> None:
    assert len(run(f"# %%\n{source}\n", "NB301")) == 1


@pytest.mark.parametrize(
    "source",
    [
        pytest.param('u = "https://example.com/data/x.csv"', id="url"),
        pytest.param('u = "s3://bucket/data/x.csv"', id="s3-url"),
        pytest.param('x.split("/")', id="slash-alone"),
        pytest.param('p = "/data"', id="single-component"),
        pytest.param('route = "/api/v1/users"', id="api-route"),
        pytest.param('route = "/api/v1/users.json"', id="api-route-extension"),
        pytest.param('route = "/users/42/orders"', id="rest-route-no-root"),
        pytest.param('pat = re.compile("/home/user/files")', id="regex-argument"),
        pytest.param('pat = "^/home/\\\\w+$"', id="regex-characters"),
        pytest.param('def f():\n    """/home/x/data.csv"""', id="docstring"),
        pytest.param('"/home/x/data.csv"\nx = 1', id="bare-string-statement"),
        pytest.param("# df = pd.read_csv('/home/x/data.csv')", id="comment"),
        pytest.param('out = open("/dev/null", "w")', id="dev-null"),
        pytest.param('p = "data/raw/x.csv"', id="relative"),
        pytest.param('d = "/2023/01"', id="date-like"),
        pytest.param('c = "//comment"', id="double-slash"),
        pytest.param('p = "~"', id="tilde-alone"),
        pytest.param("%cd data", id="relative-cd"),
        pytest.param("%%html\n<img src='/files/plot.png'>", id="html-cell-body"),
    ],
)
def test_absolute_path_not_flagged(source: str) -> None:
    assert run(f"# %%\nimport re\n# %%\n{source}\n", "NB301") == []


def test_absolute_path_positions_and_messages() -> None:
    text = (
        "# %%\nimport pandas as pd\n"
        '# %%\ndf = pd.read_csv("/Users/jane/data.csv")\nhome = "~/x/y.csv"\n'
        "# %%\n%cd /home/jane/project\n!ls -l /data/raw\n"
    )
    found = run(text, "NB301")
    assert positions(found) == [(1, 1, 18), (1, 2, 8), (2, 1, 5), (2, 2, 8)]
    assert (found[0].end_line, found[0].end_column) == (1, 40)
    assert (found[2].end_line, found[2].end_column) == (1, 23)
    assert "'/Users/jane/data.csv'" in found[0].message and "parameter" in found[0].message
    assert "home-relative" in found[1].message


def test_absolute_path_non_ascii_column() -> None:
    (diag,) = run('# %%\nétiquette = "é"; p = "/home/zoé/x.csv"\n', "NB301")
    assert (diag.line, diag.column, diag.end_column) == (1, 22, 39)


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("/home/a", "absolute"),
        ("/Users/a/b", "absolute"),
        ("/x/y.parquet", "absolute"),
        ("D:\\x", "absolute"),
        ("~user/data", "home-relative"),
        ("/users/a", None),
        ("/x/y", None),
        ("C:", None),
        (" /home/a", None),
        ("/home/a\nb", None),
        ("/static/app.js", None),
    ],
)
def test_absolute_path_kind(text: str, kind: str | None) -> None:
    assert absolute_path_kind(text) == kind


# --------------------------------------------------------------------------- NB302


@pytest.mark.parametrize(
    ("source", "position"),
    [
        pytest.param("%pip install pandas", (1, 1), id="percent-pip"),
        pytest.param("x = 1\n!pip install -q pandas==2.1", (2, 1), id="bang-pip"),
        pytest.param("%conda install -c conda-forge lightgbm", (1, 1), id="conda"),
        pytest.param("!python -m pip install xgboost", (1, 1), id="python-m-pip"),
        pytest.param("pip install pandas", (1, 1), id="automagic"),
        pytest.param("%%bash\necho start\n  pip install pandas", (3, 3), id="bash-cell-line"),
        pytest.param(
            'import subprocess, sys\nsubprocess.run([sys.executable, "-m", "pip", "install", "x"])',
            (2, 1),
            id="subprocess-list",
        ),
        pytest.param('import os\nos.system("pip install x")', (2, 1), id="os-system"),
    ],
)
def test_pip_install_flagged(source: str, position: tuple[int, int]) -> None:
    (diag,) = run(f"# %%\n{source}\n", "NB302")
    assert (diag.line, diag.column) == position
    assert "requirements.txt or pyproject.toml" in diag.message


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("%pip list", id="pip-list"),
        pytest.param("!pip freeze > requirements.txt", id="pip-freeze"),
        pytest.param("import pip", id="import-pip"),
        pytest.param('import subprocess\nsubprocess.run(["ls", "-l"])', id="other-subprocess"),
        pytest.param('msg = "run pip install pandas first"', id="string"),
    ],
)
def test_pip_install_not_flagged(source: str) -> None:
    assert run(f"# %%\n{source}\n", "NB302") == []


def test_pip_install_names_the_packages() -> None:
    (diag,) = run("# %%\n%pip install -q -U pandas==2.1 'scikit-learn>=1.3' -r req.txt\n", "NB302")
    assert "(pandas==2.1, scikit-learn>=1.3, -r req.txt)" in diag.message
    assert install_targets("conda install -c conda-forge -y lightgbm && ls") == ["lightgbm"]


# --------------------------------------------------------------------------- NB303


def _tag_fix(diag: Diagnostic) -> tuple[Edit, ...] | None:
    if diag.fix is None:
        return None
    assert diag.fix.applicability == "safe"
    return diag.fix.edits


@pytest.mark.parametrize(
    ("text", "cell", "fixed_cell"),
    [
        pytest.param(
            "# %%\nimport pandas as pd\n# %%\nDATA = 'x.csv'\nSEED = 42\n# %%\ndf = pd.read_csv(DATA)\n",
            1,
            1,
            id="literal-cell-after-imports",
        ),
        pytest.param(
            "# %%\n%matplotlib inline\nimport pandas as pd\n# %%\nSEED = 42\n# %%\nx = 1\n",
            1,
            1,
            id="imports-cell-with-magic",
        ),
        pytest.param(
            "# %%\n# run settings\nLR: float = -1e-3\nLAYERS = [64, 32]\nOPTS = {'a': (1, None)}\n"
            "A, B = 1, 2\nDEBUG = False\n# %%\nx = 1\n",
            0,
            0,
            id="first-cell-literals",
        ),
        pytest.param(
            "# %%\nimport os\n# %%\nx = compute()\n# %%\n# Parameters\nSEED = int(os.environ['S'])\n",
            2,
            2,
            id="parameters-comment-wins",
        ),
        pytest.param(
            "# %%\nimport pandas as pd\nDATA = 'x.csv'\n# %%\nSEED = 42\n",
            None,
            None,
            id="mixed-first-cell-no-fix",
        ),
        pytest.param(
            "# %%\nimport pandas as pd\n# %%\nDATA = make_path()\n# %%\nx = 1\n",
            None,
            None,
            id="second-cell-computes-no-fix",
        ),
        pytest.param(
            "# %%\nimport pandas as pd\n# %%\nimport numpy as np\n# %%\nSEED = 1\n",
            None,
            None,
            id="third-cell-too-far",
        ),
        pytest.param(
            "# %%\n# parameters\na = 1\n# %%\n# parameters\nb = 2\n",
            None,
            None,
            id="two-parameters-comments-ambiguous",
        ),
    ],
)
def test_missing_parameters_cell(text: str, cell: int | None, fixed_cell: int | None) -> None:
    (diag,) = run(text, "NB303")
    assert diag.cell_index == cell
    expected = None if fixed_cell is None else (Edit("add_tag", fixed_cell, "parameters"),)
    assert _tag_fix(diag) == expected


def test_missing_parameters_ambiguous_message() -> None:
    (diag,) = run("# %%\n# parameters\na = 1\n# %%\n# parameters\nb = 2\n", "NB303")
    assert "cells 1, 2" in diag.message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("# %%\nimport os\n# %% tags=parameters\nSEED = 1\n# %%\nx = 1\n", id="tagged"),
        pytest.param(
            "# %% tags=parameters,other\nSEED = 1\n# %%\nx = 1\n", id="tagged-among-others"
        ),
        pytest.param("# %%\nSEED = 1\n", id="single-code-cell"),
        pytest.param("# %%\nSEED = 1\n# %%\n\n", id="second-cell-empty"),
    ],
)
def test_missing_parameters_cell_passes(text: str) -> None:
    assert run(text, "NB303") == []


# --------------------------------------------------------------------------- NB304


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import numpy as np\nx = np.random.rand(3)", id="np-legacy"),
        pytest.param(
            "import numpy as np\nx = np.random.rand(3)\nnp.random.seed(0)", id="seed-after"
        ),
        pytest.param(
            "import numpy as np\nnp.random.seed(1)\nrng = np.random.default_rng()",
            id="default-rng-no-seed",
        ),
        pytest.param(
            "import numpy as np\nrng = np.random.default_rng(None)", id="default-rng-none"
        ),
        pytest.param(
            "import numpy as np\nnp.random.seed()\nx = np.random.rand()", id="seed-without-value"
        ),
        pytest.param("from numpy.random import rand\nx = rand(3)", id="from-import"),
        pytest.param("import numpy.random as npr\nx = npr.normal()", id="module-alias"),
        pytest.param("import random\nx = random.choice([1, 2])", id="stdlib-random"),
        pytest.param("import random\nr = random.Random()", id="random-instance"),
        pytest.param(
            "import numpy as np\nnp.random.seed(0)\nimport random\nrandom.shuffle(xs)",
            id="other-lib-seeded",
        ),
        pytest.param("import torch\nx = torch.randn(2, 3)", id="torch"),
        pytest.param("import tensorflow as tf\nx = tf.random.normal([2])", id="tensorflow"),
        pytest.param(
            "from sklearn.model_selection import train_test_split\na, b = train_test_split(X)",
            id="split",
        ),
        pytest.param(
            "from sklearn.ensemble import RandomForestClassifier\nm = RandomForestClassifier()",
            id="forest",
        ),
        pytest.param(
            "from sklearn.cluster import KMeans\nm = KMeans(3, random_state=None)",
            id="random-state-none",
        ),
        pytest.param(
            "from sklearn.model_selection import KFold\ncv = KFold(5, shuffle=True)",
            id="kfold-shuffle",
        ),
        pytest.param(
            "import sklearn.ensemble as ens\nm = ens.GradientBoostingRegressor()", id="qualified"
        ),
        pytest.param(
            "from sklearn.ensemble import *\nm = ExtraTreesClassifier()", id="star-import"
        ),
        pytest.param("df2 = df.sample(frac=0.1)", id="frame-sample-frac"),
        pytest.param("df2 = df.sample(5)", id="frame-sample-n"),
    ],
)
def test_unseeded_randomness_flagged(source: str) -> None:
    assert len(run(f"# %%\n{source}\n", "NB304")) == 1


@pytest.mark.parametrize(
    "source",
    [
        pytest.param(
            "import numpy as np\nnp.random.seed(42)\nx = np.random.rand(3)", id="np-seeded"
        ),
        pytest.param(
            "import numpy as np\nrng = np.random.default_rng(42)\nx = rng.normal()", id="generator"
        ),
        pytest.param(
            "import numpy as np\nrng = np.random.RandomState(SEED)", id="random-state-seeded"
        ),
        pytest.param("import random\nrandom.seed(1)\nx = random.random()", id="stdlib-seeded"),
        pytest.param("import torch\ntorch.manual_seed(0)\nx = torch.randn(2)", id="torch-seeded"),
        pytest.param(
            "import tensorflow as tf\ntf.random.set_seed(0)\nx = tf.random.uniform([2])",
            id="tf-seeded",
        ),
        pytest.param(
            "from lightning import seed_everything\nseed_everything(7)\nimport torch\nx = torch.rand(1)",
            id="seed-everything",
        ),
        pytest.param(
            "import numpy as np, random\ndef set_all(s):\n    np.random.seed(s)\n    random.seed(s)\n"
            "set_all(3)\nx = np.random.rand()\ny = random.random()",
            id="seed-helper-function",
        ),
        pytest.param(
            "from sklearn.model_selection import train_test_split\na, b = train_test_split(X, random_state=0)",
            id="split-seeded",
        ),
        pytest.param(
            "from sklearn.model_selection import train_test_split\na, b = train_test_split(X, random_state=SEED)",
            id="split-seed-param",
        ),
        pytest.param(
            "from sklearn.model_selection import KFold\ncv = KFold(5)", id="kfold-no-shuffle"
        ),
        pytest.param(
            "from sklearn.model_selection import KFold\ncv = KFold(5, shuffle=False)",
            id="kfold-shuffle-false",
        ),
        pytest.param(
            "from sklearn.ensemble import RandomForestClassifier\nm = RandomForestClassifier(**params)",
            id="kwargs-unknown",
        ),
        pytest.param(
            "import numpy as np\nnp.random.seed(0)\nfrom sklearn.cluster import KMeans\nm = KMeans(3)",
            id="np-seed-covers-sklearn",
        ),
        pytest.param(
            "from sklearn.linear_model import LinearRegression\nm = LinearRegression()",
            id="deterministic-estimator",
        ),
        pytest.param(
            "def train_test_split(d):\n    return d[:5], d[5:]\na, b = train_test_split(X)",
            id="own-function",
        ),
        pytest.param("s = dist.sample((5,))\nt = dist.sample()", id="distribution-sample"),
        pytest.param(
            "import random\nrandom.seed(0)\nxs = random.sample(pop, 2)", id="stdlib-sample-seeded"
        ),
        pytest.param("df2 = df.sample(frac=0.5, random_state=1)", id="frame-sample-seeded"),
        pytest.param(
            "from sklearn.utils import shuffle as sk_shuffle\nimport random\nrandom.seed(1)\nshuffle(xs)",
            id="bare-shuffle",
        ),
        pytest.param("import numpy as np\nx = np.random.default_rng", id="not-called"),
    ],
)
def test_unseeded_randomness_not_flagged(source: str) -> None:
    assert run(f"# %%\n{source}\n", "NB304") == []


def test_unseeded_randomness_seed_in_earlier_cell_counts() -> None:
    text = "# %%\nimport numpy as np\nnp.random.seed(0)\n# %%\nx = np.random.randn(4)\n"
    assert run(text, "NB304") == []
    reordered = "# %%\nimport numpy as np\nx = np.random.randn(4)\n# %%\nnp.random.seed(0)\n"
    (diag,) = run(reordered, "NB304")
    assert (diag.cell_index, diag.line, diag.column) == (0, 2, 5)
    assert "np.random.randn(...)" in diag.message and "np.random.seed(42)" in diag.message


def test_unseeded_randomness_fix_adds_random_state() -> None:
    text = (
        "# %%\nfrom sklearn.model_selection import train_test_split\n"
        "from sklearn.ensemble import RandomForestClassifier\n"
        "a, b = train_test_split(X, y, test_size=0.2)\n"
        "m = RandomForestClassifier()\n"
        "m2 = RandomForestClassifier(\n    n_estimators=10,\n)\n"
        "m3 = RandomForestClassifier(random_state=None)\n"
    )
    split, forest, forest2, forest3 = run(text, "NB304")
    assert (split.line, split.column, split.end_line, split.end_column) == (3, 8, 3, 45)
    for diag in (split, forest, forest2):
        assert diag.fix is not None and diag.fix.applicability == "unsafe"
    assert split.fix is not None and split.fix.edits == (
        Edit("replace_text", 0, ", random_state=42", 3, 44, 3, 44),
    )
    assert forest.fix is not None and forest.fix.edits == (
        Edit("replace_text", 0, "random_state=42", 4, 28, 4, 28),
    )
    assert forest2.fix is not None and forest2.fix.edits == (
        Edit("replace_text", 0, "random_state=42", 7, 1, 7, 1),
    )
    assert forest3.fix is None  # random_state=None is there: change it by hand


def test_unseeded_randomness_seed_option() -> None:
    (diag,) = run("# %%\ndf2 = df.sample(n=3)\n", "NB304", options={"seed": 7})
    assert "random_state=7" in diag.message
    assert diag.fix is not None and diag.fix.edits[0].content == ", random_state=7"


# --------------------------------------------------------------------------- NB305


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("!ls data", "shell command '!ls data'", id="bang"),
        pytest.param("files = !ls data", "shell command '!ls data'", id="assigned"),
        pytest.param("!cd data", "throwaway subshell", id="bang-cd"),
        pytest.param("%%bash\necho hi\npip install x", "'%%bash' cell", id="bash-cell"),
        pytest.param("%%script bash\necho hi", "'%%script' cell", id="script-bash"),
        pytest.param("%system date", "'%system date' runs a shell command", id="system-magic"),
        pytest.param("%rm -f out.csv", "'%rm -f out.csv' runs a shell command", id="rm-magic"),
        pytest.param("!pip freeze", "shell command '!pip freeze'", id="pip-not-install"),
    ],
)
def test_shell_command_flagged(source: str, expected: str) -> None:
    (diag,) = run(f"# %%\nx = 1\n# %%\n{source}\n", "NB305")
    assert expected in diag.message
    assert (diag.cell_index, diag.line, diag.column) == (
        1,
        1,
        1 if not source.startswith("files") else 9,
    )


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("!pip install pandas", id="pip-is-nb302"),
        pytest.param(
            "%%bash\n# setup\npip install pandas\nconda install -y x", id="bash-only-installs"
        ),
        pytest.param("%cd data", id="cd-is-nb306"),
        pytest.param("%matplotlib inline", id="matplotlib"),
        pytest.param("%%capture out\nx = 1", id="capture-cell"),
        pytest.param('import subprocess\nsubprocess.run(["ls"], check=True)', id="subprocess"),
        pytest.param("%pip list", id="pip-magic"),
    ],
)
def test_shell_command_not_flagged(source: str) -> None:
    assert run(f"# %%\n{source}\n", "NB305") == []


# --------------------------------------------------------------------------- NB306


@pytest.mark.parametrize(
    ("source", "position", "shown"),
    [
        pytest.param('import os\nos.chdir("..")', (2, 1), 'os.chdir("..")', id="os-chdir"),
        pytest.param(
            'from os import chdir\nif True:\n    chdir("data")',
            (3, 5),
            'chdir("data")',
            id="from-import",
        ),
        pytest.param("%cd ..", (1, 1), "%cd ..", id="cd-magic"),
        pytest.param("x = 1\ncd ../data", (2, 1), "cd ../data", id="cd-automagic"),
        pytest.param("%pushd /tmp", (1, 1), "%pushd /tmp", id="pushd"),
    ],
)
def test_working_directory_change_flagged(
    source: str, position: tuple[int, int], shown: str
) -> None:
    (diag,) = run(f"# %%\n{source}\n", "NB306")
    assert (diag.line, diag.column) == position
    assert f"'{shown}' changes the working directory" in diag.message


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import os\nhere = os.getcwd()", id="getcwd"),
        pytest.param("from pathlib import Path\nroot = Path.cwd()", id="path-cwd"),
        pytest.param("!cd data", id="shell-cd-is-nb305"),
        pytest.param("cd = 3\nprint(cd)", id="variable-named-cd"),
    ],
)
def test_working_directory_change_not_flagged(source: str) -> None:
    assert run(f"# %%\n{source}\n", "NB306") == []


# --------------------------------------------------------------------------- NB307


def _lint_with_metadata(meta: dict[str, Any]) -> list[Diagnostic]:
    nb = notebook_from_snippet("# %%\nx = 1\n")
    nb.raw["metadata"] = meta
    linter = Linter(Config(), select=["NB307", "NB005"], format_check=False, cache=False)
    diags = linter.lint_notebook(nb)
    assert not [d for d in diags if d.code == "NB005"]
    return [d for d in diags if d.code == "NB307"]


@pytest.mark.parametrize(
    ("meta", "missing"),
    [
        pytest.param({}, "no kernelspec and no language_info", id="empty"),
        pytest.param(
            {"kernelspec": {"name": "python3"}}, "no language_info", id="no-language-info"
        ),
        pytest.param({"language_info": {"name": "python"}}, "no kernelspec", id="no-kernelspec"),
        pytest.param(
            {"kernelspec": {"display_name": "x"}, "language_info": {"name": "python"}},
            "no kernelspec",
            id="kernelspec-without-name",
        ),
        pytest.param(
            {"kernelspec": "python3", "language_info": {"name": "python"}},
            "no kernelspec",
            id="not-a-dict",
        ),
    ],
)
def test_missing_kernel_metadata(meta: dict[str, Any], missing: str) -> None:
    (diag,) = _lint_with_metadata(meta)
    assert f"has {missing}:" in diag.message and diag.cell_index is None


def test_missing_kernel_metadata_passes() -> None:
    assert (
        _lint_with_metadata(
            {"kernelspec": {"name": "python3"}, "language_info": {"name": "python"}}
        )
        == []
    )
    assert run("# %%\nx = 1\n", "NB307") == []
    assert run("#! kernel=ir language=R\n# %%\nx <- 1\n", "NB307") == []  # any kernel
    assert run("#! nometa\n# %%\nx = 1\n", "NB307")


# --------------------------------------------------------------------------- NB308


@pytest.mark.parametrize(
    ("source", "url"),
    [
        pytest.param(
            'import pandas as pd\ndf = pd.read_csv("https://x.org/d.csv")',
            "https://x.org/d.csv",
            id="read-csv",
        ),
        pytest.param(
            'import pandas as pd\ndf = pd.read_parquet("s3://bkt/d.parquet")',
            "s3://bkt/d.parquet",
            id="s3",
        ),
        pytest.param(
            'df = pd.read_json(path_or_buf="gs://b/d.json")', "gs://b/d.json", id="gs-keyword"
        ),
        pytest.param(
            'URL = "https://x.org/d.csv"\ndf = pd.read_csv(URL)',
            "https://x.org/d.csv",
            id="url-constant",
        ),
        pytest.param(
            'df = pd.read_csv(f"https://x.org/{day}.csv")', "https://x.org/", id="f-string"
        ),
        pytest.param(
            'import requests\nr = requests.get("https://api.x.org/v1/rows")',
            "https://api.x.org/v1/rows",
            id="requests",
        ),
        pytest.param(
            'import urllib.request\nf = urllib.request.urlopen("http://x.org/a")',
            "http://x.org/a",
            id="urlopen",
        ),
        pytest.param(
            'from urllib.request import urlretrieve\nurlretrieve("https://x.org/a.zip", "a.zip")',
            "https://x.org/a.zip",
            id="urlretrieve",
        ),
        pytest.param(
            'import numpy as np\na = np.loadtxt("https://x.org/a.txt")',
            "https://x.org/a.txt",
            id="loadtxt",
        ),
        pytest.param("!wget -q https://x.org/d.csv", "https://x.org/d.csv", id="wget"),
        pytest.param(
            "!mkdir -p d && curl -L -o d/a.csv 'https://x.org/a.csv'",
            "https://x.org/a.csv",
            id="curl",
        ),
    ],
)
def test_remote_data_source_flagged(source: str, url: str) -> None:
    (diag,) = run(f"# %%\n{source}\n", "NB308")
    assert f"'{url}'" in diag.message and diag.severity == "info"


@pytest.mark.parametrize(
    "source",
    [
        pytest.param('df = pd.read_csv("data/d.csv")', id="local-file"),
        pytest.param('print("https://x.org")', id="print-url"),
        pytest.param('import webbrowser\nwebbrowser.open("https://x.org")', id="browser"),
        pytest.param('link = {"docs": "https://x.org"}.get("https://x.org")', id="dict-get"),
        pytest.param('URL = "https://x.org/d.csv"\nprint(URL)', id="url-not-read"),
        pytest.param("!ls https://x.org", id="shell-not-downloader"),
        pytest.param("import pickle\nm = pickle.load(f)", id="load-file-object"),
    ],
)
def test_remote_data_source_not_flagged(source: str) -> None:
    assert run(f"# %%\n{source}\n", "NB308") == []


def test_remote_data_source_position() -> None:
    (diag,) = run(
        '# %%\nimport pandas as pd\n\ndf = pd.read_csv(\n    "https://x.org/d.csv")\n', "NB308"
    )
    assert (diag.cell_index, diag.line, diag.column, diag.end_line, diag.end_column) == (
        0,
        3,
        6,
        4,
        27,
    )


def test_line_magic_statements_are_checked_at_their_cell_position() -> None:
    # %time keeps its statement as Python: calls on it are checked, columns point into the cell
    text = "# %%\nfrom sklearn.ensemble import RandomForestClassifier\n%time m = RandomForestClassifier()\n"
    (diag,) = run(text, "NB304")
    assert (diag.line, diag.column, diag.end_column) == (2, 11, 35)
    assert diag.fix is None  # no edits on translated lines
    (path,) = run('# %%\n%time df = pd.read_csv("/data/raw/x.csv")\n', "NB301")
    assert (path.line, path.column) == (1, 25)


def test_magics_inside_python_cell_magics() -> None:
    assert len(run("# %%\n%%capture\n%pip install pandas\n", "NB302")) == 1
    assert len(run("# %%\n%%capture\n!ls data\n", "NB305")) == 1
