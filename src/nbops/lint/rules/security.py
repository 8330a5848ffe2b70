"""NB4: security (secrets in code and outputs, shell injection, eval/pickle, disabled TLS).

The secret rules use :mod:`nbops.lint.secrets` and, like leaked credentials themselves, do
not depend on the kernel language. The others read each code cell's Python through ``ast``
(the translated source keeps every line in place, so positions map to the cell), resolving
import aliases notebook-wide (``import subprocess as sp`` makes ``sp.run`` a subprocess call).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from nbops.core.notebook import Cell
from nbops.lint.diagnostic import Edit, Fix
from nbops.lint.registry import register
from nbops.lint.rule import Context, Finding, Rule
from nbops.lint.rules._ast import (
    CellTree,
    cell_trees,
    dotted,
    import_aliases,
    keyword,
    named_calls,
    qualified,
)
from nbops.lint.secrets import SecretMatch, find_secrets

# -- AST helpers (the shared ones live in _ast) --------------------------------------------


def finding_at(message: str, ct: CellTree, node: ast.AST, fix: Fix | None = None) -> Finding:
    """A finding spanning ``node`` in its cell."""
    line, column, end_line, end_column = ct.span(node)
    return Finding(message, ct.index, line, column, end_line, end_column, fix)


def calls(ctx: Context) -> list[tuple[CellTree, ast.Call, str]]:
    """Every call (not on a magic line) with its callee's import-resolved dotted name (one
    pass per notebook, shared by the rules)."""
    return named_calls(ctx)


def kwarg(call: ast.Call, name: str) -> ast.expr | None:
    found = keyword(call, name)
    return None if found is None else found.value


def argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    """A call's argument given by position or by keyword."""
    head = call.args[: index + 1]
    if len(call.args) > index and not any(isinstance(a, ast.Starred) for a in head):
        return call.args[index]
    return kwarg(call, name)


def is_constant(node: ast.AST, value: object) -> bool:
    return isinstance(node, ast.Constant) and node.value is value


# -- NB401 / NB402: secrets ------------------------------------------------------------------


def _describe(found: list[SecretMatch]) -> str:
    first = found[0]
    more = f" and {len(found) - 1} more" if len(found) > 1 else ""
    return f"{first.label} {first.redacted}{more}"


