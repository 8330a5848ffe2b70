"""NB5 production-readiness rules: every rule fails and passes, positions, fixes, options."""

from __future__ import annotations

import textwrap
from typing import Any

import pytest
from helpers import lint_snippet

from nbops.config import Config
from nbops.core.notebook import Notebook
from nbops.core.snippets import notebook_from_snippet
from nbops.lint.diagnostic import Diagnostic, Edit
from nbops.lint.engine import Linter
from nbops.lint.fix import apply_fix


def run(text: str, code: str, options: dict[str, Any] | None = None) -> list[Diagnostic]:
    """Lint with one rule; a crash inside the rule (reported as NB005) fails the test."""
    diags = lint_snippet(textwrap.dedent(text), select=(code, "NB005"), options=options)
    crashes = [d.message for d in diags if d.code == "NB005"]
    assert not crashes, crashes
    return [d for d in diags if d.code == code]


def lint_nb(nb: Notebook, code: str, options: dict[str, Any] | None = None) -> list[Diagnostic]:
    linter = Linter(
        Config(options=options or {}), select=[code, "NB005"], format_check=False, cache=False
    )
    diags = linter.lint_notebook(nb)
    assert not [d.message for d in diags if d.code == "NB005"]
    return [d for d in diags if d.code == code]


def cells(*bodies: str) -> str:
    return "".join(f"# %%\n{b}\n" for b in bodies)


# --------------------------------------------------------------------------- examples




# --------------------------------------------------------------------------- NB501


@pytest.mark.parametrize(
    ("text", "count"),
    [
        pytest.param("from os.path import *", 1, id="star"),
        pytest.param("import os\nfrom math import *\nfrom .utils import *", 2, id="two-stars"),
        pytest.param("try:\n    from fast import *\nexcept ImportError:\n    pass", 1, id="in-try"),
        pytest.param("%pylab inline", 1, id="pylab"),
        pytest.param("if fast:\n    from  fast   import  *", 1, id="spaced-nested"),
        pytest.param("x = a * b\nimport os", 0, id="star-and-import-words"),
        pytest.param("from os.path import join, exists", 0, id="named-imports"),
        pytest.param("import math", 0, id="module"),
        pytest.param("%matplotlib inline", 0, id="matplotlib-magic"),
    ],
)
def test_nb501(text: str, count: int) -> None:
    assert len(run(text, "NB501")) == count


def test_nb501_position_and_message() -> None:
    (d,) = run("import os\nfrom math import *", "NB501")
    assert (d.line, d.column, d.end_line, d.end_column) == (2, 1, 2, 19)
    assert "'from math import *'" in d.message


# --------------------------------------------------------------------------- NB502


def test_nb502_reports_late_imports_only() -> None:
    text = cells(
        "import pandas as pd\nimport numpy as np",
        "df = pd.read_csv('a.csv')",
        "import seaborn as sns\nfrom scipy import stats\nsns.histplot(df)",
    )
    diags = run(text, "NB502")
    assert [(d.cell_index, d.line) for d in diags] == [(2, 1), (2, 2)]
    assert "'import seaborn as sns'" in diags[0].message and "cell 1" in diags[0].message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(cells("import os\nimport sys", "x = os.getcwd()"), id="all-at-top"),
        pytest.param(
            cells("%load_ext autoreload\n%autoreload 2", "import os", "print(os.sep)"),
            id="magic-cell-before-imports",
        ),
        pytest.param(cells("!pip install -q pandas", "import pandas as pd"), id="pip-cell-first"),
        pytest.param(
            cells("x = 1", "def load(path):\n    import json\n    return json.load(open(path))"),
            id="import-inside-function",
        ),
        pytest.param(
            cells("x = 1", "class A:\n    import math\n    pi = math.pi"), id="import-inside-class"
        ),
        pytest.param(cells("x = 1", "from __future__ import annotations"), id="future-import"),
        pytest.param("import os\nx = 1\nimport sys", id="single-cell"),
    ],
)
def test_nb502_passes(text: str) -> None:
    assert run(text, "NB502") == []


def test_nb502_parameters_cell_is_skipped_when_finding_the_import_cell() -> None:
    text = "# %% tags=parameters\nalpha = 0.5\n# %%\nimport math\n# %%\nimport os\n"
    (d,) = run(text, "NB502")
    assert d.cell_index == 2 and "cell 2" in d.message


