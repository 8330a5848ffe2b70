"""Tests for nbops.core.magics: IPython syntax -> line-preserving, analysable Python."""

from __future__ import annotations

import ast

import pytest

from nbops.core import magics
from nbops.core.magics import (
    PLACEHOLDERS,
    CellSource,
    Magic,
    is_pip_install,
    shell_text,
    translate,
)

# (kind, name, args, line, end_line, column, assigned_to)
Summary = tuple[str, str, str, int, int, int, tuple[str, ...]]


def summary(m: Magic) -> Summary:
    return (m.kind, m.name, m.args, m.line, m.end_line, m.column, m.assigned_to)


def lm(
    name: str,
    args: str = "",
    line: int = 1,
    col: int = 1,
    end: int | None = None,
    to: tuple[str, ...] = (),
) -> Summary:
    return ("line_magic", name, args, line, end or line, col, to)


def sh(
    name: str,
    args: str,
    line: int = 1,
    col: int = 1,
    end: int | None = None,
    to: tuple[str, ...] = (),
) -> Summary:
    return ("shell", name, args, line, end or line, col, to)


def hp(name: str, line: int = 1, col: int = 1, end: int | None = None) -> Summary:
    return ("help", name, "", line, end or line, col, ())


def am(name: str, args: str, line: int = 1, col: int = 1) -> Summary:
    return ("automagic", name, args, line, line, col, ())


def cm(
    name: str, args: str, end: int, line: int = 1, col: int = 1, to: tuple[str, ...] = ()
) -> Summary:
    return ("cell_magic", name, args, line, end, col, to)


