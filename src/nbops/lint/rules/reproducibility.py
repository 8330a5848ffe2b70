"""NB3: reproducibility and portability (paths, installs, parameters, seeds, shell, kernels, URLs).

The rules read the translated cell sources: IPython syntax (``%cd``, ``!ls``, ``%%bash``)
through the recorded magics, Python through the cells' ASTs (see :mod:`._ast`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from typing import Any, ClassVar

from nbops.core.magics import Magic, is_pip_install, shell_text
from nbops.core.notebook import Cell
from nbops.lint.diagnostic import Edit, Fix
from nbops.lint.registry import register
from nbops.lint.rule import Context, Finding, Rule
from nbops.lint.rules._ast import (
    CellTree,
    calls_in_order,
    cell_trees,
    dotted,
    import_aliases,
    keyword,
    qualified,
    str_value,
)


def _short(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].rstrip("\r")


def _magic_end(m: Magic) -> tuple[int, int]:
    """End (line, exclusive column) of a magic's first line."""
    return m.line, m.column + len(_first_line(m.text))


def _shell_magic(args: str) -> Magic:
    """A synthetic ``!args`` magic, to ask :func:`is_pip_install` about a command line."""
    return Magic(
        "shell", args.split(maxsplit=1)[0] if args.split() else "", args, 1, 1, 1, "!" + args
    )


# --------------------------------------------------------------------------- NB301

# First components of POSIX paths that are file systems rather than web routes.
_FS_ROOTS = frozenset(
    {
        "home", "Users", "mnt", "media", "Volumes", "data", "datasets", "opt", "srv", "var", "tmp",
        "root", "scratch", "content", "kaggle", "dbfs", "Workspace", "Workspaces", "workspace",
        "gpfs", "lustre", "nfs", "net", "shared", "Shared", "projects", "storage", "export", "usr",
        "etc", "private", "lakehouse", "work", "nas"
    }
)  # fmt: skip
# First components of strings that look like URL routes, not files.
_WEB_ROOTS = frozenset(
    {
        "api", "v1", "v2", "v3", "static", "assets", "graphql", "rest", "auth", "oauth", "login",
        "logout", "admin", "health", "metrics"
    }
)  # fmt: skip
_WIN_DRIVE = re.compile(r"^[A-Za-z]:[\\/]+[^\\/\s]")
_UNC = re.compile(r"^\\\\[^\\/\s]+[\\/][^\\/\s]")
_HOME = re.compile(r"^~[\w.-]*[\\/][^\\/\s]")
_EXT = re.compile(r"\w\.[A-Za-z][A-Za-z0-9]{0,7}$")
_REGEX_CHARS = frozenset("\\^$|\t\r\n")
_RE_FUNCS = frozenset(
    {"compile", "match", "search", "sub", "subn", "findall", "finditer", "fullmatch", "split"}
)  # fmt: skip


def absolute_path_kind(text: str) -> str | None:
    """``"absolute"`` or ``"home-relative"`` when ``text`` is a hard-coded path, else None.

    Windows drive (``C:\\x``, ``C:/x``) and UNC (``\\\\server\\share``) paths always count.
    ``~/x`` counts as home-relative. A POSIX path counts when it has at least two components
    and starts with a file-system root (``/home``, ``/Users``, ``/mnt``, ``/data``...) or
    ends in a file extension; URL routes (``/api/...``), device files, ``/`` alone and
    strings with regex characters do not.
    """
    if not text or len(text) > 1024 or text != text.strip():
        return None
    if _WIN_DRIVE.match(text) or _UNC.match(text):
        return "absolute"
    if "://" in text or "\n" in text:
        return None
    if _HOME.match(text):
        return "home-relative"
    if not text.startswith("/") or text.startswith("//") or any(c in _REGEX_CHARS for c in text):
        return None
    parts = [p for p in text.split("/") if p]
    if len(parts) < 2 or parts[0] in _WEB_ROOTS:
        return None
    if parts[0] in _FS_ROOTS or _EXT.search(parts[-1]):
        return "absolute"
    return None


# Shell-ish tokens of a magic line: quoted strings or runs without separators.
_TOKEN = re.compile(r"\"([^\"\n]*)\"|'([^'\n]*)'|([^\s\"'=;|&<>(),]+)")
_SHELL_BODY_CELLS = frozenset({"powershell", "cmd"})


def _magic_lines(m: Magic) -> Iterator[tuple[int, int, str]]:
    """``(line, column offset, text)`` of the lines of a magic worth scanning for paths."""
    lines = m.text.split("\n")
    if m.kind == "cell_magic" and not (shell_text(m) or m.name in _SHELL_BODY_CELLS):
        lines = lines[:1]  # other cell magics' bodies are SQL, HTML, Python...
    for k, text in enumerate(lines):
        yield m.line + k, (m.column - 1 if k == 0 else 0), text.rstrip("\r")


def _excluded_strings(nodes: list[ast.AST], aliases: dict[str, str]) -> set[int]:
    """ids of string nodes that are not paths: bare string statements, regex patterns,
    and the pieces of f-strings (reported as a whole)."""
    skip: set[int] = set()
    for node in nodes:
        if isinstance(node, ast.Expr) and isinstance(node.value, (ast.Constant, ast.JoinedStr)):
            skip.add(id(node.value))  # docstrings and strings used as comments
        elif isinstance(node, ast.JoinedStr):
            skip.update(id(v) for v in node.values)
        elif isinstance(node, ast.Call):
            name = qualified(node.func, aliases) or ""
            if name.startswith("re.") and name[3:] in _RE_FUNCS:
                if node.args:
                    skip.add(id(node.args[0]))
                pattern = keyword(node, "pattern")
                if pattern is not None:
                    skip.add(id(pattern.value))
    return skip