def test_nb502_fix_moves_the_import_to_the_import_cell() -> None:
    text = cells(
        "import pandas as pd\ndf = pd.read_csv('a.csv')",
        "df.head()",
        "# plots\nimport seaborn as sns  # nicer defaults\nsns.histplot(df)",
    )
    (d,) = run(text, "NB502")
    assert d.fix is not None and d.fix.applicability == "safe"
    assert d.fix.edits == (
        Edit(
            "replace_source",
            0,
            "import pandas as pd\n"
            "import seaborn as sns  # nicer defaults\n"
            "df = pd.read_csv('a.csv')",
        ),
        Edit("replace_source", 2, "# plots\nsns.histplot(df)"),
    )
    assert d.fix.message == "Move 'import seaborn as sns # nicer defaults' to the imports in cell 1"


def test_nb502_fix_deletes_a_cell_left_empty_last() -> None:
    text = cells("import os", "x = os.sep", "import json\nimport re")
    diags = run(text, "NB502")
    first = diags[0].fix
    assert first is not None
    assert first.edits == (
        Edit("replace_source", 0, "import os\nimport json"),
        Edit("replace_source", 2, "import re"),
    )
    nb = notebook_from_snippet(text)
    nb.cells[2].set_source("import re")
    (last,) = lint_nb(nb, "NB502")
    assert last.fix is not None
    assert [e.op for e in last.fix.edits] == ["replace_source", "delete_cell"]
    assert last.fix.edits[-1].cell_index == 2
    assert "delete cell 3" in last.fix.message


def test_nb502_fix_inserts_after_the_last_import_before_code() -> None:
    text = cells('"""Setup."""\nimport os\n\nimport sys\nDATA = os.sep\n', "y = 2", "import json")
    (d,) = run(text, "NB502")
    assert d.fix is not None
    assert d.fix.edits[0] == Edit(
        "replace_source", 0, '"""Setup."""\nimport os\n\nimport sys\nimport json\nDATA = os.sep'
    )


def test_nb502_fix_into_cell_without_imports_goes_to_the_top() -> None:
    text = cells("SEED = 42", "import random\nrandom.seed(SEED)")
    (d,) = run(text, "NB502")
    assert d.fix is not None
    assert d.fix.edits[0] == Edit("replace_source", 0, "import random\nSEED = 42")
    assert d.fix.edits[1] == Edit("replace_source", 1, "random.seed(SEED)")


def test_nb502_fix_removing_the_last_line_leaves_no_trailing_newline() -> None:
    (d,) = run(cells("import os", "x = os.sep\n\nimport json"), "NB502")
    assert d.fix is not None
    assert d.fix.edits[1] == Edit("replace_source", 1, "x = os.sep")


def test_nb502_duplicate_import_is_just_removed() -> None:
    text = cells("import numpy as np", "a = np.zeros(3)", "import numpy as np\nb = np.ones(3)")
    (d,) = run(text, "NB502")
    assert d.fix is not None
    assert d.fix.edits == (Edit("replace_source", 2, "b = np.ones(3)"),)
    assert "already imports it" in d.fix.message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            cells("import os", "sns = None", "import seaborn as sns"), id="name-rebound-before"
        ),
        pytest.param(cells("import os", "print(json)", "import json"), id="name-used-before"),
        pytest.param(cells("import os", "x = json\nimport json"), id="used-earlier-in-same-cell"),
        pytest.param(
            cells(
                "import os", "try:\n    import ujson as json\nexcept ImportError:\n    import json"
            ),
            id="conditional",
        ),
        pytest.param(cells("import os", "import json; x = 1"), id="shares-a-line"),
        pytest.param(
            cells("import os", "!pip install seaborn", "import seaborn"), id="after-pip-install"
        ),
        pytest.param(
            cells("import os\nimport sys", "sys.path.append('../src')", "import mylib"),
            id="after-sys-path",
        ),
        pytest.param(
            cells("import os", "os.environ['KERAS_BACKEND'] = 'jax'", "import keras"),
            id="after-environ",
        ),
        pytest.param(cells("import os", "%cd ..", "import mylib"), id="after-cd"),
        pytest.param(
            cells("import os", "%load_ext cudf.pandas", "import pandas as pd"), id="after-load-ext"
        ),
        pytest.param(
            cells("import os", "from pylab import *", "import numpy as np"), id="after-star"
        ),
        pytest.param(cells("import os", "%run helpers.py", "import json"), id="after-run"),
        pytest.param(cells("%%time\nimport os", "import json"), id="cell-magic-import-cell"),
        pytest.param(cells("import os", "x = (\n1 +", "import json"), id="broken-cell-between"),
    ],
)
def test_nb502_no_fix_when_moving_could_change_behaviour(text: str) -> None:
    diags = run(text, "NB502")
    assert diags, "the late import is still reported"
    assert [d.fix for d in diags] == [None] * len(diags)