# id, source, expected python, expected magics. Every source here is valid IPython.
CASES: list[tuple[str, str, str, list[Summary]]] = [
    # -- line magics ---------------------------------------------------------------------------
    (
        "matplotlib-inline",
        "%matplotlib inline",
        "__nbops_magic__('matplotlib', 'inline')",
        [lm("matplotlib", "inline")],
    ),
    ("magic-no-args", "%pwd\nx = 1", "__nbops_magic__('pwd', '')\nx = 1", [lm("pwd")]),
    (
        "load-ext-then-code",
        "%load_ext autoreload\n%autoreload 2\nimport pandas as pd\n",
        (
            "__nbops_magic__('load_ext', 'autoreload')\n"
            "__nbops_magic__('autoreload', '2')\n"
            "import pandas as pd\n"
        ),
        [lm("load_ext", "autoreload"), lm("autoreload", "2", line=2)],
    ),
    (
        "dollar-var",
        "%cd $folder",
        "__nbops_magic__('cd', '$folder', folder)",
        [lm("cd", "$folder")],
    ),
    (
        "dollar-attr",
        "%cd $cfg.root",
        "__nbops_magic__('cd', '$cfg.root', cfg.root)",
        [lm("cd", "$cfg.root")],
    ),
    (
        "brace-expr",
        "%cd {base / 'data'}",
        "__nbops_magic__('cd', \"{base / 'data'}\", (base / 'data'))",
        [lm("cd", "{base / 'data'}")],
    ),
    (
        "args-repr-escaped",
        '%env MSG=it\'s "x"',
        "__nbops_magic__('env', 'MSG=it\\'s \"x\"')",
        [lm("env", 'MSG=it\'s "x"')],
    ),
    ("time-keeps-statement", "%time y = f(x)", "y = f(x)", [lm("time", "y = f(x)")]),
    ("timeit-strips-options", "%timeit -n 10 f(x)", "f(x)", [lm("timeit", "-n 10 f(x)")]),
    (
        "timeit-attached-options",
        "%timeit -r3 -qo total = sum(xs)",
        "total = sum(xs)",
        [lm("timeit", "-r3 -qo total = sum(xs)")],
    ),
    (
        "prun-strips-options",
        "%prun -s cumtime -l 5 train(model)",
        "train(model)",
        [lm("prun", "-s cumtime -l 5 train(model)")],
    ),
    (
        "memit-keeps-statement",
        "%memit -r 2 load(path)",
        "load(path)",
        [lm("memit", "-r 2 load(path)")],
    ),
    ("time-without-statement", "%time", "__nbops_magic__('time', '')", [lm("time")]),
    (
        "time-bad-statement-placeholder",
        "%time for x in",
        "__nbops_magic__('time', 'for x in')",
        [lm("time", "for x in")],
    ),
    ("percent-space-has-empty-name", "% a b", "__nbops_magic__('', 'a b')", [lm("", "a b")]),
    ("time-no-interpolation", "%time f('$x')", "f('$x')", [lm("time", "f('$x')")]),
    (
        "percent-percent-not-first-line",
        "# note\n%%time",
        "# note\n__nbops_magic__('%time', '')",
        [lm("%time", line=2)],
    ),
    # -- assignments ---------------------------------------------------------------------------
    (
        "assign-timeit-o",
        "x = %timeit -o f()",
        "x = __nbops_magic__('timeit', '-o f()', f())",
        [lm("timeit", "-o f()", col=5, to=("x",))],
    ),
    (
        "assign-sx",
        "x = %sx ls",
        "x = __nbops_magic__('sx', 'ls')",
        [lm("sx", "ls", col=5, to=("x",))],
    ),
    (
        "assign-shell-interp",
        "files = !ls {folder}",
        "files = __nbops_shell__('ls {folder}', folder)",
        [sh("ls", "ls {folder}", col=9, to=("files",))],
    ),
    (
        "assign-shell-tuple",
        "a, b = !cmd",
        "a, b = __nbops_shell__('cmd')",
        [sh("cmd", "cmd", col=8, to=("a", "b"))],
    ),
    (
        "assign-annotated",
        "out: list = !ls",
        "out: list = __nbops_shell__('ls')",
        [sh("ls", "ls", col=13, to=("out",))],
    ),
    (
        "assign-after-colon",
        "if c: y = %ls",
        "if c: y = __nbops_magic__('ls', '')",
        [lm("ls", col=11, to=("y",))],
    ),
    (
        "assign-backslash",
        "x = \\\n    %ls",
        "x = \\\n    __nbops_magic__('ls', '')",
        [lm("ls", line=2, col=5, to=("x",))],
    ),
    (
        "store-restore-binds",
        "%store -r model data",
        "model, data = __nbops_magic__('store', '-r model data')",
        [lm("store", "-r model data", to=("model", "data"))],
    ),
    # -- shell ---------------------------------------------------------------------------------
    (
        "shell-pip",
        "!pip install x",
        "__nbops_shell__('pip install x')",
        [sh("pip", "pip install x")],
    ),
    ("shell-double-bang", "!!ls -la", "__nbops_shell__('ls -la')", [sh("ls", "ls -la")]),
    (
        "shell-wget-dollar",
        "!wget $url -O data.csv",
        "__nbops_shell__('wget $url -O data.csv', url)",
        [sh("wget", "wget $url -O data.csv")],
    ),
    (
        "shell-single-quoted-dollar",
        "!awk '{print $1}' f",
        "__nbops_shell__(\"awk '{print $1}' f\")",
        [sh("awk", "awk '{print $1}' f")],
    ),
    (
        "percent-pip",
        "%pip install x",
        "__nbops_magic__('pip', 'install x')",
        [lm("pip", "install x")],
    ),
    # -- indented blocks -----------------------------------------------------------------------
    (
        "shell-only-stmt-of-if",
        "if COLAB:\n    !pip install x\n",
        "if COLAB:\n    __nbops_shell__('pip install x')\n",
        [sh("pip", "pip install x", line=2, col=5)],
    ),
    (
        "time-in-for",
        "for i in r:\n    %time y = g(i)\nprint(y)",
        "for i in r:\n    y = g(i)\nprint(y)",
        [lm("time", "y = g(i)", line=2, col=5)],
    ),
    (
        "magic-in-def",
        "def go():\n    %cd data\n    return 1",
        "def go():\n    __nbops_magic__('cd', 'data')\n    return 1",
        [lm("cd", "data", line=2, col=5)],
    ),
    # -- continuation lines --------------------------------------------------------------------
    (
        "continuation-shell",
        "!pip install a \\\n    b\nimport a",
        "__nbops_shell__('pip install a      b')\n\nimport a",
        [sh("pip", "pip install a      b", end=2)],
    ),
    (
        "continuation-in-block",
        "if COLAB:\n    !pip install a \\\n        b\nx = 1",
        "if COLAB:\n    __nbops_shell__('pip install a          b')\n\nx = 1",
        [sh("pip", "pip install a          b", line=2, end=3, col=5)],
    ),
    (
        "continuation-magic",
        "%ls -l \\\n  data\n",
        "__nbops_magic__('ls', '-l    data')\n\n",
        [lm("ls", "-l    data", end=2)],
    ),
    # -- help ----------------------------------------------------------------------------------
    ("help-prefix", "?obj", "__nbops_help__(obj)", [hp("obj")]),
    ("help-prefix-double", "??obj", "__nbops_help__(obj)", [hp("obj")]),
    ("help-suffix", "obj?", "__nbops_help__(obj)", [hp("obj")]),
    ("help-suffix-double", "obj??", "__nbops_help__(obj)", [hp("obj")]),
    ("help-method", "df.head?", "__nbops_help__(df.head)", [hp("df.head")]),
    ("help-index", "a.b[0]?", "__nbops_help__(a.b[0])", [hp("a.b[0]")]),
    ("help-pinfo", "%pinfo obj", "__nbops_help__(obj)", [hp("obj")]),
    ("help-wildcard", "np.*load*?", "__nbops_help__('np.*load*')", [hp("np.*load*")]),
    ("help-on-magic", "%timeit?", "__nbops_help__('%timeit')", [hp("%timeit")]),
    (
        "help-indented",
        "if x:\n    obj?",
        "if x:\n    __nbops_help__(obj)",
        [hp("obj", line=2, col=5)],
    ),
    ("help-on-automagic-name", "pip?", "__nbops_help__(pip)", [hp("pip")]),
    ("help-wins-over-shell-like-ipython", "!ls foo?", "__nbops_help__(foo)", [hp("foo")]),
    ("help-wins-over-assignment", "x = %foo?", "__nbops_help__('%foo')", [hp("%foo")]),
    # -- automagics ----------------------------------------------------------------------------
    (
        "automagic-pip",
        "pip install x",
        "__nbops_magic__('pip', 'install x')",
        [am("pip", "install x")],
    ),
    ("automagic-cd", "cd data", "__nbops_magic__('cd', 'data')", [am("cd", "data")]),
    (
        "automagic-matplotlib",
        "matplotlib inline",
        "__nbops_magic__('matplotlib', 'inline')",
        [am("matplotlib", "inline")],
    ),
    (
        "automagic-load-ext",
        "load_ext autoreload\nimport x",
        "__nbops_magic__('load_ext', 'autoreload')\nimport x",
        [am("load_ext", "autoreload")],
    ),
    ("automagic-flag", "reset -f", "__nbops_magic__('reset', '-f')", [am("reset", "-f")]),
    ("automagic-time-keeps-statement", "time y = f(x)", "y = f(x)", [am("time", "y = f(x)")]),
    (
        "automagic-indented",
        "if True:\n    cd data",
        "if True:\n    __nbops_magic__('cd', 'data')",
        [am("cd", "data", line=2, col=5)],
    ),
    ("python-time-assign", "time = 3", "time = 3", []),
    ("python-pwd-name", "pwd", "pwd", []),
    ("python-ls-list", "ls = []\nls.append(1)", "ls = []\nls.append(1)", []),
    ("python-time-sleep", "time.sleep(1)", "time.sleep(1)", []),
    (
        "python-history-fit",
        "history = model.fit(x)\nhistory.history",
        "history = model.fit(x)\nhistory.history",
        [],
    ),
    ("python-run-call-multiline", "run(a,\n    b)", "run(a,\n    b)", []),
    ("python-env-subscript", "env ['X'] = 1", "env ['X'] = 1", []),
    # -- cell magics ---------------------------------------------------------------------------
    (
        "cell-bash",
        "%%bash\nls -la\necho hi\n",
        "__nbops_magic__('bash', '')\n\n\n",
        [cm("bash", "", end=3)],
    ),
    (
        "cell-writefile",
        "%%writefile out.txt\nprint('hi')\n",
        "__nbops_magic__('writefile', 'out.txt')\n\n",
        [cm("writefile", "out.txt", end=2)],
    ),
    (
        "cell-html-question-mark",
        "%%html\n<b>why?</b>",
        "__nbops_magic__('html', '')\n ",
        [cm("html", "", end=2)],
    ),
    (
        "cell-unknown-not-python",
        "%%mystery x\na b c",
        "__nbops_magic__('mystery', 'x')\n ",
        [cm("mystery", "x", end=2)],
    ),
    (
        "cell-time",
        "%%time\nx = 1\ny = 2",
        "__nbops_magic__('time', '')\nx = 1\ny = 2",
        [cm("time", "", end=3)],
    ),
    (
        "cell-capture-out",
        "%%capture out\n!pip install x\nimport x",
        "out = __nbops_magic__('capture', 'out')\n__nbops_shell__('pip install x')\nimport x",
        [cm("capture", "out", end=3, to=("out",)), sh("pip", "pip install x", line=2)],
    ),
    (
        "cell-after-blank-lines",
        "\n\n%%time\nx = 1",
        "\n\n__nbops_magic__('time', '')\nx = 1",
        [cm("time", "", end=4, line=3)],
    ),
    (
        "cell-timeit-setup",
        "%%timeit -n 3 x = make()\nf(x)",
        "__nbops_magic__('timeit', '-n 3 x = make()'); x = make()\nf(x)",
        [cm("timeit", "-n 3 x = make()", end=2)],
    ),
    (
        "cell-nested",
        "%%capture\n%%bash\nls",
        "__nbops_magic__('capture', '')\n__nbops_magic__('bash', '')\n ",
        [cm("capture", "", end=3), cm("bash", "", end=3, line=2)],
    ),
    (
        "cell-sql-target",
        "%%sql rows <<\nSELECT 1",
        "rows = __nbops_magic__('sql', 'rows <<')\n ",
        [cm("sql", "rows <<", end=2, to=("rows",))],
    ),
    ("cell-help-not-cell", "%%time?", "__nbops_help__('%%time')", [hp("%%time")]),
    # -- strings, comments, operators ----------------------------------------------------------
    (
        "triple-string-untouched",
        's = """\n%ls\n!rm -rf /\nobj?\ncd data\n"""',
        's = """\n%ls\n!rm -rf /\nobj?\ncd data\n"""',
        [],
    ),
    (
        "single-triple-string-untouched",
        "s = f'''{x}\n%%bash\n'''\n",
        "s = f'''{x}\n%%bash\n'''\n",
        [],
    ),
    (
        "comments-untouched",
        "# %matplotlib inline\n# !pip install x\nx = 1  # why?",
        "# %matplotlib inline\n# !pip install x\nx = 1  # why?",
        [],
    ),
    (
        "operators-untouched",
        "a != b\nx % 2\nnot x\nprint('!')",
        "a != b\nx % 2\nnot x\nprint('!')",
        [],
    ),
    (
        "format-strings-untouched",
        "msg = 'lr=%f' % lr\nd = {'k': '%s' % v}\ns = f'{x!r}?'",
        "msg = 'lr=%f' % lr\nd = {'k': '%s' % v}\ns = f'{x!r}?'",
        [],
    ),
    ("conditional-expr-untouched", "y = a if b else c", "y = a if b else c", []),
    ("lambda-default-untouched", "f = lambda x=1: x", "f = lambda x=1: x", []),
    (
        "escaped-quote-string",
        "s = 'it\\'s'\n%ls",
        "s = 'it\\'s'\n__nbops_magic__('ls', '')",
        [lm("ls", line=2)],
    ),
    (
        "magic-after-string-ends",
        's = """\nx\n"""\n%ls',
        's = """\nx\n"""\n__nbops_magic__(\'ls\', \'\')',
        [lm("ls", line=4)],
    ),
    (
        "magic-after-bracket-closes",
        "x = [\n  1,\n]\n!ls",
        "x = [\n  1,\n]\n__nbops_shell__('ls')",
        [sh("ls", "ls", line=4)],
    ),
    ("crlf-endings", "%ls\r\nx = 1\r\n", "__nbops_magic__('ls', '')\r\nx = 1\r\n", [lm("ls")]),
    ("empty-cell", "", "", []),
]

