"""NB4 security rules: every rule fails and passes, positions, fixes, redaction, examples."""

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
from nbops.lint.rules.security import TlsVerificationDisabled, _tls_candidate

# token-shaped values are built at run time (see tests/lint/test_secrets.py)
GITHUB = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5"
STRIPE = "sk_" + "live_" + "4eC39HqLyjWDarjtT1zdp7dc"
AWS_ID = "AKIA" + "4HQ2ZL7XRT5MNB3Q"


def run(text: str, code: str, options: dict[str, Any] | None = None) -> list[Diagnostic]:
    """Lint with one rule; a crash inside the rule (reported as NB005) fails the test."""
    diags = lint_snippet(textwrap.dedent(text), select=(code, "NB005"), options=options)
    crashes = [d.message for d in diags if d.code == "NB005"]
    assert not crashes, crashes
    return [d for d in diags if d.code == code]


def lint_nb(nb: Notebook, code: str) -> list[Diagnostic]:
    linter = Linter(Config(), select=[code, "NB005"], format_check=False, cache=False)
    diags = linter.lint_notebook(nb)
    assert not [d.message for d in diags if d.code == "NB005"]
    return [d for d in diags if d.code == code]


def with_outputs(source: str, outputs: list[dict[str, Any]], count: int = 1) -> Notebook:
    """A one-cell notebook whose cell has exactly ``outputs``."""
    nb = notebook_from_snippet(f"# %% exec={count}\n{source}")
    nb.cells[0].outputs = outputs
    nb.cells[0].raw["outputs"] = outputs
    return nb


def display(data: dict[str, Any]) -> dict[str, Any]:
    return {"output_type": "display_data", "data": data, "metadata": {}}


# --------------------------------------------------------------------------- examples




# --------------------------------------------------------------------------- NB401


@pytest.mark.parametrize(
    ("text", "count"),
    [
        pytest.param(f'TOKEN = "{GITHUB}"', 1, id="github-token"),
        pytest.param('db = connect(password="Tr0ub4dor&3")', 1, id="password-kwarg"),
        pytest.param(f'a = "{GITHUB}"\nb = "{AWS_ID}"', 2, id="two-secrets"),
        pytest.param(f"# %% [markdown]\nUse the key `{AWS_ID}` to log in.", 1, id="markdown-cell"),
        pytest.param(f"# %% [raw]\nstripe: {STRIPE}", 1, id="raw-cell"),
        pytest.param(
            f"#! kernel=ir language=R\n# %%\nSys.setenv(TOKEN = '{GITHUB}')", 1, id="r-kernel"
        ),
        pytest.param(f"# %%\n%env GITHUB_TOKEN={GITHUB}", 1, id="env-magic"),
        pytest.param(f"# %%\n# old key: {AWS_ID}", 1, id="in-a-comment"),
    ],
)
def test_nb401_fails(text: str, count: int) -> None:
    assert len(run(text, "NB401")) == count


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('import os\nTOKEN = os.environ["GITHUB_TOKEN"]', id="environ"),
        pytest.param("from getpass import getpass\npassword = getpass()", id="getpass"),
        pytest.param('API_KEY = "<your-api-key>"', id="placeholder"),
        pytest.param('password = "changeme"', id="changeme"),
        pytest.param("token = tokenizer(text)", id="tokenizer"),
        pytest.param(
            'EXPECTED_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"',
            id="sha256-constant",
        ),
        pytest.param('run_id = "123e4567-e89b-12d3-a456-426614174000"', id="uuid"),
        pytest.param(
            "# %% [markdown]\nSet `API_KEY` in your `.env` file first.", id="markdown-advice"
        ),
    ],
)
def test_nb401_passes(text: str) -> None:
    assert run(text, "NB401") == []


def test_nb401_position_and_redacted_message() -> None:
    (d,) = run(f'import os\nclient = Client(token="{GITHUB}")', "NB401")
    assert (d.cell_index, d.line, d.column) == (0, 2, 24)
    assert (d.end_line, d.end_column) == (2, 24 + len(GITHUB))
    assert GITHUB not in d.message and GITHUB[4:12] not in d.message
    assert "GitHub token 'ghp_…' (40 chars)" in d.message
    assert "os.environ" in d.message
    assert d.fix is None and d.severity == "error"