def test_nb502_uses_after_the_import_in_its_cell_do_not_block() -> None:
    (d,) = run(cells("import os", "import json\nprint(json.dumps(1))"), "NB502")
    assert d.fix is not None


def test_nb502_conditional_import_message() -> None:
    (d,) = run(cells("import os", "if os.name == 'nt':\n    import winreg"), "NB502")
    assert d.fix is None and "by hand" in d.message and (d.line, d.column) == (2, 5)


def test_nb502_harmless_magics_between_do_not_block() -> None:
    text = cells("import os", "%matplotlib inline\nx = 1", "import json")
    (d,) = run(text, "NB502")
    assert d.fix is not None


def _apply_all(nb: Notebook) -> int:
    """Apply NB502 fixes one at a time, re-linting in between (as ``nbops fix`` does)."""
    rounds = 0
    while True:
        fixes = [d.fix for d in lint_nb(nb, "NB502") if d.fix is not None]
        if not fixes:
            return rounds
        apply_fix(nb, fixes[0])
        rounds += 1
        assert rounds < 20


def test_nb502_fixes_apply_one_after_another() -> None:
    text = cells(
        "import os",
        "x = os.sep",
        "import json\nimport re\ny = json.dumps([x])",
        "z = re.compile('a')",
        "from pathlib import Path",
        "import csv\n\nrows = list(csv.reader(open('a.csv')))",
    )
    nb = notebook_from_snippet(text)
    assert _apply_all(nb) == 4
    assert [c.source for c in nb.cells] == [
        "import os\nimport json\nimport re\nfrom pathlib import Path\nimport csv",
        "x = os.sep",
        "y = json.dumps([x])",
        "z = re.compile('a')",
        "rows = list(csv.reader(open('a.csv')))",
    ]
    assert lint_nb(nb, "NB502") == []


def test_nb502_fix_engine_applies_them_all() -> None:
    from nbops.lint.fix import FixOptions, fix_notebook

    text = cells("import os", "x = 1", "import json", "import re", "y = json.dumps(re.escape('a'))")
    nb = notebook_from_snippet(text)
    linter = Linter(Config(), select=["NB502"], format_check=False, cache=False)
    applied = fix_notebook(nb, linter, FixOptions(ruff=False, format=False))
    assert [a.code for a in applied] == ["NB502", "NB502"]
    assert [c.source for c in nb.cells] == [
        "import os\nimport json\nimport re",
        "x = 1",
        "y = json.dumps(re.escape('a'))",
    ]


# --------------------------------------------------------------------------- NB503