CASE_PARAMS = [pytest.param(src, py, ms, id=name) for name, src, py, ms in CASES]


@pytest.mark.parametrize(("source", "python", "expected"), CASE_PARAMS)
def test_translate(source: str, python: str, expected: list[Summary]) -> None:
    cs = translate(source)
    assert cs.original == source
    assert cs.python == python
    assert [summary(m) for m in cs.magics] == expected


@pytest.mark.parametrize(("source", "python", "expected"), CASE_PARAMS)
def test_line_count_kept_and_parses(source: str, python: str, expected: list[Summary]) -> None:
    cs = translate(source)
    assert len(cs.python.splitlines()) == len(source.splitlines())
    ast.parse(cs.python)


@pytest.mark.parametrize(
    ("source", "has_python_body", "cell_name"),
    [
        pytest.param("%%bash\nls", False, "bash", id="bash"),
        pytest.param("%%sh\nls", False, "sh", id="sh"),
        pytest.param("%%writefile out.txt\nx", False, "writefile", id="writefile"),
        pytest.param("%%javascript\nalert(1)", False, "javascript", id="javascript"),
        pytest.param("%%script python3\nx", False, "script", id="script"),
        pytest.param("%%R\nx <- 1", False, "R", id="R"),
        pytest.param("%%time\nx = 1", True, "time", id="time"),
        pytest.param("%%capture out\nx = 1", True, "capture", id="capture"),
        pytest.param("%%python3\nx = 1", True, "python3", id="python3"),
        pytest.param("%%capture\n%%bash\nls", False, "capture", id="python-around-bash"),
        pytest.param("x = 1\n%time y = 2", True, None, id="no-cell-magic"),
        pytest.param("# note\n%%bash\nls", True, None, id="cell-magic-not-first-is-line-magic"),
    ],
)
def test_cell_magic_and_body(source: str, has_python_body: bool, cell_name: str | None) -> None:
    cs = translate(source)
    assert cs.body_is_python is has_python_body
    assert (cs.cell_magic.name if cs.cell_magic else None) == cell_name
    if cs.cell_magic is not None:
        assert cs.cell_magic.kind == "cell_magic"
        assert cs.cell_magic == cs.magics[0]


