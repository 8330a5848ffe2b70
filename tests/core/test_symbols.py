"""Tests for nbops.core.symbols: Python scoping as a notebook cell runs, one case per rule."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field

import pytest

from nbops.core.magics import translate
from nbops.core.symbols import (
    BUILTINS,
    CellSymbols,
    ImportInfo,
    Ref,
    SideEffect,
    analyze_cell,
    is_builtin,
)


@dataclass(frozen=True)
class Case:
    """A snippet and the exact name sets expected; ``None`` leaves a field unchecked."""

    id: str
    source: str
    reads: set[str] | None = None
    writes: set[str] | None = None
    mutations: set[str] | None = None
    deletes: set[str] | None = None
    calls: set[str] | None = None
    globals_read: dict[str, set[str]] = field(default_factory=dict)


def names(refs: list[Ref]) -> set[str]:
    return {ref.name for ref in refs}


def run(source: str) -> CellSymbols:
    symbols = analyze_cell(textwrap.dedent(source).strip("\n"))
    assert symbols.syntax_error is None, symbols.syntax_error
    return symbols


CASES = [
    # ---- order inside the cell ----
    Case("bound-then-read", "x = 1\nprint(x)", reads=set(), writes={"x"}),
    Case("read-then-bound", "print(x)\nx = 1", reads={"x"}, writes={"x"}),
    Case("self-assignment-reads", "x = x + 1", reads={"x"}, writes={"x"}),
    Case("for-over-itself", "for x in x:\n    pass", reads={"x"}, writes={"x"}),
    # ---- comprehensions ----
    Case(
        "comp-var-does-not-leak",
        "ys = [i * k for i in xs]\nprint(i)",
        reads={"xs", "k", "i"},
        writes={"ys"},
    ),
    Case("comp-first-iterable-outside", "vals = [v for v in v]", reads={"v"}, writes={"vals"}),
    Case(
        "comp-nested-generators",
        "[a * b for row in m for a in row if a > t]",
        reads={"m", "b", "t"},
        writes=set(),
    ),
    Case(
        "comp-walrus-binds-outside",
        "[last := w for w in ws]\nprint(last)",
        reads={"ws"},
        writes={"last"},
    ),
    Case(
        "dict-and-set-comp",
        "d = {k: v for k, v in items}\ns = {e for e in d}",
        reads={"items"},
        writes={"d", "s"},
    ),
    Case(
        "genexp-in-call",
        "total = sum(x * weight for x in data)",
        reads={"data", "weight"},
        writes={"total"},
    ),
    Case(
        "lambda-in-comp-sees-loop-var",
        "fs = [lambda: i + j for i in r]",
        reads={"r", "j"},
        writes={"fs"},
    ),
    Case(
        "class-comp-first-iterable-sees-class-names",
        "class C:\n    xs = [1]\n    ys = [x for x in xs]",
        reads=set(),
        writes={"C"},
    ),
    Case(
        "class-comp-cannot-see-class-names",
        "class C:\n    xs = [1]\n    ys = [x for x in xs]\n    zs = [y for y in range(3) if y in xs]",
        reads={"xs"},
        writes={"C"},
    ),
    # ---- closures, global, nonlocal ----
    Case(
        "closure-reads-outer-local",
        "def outer(a):\n    b = 1\n    def inner():\n        return a + b + c\n    return inner",
        reads=set(),
        writes={"outer"},
        globals_read={"outer": {"c"}},
    ),
    Case(
        "nonlocal-is-not-global",
        "def outer():\n    n = 0\n    def inc():\n        nonlocal n\n        n += 1\n"
        "        return n\n    return inc",
        globals_read={"outer": set()},
    ),
    Case(
        "global-written-when-called-here",
        "def bump():\n    global count\n    count += 1\nbump()",
        reads={"count"},
        writes={"bump", "count"},
        globals_read={"bump": {"count"}},
    ),
    Case(
        "global-not-written-without-call",
        "def reset():\n    global count\n    count = 0",
        reads=set(),
        writes={"reset"},
        globals_read={"reset": set()},
    ),
    Case(
        "global-assigned-before-read-in-function",
        "def train_it():\n    global model\n    model = make()\n    return model",
        globals_read={"train_it": {"make"}},
    ),
    Case(
        "global-in-nested-function",
        "def outer():\n    def inner():\n        global G\n        G = 1\n    inner()\nouter()\nprint(G)",
        reads=set(),
        writes={"outer", "G"},
    ),
    Case(
        "function-local-shadows-global",
        "def f():\n    x = 1\n    return x",
        globals_read={"f": set()},
    ),
    Case(
        "unbound-local-is-not-global",
        "def f():\n    print(x)\n    x = 1",
        globals_read={"f": set()},
    ),
    Case(
        "function-globals-are-not-cell-reads",
        "def f():\n    return threshold",
        reads=set(),
        writes={"f"},
        globals_read={"f": {"threshold"}},
    ),
    Case(
        "function-globals-read-when-called",
        "def f():\n    return threshold\ny = f()",
        reads={"threshold"},
        writes={"f", "y"},
        calls={"f"},
    ),
    Case(
        "function-global-bound-before-call",
        "def f():\n    return threshold\nthreshold = 2\ny = f()",
        reads=set(),
        writes={"f", "threshold", "y"},
    ),
    Case(
        "transitive-calls-in-cell",
        "def f():\n    return g()\ndef g():\n    return k\nf()",
        reads={"k"},
        calls={"f", "g"},
    ),
    Case(
        "call-before-local-definition-is-external",
        "f()\ndef f():\n    return k",
        reads={"f"},
        calls={"f"},
    ),
    Case(
        "callback-argument-counts-as-call",
        "def clean(r):\n    return r * scale\nout = df.apply(clean)",
        reads={"df", "scale"},
        writes={"clean", "out"},
        calls={"clean"},
    ),
    Case(
        "class-instantiation-reads-method-globals",
        "class M:\n    def __init__(self):\n        self.lr = LR\nm = M()",
        reads={"LR"},
        writes={"M", "m"},
        mutations=set(),
    ),
    Case(
        "function-mutating-global-called",
        "def add(v):\n    history.append(v)\nadd(1)",
        reads={"history"},
        mutations={"history"},
    ),
    # ---- del ----
    Case("del-reads-and-deletes", "del tmp", reads={"tmp"}, deletes={"tmp"}, writes=set()),
    Case("del-after-bind", "tmp = 1\ndel tmp", reads=set(), writes={"tmp"}, deletes={"tmp"}),
    Case(
        "del-then-rebind-is-not-a-delete", "del x\nx = 2", reads={"x"}, writes={"x"}, deletes=set()
    ),
    Case("del-then-read", "x = 1\ndel x\nprint(x)", reads={"x"}, deletes={"x"}),
    Case(
        "del-in-loop-keeps-maybe-bound",
        "x = 1\nfor i in r:\n    del x\nprint(x)",
        reads={"r"},
        deletes=set(),
    ),
    Case("del-item-is-mutation", "del d[k]", reads={"d", "k"}, mutations={"d"}, deletes=set()),
    Case(
        "del-in-function-is-local",
        "def f():\n    v = 1\n    del v",
        globals_read={"f": set()},
        deletes=set(),
    ),
    # ---- augmented assignment ----
    Case("augassign-name", "x += 1", reads={"x"}, writes={"x"}, mutations=set()),
    Case("augassign-item", "x[0] += 1", reads={"x"}, writes=set(), mutations={"x"}),
    Case("augassign-attribute", "cfg.n += 1", reads={"cfg"}, writes=set(), mutations={"cfg"}),
    # ---- unpacking ----
    Case("tuple-star-unpacking", "a, *b = c\nprint(a, b)", reads={"c"}, writes={"a", "b"}),
    Case("nested-unpacking", "[p, (q, r)] = pair", reads={"pair"}, writes={"p", "q", "r"}),
    Case("chained-assignment", "a = b = f()", reads={"f"}, writes={"a", "b"}),
    # ---- walrus ----
    Case(
        "walrus-top-level",
        "if (m := pat.match(s)):\n    print(m)",
        reads={"pat", "s"},
        writes={"m"},
    ),
    Case(
        "walrus-in-function-is-local",
        "def f():\n    [y := i for i in r]\n    return y",
        globals_read={"f": {"r"}},
    ),
    # ---- classes ----
    Case(
        "class-body-names-invisible-in-methods",
        "class A:\n    k = 1\n    def m(self):\n        return k\n    j = k + r",
        reads={"r"},
        writes={"A"},
        globals_read={"A": {"k"}},
    ),
    Case(
        "class-bases-keywords-decorators",
        "@register\nclass B(Base, metaclass=Meta):\n    pass",
        reads={"register", "Base", "Meta"},
        writes={"B"},
        calls=set(),
    ),
    Case(
        "class-body-reads-module-names",
        "class Cfg:\n    path = ROOT / 'x'",
        reads={"ROOT"},
        writes={"Cfg"},
    ),
    Case(
        "class-in-function-sees-function-locals",
        "def f():\n    v = 1\n    class I:\n        a = v\n        b = glob\n    return I",
        globals_read={"f": {"glob"}},
    ),
    # ---- definition-time evaluation ----
    Case(
        "decorator-and-defaults-read-now",
        "@cache(size)\ndef f(a=default, *, b=kw_default):\n    return a",
        reads={"cache", "size", "default", "kw_default"},
        writes={"f"},
        calls={"cache"},
    ),
    Case(
        "lambda-params-are-local", "f = lambda q, *r, **s: q + r + s + w", reads={"w"}, writes={"f"}
    ),
    Case("lambda-default-read", "f = lambda q=d: q", reads={"d"}, writes={"f"}),
    Case(
        "lambda-in-function-belongs-to-it",
        "def f():\n    return sorted(xs, key=lambda v: w[v])",
        reads=set(),
        globals_read={"f": {"xs", "w"}},
    ),
    # ---- annotations ----
    Case(
        "annotations-are-reads",
        "x: Alias = 5\ny: Other\ndef g(a: A) -> R:\n    z: Inner = 1",
        reads={"Alias", "Other", "A", "R"},
        writes={"x", "g"},
    ),
    Case(
        "postponed-annotations-are-not-read",
        "from __future__ import annotations\ndef g(a: A) -> R:\n    pass\nw: W = 1",
        reads=set(),
        writes={"annotations", "g", "w"},
    ),
    # ---- exceptions, with, for ----
    Case(
        "except-as-does-not-survive",
        "try:\n    run()\nexcept ValueError as err:\n    print(err)\nprint(err)",
        reads={"run", "err"},
        writes={"err"},
        deletes={"err"},
    ),
    Case(
        "except-as-rebound-survives",
        "try:\n    pass\nexcept E as e:\n    pass\ne = 1",
        reads={"E"},
        writes={"e"},
        deletes=set(),
    ),
    Case(
        "with-as-targets",
        "with open(p) as f, ctx() as (a, b):\n    data = f.read()",
        reads={"p", "ctx"},
        writes={"f", "a", "b", "data"},
    ),
    Case(
        "for-targets-and-else",
        "for i, (j, k) in enumerate(pairs):\n    last = i\nelse:\n    done = 1",
        reads={"pairs"},
        writes={"i", "j", "k", "last", "done"},
    ),
    Case("while-body", "while n > 0:\n    n -= 1", reads={"n"}, writes={"n"}),
    Case(
        "loop-reads-before-bind",
        "for i in r:\n    if i:\n        print(prev)\n    prev = i",
        reads={"r", "prev"},
    ),
    # ---- conditionals ----
    Case("conditional-definition-writes", "if flag:\n    y = 1", reads={"flag"}, writes={"y"}),
    Case("maybe-bound-is-not-a-read", "if flag:\n    y = 1\nprint(y)", reads={"flag"}),
    Case("sibling-branch-does-not-bind", "if c:\n    y = 1\nelse:\n    print(y)", reads={"c", "y"}),
    Case(
        "handler-sees-state-before-failure",
        "x = 1\ntry:\n    del x\nexcept E:\n    print(x)",
        reads={"E"},
        deletes=set(),
    ),
    Case(
        "try-import-fallback",
        "try:\n    import ujson as json\nexcept ImportError:\n    json = None\nprint(json)",
        reads=set(),
        writes={"json"},
    ),
    Case(
        "conditional-def-then-call",
        "if flag:\n    def helper():\n        return cfg\nelse:\n    helper = None\nhelper()",
        reads={"flag", "cfg"},
    ),
    # ---- match (3.10) ----
    Case(
        "match-captures",
        "match cmd:\n    case [action, *rest] if action == go:\n        pass\n"
        "    case {'k': v, **kw}:\n        pass\n    case Point(x=px) | Point(y=px):\n        pass\n"
        "    case Color.RED:\n        pass\n    case other:\n        print(other)",
        reads={"cmd", "go", "Point", "Color"},
        writes={"action", "rest", "v", "kw", "px", "other"},
    ),
    Case(
        "match-case-does-not-bind-sibling",
        "match v:\n    case 1:\n        y = 1\n    case _:\n        print(y)",
        reads={"v", "y"},
        writes={"y"},
    ),
    Case(
        "match-no-case-may-run",
        "x = 1\nmatch v:\n    case 1:\n        del x\nprint(x)",
        reads={"v"},
        deletes=set(),
    ),
    # ---- imports and dunders ----
    Case(
        "imports-bind",
        "import a.b.c\nimport os.path as osp\nfrom . import sib\nfrom ..pkg import thing as t",
        reads=set(),
        writes={"a", "osp", "sib", "t"},
    ),
    Case("dunder-file-is-read", "print(__file__, __name__)", reads={"__file__"}),
    Case("ipython-history-is-builtin", "print(_, _i, _3, Out[2], In[1])", reads=set()),
    Case("builtins-are-not-reads", "n = len(range(10))", reads=set(), calls=set()),
    Case(
        "shadowed-builtin-in-cell",
        "list = [1]\nlist.append(2)",
        reads=set(),
        writes={"list"},
        mutations={"list"},
    ),
    # ---- realistic data-science cells ----
    Case(
        "pandas-column-assignment",
        "df['ratio'] = df.a / df.b",
        reads={"df"},
        writes=set(),
        mutations={"df"},
    ),
    Case("pandas-loc-assignment", "df.loc[df.x > 0, 'y'] = 1", reads={"df"}, mutations={"df"}),
    Case("model-fit", "model.fit(X, y)", reads={"model", "X", "y"}, mutations={"model"}),
    Case("dropna-inplace", "df.dropna(inplace=True)", reads={"df"}, mutations={"df"}),
    Case(
        "dropna-not-inplace", "clean = df.dropna()", reads={"df"}, writes={"clean"}, mutations=set()
    ),
    Case(
        "fit-transform-and-params",
        "X2 = scaler.fit_transform(X)\npipe.set_params(a=1)",
        reads={"scaler", "X", "pipe"},
        writes={"X2"},
        mutations={"scaler", "pipe"},
    ),
    Case(
        "list-append-and-dict-update",
        "rows.append(r)\ncfg.update(extra)",
        reads={"rows", "r", "cfg", "extra"},
        mutations={"rows", "cfg"},
    ),
    Case(
        "random-shuffle-mutates-argument",
        "random.shuffle(items)",
        reads={"random", "items"},
        mutations={"items"},
    ),
    Case("setattr-mutates", "setattr(obj, 'a', 1)", reads={"obj"}, mutations={"obj"}),
    Case("torch-inplace-method", "w.add_(1)", reads={"w"}, mutations={"w"}),
    Case(
        "nested-attribute-root", "self_cfg.opt.lr = 0.1", reads={"self_cfg"}, mutations={"self_cfg"}
    ),
    Case(
        "split-train-test",
        "X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=SEED)",
        reads={"train_test_split", "X", "y", "SEED"},
        writes={"X_train", "X_test", "y_train", "y_test"},
        calls={"train_test_split"},
    ),
    Case("savefig", "plt.plot(x)\nplt.savefig('out.png')", reads={"plt", "x"}, writes=set()),
    Case(
        "with-open-write",
        "with open(p, 'w') as f:\n    f.write(text)",
        reads={"p", "text"},
        writes={"f"},
    ),
    Case(
        "f-string-reads", "msg = f'{name}: {score:.{digits}f}'", reads={"name", "score", "digits"}
    ),
    # ---- magics ----
    Case("shell-assignment", "files = !ls {folder}", reads={"folder"}, writes={"files"}),
    Case("time-magic-statement", "%time y = f(x)", reads={"f", "x"}, writes={"y"}),
    Case("pip-inside-if", "if COLAB:\n    !pip install x", reads={"COLAB"}, writes=set()),
    Case(
        "capture-cell-magic",
        "%%capture out\nresult = train(data)",
        reads={"train", "data"},
        writes={"out", "result"},
    ),
    Case("opaque-cell-magic", "%%bash\necho $HOME > {x}", reads=set(), writes=set()),
    Case("line-magic-interpolation", "%cd {data_dir}", reads={"data_dir"}),
]


@pytest.mark.parametrize("case", CASES, ids=[case.id for case in CASES])
def test_name_sets(case: Case) -> None:
    symbols = run(case.source)
    for attr in ("reads", "writes", "mutations", "deletes", "calls"):
        expected = getattr(case, attr)
        if expected is not None:
            assert names(getattr(symbols, attr)) == expected, attr
    for function, expected_reads in case.globals_read.items():
        assert names(list(symbols.functions[function].globals_read)) == expected_reads


def test_case_ids_are_unique() -> None:
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids))


# ---- positions and ordering ----


def test_refs_are_one_based_and_in_source_order() -> None:
    symbols = run("a = b + c\nprint(d)")
    assert symbols.reads == [Ref("b", 1, 5), Ref("c", 1, 9), Ref("d", 2, 7)]
    assert symbols.writes == [Ref("a", 1, 1)]


def test_first_occurrence_per_name() -> None:
    symbols = run("print(x)\nprint(x)\ny = x")
    assert symbols.reads == [Ref("x", 1, 7)]


def test_columns_count_characters_not_bytes() -> None:
    symbols = run("s = 'ééé' + name")
    assert symbols.reads == [Ref("name", 1, 13)]


def test_local_function_globals_are_read_at_the_call_site() -> None:
    symbols = run("def f():\n    return k\n\nv = f()")
    assert symbols.reads == [Ref("k", 4, 5)]


def test_magic_line_refs_point_at_the_magic() -> None:
    symbols = run("x = 1\nfiles = !ls {folder}")
    assert symbols.reads == [Ref("folder", 2, 9)]
    assert symbols.writes == [Ref("x", 1, 1), Ref("files", 2, 1)]


def test_binds_before_uses_evaluation_order() -> None:
    # df = load() runs load() before it binds df, although df comes first in the text
    symbols = run("df = load()\nx = 1\nshow()")
    assert not symbols.binds_before("df", "load")
    assert symbols.binds_before("df", "show")
    assert symbols.binds_before("x", "show")
    assert not symbols.binds_before("never", "show")
    assert not symbols.binds_before("x", "not_read")


# ---- function details ----


def test_function_info_fields() -> None:
    symbols = run(
        """
        @app.route("/x")
        @lru_cache(maxsize=None)
        def f(a, /, b, *args, c, **kw):
            global counter, total
            total = helper(a) + LIMIT
            cache.append(b)
            return f(b)
        """
    )
    info = symbols.functions["f"]
    assert info.kind == "function"
    assert (info.line, info.end_line) == (3, 7)
    assert info.params == ("a", "b", "args", "c", "kw")
    assert info.decorators == ("app.route", "lru_cache")
    assert [ref.name for ref in info.globals_read] == ["helper", "LIMIT", "cache", "f"]
    assert info.globals_read[0] == Ref("helper", 5, 13)
    assert info.globals_declared == ("counter", "total")
    assert info.globals_written == ("total",)
    assert info.globals_mutated == ("cache",)
    assert info.calls == ("helper", "f")


def test_class_info_collects_methods() -> None:
    symbols = run(
        """
        class Model(Base):
            scale = 2
            def __init__(self, lr, epochs=EPOCHS):
                self.lr = lr * scale
            def fit(self, X):
                return solver(X, self.lr)
        """
    )
    info = symbols.functions["Model"]
    assert info.kind == "class"
    assert info.params == ("lr", "epochs")
    assert [ref.name for ref in info.globals_read] == ["scale", "solver"]
    assert info.calls == ("solver",)
    assert names(symbols.reads) == {"Base", "EPOCHS"}


def test_functions_inside_top_level_if_and_try_are_collected() -> None:
    symbols = run(
        """
        if DEBUG:
            def log(m):
                print(m)
        try:
            def load():
                return 1
        except Exception:
            pass
        def outer():
            def nested():
                pass
        """
    )
    assert set(symbols.functions) == {"log", "load", "outer"}


def test_async_function_and_comprehension() -> None:
    symbols = run("async def fetch(u):\n    return [await get(x) async for x in u]")
    assert names(list(symbols.functions["fetch"].globals_read)) == {"get"}


def test_recursive_function_call_terminates() -> None:
    symbols = run("def fact(n):\n    return 1 if n < 2 else n * fact(n - 1)\nfact(5)")
    assert names(symbols.reads) == set()
    assert names(symbols.calls) == {"fact"}


# ---- imports ----


def test_import_infos() -> None:
    symbols = run(
        """
        import numpy as np, os.path
        from sklearn.model_selection import train_test_split as tts
        from ..pkg import mod
        if True:
            import json
        """
    )
    assert symbols.imports == [
        ImportInfo("numpy", None, "np", 1, 1, 1, True, False),
        ImportInfo("os.path", None, "os", 1, 1, 1, True, False),
        ImportInfo("sklearn.model_selection", "train_test_split", "tts", 2, 1, 2, True, False),
        ImportInfo("..pkg", "mod", "mod", 3, 1, 3, True, False),
        ImportInfo("json", None, "json", 5, 5, 5, False, False),
    ]
    assert symbols.star_imports is False
    assert symbols.unknown_names_from is None


def test_star_import() -> None:
    symbols = run("x = 1\nfrom pylab import *\nplot(x)")
    assert symbols.star_imports is True
    assert symbols.unknown_names_from == 2
    assert symbols.imports[0].is_star and symbols.imports[0].bound == "*"
    assert names(symbols.writes) == {"x"}


def test_multiline_import_end_line() -> None:
    symbols = run("from a import (\n    b,\n    c,\n)")
    assert [(i.bound, i.line, i.end_line) for i in symbols.imports] == [("b", 1, 4), ("c", 1, 4)]


@pytest.mark.parametrize(
    ("source", "line"),
    [
        ("%run helper.py", 1),
        ("%pylab inline", 1),
        ("x = 1\nexec(code)", 2),
        ("globals()['a'] = 1", 1),
        ("globals().update(d)", 1),
    ],
    ids=["run-magic", "pylab-magic", "exec", "globals-item", "globals-update"],
)
def test_unknown_names(source: str, line: int) -> None:
    assert run(source).unknown_names_from == line


def test_exec_inside_function_is_not_opaque() -> None:
    assert run("def f():\n    exec(code)").unknown_names_from is None


# ---- side effects ----


def effects(source: str) -> list[tuple[str, str]]:
    return [(e.kind, e.detail) for e in run(source).side_effects]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("plt.savefig('out.png')", [("file_write", "plt.savefig")]),
        ("df.to_csv('x.csv', index=False)", [("file_write", "df.to_csv")]),
        ("joblib.dump(model, 'm.pkl')", [("file_write", "joblib.dump")]),
        ("np.save('a.npy', arr)", [("file_write", "np.save")]),
        ("Path('a.txt').write_text(s)", [("file_write", "write_text")]),
        ("with open(p, 'w') as f:\n    pass", [("file_write", "open")]),
        ("with open(p, mode='ab') as f:\n    pass", [("file_write", "open")]),
        ("with open(p) as f:\n    pass", [("file_read", "open")]),
        ("s = df.to_json()", []),
        ("df.to_json('out.json')", [("file_write", "df.to_json")]),
        ("df = pd.read_csv('data.csv')", [("file_read", "pd.read_csv")]),
        ("arr = np.load(p)", [("file_read", "np.load")]),
        ("df = pd.read_csv('https://x.org/d.csv')", [("network", "https://x.org/d.csv")]),
        ("r = requests.get(url)", [("network", "requests.get")]),
        ("X = fetch_openml('mnist')", [("network", "fetch_openml")]),
        ("os.chdir('..')", [("chdir", "os.chdir")]),
        ("os.environ['KEY'] = v", [("env", "os.environ")]),
        ("os.environ.update(d)", [("env", "os.environ.update")]),
        # these return a value, which Jupyter displays
        ("subprocess.run(['ls'])", [("shell", "subprocess.run"), ("display", "last expression")]),
        ("os.system('ls')", [("shell", "os.system"), ("display", "last expression")]),
        ("np.random.seed(0)", [("random", "np.random.seed")]),
        ("x = random.random()", [("random", "random.random")]),
        ("torch.manual_seed(1)", [("random", "torch.manual_seed")]),
        ("sns.histplot(df)", [("plot", "sns.histplot")]),
        ("df.plot(kind='bar')", [("plot", "df.plot")]),
        ("print(x)", [("print", "print")]),
        ("display(df)", [("display", "display")]),
        ("df.head()", [("display", "last expression")]),
        ("df.head();", []),
        ("x = 1\nx", [("display", "last expression")]),
        ("!ls -la", [("shell", "ls -la")]),
        ("%cd data", [("chdir", "%cd data")]),
        ("%env KEY=1", [("env", "%env KEY=1")]),
        ("%%writefile -a util.py\ndef f(): pass", [("file_write", "util.py")]),
        ("%%bash\necho hi", [("shell", "%%bash")]),
        ("%matplotlib inline", [("magic", "%matplotlib inline")]),
        ("%pip install pandas", [("magic", "%pip install pandas")]),
        ("%%capture\nf()", [("magic", "%%capture")]),
        ("def save(m):\n    m.save('m.h5')", [("file_write", "m.save")]),
    ],
)
def test_side_effects(source: str, expected: list[tuple[str, str]]) -> None:
    assert effects(source) == expected


def test_side_effect_positions() -> None:
    symbols = run("x = 1\nprint(x)\nplt.savefig('a.png')")
    assert symbols.side_effects == [
        SideEffect("print", 2, 1, "print"),
        SideEffect("file_write", 3, 1, "plt.savefig"),
    ]


# ---- syntax errors, inputs, builtins ----


def test_syntax_error_leaves_other_fields_empty() -> None:
    symbols = analyze_cell("x = 1\ndef f(:\n    pass")
    assert symbols.syntax_error is not None
    assert symbols.syntax_error.line == 2
    assert (symbols.reads, symbols.writes, symbols.functions, symbols.side_effects) == (
        [],
        [],
        {},
        [],
    )


def test_accepts_a_translated_cell_source() -> None:
    source = translate("y = !echo {x}")
    symbols = analyze_cell(source)
    assert symbols.source is source
    assert names(symbols.reads) == {"x"}


def test_syntax_warnings_are_silenced(recwarn: pytest.WarningsRecorder) -> None:
    symbols = analyze_cell("path = 'C:\\dir\\new'\nn = 1if x else 2")
    assert symbols.syntax_error is None
    assert len(recwarn) == 0


def test_deeply_nested_expression() -> None:
    symbols = run("total = " + " + ".join(f"v{i % 7}" for i in range(2000)))
    assert names(symbols.reads) == {f"v{i}" for i in range(7)}


def test_too_deep_for_the_parser_never_raises() -> None:
    symbols = analyze_cell("total = " + " + ".join("v" for _ in range(20000)))
    if symbols.syntax_error is None:  # Python 3.10's parser copes; 3.11+ gives up
        assert names(symbols.reads) == {"v"}
    else:
        assert symbols.syntax_error.message == "too deeply nested to parse"


def test_empty_cell() -> None:
    symbols = analyze_cell("")
    assert symbols.syntax_error is None
    assert (symbols.reads, symbols.writes, symbols.side_effects) == ([], [], [])


def test_builtins_set() -> None:
    assert {"len", "print", "display", "get_ipython", "In", "_ih", "__name__"} <= BUILTINS
    assert {"__nbops_magic__", "__nbops_shell__", "__nbops_help__"} <= BUILTINS
    assert "__file__" not in BUILTINS
    assert is_builtin("_12") and is_builtin("_i3") and not is_builtin("_x")


def test_large_cell_is_analysed() -> None:
    # speed is measured in benchmarks/, not here; this checks a 3000-line cell is handled
    body = "\n".join(f"v{i} = f(v{i - 1}) + [w for w in range({i})]" for i in range(1, 3000))
    symbols = run("def f(x):\n    return x\n" + body)
    assert names(symbols.reads) == {"v0"}


def test_a_cell_nested_past_the_parsers_limit_is_a_syntax_issue_not_a_crash() -> None:
    # CPython's parser raises MemoryError (not SyntaxError) for this shape (a fuzz finding)
    from nbops.core.symbols import analyze_cell

    symbols = analyze_cell("x = (1,\n\nx = " + "[" * 400 + "]" * 400)
    assert symbols.syntax_error is not None