@pytest.mark.parametrize(
    ("text", "names"),
    [
        pytest.param(
            cells("df = load()", "def clean():\n    return df.dropna()"), ["df"], id="data"
        ),
        pytest.param(
            cells("threshold = 0.5", "def label(s):\n    return s > threshold"),
            ["threshold"],
            id="lowercase-literal",
        ),
        pytest.param(
            cells("DATA = load()", "def f():\n    return DATA"), ["DATA"], id="caps-not-literal"
        ),
        pytest.param(
            cells("x = f()\nLIMIT = 1", "LIMIT = 2", "def f():\n    return LIMIT"),
            ["LIMIT"],
            id="caps-assigned-twice",
        ),
        pytest.param(
            cells("import os\nCONFIG = {'a': 1}", "def f():\n    return CONFIG['a']"),
            ["CONFIG"],
            id="caps-dict-is-mutable",
        ),
        pytest.param(
            cells("import os", "LAGS = [1, 7]\n\ndef f(s):\n    return [s.shift(n) for n in LAGS]"),
            ["LAGS"],
            id="caps-list-is-mutable",
        ),
        pytest.param(
            "# %% tags=parameters\nTHRESHOLD = 0.5\n# %%\ndef f(s):\n    return s > THRESHOLD\n",
            ["THRESHOLD"],
            id="tagged-parameter",
        ),
        pytest.param(
            cells("import os", "SEED = 42\nN = 10", "def f():\n    return SEED"),
            ["SEED"],
            id="untagged-parameters-cell",
        ),
        pytest.param(
            cells("import os", "x = 1", "# parameters\nSEED = 42", "def f():\n    return SEED"),
            ["SEED"],
            id="parameters-comment",
        ),
        pytest.param(
            cells(
                "model = fit()",
                "class Scorer:\n    def score(self, x):\n        return model.predict(x)",
            ),
            ["model"],
            id="method-reads-global",
        ),
        pytest.param(
            cells("a = 1\nb = 2\nc = 3", "def f():\n    return a + b + c"),
            ["a", "b", "c"],
            id="several",
        ),
        pytest.param(
            cells("for row in rows:\n    pass", "def f():\n    return row"),
            ["row"],
            id="loop-variable",
        ),
    ],
)
def test_nb503_fails(text: str, names: list[str]) -> None:
    (d,) = run(text, "NB503")
    for name in names:
        assert f"'{name}'" in d.message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(cells("import numpy as np", "def f(x):\n    return np.mean(x)"), id="module"),
        pytest.param(
            cells("from math import pi", "def f(r):\n    return pi * r"), id="imported-name"
        ),
        pytest.param(
            cells("def g(x):\n    return x", "def f(x):\n    return g(x) + len(x)"),
            id="function-and-builtin",
        ),
        pytest.param(cells("class A:\n    pass", "def f():\n    return A()"), id="class"),
        pytest.param(cells("import os\nSEED = 42", "def f():\n    return SEED"), id="caps-literal"),
        pytest.param(
            cells("import os\nSIZES = (1, 2, -3)", "def f():\n    return SIZES"), id="caps-tuple"
        ),
        pytest.param(
            cells("x = load()", "KEEP = frozenset({'a', 'b'})", "def f():\n    return KEEP"),
            id="caps-frozenset",
        ),
        pytest.param(
            cells("TIMEOUT: int = 60 * 60", "def f():\n    return TIMEOUT"), id="caps-arithmetic"
        ),
        pytest.param(
            cells(
                "from pathlib import Path\nDATA_DIR = Path('data')",
                "def f():\n    return DATA_DIR / 'x'",
            ),
            id="caps-path",
        ),
        pytest.param(cells("df = load()", "def f(df):\n    return df.dropna()"), id="parameter"),
        pytest.param(
            cells("def f():\n    return undefined_thing"), id="undefined-is-not-this-rule"
        ),
        pytest.param(cells("df = load()", "def f():\n    df = 1\n    return df"), id="local"),
    ],
)
def test_nb503_passes(text: str) -> None:
    assert run(text, "NB503") == []


def test_nb503_class_and_several_names_message() -> None:
    text = cells("a = f()\nb = g()", "class Model:\n    def run(self):\n        return a + b")
    (d,) = run(text, "NB503")
    assert d.message == (
        "class 'Model' reads notebook globals 'a', 'b': pass them as parameters of __init__ instead"
    )


def test_nb503_position_and_message() -> None:
    (d,) = run(cells("df = load()", "import os\n\n@cache\ndef clean(x):\n    return df"), "NB503")
    assert (d.cell_index, d.line, d.column, d.end_column) == (1, 4, 5, 10)
    assert d.message == (
        "function 'clean' reads notebook global 'df': pass it as a parameter instead"
    )