@register
class SecretInCode(Rule):
    code = "NB401"
    name = "secret-in-code"
    summary = "A credential, token or key is written in a cell."
    severity = "error"
    python_only = False
    explanation = """
    A password, API token, private key or connection string is written into a cell. Anyone
    who can read the notebook (the repository, its history, a shared copy, nbviewer) can use
    it, and it stays in version control history after the cell is edited. nbops recognises
    the formats of common providers (AWS, GitHub, GitLab, Slack, Stripe, Google, OpenAI-style
    `sk-` keys, Hugging Face, JWTs, private key blocks, `user:password@` URLs, Azure
    `AccountKey=`) and string values given to names like `password`, `api_key` or `token`
    that look real (placeholders such as `"<your-key>"`, `"changeme"` or `"${TOKEN}"` are
    not reported). Markdown and raw cells are checked too: a token pasted into prose is just
    as leaked. Revoke the credential, then read it at run time from an environment variable
    (`os.environ["API_TOKEN"]`), a secrets manager or a git-ignored `.env` file.
    """
    bad_example = """
    # %%
    import boto3
    s3 = boto3.client("s3", aws_access_key_id="AKIAIOSFODNN7EXAMPLE")
    """
    good_example = """
    # %%
    import boto3
    s3 = boto3.client("s3")  # credentials from the environment or ~/.aws
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for cell in ctx.cells:
            if not cell.source:
                continue
            where = "code" if cell.is_code else f"a {cell.cell_type} cell"
            for match in find_secrets(cell.source):
                advice = (
                    "revoke it and read it at run time (os.environ, a secrets manager)"
                    if cell.is_code
                    else "remove it from the notebook and revoke it"
                )
                yield Finding(
                    f"{match.label} {match.redacted} in {where}: {advice}",
                    cell=cell.index,
                    line=match.line,
                    column=match.column,
                    end_line=match.end_line,
                    end_column=match.end_column,
                )


# output mime types that hold binary or rendered media, never scanned
_MEDIA = ("image/", "video/", "audio/", "application/pdf", "font/")
# bundled library code and widget plumbing, not anything the notebook printed
_CODE_BUNDLES = {
    "application/javascript",
    "text/javascript",
    "application/vnd.jupyter.widget-view+json",
    "application/vnd.jupyter.widget-state+json",
}
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def output_texts(out: dict[str, Any]) -> Iterator[str]:
    """The text a reader of an output sees: streams, text mime types, tracebacks."""
    kind = out.get("output_type")
    if kind == "stream":
        yield _join(out.get("text"))
    elif kind in ("execute_result", "display_data", "update_display_data"):
        data = out.get("data")
        if not isinstance(data, dict):
            return
        seen: set[str] = set()
        for mime, value in data.items():
            if not isinstance(mime, str) or mime.startswith(_MEDIA) or mime in _CODE_BUNDLES:
                continue
            if isinstance(value, (str, list)):
                text = _join(value)
            elif value is not None:
                text = json.dumps(value, ensure_ascii=False)
            else:
                continue
            if text not in seen:  # plotly repeats its HTML under a vendor type
                seen.add(text)
                yield text
    elif kind == "error":
        yield f"{out.get('ename', '')}: {out.get('evalue', '')}"
        yield _ANSI.sub("", _join(out.get("traceback")))


def _join(value: object) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join([str(v).rstrip("\n") for v in value])  # (a list: join's fast path)
    return ""


_ENV_DUMP_SHELL = re.compile(r"^\s*(?:env|printenv|set|export(?:\s+-p)?)\s*$")


def _env_dumps(ctx: Context, cell: Cell) -> Iterator[tuple[int, int, int | None, int | None]]:
    """Where a cell prints every environment variable (os.environ, %env, !env)."""
    sym = ctx.symbols.get(cell.index)
    if sym is None:
        return
    for magic in sym.source.magics:
        if (
            magic.kind in ("line_magic", "automagic")
            and magic.name == "env"
            and not magic.args.strip()
        ) or (magic.kind == "shell" and _ENV_DUMP_SHELL.match(magic.args)):
            yield magic.line, magic.column, None, None
    aliases = import_aliases(ctx)
    python = sym.source.python
    # every dump below names os.environ: `.environ`, or a name imported as it (a non-ASCII
    # cell may spell either in characters the parser normalises: it is always walked)
    if (
        python.isascii()
        and "environ" not in python
        and not any(name in python for name, to in aliases.items() if to == "os.environ")
    ):
        return
    ct = cell_trees(ctx).get(cell.index)
    if ct is None:
        return
    tree = ct.tree

    def is_environ(node: ast.expr) -> bool:
        if isinstance(node, ast.Call) and node.args and not node.keywords:
            name = qualified(node.func, aliases)
            if name in ("dict", "str", "repr", "list", "sorted", "pprint.pformat", "json.dumps"):
                return is_environ(node.args[0])
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("items", "values"):
                return is_environ(node.func.value)
        if (
            isinstance(node, ast.Call)
            and not node.args
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("items", "values", "copy")
        ):
            return is_environ(node.func.value)
        return qualified(node, aliases) == "os.environ"

    printers = {"print", "display", "pprint.pprint", "pprint.pp", "IPython.display.display"}
    for node in ct.nodes:
        if (
            isinstance(node, ast.Call)
            and qualified(node.func, aliases) in printers
            and any(is_environ(arg) for arg in node.args)
        ):
            yield ct.span(node)
    last = tree.body[-1] if tree.body else None
    if isinstance(last, ast.Expr) and is_environ(last.value):
        yield ct.span(last)


# IPython magics whose output lists names (magics and their classes, aliases, variables),
# never values: `%lsmagic` maps "pwd" to "OSMagics"
_LISTING_MAGICS = {"lsmagic", "magic", "quickref", "alias", "who", "who_ls"}


def _lists_names(ctx: Context, cell: Cell) -> bool:
    """The cell only runs magics that list names, so its output is IPython's listing."""
    sym = ctx.symbols.get(cell.index)
    if sym is None or not sym.source.magics:
        return False
    lines = {n for m in sym.source.magics for n in range(m.line, m.end_line + 1)}
    code = [
        n
        for n, line in enumerate(cell.source.split("\n"), 1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    return all(n in lines for n in code) and all(
        m.kind in ("line_magic", "automagic")
        and m.name in _LISTING_MAGICS
        and not (m.name == "alias" and m.args.strip())
        for m in sym.source.magics
    )


@register
class SecretInOutput(Rule):
    code = "NB402"
    name = "secret-in-output"
    summary = "A cell's output shows a credential, or the cell prints all environment variables."
    severity = "error"
    fix = "unsafe"
    fix_note = (
        "Clears the cell's outputs (unsafe: --unsafe-fixes); the secret must still be revoked."
    )
    python_only = False
    explanation = """
    A committed output contains a credential: a token echoed by a client library, a
    connection string in a traceback, a config printed for debugging. Outputs are saved in
    the `.ipynb` file, so the secret is published with the notebook even when the code reads
    it safely from the environment. Text outputs, HTML and tracebacks are checked; images are
    not, nor IPython's listings of names (the outputs of `%lsmagic`, `%magic`, `%quickref`,
    `%alias`, `%who`, `%who_ls`); a quoted value that three keys or more share is a label,
    not a secret. Printing `os.environ` (or `%env`, `!env`) is reported as well: it dumps
    every environment variable, secrets included, into the output. Clear the output (the
    fix, with `nbops fix --unsafe-fixes`; or `nbops fix --clear-outputs` for every cell),
    revoke the credential (it stays in the repository's history), and print only what you
    need.
    """
    bad_example = """
    # %% exec=1 output="key=AKIA4HQ2ZL7XRT5MNB3Q"
    print(f"key={key_id}")
    """
    good_example = """
    # %% exec=1 output="key=AKIA…"
    print(f"key={key_id[:4]}…")
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        python = ctx.notebook.is_python
        for cell in ctx.code_cells:
            clear = None
            if cell.outputs:
                clear = Fix(
                    "Clear this cell's outputs", "unsafe", (Edit("clear_outputs", cell.index),)
                )
            found: list[SecretMatch] = []
            if cell.outputs and not (python and _lists_names(ctx, cell)):
                for out in cell.outputs:
                    for text in output_texts(out):
                        found.extend(find_secrets(text))
            if found:
                yield Finding(
                    f"output shows {_describe(found)}: clear the output and revoke the credential",
                    cell=cell.index,
                    fix=clear,
                )
                continue
            if python:
                for line, column, end_line, end_column in _env_dumps(ctx, cell):
                    yield Finding(
                        "cell prints all environment variables, secrets included: print only "
                        "the variables you need" + (" and clear the output" if clear else ""),
                        cell.index,
                        line,
                        column,
                        end_line,
                        end_column,
                        fix=clear,
                    )
                    break


# -- NB403: shell injection ------------------------------------------------------------------

_SUBPROCESS = {"run", "call", "check_call", "check_output", "Popen"}
_ALWAYS_SHELL = {"os.system", "os.popen", "subprocess.getoutput", "subprocess.getstatusoutput"}
_INTERPOLATION = re.compile(r"(?<!\{)\{([^{}]+)\}(?!\})|(?<!\$)\$([A-Za-z_][\w.]*)")


def _built(node: ast.AST) -> tuple[str, list[ast.expr]] | None:
    """How a string expression is built from values, and the values; None if constant."""
    values: list[ast.expr] = []
    if isinstance(node, ast.JoinedStr):
        values = [v.value for v in node.values if isinstance(v, ast.FormattedValue)]
        return ("an f-string", values) if values else None
    if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Add, ast.Mod)):
        how = "'%' formatting" if isinstance(node.op, ast.Mod) else "string concatenation"
        for side in (node.left, node.right):
            inner = _built(side)
            if inner is not None:
                values.extend(inner[1])
            elif isinstance(side, (ast.Tuple, ast.List)) and isinstance(node.op, ast.Mod):
                values.extend(side.elts)
            elif not isinstance(side, ast.Constant):
                values.append(side)
        return (how, values) if values else None
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
        args = [*node.args, *(kw.value for kw in node.keywords)]
        if node.func.attr == "format" and args:
            return "str.format()", args
        if node.func.attr == "join" and args:
            return "str.join()", args
    return None


def interpolated(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """How a command is built from values not passed through ``shlex.quote``, or None."""
    built = _built(node)
    if built is None:
        return None
    how, values = built
    quoted = ("shlex.quote", "pipes.quote", "shlex.join")
    if all(isinstance(v, ast.Call) and qualified(v.func, aliases) in quoted for v in values):
        return None
    return how


@register
class ShellInjectionRisk(Rule):
    code = "NB403"
    name = "shell-injection-risk"
    summary = "A shell command is built from variables (shell=True, os.system, !cmd {var})."
    severity = "warning"
    explanation = """
    The cell hands a command line assembled from values (an f-string, `%`, `+`,
    `.format()`) to a shell: `subprocess.run(..., shell=True)`, `os.system`, `os.popen`, or
    an IPython `!cmd {var}` / `!cmd $var` escape. In production those values come from
    parameters, file names or data; a space, quote or `;` in them changes the command, and
    a hostile value runs arbitrary commands. Pass the arguments as a list without a shell
    (`subprocess.run(["gzip", path], check=True)`), or quote each value with
    `shlex.quote` if a shell is truly needed. When every interpolated value is one the
    notebook sets itself from literals (`path = "data/raw.csv"`, `out = f"{DATA}/x"`,
    `os.path.join(DATA, "x")`), the finding is only `info`: nothing outside the notebook
    reaches the command today, but a later edit that takes the value from a parameter or
    input would. Values from `input()`, the environment, arguments or anything computed keep
    the warning.
    """
    bad_example = """
    # %%
    import subprocess
    subprocess.run(f"gzip {path}", shell=True)
    """
    good_example = """
    # %%
    import subprocess
    subprocess.run(["gzip", path], check=True)
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        aliases = import_aliases(ctx)
        own: _OwnValues | None = None
        for ct, call, name in calls(ctx):
            command: ast.expr | None = None
            how = ""
            if name in _ALWAYS_SHELL:
                command = argument(call, 0, "cmd") or argument(call, 0, "command")
                how = f"{name}()"
            elif name.startswith("subprocess.") and name.split(".", 1)[1] in _SUBPROCESS:
                shell = kwarg(call, "shell")
                if (
                    shell is not None
                    and not is_constant(shell, False)
                    and not is_constant(shell, None)
                ):
                    command = argument(call, 0, "args")
                    how = f"{name}(..., shell=True)"
            if command is None:
                continue
            built = interpolated(command, aliases)
            if built is None:
                continue
            parts = _built(command)
            if own is None:
                own = _OwnValues(ctx, aliases)
            if parts is not None and all(own.expr(v) for v in parts[1]):
                yield replace(
                    finding_at(
                        f"{how} runs a command built with {built} from values the notebook "
                        "sets itself: safe as written, but a value from a parameter or user "
                        "would change the command; pass an argument list without a shell",
                        ct,
                        call,
                    ),
                    severity="info",
                )
                continue
            yield finding_at(
                f"{how} runs a command built with {built}: pass an argument list without "
                "a shell, or shlex.quote() each value",
                ct,
                call,
            )
        names: set[str] | None = None
        for cell, sym in ctx.parsed():
            for magic in sym.source.magics:
                if not (
                    magic.kind == "shell"
                    or (
                        magic.kind in ("line_magic", "automagic") and magic.name in ("sx", "system")
                    )
                ):
                    continue
                if names is None:
                    names = set(ctx.dataflow.definers)
                used = _interpolated_names(magic.args, names)
                if used:
                    shown = ", ".join(f"'{n}'" for n in used)
                    if own is None:
                        own = _OwnValues(ctx, aliases)
                    if all(own.name(n) for n in used):
                        yield Finding(
                            f"shell command interpolates {shown}, which the notebook sets "
                            "itself from literals: safe as written, but a value with spaces "
                            "or quotes (or from a parameter) would change the command; "
                            "subprocess.run([...]) with an argument list is safer",
                            cell=cell.index,
                            line=magic.line,
                            column=magic.column,
                            severity="info",
                        )
                        continue
                    yield Finding(
                        f"shell command interpolates {shown}: a value with spaces or quotes "
                        "changes the command; use subprocess.run([...]) with an argument list",
                        cell=cell.index,
                        line=magic.line,
                        column=magic.column,
                    )


_PATH_CALLS = {
    "os.path.join", "os.path.abspath", "os.path.basename", "os.path.dirname",
    "os.path.expanduser", "os.path.normpath", "pathlib.Path", "pathlib.PurePath", "str",
    "int", "float",
}
_PATH_ATTRIBUTES = {"name", "parent", "stem", "suffix"}


class _OwnValues:
    """Which names the notebook only ever sets from literals (strings, numbers, paths built
    from them): values that no parameter, user, environment or data can change."""

    def __init__(self, ctx: Context, aliases: dict[str, str]) -> None:
        self.aliases = aliases
        self.values: dict[str, list[ast.expr] | None] = {}  # None: bound some other way
        for ct in cell_trees(ctx).values():
            plain: set[int] = set()
            for node in ast.walk(ct.tree):
                if isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
                    targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                    if len(targets) == 1 and isinstance(targets[0], ast.Name):
                        plain.add(id(targets[0]))
                        self.values.setdefault(targets[0].id, [])
                        found = self.values[targets[0].id]
                        if found is not None:
                            found.append(node.value)
            for node in ast.walk(ct.tree):
                bound: str | None = None
                if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                    bound = None if id(node) in plain else node.id
                elif isinstance(node, ast.arg):
                    bound = node.arg
                elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    bound = node.name
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    for alias in node.names:
                        self.values[alias.asname or alias.name.split(".")[0]] = None
                if bound is not None:
                    self.values[bound] = None
        self.memo: dict[str, bool] = {}

    def name(self, name: str) -> bool:
        if name not in self.memo:
            self.memo[name] = False  # a cycle (x = x + "/") is not a literal
            values = self.values.get(name)
            self.memo[name] = bool(values) and all(self.expr(v) for v in values or [])
        return self.memo[name]

    def expr(self, node: ast.expr) -> bool:
        if isinstance(node, ast.Constant):
            return isinstance(node.value, (str, bytes, int, float)) or node.value is None
        if isinstance(node, ast.Name):
            return self.name(node.id)
        if isinstance(node, ast.JoinedStr):
            return all(self.expr(v) for v in node.values)
        if isinstance(node, ast.FormattedValue):
            return self.expr(node.value)
        if isinstance(node, ast.BinOp):
            return self.expr(node.left) and self.expr(node.right)
        if isinstance(node, (ast.Tuple, ast.List)):
            return all(self.expr(e) for e in node.elts)
        if isinstance(node, ast.Attribute) and node.attr in _PATH_ATTRIBUTES:
            return self.expr(node.value)
        if isinstance(node, ast.Call):
            args = [*node.args, *(k.value for k in node.keywords)]
            callee = qualified(node.func, self.aliases)
            if callee in _PATH_CALLS or callee in ("Path", "os.path.join"):
                return all(self.expr(a) for a in args)
            if isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
                return self.expr(node.func.value) and all(self.expr(a) for a in args)
        return False


def _interpolated_names(command: str, defined: set[str]) -> list[str]:
    """Notebook names interpolated into an IPython shell line (``{expr}`` or ``$name``)."""
    found: list[str] = []
    for m in _INTERPOLATION.finditer(command):
        expr = m.group(1) if m.group(1) is not None else m.group(2)
        try:
            tree = ast.parse(expr.strip(), mode="eval")
        except (SyntaxError, ValueError, MemoryError, RecursionError):
            continue  # IPython leaves text it cannot evaluate alone ({print $1} in awk)
        for node in ast.walk(tree):
            if isinstance(node, ast.Name) and node.id in defined and node.id not in found:
                found.append(node.id)
    return found


# -- NB404: dynamic code execution -----------------------------------------------------------

_PICKLE_MODULES = ("pickle", "_pickle", "cPickle", "dill", "cloudpickle")
_UNSAFE_YAML_LOADERS = {"Loader", "UnsafeLoader", "CLoader", "CUnsafeLoader"}


@register
class DynamicCodeExecution(Rule):
    code = "NB404"
    name = "dynamic-code-execution"
    summary = "eval/exec on computed strings, pickle loads, or yaml.load without a safe loader."
    severity = "warning"
    explanation = """
    `eval()` and `exec()` of a computed string, `pickle.load()`/`loads()` (and `dill`,
    `cloudpickle`), and `yaml.load()` without a safe loader all run code chosen by whoever
    controls the input. In a notebook that input is often a file or URL; once the code is a
    scheduled job, a replaced file is a remote code execution. Parse data instead: `json`,
    `ast.literal_eval` for Python literals, `yaml.safe_load`, Parquet/CSV for tables, and
    pickles only from files you wrote yourself. `joblib.load` and `torch.load` are not
    reported (they are how models are saved; load only files you trust), nor is `eval` of a
    constant string.
    """
    bad_example = """
    # %%
    import pickle
    with open(path, "rb") as f:
        model = pickle.load(f)
    threshold = eval(config["threshold"])
    """
    good_example = """
    # %%
    import ast
    import joblib
    model = joblib.load(path)
    threshold = ast.literal_eval(config["threshold"])
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        for ct, call, name in calls(ctx):
            message = self._message(call, name)
            if message:
                yield finding_at(message, ct, call)

    @staticmethod
    def _message(call: ast.Call, name: str) -> str | None:
        if name in ("eval", "exec"):
            arg = argument(call, 0, "source")
            if arg is not None and not isinstance(arg, ast.Constant):
                alternative = (
                    "ast.literal_eval() or json" if name == "eval" else "plain code or a function"
                )
                return f"{name}() of a computed string runs whatever it contains: use {alternative}"
            return None
        module, _, func = name.rpartition(".")
        if module in _PICKLE_MODULES and func in ("load", "loads", "Unpickler"):
            return (
                f"{name}() can run arbitrary code from its input: load pickles only from files "
                "you wrote, or store data as JSON/Parquet"
            )
        if module == "yaml" and func in ("load", "load_all", "unsafe_load", "unsafe_load_all"):
            loader = argument(call, 1, "Loader")
            loader_name = (dotted(loader) or "").rpartition(".")[2] if loader is not None else ""
            if func.startswith("unsafe") or loader is None or loader_name in _UNSAFE_YAML_LOADERS:
                return (
                    f"{name}() without a safe loader can build arbitrary objects: "
                    "use yaml.safe_load()"
                )
        return None


# -- NB405: TLS verification -----------------------------------------------------------------

_HTTP_ROOTS = ("requests", "httpx", "urllib3", "aiohttp")
_HTTP_METHODS = {
    "get", "post", "put", "patch", "delete", "head", "options", "request", "send", "stream",
    "Client", "AsyncClient", "Session", "ClientSession", "TCPConnector", "ws_connect",
}  # fmt: skip


_TLS_KEYWORDS = ("verify", "ssl", "verify_ssl")
_TLS_ATTRIBUTES = ("_create_unverified_context", "CERT_NONE")


def _tls_candidate(node: ast.AST, aliases: dict[str, str] | None) -> bool:
    """False for a node NB405 cannot report (most of them), before any name is resolved: a
    call needs a ``verify``/``ssl``/``verify_ssl`` keyword or to be ``disable_warnings``
    (``x.disable_warnings()``, or a name imported as ``urllib3.disable_warnings``: any name
    when ``aliases`` is None), an attribute one of the two unverified names, an assignment a
    ``False`` value."""
    if isinstance(node, ast.Call):
        if any(kw.arg in _TLS_KEYWORDS for kw in node.keywords):
            return True
        func = node.func
        if isinstance(func, ast.Attribute):
            return func.attr == "disable_warnings"
        return isinstance(func, ast.Name) and (
            aliases is None or aliases.get(func.id, "").endswith("urllib3.disable_warnings")
        )
    if isinstance(node, ast.Attribute):
        return node.attr in _TLS_ATTRIBUTES
    return isinstance(node, ast.Assign) and is_constant(node.value, False)


def _tls_shapes(ct: CellTree) -> list[ast.AST]:
    """The nodes of real code that are NB405 candidates whatever the imports, in walk order
    (memoised on the tree: they depend on the cell's content only)."""
    try:
        cached: list[ast.AST] = ct.tree._nbops_tls  # type: ignore[attr-defined]
        return cached
    except AttributeError:
        pass
    found = [
        n
        for n in ct.nodes
        if _tls_candidate(n, None) and hasattr(n, "lineno") and not ct.on_magic(n)
    ]
    ct.tree._nbops_tls = found  # type: ignore[attr-defined]
    return found


@register
class TlsVerificationDisabled(Rule):
    code = "NB405"
    name = "tls-verification-disabled"
    summary = "HTTPS certificate checks are turned off (verify=False, unverified SSL context)."
    severity = "warning"
    explanation = """
    `verify=False` (requests, httpx), `ssl=False` (aiohttp), `ssl._create_unverified_context`
    and `ssl.CERT_NONE` accept any certificate, so anyone on the network path can read and
    change the traffic, credentials included; `urllib3.disable_warnings()` hides the warnings
    that say so. It is usually added to get past a corporate proxy or a self-signed
    certificate. Point the client at the right CA bundle instead (`verify="/path/ca.pem"`,
    `REQUESTS_CA_BUNDLE`, `SSL_CERT_FILE`).
    """
    bad_example = """
    # %%
    import requests
    resp = requests.get(url, verify=False)
    """
    good_example = """
    # %%
    import requests
    resp = requests.get(url, verify="/etc/ssl/certs/corp-ca.pem")
    """

    def check(self, ctx: Context) -> Iterator[Finding]:
        aliases = import_aliases(ctx)
        trees = cell_trees(ctx)
        for index in sorted(trees):
            ct = trees[index]
            nodes = [n for n in _tls_shapes(ct) if _tls_candidate(n, aliases)]
            nodes.sort(key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0)))
            for node in nodes:
                message = self._message(node, aliases)
                if message:
                    yield finding_at(message, ct, node)

    @staticmethod
    def _message(node: ast.AST, aliases: dict[str, str]) -> str | None:
        if isinstance(node, ast.Call):
            name = qualified(node.func, aliases) or ""
            if name.endswith("urllib3.disable_warnings"):
                return (
                    "urllib3.disable_warnings() hides the warnings about unverified HTTPS: "
                    "fix the certificate setup instead"
                )
            http = name.startswith(_HTTP_ROOTS) or (
                isinstance(node.func, ast.Attribute) and node.func.attr in _HTTP_METHODS
            )
            if not http:
                return None
            for arg in ("verify", "ssl", "verify_ssl"):
                value = kwarg(node, arg)
                if value is not None and is_constant(value, False):
                    return (
                        f"{arg}=False turns off HTTPS certificate checks: pass a CA bundle "
                        "path instead"
                    )
            return None
        if isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load):
            name = qualified(node, aliases) or ""
            if name == "ssl._create_unverified_context":
                return (
                    "ssl._create_unverified_context accepts any certificate: use "
                    "ssl.create_default_context(cafile=...)"
                )
            if name == "ssl.CERT_NONE":
                return (
                    "ssl.CERT_NONE turns off certificate checks: keep CERT_REQUIRED and load "
                    "the right CA"
                )
        if isinstance(node, ast.Assign) and is_constant(node.value, False):
            for target in node.targets:
                if isinstance(target, ast.Attribute) and target.attr in (
                    "verify",
                    "check_hostname",
                ):
                    return f"setting .{target.attr} = False turns off HTTPS certificate checks"
        return None