def test_nb401_markdown_message_says_remove() -> None:
    (d,) = run(f"# %% [markdown]\nkey: {AWS_ID}", "NB401")
    assert "markdown cell" in d.message and "remove" in d.message
    assert AWS_ID not in d.message


# --------------------------------------------------------------------------- NB402


@pytest.mark.parametrize(
    "outputs",
    [
        pytest.param(
            [{"output_type": "stream", "name": "stdout", "text": f"token={GITHUB}\n"}], id="stdout"
        ),
        pytest.param(
            [
                {
                    "output_type": "stream",
                    "name": "stderr",
                    "text": ["connecting\n", f"key {AWS_ID}\n"],
                }
            ],
            id="stderr-lines",
        ),
        pytest.param(
            [
                {
                    "output_type": "execute_result",
                    "execution_count": 1,
                    "data": {"text/plain": f"{{'api_key': '{STRIPE}'}}"},
                    "metadata": {},
                }
            ],
            id="execute-result",
        ),
        pytest.param([display({"text/html": f"<td>{AWS_ID}</td>"})], id="html"),
        pytest.param([display({"application/json": {"key": AWS_ID}})], id="json-mime"),
        pytest.param(
            [
                {
                    "output_type": "error",
                    "ename": "OperationalError",
                    "evalue": "could not connect",
                    "traceback": [
                        "\x1b[0;31mOperationalError\x1b[0m: could not connect to",
                        "postgresql://etl:Pr0dPassw0rd@db.internal/sales",
                    ],
                }
            ],
            id="traceback-with-ansi",
        ),
    ],
)
def test_nb402_fails_on_outputs(outputs: list[dict[str, Any]]) -> None:
    (d,) = lint_nb(with_outputs("run()", outputs), "NB402")
    assert d.cell_index == 0 and d.line is None


@pytest.mark.parametrize(
    "outputs",
    [
        pytest.param(
            [display({"image/png": f"iVBOR\n{AWS_ID}\n{GITHUB}\n", "text/plain": "<Figure>"})],
            id="image-data-not-scanned",
        ),
        pytest.param(
            [display({"text/html": f'<img src="data:image/png;base64,{"QUJD" * 40}{AWS_ID}"/>'})],
            id="inline-image-in-html",
        ),
        pytest.param(
            [
                {
                    "output_type": "stream",
                    "name": "stdout",
                    "text": f"sha256 {'9f86d081884c7d659a2feaa0c55ad015' * 2}\n",
                }
            ],
            id="hash",
        ),
        pytest.param(
            [
                display(
                    {
                        "text/plain": (
                            "   user_id   token  amount\n"
                            "0      101  apple    3.20\n"
                            "1      102  pear    11.00"
                        ),
                        "text/html": "<table><tr><td>101</td><td>apple</td></tr></table>",
                    }
                )
            ],
            id="dataframe",
        ),
        pytest.param([], id="no-outputs"),
    ],
)
def test_nb402_passes_on_outputs(outputs: list[dict[str, Any]]) -> None:
    assert lint_nb(with_outputs("run()", outputs), "NB402") == []


# %lsmagic's output as IPython's example notebooks carry it (Cell Magics.ipynb): a JSON
# mapping of every magic to its class, where "pwd" maps to "OSMagics"
LSMAGIC_LINE = {
    "alias": "OSMagics", "cd": "OSMagics", "env": "OSMagics", "popd": "OSMagics",
    "pushd": "OSMagics", "pwd": "OSMagics", "history": "HistoryMagics", "who": "NamespaceMagics",
}  # fmt: skip
LSMAGIC_TEXT = "Available line magics:\n%alias  %cd  %env  %history  %popd  %pushd  %pwd  %who"


def lsmagic_output(line: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "output_type": "execute_result",
            "execution_count": 1,
            "metadata": {},
            "data": {
                "application/json": {"cell": {"bash": "Other"}, "line": line},
                "text/plain": LSMAGIC_TEXT,
            },
        }
    ]