@pytest.mark.parametrize(
    ("source", "texts"),
    [
        pytest.param(
            "x = 1\n  !pip install a \\\n    b\n", ["!pip install a \\\n    b"], id="continuation"
        ),
        pytest.param("y = %sx ls", ["%sx ls"], id="assignment"),
        pytest.param("%%bash\nls\necho\n", ["%%bash\nls\necho"], id="cell-magic-to-end"),
        pytest.param("if x:\n    df.head?", ["df.head?"], id="help"),
        pytest.param("cd data", ["cd data"], id="automagic"),
    ],
)
def test_magic_text_is_original_source(source: str, texts: list[str]) -> None:
    cs = translate(source)
    assert [m.text for m in cs.magics] == texts
    for m in cs.magics:  # line/column point at the text in the original
        lines = source.splitlines()
        assert lines[m.line - 1][m.column - 1 :].startswith(m.text.splitlines()[0])


@pytest.mark.parametrize(
    ("source", "flags"),
    [
        pytest.param("x = 1\n%ls\ny = 2", [False, True, False], id="line-magic"),
        pytest.param("!pip install a \\\n  b\nc = 1", [True, True, False], id="continuation"),
        pytest.param("%%time\nx = 1", [True, False], id="python-cell-body"),
        pytest.param("%%bash\nls\nls", [True, True, True], id="shell-cell-body"),
        pytest.param("s = '''\n%ls\n'''", [False, False, False], id="string"),
    ],
)
def test_line_has_magic(source: str, flags: list[bool]) -> None:
    cs = translate(source)
    assert [cs.line_has_magic(i) for i in range(1, len(flags) + 1)] == flags


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("!pip install x", True, id="shell-pip"),
        pytest.param("%pip install x", True, id="magic-pip"),
        pytest.param("pip install x", True, id="automagic-pip"),
        pytest.param("!pip3 install -q x", True, id="pip3"),
        pytest.param("!python -m pip install -U x", True, id="python-m-pip"),
        pytest.param("!{sys.executable} -m pip install x", True, id="sys-executable"),
        pytest.param("%conda install -y x", True, id="conda"),
        pytest.param("!mamba install x", True, id="mamba"),
        pytest.param("!uv pip install x", True, id="uv-pip"),
        pytest.param("!sudo pip install x", True, id="sudo"),
        pytest.param("!cd src && pip install -e .", True, id="chained"),
        pytest.param("%%bash\npip install x", True, id="bash-cell"),
        pytest.param("%%capture\n!pip install x", True, id="inside-capture"),
        pytest.param("!pip list", False, id="pip-list"),
        pytest.param("%pip uninstall x", False, id="pip-uninstall"),
        pytest.param("!apt-get install x", False, id="apt-get"),
        pytest.param("%matplotlib inline", False, id="matplotlib"),
        pytest.param("!ls install", False, id="ls"),
        pytest.param("%%writefile r.txt\npip install x", False, id="writefile"),
    ],
)
def test_is_pip_install(source: str, expected: bool) -> None:
    cs = translate(source)
    assert cs.magics, "the snippet must contain a magic"
    assert any(is_pip_install(m) for m in cs.magics) is expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param("!ls -la", "ls -la", id="shell"),
        pytest.param("x = !wc -l f", "wc -l f", id="shell-assign"),
        pytest.param("%pip install x", "pip install x", id="pip-magic"),
        pytest.param("%ls -la", "ls -la", id="alias-magic"),
        pytest.param("%sx wc -l f", "wc -l f", id="sx"),
        pytest.param("%%bash\nls\necho hi", "ls\necho hi", id="bash-cell"),
        pytest.param("%%script bash\nls", "ls", id="script-bash"),
        pytest.param("%cd data", "", id="cd-not-shell"),
        pytest.param("%%script python\nx", "", id="script-python"),
        pytest.param("obj?", "", id="help"),
    ],
)
def test_shell_text(source: str, expected: str) -> None:
    assert shell_text(translate(source).magics[0]) == expected