def _path_message(kind: str, text: str) -> str:
    shown = _short(text, 80)
    if kind == "home-relative":
        return (
            f"home-relative path '{shown}' depends on who runs the notebook: make it a "
            "parameter or a path relative to the project"
        )
    return (
        f"hard-coded absolute path '{shown}': make it a parameter or a path relative to the project"
    )


@register
class AbsolutePath(Rule):
    code = "NB301"
    name = "absolute-path"
    summary = "A hard-coded absolute or home-relative file path."
    severity = "warning"
    explanation = """
    A path like `/Users/jane/data/churn.csv`, `C:\\data\\churn.csv` or `~/data/churn.csv`
    exists on one machine only: the notebook fails on a colleague's laptop, in CI, in a
    container and on the scheduler. Put input and output locations in the `parameters`
    cell (so a run can change them) and build them relative to the project
    (`Path("data") / "churn.csv"`) or from configuration. Strings and the arguments of
    magics and shell commands (`%cd /home/jane`, `!ls /data/raw`) are checked. To avoid
    false alarms a POSIX string counts only with two or more components and either a
    file-system root (`/home`, `/Users`, `/mnt`, `/data`, `/tmp`...) or a file extension;
    URLs, URL routes (`/api/v1/...`), regex patterns and docstrings are ignored.
    """
    bad_example = """
    # %%
    import pandas as pd
    df = pd.read_csv("/Users/jane/projects/churn/data.csv")
    """
    good_example = """
    # %% tags=parameters
    DATA_DIR = "data"
    # %%
    from pathlib import Path
    import pandas as pd
    df = pd.read_csv(Path(DATA_DIR) / "churn.csv")
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        aliases = import_aliases(ctx)
        trees = cell_trees(ctx)
        for index in sorted(trees):
            ct = trees[index]
            original = ct.source.original
            if "/" not in original and "\\" not in original:
                continue  # every path has a separator (escapes of one have a backslash)
            found: list[Finding] = []
            skip = _excluded_strings(ct.nodes, aliases)
            for node in ct.nodes:
                if not isinstance(node, (ast.Constant, ast.JoinedStr)) or id(node) in skip:
                    continue
                text = str_value(node)
                if text is None or ct.translated(node):
                    continue  # strings on magic lines are checked with the magic's arguments
                kind = absolute_path_kind(text)
                if kind is not None:
                    line, col, end_line, end_col = ct.span(node)
                    found.append(
                        Finding(_path_message(kind, text), index, line, col, end_line, end_col)
                    )
            for m in ct.source.magics:
                if m.kind == "help":
                    continue
                for line, offset, text in _magic_lines(m):
                    for tok in _TOKEN.finditer(text):
                        group = next(g for g in (1, 2, 3) if tok.group(g) is not None)
                        kind = absolute_path_kind(tok.group(group))
                        if kind is None:
                            continue
                        col = offset + tok.start(group) + 1
                        found.append(
                            Finding(
                                _path_message(kind, tok.group(group)),
                                index,
                                line,
                                col,
                                line,
                                col + len(tok.group(group)),
                            )
                        )
            found.sort(key=lambda f: (f.line or 0, f.column or 0))
            yield from found


# --------------------------------------------------------------------------- NB302

_OPTS_WITH_VALUE = frozenset(
    {"-c", "--constraint", "-e", "--editable", "-i", "--index-url", "--extra-index-url", "-f",
     "--find-links", "-t", "--target", "--prefix", "-n", "--name", "-p", "--channel", "--python"}
)  # fmt: skip
_SUBPROCESS = frozenset(
    {"subprocess.run", "subprocess.call", "subprocess.check_call", "subprocess.check_output",
     "subprocess.Popen", "subprocess.getoutput", "subprocess.getstatusoutput", "os.system",
     "os.popen"}
)  # fmt: skip


def install_targets(cmd: str) -> list[str]:
    """What an install command line installs: packages and ``-r file`` requirement files."""
    words = cmd.replace("&&", ";").replace("||", ";").replace("|", ";").split()
    targets: list[str] = []
    after = False
    i = 0
    while i < len(words):
        w = words[i]
        if w == ";" or w.endswith(";"):
            if after:
                break
        elif not after:
            after = w == "install"
        elif w in ("-r", "--requirement") and i + 1 < len(words):
            targets.append(f"-r {words[i + 1]}")
            i += 1
        elif w in _OPTS_WITH_VALUE:
            i += 1
        elif not w.startswith("-"):
            targets.append(w.strip("'\""))
        i += 1
    return targets


def _install_message(display: str, cmd: str) -> str:
    targets = install_targets(cmd)
    what = ", ".join(targets[:4]) + (", ..." if len(targets) > 4 else "")
    return (
        f"'{_short(display)}' installs packages while the notebook runs"
        + (f" ({what})" if what else "")
        + ": pin them in requirements.txt or pyproject.toml, install the environment before "
        "the run, and delete this line"
    )


def _command_text(node: ast.expr) -> str | None:
    """The command line of a subprocess call's first argument, as far as it is literal."""
    text = str_value(node)
    if text is not None:
        return text
    if isinstance(node, (ast.List, ast.Tuple)):
        words = []
        for elt in node.elts:
            value = str_value(elt)
            words.append(
                value
                if value is not None
                else "python"
                if dotted(elt) == "sys.executable"
                else "ARG"
            )
        return " ".join(words)
    return None