@pytest.mark.parametrize(
    ("source", "line", "flagged"),
    [
        pytest.param("%lsmagic", LSMAGIC_LINE, False, id="lsmagic"),
        # a magic class of the user's own, named once: the scanner alone would report it
        pytest.param(
            "%lsmagic", {**LSMAGIC_LINE, "passwd": "VaultMagics2"}, False, id="lsmagic-own-class"
        ),
        pytest.param(
            "print(magics)", {**LSMAGIC_LINE, "passwd": "VaultMagics2"}, True, id="printed-dict"
        ),
        pytest.param("%lsmagic\nprint(magics)", {"passwd": "VaultMagics2"}, True, id="and-code"),
    ],
)
def test_nb402_listing_magics(source: str, line: dict[str, str], flagged: bool) -> None:
    found = lint_nb(with_outputs(source, lsmagic_output(line)), "NB402")
    assert bool(found) is flagged, [d.message for d in found]


def test_nb402_fix_clears_outputs_and_message_is_redacted() -> None:
    nb = with_outputs("print(token)", [{"output_type": "stream", "name": "stdout", "text": GITHUB}])
    (d,) = lint_nb(nb, "NB402")
    assert GITHUB not in d.message and "'ghp_…' (40 chars)" in d.message
    assert d.fix is not None and d.fix.applicability == "unsafe"
    assert d.fix.edits == (Edit("clear_outputs", 0),)


def test_nb402_counts_more_secrets_in_one_message() -> None:
    text = f"{GITHUB}\n{AWS_ID}\n{STRIPE}\n"
    (d,) = lint_nb(
        with_outputs("x", [{"output_type": "stream", "name": "stdout", "text": text}]), "NB402"
    )
    assert "and 2 more" in d.message


@pytest.mark.parametrize(
    ("text", "line"),
    [
        pytest.param("import os\nprint(os.environ)", 2, id="print-environ"),
        pytest.param("import os\nos.environ", 2, id="display-environ"),
        pytest.param("import os\nx = 1\ndict(os.environ)", 3, id="display-dict-environ"),
        pytest.param(
            "from os import environ\nfor k, v in environ.items():\n    print(k, v)",
            None,
            id="items-loop-not-detected",
        ),
        pytest.param("import os\nprint(os.environ.items())", 2, id="print-items"),
        pytest.param("%env", 1, id="env-magic-bare"),
        pytest.param("!printenv", 1, id="printenv"),
        pytest.param("!env", 1, id="shell-env"),
    ],
)
def test_nb402_env_dump(text: str, line: int | None) -> None:
    found = run(text, "NB402")
    if line is None:  # documented limit: only direct prints/displays are recognised
        assert found == []
    else:
        (d,) = found
        assert d.line == line and "environment variables" in d.message
        assert d.fix is None  # nothing to clear yet


# the AST part runs only on cells that spell "environ" or a name imported as os.environ
@pytest.mark.parametrize(
    ("text", "cell"),
    [
        pytest.param("from os import environ as E\n\n# %%\nprint(E)", 2, id="alias-other-cell"),
        pytest.param("import os as o\n\n# %%\nprint(dict(o.environ))", 2, id="module-alias"),
        pytest.param("import os\nprint(os.ｅnviron)", 1, id="nfkc-spelling"),
        pytest.param("from os import environ as ｅ\n\n# %%\nｅ", 2, id="nfkc-alias"),
    ],
)
def test_nb402_env_dump_prefilter_edges(text: str, cell: int) -> None:  # cell: 1-based
    (d,) = run(text, "NB402")
    assert d.cell == cell and "environment variables" in d.message


def test_nb402_env_dump_with_output_offers_clear() -> None:
    nb = with_outputs(
        "import os\nprint(os.environ)",
        [{"output_type": "stream", "name": "stdout", "text": "environ({'HOME': '/home/me'})"}],
    )
    (d,) = lint_nb(nb, "NB402")
    assert d.fix is not None and d.fix.edits == (Edit("clear_outputs", 0),)


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('import os\nprint(os.environ["HOME"])', id="one-variable"),
        pytest.param('import os\nos.environ.get("HOME")', id="get-one"),
        pytest.param("%env MPLBACKEND=Agg", id="env-set"),
        pytest.param("!env | grep PATH", id="env-filtered"),
        pytest.param("import os\nprint(sorted(os.environ.keys()))", id="names-only"),
    ],
)
def test_nb402_env_passes(text: str) -> None:
    assert run(text, "NB402") == []