def _loaded_names(code: str) -> set[str]:
    return {
        n.id
        for n in ast.walk(ast.parse(code))
        if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)
    }


@pytest.mark.parametrize(
    ("source", "names"),
    [
        pytest.param("files = !ls {folder}", {"folder"}, id="brace"),
        pytest.param("!cp $src {dst}/x", {"src", "dst"}, id="dollar-and-brace"),
        pytest.param("%cd $cfg.root", {"cfg"}, id="dollar-attr"),
        pytest.param("%run script.py {args[0]}", {"args"}, id="subscript"),
        pytest.param("!echo $$HOME {{x}}", set(), id="escapes"),
        pytest.param("!echo '$q' {1 + 2}", set(), id="single-quotes-and-constants"),
        pytest.param("%timeit f($x)", set(), id="timeit-no-expansion"),
    ],
)
def test_interpolations_become_references(source: str, names: set[str]) -> None:
    assert _loaded_names(translate(source).python) - PLACEHOLDERS == names


def test_assigned_names_are_bound_in_python() -> None:
    tree = ast.parse(translate("files = !ls\n%%capture").python)
    stored = {
        n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    }
    assert stored == {"files"}


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("def f(:\n    pass", id="bad-def"),
        pytest.param("x = [\n%ls\n]", id="magic-inside-brackets"),
        pytest.param("f(x)?", id="help-on-call"),
        pytest.param("s = 'unterminated\n%ls", id="unterminated-string"),
        pytest.param('s = """never closed\n!ls', id="unterminated-triple"),
        pytest.param("x ? y", id="question-mark-operator"),
    ],
)
def test_syntax_error_returns_without_raising(source: str) -> None:
    cs = translate(source)
    assert isinstance(cs, CellSource)
    assert len(cs.python.splitlines()) == len(source.splitlines())
    with pytest.raises(SyntaxError):
        ast.parse(cs.python)