@register
class PipInstallInNotebook(Rule):
    code = "NB302"
    name = "pip-install-in-notebook"
    summary = "Packages installed from inside the notebook (!pip, %pip, %conda install)."
    severity = "warning"
    explanation = """
    `%pip install`, `!pip install`, `%conda install`, `!python -m pip install` or a
    `subprocess` call running pip changes the environment while the notebook runs: every run
    installs whatever version is newest that day, needs network access, may restart the
    kernel, and the notebook's real dependencies are hidden in a cell instead of declared.
    A scheduled or containerised run should start from an environment built beforehand.
    Declare the packages, with versions, in `requirements.txt` or `pyproject.toml`, install
    them before running, and delete the install line.
    """
    bad_example = """
    # %%
    %pip install pandas scikit-learn
    # %%
    import pandas as pd
    """
    good_example = """
    # %%
    import pandas as pd
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        trees = cell_trees(ctx)
        for index in sorted(trees):
            ct = trees[index]
            for m in ct.source.magics:
                if not is_pip_install(m):
                    continue
                if m.kind == "cell_magic":
                    body = m.text.split("\n")[1:]
                    hits = [
                        (k, text)
                        for k, text in enumerate(body, start=1)
                        if is_pip_install(_shell_magic(text))
                    ]
                    for k, text in hits or [(0, _first_line(m.text))]:
                        stripped = text.strip()
                        col = m.column if k == 0 else len(text) - len(text.lstrip()) + 1
                        yield Finding(
                            _install_message(stripped, stripped),
                            index,
                            m.line + k,
                            col,
                            m.line + k,
                            col + len(stripped),
                        )
                    continue
                cmd = shell_text(m) or f"{m.name} {m.args}"
                end_line, end_col = _magic_end(m)
                yield Finding(
                    _install_message(_first_line(m.text), cmd),
                    index,
                    m.line,
                    m.column,
                    end_line,
                    end_col,
                )
        aliases = import_aliases(ctx)
        for ct, call in calls_in_order(ctx):
            if qualified(call.func, aliases) not in _SUBPROCESS or not call.args:
                continue
            command = _command_text(call.args[0])
            if command is not None and is_pip_install(_shell_magic(command)):
                line, col, end_line, end_col = ct.span(call)
                display = ast.get_source_segment("\n".join(ct.lines), call) or command
                yield Finding(
                    _install_message(display, command), ct.index, line, col, end_line, end_col
                )


# --------------------------------------------------------------------------- NB303

_PARAMS_COMMENT = re.compile(r"^#\s*parameters\b", re.IGNORECASE)


def _is_literal(node: ast.expr) -> bool:
    try:
        ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False
    return True


def _simple_target(node: ast.expr) -> bool:
    if isinstance(node, ast.Name):
        return True
    return isinstance(node, (ast.Tuple, ast.List)) and all(
        isinstance(e, ast.Name) for e in node.elts
    )


def _statements(ct: CellTree) -> list[ast.stmt]:
    """Top-level statements that are real Python (magic placeholders dropped)."""
    return [s for s in ct.tree.body if not ct.on_magic(s)]


def is_literal_assignments(ct: CellTree) -> bool:
    """Every statement assigns a literal to simple names, and there is at least one."""
    body = _statements(ct)
    if not body:
        return False
    for stmt in body:
        if isinstance(stmt, ast.Assign):
            if not all(_simple_target(t) for t in stmt.targets) or not _is_literal(stmt.value):
                return False
        elif isinstance(stmt, ast.AnnAssign):
            if stmt.value is None or not _simple_target(stmt.target) or not _is_literal(stmt.value):
                return False
        else:
            return False
    return True


def is_imports_only(ct: CellTree) -> bool:
    body = _statements(ct)
    return bool(body) and all(isinstance(s, (ast.Import, ast.ImportFrom)) for s in body)


def _first_code_line(cell: Cell) -> str:
    return next((line.strip() for line in cell.source.splitlines() if line.strip()), "")


@register
class MissingParametersCell(Rule):
    code = "NB303"
    name = "missing-parameters-cell"
    summary = (
        "No cell is tagged `parameters`, so papermill cannot run the notebook with other values."
    )
    severity = "warning"
    fix = "safe"
    fix_note = (
        "Tags the obvious parameters cell `parameters`: the one code cell starting with a "
        "`# parameters` comment, or else the first code cell (after an imports-only cell) that "
        "only assigns literals. When there is no such cell, or several, there is no fix."
    )
    explanation = """
    papermill, nbops' runner and most schedulers run a notebook with other inputs by
    injecting a cell right after the cell tagged `parameters`. Without that tag, values such
    as input paths, dates, seeds and thresholds can only be changed by editing the notebook,
    so every run is a new, unreviewed version of the code. Gather those values in one cell
    near the top (plain assignments of literals) and tag it `parameters` (in JupyterLab:
    the property inspector, "Cell Tags"). A cell starting with a `# parameters` comment but
    without the tag does nothing for papermill; the fix tags it. Notebooks with fewer than
    two code cells are not checked.
    """
    bad_example = """
    # %%
    import pandas as pd
    # %%
    DATA = "data/churn.csv"
    SEED = 42
    # %%
    df = pd.read_csv(DATA)
    """
    good_example = """
    # %%
    import pandas as pd
    # %% tags=parameters
    DATA = "data/churn.csv"
    SEED = 42
    # %%
    df = pd.read_csv(DATA)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        code = [c for c in ctx.code_cells if c.source.strip()]
        if len(code) < 2 or any("parameters" in c.tags for c in ctx.code_cells):
            return
        commented = [c for c in code if _PARAMS_COMMENT.match(_first_code_line(c))]
        if len(commented) > 1:
            numbers = ", ".join(str(c.number) for c in commented)
            yield Finding(
                f"no cell is tagged 'parameters' and cells {numbers} all start with "
                "'# parameters': keep one parameters cell and tag it 'parameters' so papermill "
                "can run the notebook with other values"
            )
            return
        if commented:
            cell = commented[0]
            yield Finding(
                f"cell {cell.number} starts with '# parameters' but is not tagged: tag it "
                "'parameters' so papermill can inject other values after it",
                cell=cell.index,
                fix=self._fix(cell),
            )
            return
        candidate = self._literal_cell(ctx, code)
        if candidate is not None:
            yield Finding(
                f"no cell is tagged 'parameters': cell {candidate.number} only sets values "
                "(the run's settings); tag it 'parameters' so papermill can run the notebook "
                "with other values",
                cell=candidate.index,
                fix=self._fix(candidate),
            )
            return
        yield Finding(
            "no cell is tagged 'parameters': put the values a run should change (input paths, "
            "dates, seeds, thresholds) in one cell near the top and tag it 'parameters' so "
            "papermill can run the notebook with other values"
        )

    @staticmethod
    def _fix(cell: Cell) -> Fix:
        return Fix(
            f"Tag cell {cell.number} 'parameters'",
            "safe",
            (Edit("add_tag", cell.index, "parameters"),),
        )

    @staticmethod
    def _literal_cell(ctx: Context, code: list[Cell]) -> Cell | None:
        """The first code cell (or the second, after imports only) if it only sets literals."""
        trees = cell_trees(ctx)
        first = trees.get(code[0].index)
        if first is None:
            return None
        if is_literal_assignments(first):
            return code[0]
        if is_imports_only(first) and len(code) > 1:
            second = trees.get(code[1].index)
            if second is not None and is_literal_assignments(second):
                return code[1]
        return None