# Callbacks as HoloViews' and panel's user guides write them (holoviews examples/user_guide/
# 13-Custom_Interactivity, Deploying_Bokeh_Apps, reference/streams/bokeh/Tap)
HV_TAP = """\
# %%
dataset = hv.Dataset(df, vdims=('measles', 'Measles Incidence'))
heatmap = hv.HeatMap(dataset.aggregate(['Year', 'State'], np.mean))
posxy = hv.streams.Tap(source=heatmap, x=1951, y='New York')

def tap_histogram(x, y):
    return hv.Curve(dataset.select(State=y, Year=int(x)), kdims='Week')

tap_dmap = hv.DynamicMap(tap_histogram, streams=[posxy])
"""
HV_POPUP = """\
# %%
def popup_distribution(index):
    x, y = points.iloc[index].data.T
    return hv.Distribution((x, y))

points = hv.Points(np.random.randn(1000, 2))
hv.streams.Selection1D(source=points, popup=popup_distribution)
"""
PN_WATCH = """\
# %%
stream = hv.streams.Stream.define('Phase', phase=0.)()
slider = pn.widgets.FloatSlider(start=0, end=6, value=0, step=0.2, name="Phase")
# %%
def slider_update(event):
    stream.event(phase=event.new)
# %%
slider.param.watch(slider_update, 'value')
"""
IPYW_OBSERVE = """\
# %%
out = widgets.Output()
# %%
def on_change(change):
    with out:
        print(change['new'])

dropdown.observe(on_change, names='value')
"""
PN_DEPENDS = """\
# %%
df = pd.read_csv('penguins.csv')
species = pn.widgets.Select(options=['Adelie', 'Gentoo'])
# %%
@pn.depends(species.param.value)
def table(value):
    return df[df.species == value]
"""
INTERACT = """\
# %%
df = pd.read_csv('penguins.csv')
# %%
@interact(n=(1, 20))
def head(n=5):
    return df.head(n)
"""
ON_CLICK = """\
# %%
log = []
# %%
def clicked(b):
    log.append(b.description)

button = widgets.Button(description='Run')
button.on_click(clicked)
"""
PN_BIND = """\
# %%
df = pd.read_csv('penguins.csv')
# %%
def view(n):
    return df.head(n)

pn.Column(slider, pn.bind(view, slider))
"""
# still reported: a helper passed to a numerical routine could take the globals as arguments
ODEINT = """\
# %%
sigma = 10
rho = 28

def lorenz(xyz, t):
    x, y, z = xyz
    return [sigma * (y - x), x * rho - x * z - y, x * y]

solution = odeint(lorenz, (-10, -7, 35), t)
"""
# registered in no callback: the plain helper next to one is still reported
HELPER_BESIDE = HV_TAP + """\
# %%
def summary():
    return dataset.aggregate('Year', np.mean)
"""


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        pytest.param(HV_TAP, [], id="dynamicmap"),
        pytest.param(HV_POPUP, [], id="popup-keyword"),
        pytest.param(PN_WATCH, [], id="param-watch-in-a-later-cell"),
        pytest.param(IPYW_OBSERVE, [], id="observe"),
        pytest.param(PN_DEPENDS, [], id="pn-depends"),
        pytest.param(INTERACT, [], id="interact"),
        pytest.param(ON_CLICK, [], id="on-click"),
        pytest.param(PN_BIND, [], id="pn-bind"),
        pytest.param(ODEINT, ["lorenz"], id="odeint-helper"),
        pytest.param(HELPER_BESIDE, ["summary"], id="helper-beside-a-callback"),
    ],
)
def test_nb503_framework_callbacks(text: str, flagged: list[str]) -> None:
    found = run(text, "NB503")
    assert [d.message.split("'")[1] for d in found] == flagged, [d.message for d in found]


# --------------------------------------------------------------------------- NB504


def test_nb504_cell_over_limit_with_fix() -> None:
    text = "# %% exec=1 output_bytes=600000\nfig.show()\n# %% exec=2 output_bytes=1000\nx"
    (d,) = run(text, "NB504")
    assert d.cell_index == 0 and "600 KB" in d.message and "500 KB" in d.message
    assert d.fix is not None and d.fix.applicability == "unsafe"
    assert d.fix.edits == (Edit("clear_outputs", 0),)


@pytest.mark.parametrize(
    ("text", "options", "count"),
    [
        pytest.param("# %% exec=1 output_bytes=400000\nx", None, 0, id="under-default"),
        pytest.param(
            "# %% exec=1 output_bytes=400000\nx", {"max-output-bytes": 100_000}, 1, id="option"
        ),
        pytest.param("# %%\nx", None, 0, id="no-outputs"),
    ],
)
def test_nb504_per_cell(text: str, options: dict[str, Any] | None, count: int) -> None:
    assert len(run(text, "NB504", options)) == count


def test_nb504_notebook_total_clears_largest_cells() -> None:
    text = "".join(
        f"# %% exec={n} output_bytes={size}\nx\n"
        for n, size in enumerate([30_000, 45_000, 10_000, 40_000], 1)
    )
    options = {"max-output-bytes": 50_000, "max-notebook-output-bytes": 60_000}
    (d,) = run(text, "NB504", options)
    assert d.cell_index is None and "cells 2, 4" in d.message
    assert d.fix is not None
    assert d.fix.edits == (Edit("clear_outputs", 1), Edit("clear_outputs", 3))


def test_nb504_counts_text_outputs_too() -> None:
    nb = notebook_from_snippet("# %% exec=1\nprint(log)")
    out = [{"output_type": "stream", "name": "stdout", "text": "epoch 1 loss 0.5\n" * 40_000}]
    nb.cells[0].outputs = out
    nb.cells[0].raw["outputs"] = out
    assert len(lint_nb(nb, "NB504")) == 1