# --------------------------------------------------------------------------- NB403


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            'import subprocess\nsubprocess.run(f"gzip {path}", shell=True)', id="fstring-shell-true"
        ),
        pytest.param('import os\nos.system("rm -rf " + folder)', id="os-system-concat"),
        pytest.param(
            'import os, shlex\nos.system("cp " + shlex.quote(a) + " " + b)', id="one-value-unquoted"
        ),
        pytest.param('import os\nos.system("ls %s %s" % (a, b))', id="percent-tuple"),
        pytest.param('import os\nos.system(" ".join(["ls", d]))', id="join"),
        pytest.param('import os\nout = os.popen("cat {}".format(name)).read()', id="popen-format"),
        pytest.param(
            'import subprocess as sp\nsp.call("ls %s" % d, shell=True)', id="alias-percent"
        ),
        pytest.param(
            'from subprocess import check_output\ncheck_output(f"wc -l {f}", shell=True)',
            id="from-import",
        ),
        pytest.param('import subprocess\nsubprocess.getoutput(f"du -sh {d}")', id="getoutput"),
        pytest.param('path = "data.csv"\n!gzip {path}', id="bang-braces"),
        pytest.param('folder = "out"\n!ls $folder', id="bang-dollar"),
        pytest.param('name = "x"\nfiles = !ls {name}*', id="assigned-bang"),
    ],
)
def test_nb403_fails(text: str) -> None:
    assert len(run(text, "NB403")) == 1


@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            'import subprocess\nsubprocess.run(["gzip", path], check=True)', id="arg-list"
        ),
        pytest.param(
            'import subprocess\nsubprocess.run("ls -l | wc -l", shell=True)', id="constant-command"
        ),
        pytest.param('import subprocess\nsubprocess.run(f"gzip {path}".split())', id="no-shell"),
        pytest.param(
            'import subprocess\nsubprocess.run(f"gzip {p}", shell=False)', id="shell-false"
        ),
        pytest.param('import os\nos.system("nvidia-smi")', id="os-system-constant"),
        pytest.param("!awk '{print $1}' data.txt", id="awk-braces"),
        pytest.param(
            'import os, shlex\nos.system("gzip " + shlex.quote(path))', id="shlex-quoted-concat"
        ),
        pytest.param(
            'import shlex, subprocess\nsubprocess.run(f"wc -l {shlex.quote(p)}", shell=True)',
            id="shlex-quoted-fstring",
        ),
        pytest.param("!echo $HOME", id="shell-variable"),
        pytest.param("!ls {undefined_here}", id="name-not-defined"),
    ],
)
def test_nb403_passes(text: str) -> None:
    assert run(text, "NB403") == []


def test_nb403_position_and_message() -> None:
    (d,) = run('import subprocess\n\nsubprocess.run(f"gzip {path}", shell=True)', "NB403")
    assert (d.line, d.column, d.end_line, d.end_column) == (3, 1, 3, 43)
    assert "shell=True" in d.message and "f-string" in d.message
    (m,) = run('path = "x"\n!gzip {path}', "NB403")
    assert (m.line, m.column) == (2, 1) and "'path'" in m.message


# --------------------------------------------------------------------------- NB404


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("result = eval(expression)", id="eval"),
        pytest.param('exec(open("setup.py").read())', id="exec"),
        pytest.param("import pickle\nobj = pickle.loads(payload)", id="pickle-loads"),
        pytest.param("from pickle import load\nobj = load(f)", id="from-pickle-import"),
        pytest.param("import dill\nobj = dill.load(f)", id="dill"),
        pytest.param("import yaml\ncfg = yaml.load(f)", id="yaml-no-loader"),
        pytest.param(
            "import yaml\ncfg = yaml.load(f, Loader=yaml.Loader)", id="yaml-unsafe-loader"
        ),
        pytest.param("import yaml\ncfg = yaml.unsafe_load(f)", id="yaml-unsafe-load"),
        pytest.param(
            "import yaml\nfrom yaml import UnsafeLoader\ncfg = yaml.load(f, UnsafeLoader)",
            id="yaml-positional",
        ),
    ],
)
def test_nb404_fails(text: str) -> None:
    assert len(run(text, "NB404")) == 1


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('x = eval("2 ** 10")', id="eval-constant"),
        pytest.param("import ast\nx = ast.literal_eval(s)", id="literal-eval"),
        pytest.param("import yaml\ncfg = yaml.safe_load(f)", id="safe-load"),
        pytest.param("import yaml\ncfg = yaml.load(f, Loader=yaml.SafeLoader)", id="safe-loader"),
        pytest.param("import joblib\nmodel = joblib.load(path)", id="joblib"),
        pytest.param("import json\ncfg = json.load(f)", id="json"),
        pytest.param("import pickle\npickle.dump(model, f)", id="pickle-dump"),
        pytest.param("df.eval('a + b')", id="pandas-eval"),
    ],
)
def test_nb404_passes(text: str) -> None:
    assert run(text, "NB404") == []