# --------------------------------------------------------------------------- NB304

_NP_NOT_DRAWS = frozenset(
    {"seed", "default_rng", "RandomState", "Generator", "SeedSequence", "get_state",
     "set_state", "BitGenerator", "PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64"}
)  # fmt: skip
_PY_DRAWS = frozenset(
    {"random", "randint", "randrange", "choice", "choices", "shuffle", "sample", "uniform",
     "gauss", "normalvariate", "lognormvariate", "expovariate", "vonmisesvariate",
     "gammavariate", "betavariate", "paretovariate", "weibullvariate", "triangular",
     "getrandbits", "randbytes", "binomialvariate"}
)  # fmt: skip
_TORCH_DRAWS = frozenset(
    {"rand", "randn", "randint", "randperm", "rand_like", "randn_like", "randint_like",
     "normal", "bernoulli", "multinomial", "poisson"}
)  # fmt: skip
_TF_DRAWS = frozenset(
    {"normal", "uniform", "shuffle", "truncated_normal", "categorical", "gamma", "poisson"}
)  # fmt: skip
# scikit-learn functions and estimators whose result depends on random_state.
_SKLEARN_RANDOM = frozenset(
    {
        "train_test_split", "ShuffleSplit", "StratifiedShuffleSplit", "GroupShuffleSplit",
        "RepeatedKFold", "RepeatedStratifiedKFold", "RandomForestClassifier",
        "RandomForestRegressor", "ExtraTreesClassifier", "ExtraTreesRegressor",
        "GradientBoostingClassifier", "GradientBoostingRegressor",
        "HistGradientBoostingClassifier", "HistGradientBoostingRegressor",
        "DecisionTreeClassifier", "DecisionTreeRegressor", "ExtraTreeClassifier",
        "ExtraTreeRegressor", "AdaBoostClassifier", "AdaBoostRegressor", "BaggingClassifier",
        "BaggingRegressor", "IsolationForest", "RandomTreesEmbedding", "KMeans", "MiniBatchKMeans",
        "BisectingKMeans", "SpectralClustering", "GaussianMixture", "BayesianGaussianMixture",
        "MLPClassifier", "MLPRegressor", "SGDClassifier", "SGDRegressor", "SGDOneClassSVM",
        "Perceptron", "PassiveAggressiveClassifier", "PassiveAggressiveRegressor", "TSNE",
        "TruncatedSVD", "NMF", "LatentDirichletAllocation", "FastICA",
        "MiniBatchDictionaryLearning", "SparseRandomProjection", "GaussianRandomProjection",
        "RBFSampler", "Nystroem", "make_classification", "make_regression", "make_blobs",
        "make_moons", "make_circles", "permutation_importance", "resample", "shuffle"
    }
)  # fmt: skip
_SKLEARN_SHUFFLE_ONLY = frozenset({"KFold", "StratifiedKFold", "StratifiedGroupKFold"})
_SKLEARN_NEEDS_MODULE = frozenset({"resample", "shuffle"})  # too generic as bare names
_SEEDS: dict[str, frozenset[str]] = {
    "numpy.random.seed": frozenset({"numpy"}),
    "random.seed": frozenset({"random"}),
    "torch.manual_seed": frozenset({"torch"}),
    "torch.random.manual_seed": frozenset({"torch"}),
    "tensorflow.random.set_seed": frozenset({"tensorflow"}),
    "tensorflow.set_random_seed": frozenset({"tensorflow"}),
}
# seed-everything helpers (keras, lightning, transformers, accelerate, home-made)
_SEED_ALL = frozenset(
    {"seed_everything", "set_seed", "set_random_seed", "set_seeds", "seed_all", "fix_seed"}
)
_ALL_LIBS = frozenset({"numpy", "random", "torch", "tensorflow"})
_GENERATORS = {
    "numpy.random.default_rng": "np.random.default_rng({seed})",
    "numpy.random.RandomState": "np.random.RandomState({seed})",
    "random.Random": "random.Random({seed})",
}