# --------------------------------------------------------------------------- NB505


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("breakpoint()", id="breakpoint"),
        pytest.param("import pdb; pdb.set_trace()", id="pdb-oneliner"),
        pytest.param("import ipdb\nfor x in xs:\n    ipdb.set_trace()", id="ipdb"),
        pytest.param(
            "from IPython.core.debugger import set_trace\nset_trace()", id="ipython-set-trace"
        ),
        pytest.param("from IPython.core.debugger import Pdb\nPdb().set_trace()", id="pdb-instance"),
        pytest.param("import pdb\npdb.post_mortem()", id="post-mortem"),
        pytest.param("%debug", id="debug-magic"),
        pytest.param("%pdb on", id="pdb-on"),
        pytest.param("%pdb", id="pdb-toggle"),
        pytest.param("%%debug\nx = 1", id="debug-cell-magic"),
    ],
)
def test_nb505_fails(text: str) -> None:
    assert len(run(text, "NB505")) == 1


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("import pdb", id="import-only"),
        pytest.param("%pdb off", id="pdb-off"),
        pytest.param("tracer.set_trace()", id="unrelated-method"),
        pytest.param("debug = True\nprint(debug)", id="debug-variable"),
    ],
)
def test_nb505_passes(text: str) -> None:
    assert run(text, "NB505") == []


def test_nb505_named_and_unnamed_calls_in_document_order() -> None:
    """Named calls come from the notebook's shared pass; Pdb().set_trace() has no dotted name."""
    found = run(
        cells(
            "import pdb as p\nfrom pdb import set_trace as st",
            "p.Pdb().set_trace()\nst()",
            "x = 1; breakpoint(); p.Pdb().set_trace()",
        ),
        "NB505",
    )
    assert [(d.cell, d.line, d.column, d.message.split("() stops")[0]) for d in found] == [
        (2, 1, 1, "Pdb().set_trace"),
        (2, 2, 1, "pdb.set_trace"),
        (3, 1, 8, "breakpoint"),
        (3, 1, 22, "Pdb().set_trace"),
    ]


def test_nb505_positions() -> None:
    a, b = run("x = 1\nbreakpoint()\n%pdb on", "NB505")
    assert (a.line, a.column, a.end_column) == (2, 1, 13) and "breakpoint()" in a.message
    assert (b.line, b.column) == (3, 1) and "%pdb" in b.message


# --------------------------------------------------------------------------- NB506


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('import warnings\nwarnings.filterwarnings("ignore")', id="filterwarnings"),
        pytest.param(
            'import warnings\nwarnings.filterwarnings(action="ignore")', id="keyword-action"
        ),
        pytest.param('import warnings\nwarnings.simplefilter("ignore")', id="simplefilter"),
        pytest.param(
            'from warnings import filterwarnings\nfilterwarnings("ignore")', id="from-import"
        ),
        pytest.param('import numpy as np\nnp.seterr(all="ignore")', id="seterr"),
        pytest.param(
            "import pandas as pd\npd.options.mode.chained_assignment = None",
            id="chained-assignment",
        ),
        pytest.param(
            'import pandas as pd\npd.set_option("mode.chained_assignment", None)', id="set-option"
        ),
    ],
)
def test_nb506_fails(text: str) -> None:
    assert len(run(text, "NB506")) == 1


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            'import warnings\nwarnings.filterwarnings("ignore", category=DeprecationWarning)',
            id="category",
        ),
        pytest.param(
            'import warnings\nwarnings.filterwarnings("ignore", "X is deprecated")', id="message"
        ),
        pytest.param(
            'import warnings\nwarnings.simplefilter("ignore", FutureWarning)',
            id="simplefilter-category",
        ),
        pytest.param('import warnings\nwarnings.simplefilter("error")', id="error-action"),
        pytest.param(
            "import warnings\n"
            "with warnings.catch_warnings():\n"
            '    warnings.simplefilter("ignore")\n'
            "    fit()",
            id="scoped",
        ),
        pytest.param(
            'import numpy as np\nwith np.errstate(all="ignore"):\n    r = a / b', id="errstate"
        ),
        pytest.param(
            'import pandas as pd\npd.options.mode.chained_assignment = "raise"', id="raise"
        ),
    ],
)
def test_nb506_passes(text: str) -> None:
    assert run(text, "NB506") == []


# NB506 resolves only calls named like a suppressor and walks assignments only in cells that
# spell chained_assignment (or hold non-ASCII text the parser may normalise)
@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            cells("from warnings import simplefilter as sf", 'sf("ignore")'), id="alias-other-cell"
        ),
        pytest.param(cells("import numpy", 'numpy.seterr(all="ignore")'), id="seterr-no-alias"),
        pytest.param(
            "import pandas as pd\nif True:\n    pd.options.mode.chained_assignment = None",
            id="nested-assignment",
        ),
        pytest.param(
            "import pandas as pd\npd.options.mode.ｃhained_assignment = None", id="nfkc-attribute"
        ),
        pytest.param(
            'import warnings\nwarnings.filterwarnings("ig" "nore")', id="implicit-concatenation"
        ),
    ],
)
def test_nb506_prefilter_edges_still_report(text: str) -> None:
    assert len(run(text, "NB506")) == 1