@pytest.mark.parametrize(
    ("source", "magic_lines"),
    [
        pytest.param('x = f"{d["k"]}"\n%ls', [2], id="py312-nested-fstring-quotes"),
        pytest.param('x = f"""{"%ls"}\n!rm"""\n!ls', [3], id="fstring-triple"),
        pytest.param("s = 'a\\\n%ls'\n!ls", [3], id="string-continued-by-backslash"),
        pytest.param("x = 1 \\\n  %ls\n!ls", [3], id="expression-continued-by-backslash"),
        pytest.param('x = r"\\"\n%ls', [2], id="unterminated-raw-string-ends-at-eol"),
        pytest.param("f(a,\n  b)?\n%ls", [3], id="help-on-call-is-not-help"),
    ],
)
def test_scanner_edge_cases(source: str, magic_lines: list[int]) -> None:
    assert [m.line for m in translate(source).magics] == magic_lines


def test_magic_in_brackets_is_not_translated() -> None:
    assert translate("x = [\n%ls\n]").magics == ()


def test_placeholders_constant() -> None:
    assert PLACEHOLDERS == frozenset({"__nbops_magic__", "__nbops_shell__", "__nbops_help__"})


@pytest.mark.parametrize(
    "source",
    [
        pytest.param("import numpy as np\nx = np.arange(10)\nprint(x.mean())\n", id="plain"),
        pytest.param("history = model.fit(X)\nconfig = {'a': 1}\n", id="magic-names-as-variables"),
        pytest.param("def f(a, b):\n    return a * b\n", id="function"),
    ],
)
def test_fast_path_skips_translator(source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*_args: object) -> None:
        raise AssertionError("slow path taken")

    monkeypatch.setattr(magics, "_Translator", boom)
    cs = translate(source)
    assert cs.python == source
    assert cs.magics == ()
    assert cs.cell_magic is None and cs.body_is_python


# IPython itself, when installed, must agree on which lines hold IPython syntax (automagic
# aside: IPython applies it only to one-line cells, through the prefilter).
_IPYTHON_AGREES = [
    pytest.param(src, id=name)
    for name, src, _py, ms in CASES
    if not any(m[0] in ("automagic", "cell_magic") for m in ms) and src
]


@pytest.mark.parametrize("source", _IPYTHON_AGREES)
def test_agrees_with_ipython(source: str) -> None:
    itf = pytest.importorskip("IPython.core.inputtransformer2")
    out = itf.TransformerManager().transform_cell(source)
    assert out.count("get_ipython()") == len(translate(source).magics)