def _is_none(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is None


def _has_seed_arg(call: ast.Call) -> bool:
    if call.args:
        return not _is_none(call.args[0])
    return any(kw.arg is None or not _is_none(kw.value) for kw in call.keywords)


def _random_state(call: ast.Call) -> str:
    """``"set"``, ``"missing"`` (absent or None) or ``"unknown"`` (``**kwargs``)."""
    kw = keyword(call, "random_state")
    if kw is not None:
        return "missing" if _is_none(kw.value) else "set"
    return "unknown" if any(k.arg is None for k in call.keywords) else "missing"


def _byte_slice(ct: CellTree, line: int, start: int, end_line: int, end: int) -> str:
    """Python text between two (line, byte offset) positions."""
    if line == end_line:
        return ct.lines[line - 1].encode()[start:end].decode(errors="ignore")
    parts = [ct.lines[line - 1].encode()[start:].decode(errors="ignore")]
    parts.extend(ct.lines[line : end_line - 1])
    parts.append(ct.lines[end_line - 1].encode()[:end].decode(errors="ignore"))
    return "\n".join(parts)


def add_keyword_fix(ct: CellTree, call: ast.Call, text: str) -> Fix | None:
    """An edit inserting keyword argument ``text`` before the call's closing parenthesis."""
    end_line, end_off = call.end_lineno, call.end_col_offset
    if end_line is None or end_off is None or ct.translated(call):
        return None
    column = ct.col(end_line, end_off - 1)
    line_text = ct.lines[end_line - 1]
    if line_text[column - 1 : column] != ")":
        return None
    args: list[ast.expr] = [*call.args, *(kw.value for kw in call.keywords)]
    if any(isinstance(a, ast.GeneratorExp) for a in call.args):
        return None
    if not args:
        content = text
    else:
        last = max(args, key=lambda a: (a.end_lineno or 0, a.end_col_offset or 0))
        between = _byte_slice(
            ct, last.end_lineno or 0, last.end_col_offset or 0, end_line, end_off - 1
        )
        code = "".join(part.split("#", 1)[0] for part in between.split("\n"))
        if "," in code:
            content = text if between[-1:].isspace() else f" {text}"
        else:
            content = f", {text}"
    return Fix(
        f"Add {text}",
        "unsafe",
        (Edit("replace_text", ct.index, content, end_line, column, end_line, column),),
    )


@register
class UnseededRandomness(Rule):
    code = "NB304"
    name = "unseeded-randomness"
    summary = "Random numbers, splits or models with no seed, so every run gives other results."
    severity = "warning"
    fix = "unsafe"
    fix_note = (
        "For scikit-learn calls and `DataFrame.sample` the fix adds `random_state=<seed>` (the "
        "`seed` option, 42 by default); unsafe because the results change once. Other calls "
        "need a seed set earlier, which is not fixed automatically."
    )
    options: ClassVar[dict[str, Any]] = {"seed": 42}
    explanation = """
    Results that depend on unseeded random numbers change on every run: a train/test split,
    a random forest, k-means, a sample of rows or a dropout mask. Then a re-run cannot
    confirm a result, a regression cannot be told from noise, and tests on the notebook's
    outputs are flaky. Seed every source of randomness: pass `random_state=` to
    scikit-learn functions and estimators and to `DataFrame.sample`, create NumPy generators
    with a seed (`np.random.default_rng(SEED)`), and call `random.seed`, `np.random.seed`,
    `torch.manual_seed` or `tf.random.set_seed` before drawing from the global generators.
    A seed counts when it is set earlier in document order (a seed-setting helper such as
    `seed_everything(42)` counts for every library; `np.random.seed` also covers
    scikit-learn and pandas, which draw from NumPy's global generator). Put the seed in the
    `parameters` cell.
    """
    bad_example = """
    # %%
    from sklearn.model_selection import train_test_split
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2)
    """
    good_example = """
    # %% tags=parameters
    SEED = 42
    # %%
    from sklearn.model_selection import train_test_split
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=SEED)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        aliases = dict(import_aliases(ctx))
        # names the notebook defines itself shadow library names (a home-made train_test_split)
        for _, sym in ctx.parsed():
            aliases.update((name, name) for name in sym.functions)
        seed = ctx.option("seed", 42)
        seeded: set[str] = set()
        drawn: set[tuple[int, str]] = set()
        for ct, call in calls_in_order(ctx):
            name = qualified(call.func, aliases)
            shown = dotted(call.func)
            if name is None or shown is None:
                continue
            last = name.rsplit(".", 1)[-1]
            if name in _SEEDS or last in _SEED_ALL:
                if _has_seed_arg(call):
                    seeded |= _SEEDS.get(name, _ALL_LIBS)
                continue
            problem = self._problem(name, last, shown, call, seeded, aliases, seed)
            if problem is None:
                continue
            message, fixable = problem
            lib = _global_draw(name, last)
            if lib is not None:
                # one finding per cell and library: seeding once fixes all its draws
                if (ct.index, lib) in drawn:
                    continue
                drawn.add((ct.index, lib))
            fix = None
            if fixable and keyword(call, "random_state") is None:
                fix = add_keyword_fix(ct, call, f"random_state={seed}")
            line, col, end_line, end_col = ct.span(call)
            yield Finding(message, ct.index, line, col, end_line, end_col, fix)

    @staticmethod
    def _problem(
        name: str,
        last: str,
        shown: str,
        call: ast.Call,
        seeded: set[str],
        aliases: dict[str, str],
        seed: object,
    ) -> tuple[str, bool] | None:
        """The message for one call and whether adding random_state fixes it, or None."""
        if name in _GENERATORS:
            if _has_seed_arg(call):
                return None
            example = _GENERATORS[name].format(seed=seed)
            note = (
                "; np.random.seed does not affect it" if name == "numpy.random.default_rng" else ""
            )
            message = (
                f"'{shown}()' without a seed gives other numbers on every run: pass one "
                f"('{example}'){note}"
            )
            return message, False
        lib = _global_draw(name, last)
        if lib is not None:
            if lib in seeded:
                return None
            return (
                f"'{shown}(...)' draws random numbers with no seed set before it: "
                + _SEED_HINTS[lib].format(seed=seed),
                False,
            )
        if _is_sklearn(name, last, aliases):
            if last in _SKLEARN_SHUFFLE_ONLY:
                shuffle = keyword(call, "shuffle")
                if shuffle is None or not (
                    isinstance(shuffle.value, ast.Constant) and shuffle.value.value is True
                ):
                    return None
                shown = f"{shown}(shuffle=True"
            else:
                shown = f"{shown}("
            if _random_state(call) != "missing" or "numpy" in seeded:
                return None
            message = (
                f"'{shown}...)' has no random_state: pass 'random_state={seed}' (or a seed from "
                "the parameters cell) so the result is the same on every run"
            )
            return message, True
        if (
            isinstance(call.func, ast.Attribute)
            and call.func.attr == "sample"
            and _looks_like_frame_sample(call, aliases)
        ):
            if _random_state(call) != "missing" or "numpy" in seeded:
                return None
            message = (
                f"'{shown}(...)' picks random rows with no random_state: pass "
                f"'random_state={seed}' so the sample is the same on every run"
            )
            return message, True
        return None


_SEED_HINTS = {
    "numpy": "call 'np.random.seed({seed})' earlier, or draw from a seeded generator "
    "('rng = np.random.default_rng({seed})')",
    "random": "call 'random.seed({seed})' earlier, or use a seeded 'random.Random({seed})'",
    "torch": "call 'torch.manual_seed({seed})' earlier",
    "tensorflow": "call 'tf.random.set_seed({seed})' earlier",
}


def _global_draw(name: str, last: str) -> str | None:
    """The library whose global generator the call draws from, if it is a draw."""
    parts = name.split(".")
    if len(parts) == 3 and parts[:2] == ["numpy", "random"] and last not in _NP_NOT_DRAWS:
        return "numpy"
    if len(parts) == 2 and parts[0] == "random" and last in _PY_DRAWS:
        return "random"
    if len(parts) == 2 and parts[0] == "torch" and last in _TORCH_DRAWS:
        return "torch"
    if len(parts) == 3 and parts[:2] == ["tensorflow", "random"] and last in _TF_DRAWS:
        return "tensorflow"
    return None


def _is_sklearn(name: str, last: str, aliases: dict[str, str]) -> bool:
    if last not in _SKLEARN_RANDOM and last not in _SKLEARN_SHUFFLE_ONLY:
        return False
    if name.startswith(("sklearn.", "imblearn.")):
        return True
    # a bare name nothing imports or defines (star import, or a cell that does not parse)
    return "." not in name and name not in aliases and last not in _SKLEARN_NEEDS_MODULE


def _looks_like_frame_sample(call: ast.Call, aliases: dict[str, str]) -> bool:
    """``df.sample(5)`` / ``df.sample(frac=0.1)`` rather than ``dist.sample((5,))``."""
    assert isinstance(call.func, ast.Attribute)
    root = dotted(call.func.value)
    if root is None or root.split(".", 1)[0] in aliases:
        return False  # a module's sample function, not a DataFrame's method
    if any(kw.arg in ("n", "frac") for kw in call.keywords):
        return True
    return bool(call.args) and not isinstance(
        call.args[0], (ast.Tuple, ast.List, ast.Call, ast.Starred)
    )


# --------------------------------------------------------------------------- NB305

_SHELL_LINE_MAGICS = frozenset(
    {
        "system", "sx", "ls", "ll", "lf", "lk", "ldir", "lx", "cat", "cp", "mv", "rm", "rmdir",
        "mkdir", "man"
    }
)  # fmt: skip


def _only_installs(body: str) -> bool:
    lines = [line.strip() for line in body.split("\n")]
    commands = [line for line in lines if line and not line.startswith("#")]
    return bool(commands) and all(is_pip_install(_shell_magic(c)) for c in commands)


@register
class ShellCommand(Rule):
    code = "NB305"
    name = "shell-command"
    summary = "A shell escape (!cmd, %%bash, %system) that ties the notebook to one system."
    severity = "warning"
    explanation = """
    `!ls data/`, `!wget ...`, `%%bash` cells and shell magics such as `%system` or `%rm` run
    programs through the system shell. They work only where that shell and those programs
    exist (not on Windows, not in a slim container), their failures do not stop the
    notebook, and they hide a step from the Python code that nbops turns into a pipeline.
    Do the work in Python (`pathlib`, `shutil`, `subprocess.run([...], check=True)`), or
    move it into the pipeline's setup. `!cd` is reported too: it runs in a subshell and
    changes nothing. Package installs are NB302's.
    """
    bad_example = """
    # %%
    !mkdir -p output && cp data/raw/*.csv output/
    """
    good_example = """
    # %%
    import shutil
    from pathlib import Path
    out = Path("output")
    out.mkdir(exist_ok=True)
    for csv in Path("data/raw").glob("*.csv"):
        shutil.copy(csv, out)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cell, sym in ctx.parsed():
            for m in sym.source.magics:
                message = self._message(m)
                if message is not None:
                    end_line, end_col = _magic_end(m)
                    yield Finding(message, cell.index, m.line, m.column, end_line, end_col)

    @staticmethod
    def _message(m: Magic) -> str | None:
        advice = (
            "it only works where that shell and program exist and hides a step from the code: "
            "do it in Python (pathlib, shutil, subprocess.run([...], check=True)) or in the "
            "pipeline's setup"
        )
        if m.kind == "shell":
            if is_pip_install(m):
                return None
            words = m.args.split()
            if words[:1] == ["cd"]:
                return (
                    f"'{_short(_first_line(m.text))}' runs in a throwaway subshell and does not "
                    "change the notebook's directory: remove it and build paths from the project "
                    "root instead"
                )
            return f"shell command '{_short(_first_line(m.text))}': {advice}"
        if m.kind == "cell_magic":
            body = shell_text(m)
            if not body and m.name not in _SHELL_BODY_CELLS:
                return None
            if body and _only_installs(body):
                return None
            return f"'%%{m.name}' cell runs its body in the system shell: {advice}"
        if m.kind in ("line_magic", "automagic") and m.name in _SHELL_LINE_MAGICS:
            return f"'{_short(_first_line(m.text))}' runs a shell command: {advice}"
        return None


# --------------------------------------------------------------------------- NB306

_CHDIR_MAGICS = frozenset({"cd", "pushd", "popd"})


@register
class WorkingDirectoryChange(Rule):
    code = "NB306"
    name = "working-directory-change"
    summary = "The notebook changes its working directory (os.chdir, %cd)."
    severity = "warning"
    explanation = """
    `os.chdir(...)`, `%cd` (or `cd` as an automagic) change the directory every later cell
    resolves relative paths against. Which file `pd.read_csv("data.csv")` reads then depends
    on which cells ran and how often, re-running the cell moves again (`%cd ..` twice), and
    the notebook breaks when it is started from another directory, as papermill and
    schedulers do. Leave the working directory alone: define the project root once (in the
    parameters cell, or from `Path(__file__)`-like configuration) and build paths from it.
    """
    bad_example = """
    # %%
    import os
    os.chdir("../data")
    # %%
    import pandas as pd
    df = pd.read_csv("churn.csv")
    """
    good_example = """
    # %% tags=parameters
    DATA_DIR = "../data"
    # %%
    from pathlib import Path
    import pandas as pd
    df = pd.read_csv(Path(DATA_DIR) / "churn.csv")
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        aliases = import_aliases(ctx)
        found: list[Finding] = []
        for ct in cell_trees(ctx).values():
            for m in ct.source.magics:
                if m.kind in ("line_magic", "automagic") and m.name in _CHDIR_MAGICS:
                    end_line, end_col = _magic_end(m)
                    found.append(
                        Finding(
                            self._message(_first_line(m.text)),
                            ct.index,
                            m.line,
                            m.column,
                            end_line,
                            end_col,
                        )
                    )
        for ct, call in calls_in_order(ctx):
            if qualified(call.func, aliases) == "os.chdir":
                line, col, end_line, end_col = ct.span(call)
                text = ast.get_source_segment("\n".join(ct.lines), call) or "os.chdir(...)"
                found.append(Finding(self._message(text), ct.index, line, col, end_line, end_col))
        found.sort(key=lambda f: (f.cell or 0, f.line or 0, f.column or 0))
        yield from found

    @staticmethod
    def _message(text: str) -> str:
        return (
            f"'{_short(text)}' changes the working directory for every later cell: relative "
            "paths then depend on which cells ran; keep the directory and build paths from a "
            "project root (pathlib.Path) instead"
        )


# --------------------------------------------------------------------------- NB307


@register
class MissingKernelMetadata(Rule):
    code = "NB307"
    name = "missing-kernel-metadata"
    summary = "The notebook metadata has no kernelspec or no language_info."
    severity = "warning"
    python_only = False
    explanation = """
    `metadata.kernelspec` says which kernel runs the notebook and `metadata.language_info`
    which language it is written in. papermill and nbclient need the kernelspec to start a
    kernel (or fail with "No kernel name found"), nbconvert and editors use the language for
    highlighting and exports, and nbops uses both to decide which checks apply. Notebooks
    produced by scripts or stripped by tools often lack them. Open the notebook in Jupyter,
    select the kernel, run it and save; or add the two entries to the metadata.
    """
    bad_example = """
    #! nometa
    # %%
    import pandas as pd
    """
    good_example = """
    # %%
    import pandas as pd
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        meta = ctx.notebook.metadata
        spec = meta.get("kernelspec")
        info = meta.get("language_info")
        missing = []
        if not isinstance(spec, dict) or not spec.get("name"):
            missing.append("kernelspec")
        if not isinstance(info, dict) or not info.get("name"):
            missing.append("language_info")
        if not missing:
            return
        if "kernelspec" in missing:
            reason = "papermill and nbclient cannot tell which kernel to start"
        else:
            reason = "tools cannot tell the notebook's language (papermill and nbconvert read it)"
        yield Finding(
            f"the notebook metadata has no {' and no '.join(missing)}: {reason}; select the "
            "kernel in Jupyter, run and save the notebook (or add the metadata)"
        )


# --------------------------------------------------------------------------- NB308

_URL = re.compile(r"^(?:https?|ftp|s3a?|gs|gcs|az|abfss?|wasbs?|hf)://\S+", re.IGNORECASE)
_URL_ARGS = (
    "filepath_or_buffer",
    "path",
    "io",
    "url",
    "path_or_buf",
    "fname",
    "file",
    "uri",
    "source",
)
_READERS = frozenset(
    {"urlopen", "urlretrieve", "loadtxt", "genfromtxt", "load", "open_dataset", "get_file",
     "download", "imread", "read_table", "load_dataset"}
)  # fmt: skip
_HTTP_ROOTS = frozenset({"requests", "httpx", "urllib3", "fsspec", "smart_open", "wget", "gdown"})
_HTTP_CALLS = frozenset({"get", "request", "urlopen", "open", "download", "stream"})
_DOWNLOADERS = frozenset({"wget", "curl", "aria2c", "gsutil", "aws", "azcopy", "gdown", "kaggle"})


def _url_constants(ctx: Context) -> dict[str, str]:
    """Names assigned a URL literal at the top level of some cell (``URL = "https://..."``)."""
    names: dict[str, str] = {}
    for ct in cell_trees(ctx).values():
        for stmt in ct.tree.body:
            if (
                isinstance(stmt, ast.Assign)
                and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Name)
            ):
                text = str_value(stmt.value)
                if text is not None and _URL.match(text):
                    names[stmt.targets[0].id] = text
    return names


def _url_argument(call: ast.Call, urls: dict[str, str]) -> str | None:
    candidates: list[ast.expr] = []
    if call.args and not isinstance(call.args[0], ast.Starred):
        candidates.append(call.args[0])
    candidates.extend(kw.value for kw in call.keywords if kw.arg in _URL_ARGS)
    for node in candidates:
        text = str_value(node)
        if text is None and isinstance(node, ast.Name):
            text = urls.get(node.id)
        if text is not None and _URL.match(text):
            return text
    return None


def _downloaded_url(cmd: str) -> str | None:
    """The URL a shell command line downloads with wget, curl, gsutil..., if any."""
    for segment in re.split(r"&&|\|\||[;|\n]", cmd):
        words = [w.strip("'\"") for w in segment.split()]
        if words and words[0].rsplit("/", 1)[-1] in _DOWNLOADERS:
            url = next((w for w in words if _URL.match(w)), None)
            if url is not None:
                return url
    return None


def _url_message(url: str) -> str:
    return (
        f"data read straight from '{_short(url, 80)}': the run depends on the network and on "
        "that data not changing; copy it once to versioned storage (or pin a version and "
        "checksum) and read it from there, or make the URL a parameter"
    )


@register
class RemoteDataSource(Rule):
    code = "NB308"
    name = "remote-data-source"
    summary = "Data read straight from a URL (http, s3, gs...) while the notebook runs."
    severity = "info"
    explanation = """
    `pd.read_csv("https://...")`, `requests.get(...)`, `urlopen`, `s3://` or `gs://` paths
    and `!wget`/`!curl` download data on every run. The result then depends on the network,
    on credentials and on whoever maintains the remote file: when it changes or moves the
    notebook gives other results, or none, with no change to the code. For reproducible
    runs, copy the data once to storage you version (or pin a dataset version and check a
    checksum), read it from there, and make its location a parameter. URLs assigned to a
    name at the top of a cell and then read (`pd.read_csv(URL)`) are found too.
    """
    bad_example = """
    # %%
    import pandas as pd
    df = pd.read_csv("https://example.com/exports/churn.csv")
    """
    good_example = """
    # %% tags=parameters
    DATA = "data/churn-2024-05.csv"
    # %%
    import pandas as pd
    df = pd.read_csv(DATA)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        aliases = import_aliases(ctx)
        urls = _url_constants(ctx)
        found: list[Finding] = []
        for ct, call in calls_in_order(ctx):
            name = qualified(call.func, aliases)
            if name is None:
                continue
            root, last = name.split(".", 1)[0], name.rsplit(".", 1)[-1]
            reader = (
                last.startswith("read_")
                or last in _READERS
                or (root in _HTTP_ROOTS and last in _HTTP_CALLS)
            )
            if not reader or (last == "load" and "." not in name):
                continue
            url = _url_argument(call, urls)
            if url is not None:
                line, col, end_line, end_col = ct.span(call)
                found.append(Finding(_url_message(url), ct.index, line, col, end_line, end_col))
        for ct in cell_trees(ctx).values():
            for m in ct.source.magics:
                url = _downloaded_url(shell_text(m))
                if url is not None:
                    end_line, end_col = _magic_end(m)
                    found.append(
                        Finding(_url_message(url), ct.index, m.line, m.column, end_line, end_col)
                    )
        found.sort(key=lambda f: (f.cell or 0, f.line or 0, f.column or 0))
        yield from found