def test_nb506_findings_in_source_order_across_calls_and_assignments() -> None:
    found = run(
        "import warnings\nimport pandas as pd\n"
        'pd.set_option("mode.chained_assignment", None)\n'
        "pd.options.mode.chained_assignment = None\n"
        'warnings.simplefilter("ignore")\n'
        "with warnings.catch_warnings():\n"
        "    pd.options.mode.chained_assignment = None\n",
        "NB506",
    )
    assert [d.line for d in found] == [3, 4, 5]


def test_nb506_position() -> None:
    (d,) = run('import warnings\n\nwarnings.filterwarnings("ignore")', "NB506")
    assert (d.line, d.column, d.end_column) == (3, 1, 34)


# --------------------------------------------------------------------------- NB507


@pytest.mark.parametrize(
    ("bodies", "options", "count"),
    [
        pytest.param([f"x{i} = {i}" for i in range(10)], None, 1, id="ten-cells-no-defs"),
        pytest.param([f"x{i} = {i}" for i in range(9)], None, 0, id="nine-cells"),
        pytest.param(
            [f"x{i} = {i}" for i in range(9)] + ["def f():\n    pass"], None, 0, id="one-function"
        ),
        pytest.param(
            [f"x{i} = {i}" for i in range(9)] + ["class A:\n    pass"], None, 0, id="one-class"
        ),
        pytest.param(
            [f"f{i} = lambda: {i}" for i in range(10)], None, 1, id="lambdas-do-not-count"
        ),
        pytest.param([f"x{i} = {i}" for i in range(3)], {"min-code-cells": 3}, 1, id="option"),
        pytest.param(
            [f"x{i} = {i}" for i in range(9)] + ["def f(:\n    pass"],
            None,
            0,
            id="def-in-broken-cell",
        ),
    ],
)
def test_nb507(bodies: list[str], options: dict[str, Any] | None, count: int) -> None:
    assert len(run(cells(*bodies), "NB507", options)) == count


def test_nb507_ignores_empty_cells() -> None:
    text = cells(*[f"x{i} = {i}" for i in range(9)]) + "# %%\n\n"
    assert run(text, "NB507") == []


# --------------------------------------------------------------------------- NB508


@pytest.mark.parametrize(
    ("text", "name"),
    [
        pytest.param("list = [3, 1, 2]", "list", id="assign"),
        pytest.param("for id in ids:\n    print(id)", "id", id="for-target"),
        pytest.param("def filter(rows):\n    return rows", "filter", id="def"),
        pytest.param("from numpy import sum", "sum", id="import"),
        pytest.param("input = pd.read_csv('in.csv')", "input", id="input"),
        pytest.param("with open(p) as file, open(q) as dir:\n    pass", "dir", id="with-target"),
        pytest.param("max, min = 10, 0", "max", id="tuple-target"),
    ],
)
def test_nb508_fails(text: str, name: str) -> None:
    diags = run(text, "NB508")
    assert diags and any(f"'{name}'" in d.message for d in diags)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("items = [3, 1, 2]", id="descriptive"),
        pytest.param("self.id = 3", id="attribute"),
        pytest.param("def f(id):\n    return id", id="parameter"),
        pytest.param("def f():\n    list = []\n    return list", id="local"),
        pytest.param("total = df.sum()\nd = dict(a=1)", id="calls"),
        pytest.param("import numpy as np\nm = np.max(x)", id="module-function"),
        pytest.param("file = open('x')", id="file-is-not-a-builtin"),
    ],
)
def test_nb508_passes(text: str) -> None:
    assert run(text, "NB508") == []


# the Python 2 fallback of nbclient's tests/files/Disable Stdin.ipynb, and its relatives
PY2_INPUT = "try:\n    input = raw_input\nexcept:\n    pass\n\nname = input('name: ')"


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        pytest.param(PY2_INPUT, False, id="raw-input-bare-except"),
        pytest.param(
            "try:\n    input = raw_input\nexcept NameError:\n    pass", False, id="name-error"
        ),
        pytest.param(
            "try:\n    str = unicode\n    range = xrange\nexcept (NameError, TypeError):\n    pass",
            False,
            id="several-in-a-tuple",
        ),
        pytest.param(
            "try:\n    from itertools import izip as zip\nexcept ImportError:\n    pass",
            False,
            id="izip",
        ),
        pytest.param(
            "try:\n    from future_builtins import map, filter\nexcept ImportError:\n    pass",
            False,
            id="future-builtins",
        ),
        # shadowing for real on Python 3
        pytest.param(
            "try:\n    input = raw_input\nexcept ValueError:\n    pass",
            True,
            id="handler-does-not-catch-name-error",
        ),
        pytest.param(
            "try:\n    input = get_reader()\nexcept NameError:\n    pass",
            True,
            id="not-a-python2-name",
        ),
        pytest.param(
            "def raw_input(p):\n    return p\n\ntry:\n    input = raw_input\nexcept NameError:\n"
            "    pass",
            True,
            id="notebook-defines-raw-input",
        ),
        pytest.param(
            "try:\n    from numpy import max\nexcept ImportError:\n    pass", True, id="numpy"
        ),
        pytest.param("input = raw_input", True, id="no-try"),
    ],
)
def test_nb508_python2_fallbacks(text: str, flagged: bool) -> None:
    assert bool(run(text, "NB508")) is flagged