def test_nb404_messages_name_the_call() -> None:
    diags = run("import pickle\nimport yaml\nm = pickle.load(f)\nc = yaml.load(g)", "NB404")
    assert [d.line for d in diags] == [3, 4]
    assert "pickle.load()" in diags[0].message and "yaml.safe_load()" in diags[1].message


# --------------------------------------------------------------------------- NB405


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("import requests\nr = requests.get(url, verify=False)", id="requests-get"),
        pytest.param(
            "import requests\ns = requests.Session()\nr = s.post(url, json=body, verify=False)",
            id="session-method",
        ),
        pytest.param(
            "import requests\ns = requests.Session()\ns.verify = False", id="session-attr"
        ),
        pytest.param("import httpx\nclient = httpx.Client(verify=False)", id="httpx"),
        pytest.param(
            "import aiohttp\nconn = aiohttp.TCPConnector(ssl=False)", id="aiohttp-connector"
        ),
        pytest.param("import ssl\nctx = ssl._create_unverified_context()", id="unverified-context"),
        pytest.param(
            "import ssl\nssl._create_default_https_context = ssl._create_unverified_context",
            id="global-unverified",
        ),
        pytest.param(
            "import ssl\nc = ssl.create_default_context()\nc.verify_mode = ssl.CERT_NONE",
            id="cert-none",
        ),
        pytest.param("import urllib3\nurllib3.disable_warnings()", id="disable-warnings"),
        pytest.param(
            "import requests\nrequests.packages.urllib3.disable_warnings()", id="requests-vendored"
        ),
    ],
)
def test_nb405_fails(text: str) -> None:
    assert len(run(text, "NB405")) == 1


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("import requests\nr = requests.get(url)", id="default"),
        pytest.param("import requests\nr = requests.get(url, verify=True)", id="verify-true"),
        pytest.param('import requests\nr = requests.get(url, verify="ca.pem")', id="ca-bundle"),
        pytest.param("model.fit(X, y, verify=False)", id="not-http"),
        pytest.param(
            "import ssl\nctx = ssl.create_default_context(cafile=ca)", id="default-context"
        ),
    ],
)
def test_nb405_passes(text: str) -> None:
    assert run(text, "NB405") == []


# NB405 looks only at the nodes _tls_candidate lets through: its edges must still report
@pytest.mark.parametrize(
    "text",
    [
        pytest.param(
            "from urllib3 import disable_warnings as quiet\n# %%\nquiet()", id="alias-other-cell"
        ),
        pytest.param("import urllib3 as u\nu.disable_warnings(u.exceptions.X)", id="module-alias"),
        pytest.param("import ssl as s\nc = s._create_unverified_context()", id="ssl-alias"),
        pytest.param("import ssl\nmode = ssl.CERT_NONE", id="cert-none-bare"),
        pytest.param(
            "import ssl\nc = ssl.ｃreate_default_context()\nc.check_hostname = False",
            id="check-hostname",
        ),
        pytest.param("import requests\nr = requests.get(url, **{}, verify=False)", id="kwargs"),
        pytest.param(
            "import aiohttp\nasync with s.ws_connect(u, verify_ssl=False): pass", id="verify-ssl"
        ),
        pytest.param("import ssl\nc.verify_mode = ssl.ＣERT_NONE", id="nfkc-attribute"),
    ],
)
def test_nb405_prefilter_edges_still_report(text: str) -> None:
    assert len(run(text.replace("\n# %%\n", "\n\n# %%\n"), "NB405")) == 1