def test_nb508_positions() -> None:
    a, b = run("x = 1\ndef sum(values):\n    pass\nfrom numpy import max", "NB508")
    assert (a.line, a.column, a.end_column) == (2, 5, 8) and "function 'sum'" in a.message
    assert (b.line, b.column, b.end_column) == (4, 19, 22) and "np.max" not in b.message
    assert "import the module" in b.message


def test_nb508_reports_each_cell() -> None:
    assert [d.cell_index for d in run(cells("type = 'a'", "type = 'b'"), "NB508")] == [0, 1]


def test_nb502_keeps_an_import_cell_that_has_outputs_or_tags() -> None:
    """The fix used to delete the emptied cell together with its outputs and tags."""
    from nbops.core.notebook import notebook_from_dict
    from nbops.lint.fix import FixOptions, fix_notebook

    warning = {"output_type": "stream", "name": "stderr", "text": "DeprecationWarning\n"}
    raw = {
        "nbformat": 4, "nbformat_minor": 5, "metadata": {},
        "cells": [
            {"cell_type": "code", "id": "a", "metadata": {}, "outputs": [],
             "execution_count": 1, "source": "import os"},
            {"cell_type": "code", "id": "b", "metadata": {}, "outputs": [warning],
             "execution_count": 2, "source": "import json"},
            {"cell_type": "code", "id": "c", "metadata": {"tags": ["setup"]}, "outputs": [],
             "execution_count": 3, "source": "import re"},
            {"cell_type": "code", "id": "d", "metadata": {}, "outputs": [],
             "execution_count": 4, "source": "import csv"},
            {"cell_type": "code", "id": "e", "metadata": {}, "outputs": [],
             "execution_count": 5, "source": "print(os, json, re, csv)"},
        ],
    }
    nb = notebook_from_dict(raw)
    linter = Linter(Config(), select=["NB502"], format_check=False, cache=False)
    applied = fix_notebook(nb, linter, FixOptions(ruff=False, format=False))
    data = nb.to_dict()
    assert [c["id"] for c in data["cells"]] == ["a", "b", "c", "e"], "only the bare cell 4 goes"
    assert data["cells"][0]["source"] == "import os\nimport json\nimport re\nimport csv"
    assert data["cells"][1]["source"] == "" and data["cells"][1]["outputs"] == [warning]
    assert data["cells"][2]["source"] == "" and data["cells"][2]["metadata"] == {"tags": ["setup"]}
    messages = {a.cell_index: a.message for a in applied}
    assert "cell 2 is left empty, keeping its outputs" in messages[1]
    assert "cell 3 is left empty, keeping its tags 'setup'" in messages[2]
    assert "delete cell 4" in messages[3]


# --------------------------------------------------------------------------- NB504 sizes


def _reference_size(value: object) -> int:
    """The size formula of output_size, one value at a time (no shortcut for lists of text)."""
    if isinstance(value, str):
        return len(value) + 2
    if isinstance(value, list):
        return sum(_reference_size(v) for v in value) + len(value) + 1
    if isinstance(value, dict):
        return sum(len(str(k)) + 4 + _reference_size(v) for k, v in value.items()) + 1
    return len(str(value))


@pytest.mark.parametrize(
    "value",
    [
        [],
        ["line 1\n", "line 2\n", ""],
        ["text", 3, None, ["nested", "list"], {"k": ["a", "b"]}],
        [{"output_type": "stream", "text": ["a\n", "b"]}, {"data": {"image/png": "iVBOR"}}],
        [True, 1.5, "é"],
    ],
)
def test_output_size_formula_is_kept(value: list[object]) -> None:
    from nbops.lint.rules.production import _json_size

    assert _json_size(value) == _reference_size(value)