def test_nb405_same_cell_in_notebooks_with_different_imports() -> None:
    """The candidates are memoised per cell content; the imports stay per notebook."""
    cell = "\n\n# %%\ndw()\nmode = CERT_NONE"
    assert len(run("from urllib3 import disable_warnings as dw" + cell, "NB405")) == 1
    assert run("from mylib import dw" + cell, "NB405") == []
    assert len(run("from urllib3 import disable_warnings as dw" + cell, "NB405")) == 1


def test_nb405_prefilter_never_hides_what_the_message_reports() -> None:
    """_tls_candidate is a necessary condition of _message, on every node of real code and of
    the edge cases, whatever the imports alias."""
    import ast
    from pathlib import Path

    sources = [
        p.read_text(encoding="utf-8") for p in (Path(__file__).parents[3] / "src").rglob("*.py")
    ]
    sources.append(
        "dw()\nx.disable_warnings()\ny = a.CERT_NONE\nz = b._create_unverified_context\n"
        "s.verify = False\nq.check_hostname = False\nrequests.get(u, verify=False)\n"
        "h.ws_connect(u, ssl=False)\nhttpx.Client(verify_ssl=False)\n"
    )
    alias_sets = [{}, {"dw": "urllib3.disable_warnings", "a": "ssl", "b": "ssl"}]
    reported = 0
    for text in sources:
        tree = ast.parse(text)
        for aliases in alias_sets:
            for node in ast.walk(tree):
                if TlsVerificationDisabled._message(node, aliases) is not None:
                    reported += 1
                    assert _tls_candidate(node, aliases), ast.dump(node)
                    assert _tls_candidate(node, None), ast.dump(node)  # the per-tree memo's
    assert reported >= 9


def test_nb405_position() -> None:
    (d,) = run("import requests\nr = requests.get(url, verify=False)", "NB405")
    assert (d.line, d.column, d.end_column) == (2, 5, 36)
    assert "verify=False" in d.message


# --------------------------------------------------------------------------- NB403 own values
# Issue 16: all 17 NB403 findings in real notebooks interpolated a path or constant the notebook
# set itself. They stay reported (the command is still built by a shell) but as info, saying so.


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('DATA = "data/raw"\n!mkdir -p {DATA}', id="bang-constant"),
        pytest.param('url = "https://example.org/iris.csv"\n!wget -q $url', id="bang-url"),
        pytest.param('DATA = "data"\npath = f"{DATA}/iris.csv"\n!head -3 {path}', id="derived"),
        pytest.param('import os\nDATA = "data"\nout = os.path.join(DATA, "out")\n'
                     'os.system("mkdir -p " + out)', id="os-path-join"),
        pytest.param('import subprocess\nfrom pathlib import Path\nroot = Path("runs")\n'
                     'subprocess.run(f"ls {root / \'x\'}", shell=True)', id="pathlib"),
        pytest.param('EPOCHS: int = 3\n!python train.py --epochs {EPOCHS}', id="annotated"),
    ],
)
def test_nb403_own_values_are_info_and_say_so(text: str) -> None:
    (d,) = run(text, "NB403")
    assert d.severity == "info"
    assert "sets itself" in d.message


@pytest.mark.parametrize(
    "text",
    [
        pytest.param('path = input("file? ")\n!gzip {path}', id="input"),
        pytest.param('import os\nhome = os.environ["DATA"]\n!ls {home}', id="environment"),
        pytest.param('import sys\nname = sys.argv[1]\nos.system(f"rm {name}")', id="argv"),
        pytest.param('path = "a"\npath = load()\n!gzip {path}', id="also-computed"),
        pytest.param('for path in ["a", "b"]:\n    pass\n!gzip {path}', id="loop-variable"),
        pytest.param('def f(path):\n    pass\npath = "x"\n!gzip {path}', id="also-a-parameter"),
        pytest.param('files = !ls\n!wc -l {files}', id="shell-output"),
        pytest.param('import subprocess\nsubprocess.run(f"gzip {path}", shell=True)',
                     id="undefined"),
    ],
)
def test_nb403_other_values_keep_the_warning(text: str) -> None:
    (d,) = run(text, "NB403")
    assert d.severity == "warning"
    assert "sets itself" not in d.message
