"""Readable identifiers for pipeline steps: from a heading, else from what the step produces.

A heading gives its meaningful leading words: numbering (``1.``, ``Step 2:``, ``Part II``),
stop words and the detail after a colon or in parentheses are dropped, and the name is cut at
a word boundary to at most :data:`MAX_LENGTH` characters (``"3. Loading the sales data from
the warehouse"`` -> ``loading_sales_data_warehouse``).

A step without a heading is named after what it does with the values it produces:
``load_sales`` for ``sales = pd.read_csv(...)``, ``train_model`` for ``model.fit(...)``,
``split_data`` for ``train_test_split(...)``, ``score_accuracy`` / ``evaluate`` for metrics,
else ``make_<first output>``, ``plot_<data>``, ``show_<data>`` or ``make_<first name bound>``; ``""`` when nothing can be derived (the caller says ``step_N``).

:func:`unique_name` keeps a name off keywords, builtins and the names the notebook binds.
"""

from __future__ import annotations

import ast
import builtins
import keyword
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence

__all__ = ["MAX_LENGTH", "heading_name", "identifier", "produced_name", "unique_name"]

MAX_LENGTH = 30


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_MAX_WORDS = 4

STOP_WORDS = _set(
    """a an the of to for in on at by with from into onto as via using use our your my
    we us you i me let lets let's s is are be been being this that these those it its some
    any all how what why which where when here there now then first next finally just also
    very can will should would could do does done every each"""
)
# kept inside a name ("model_and_evaluation"), never at its end
_JOINERS = _set("and or")
# a heading made only of these is a section label, not a name ("Exercise", "Step")
_LABELS = _set("step part section chapter stage phase task exercise question lesson lab")
_NUMBERING = re.compile(
    r"^(?:(?:step|part|section|chapter|stage|phase|task|exercise|question|lesson|lab|module|q)"
    r"\s*#?\s*(?:\d+(?:\.\d+)*[a-z]?|[ivxlcdm]+|[a-z])(?![a-z0-9])"  # Step 2, Part II, Task b
    r"|\d+(?:\.\d+)*[a-z]?(?![a-z0-9])|[ivxlcdm]+(?=[.)])|[a-z](?=[.)]))"  # 1.2, 3a, II., b)
    r"\s*[.,:)\]\-–—]*\s*",
    re.IGNORECASE,
)
_DETAIL = re.compile(r"\s*(?:[:;?!(\[]|\.(?:\s|$)|\s[-–—]+\s).*$", re.DOTALL)
_BUILTINS = frozenset(n for n in dir(builtins) if not n.startswith("_"))


def identifier(text: str) -> str:
    """A snake_case ascii identifier for ``text`` (every word kept); ``""`` if none remains."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    name = re.sub(r"[^0-9a-zA-Z]+", "_", ascii_text).strip("_").lower()
    return re.sub(r"^[0-9_]+", "", name)


def _words(text: str) -> list[str]:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    ascii_text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", ascii_text)  # camelCase -> camel Case
    return re.findall(r"[a-z0-9]+", ascii_text.lower().replace("'", ""))


def _cut(words: Sequence[str], max_length: int) -> str:
    """Join the leading ``words`` with ``_`` up to ``max_length`` characters, at a word boundary."""
    words = list(words)
    while words and words[0].isdigit():
        words.pop(0)
    if not words:
        return ""
    kept = [words[0][:max_length]]
    for word in words[1:_MAX_WORDS]:
        if len("_".join(kept)) + 1 + len(word) > max_length:
            break
        kept.append(word)
    while len(kept) > 1 and kept[-1] in _JOINERS:
        kept.pop()
    return "_".join(kept)


def _strip_numbering(text: str) -> str:
    while True:
        stripped = _NUMBERING.sub("", text.strip(), count=1)
        if stripped == text.strip() or not stripped:
            return stripped
        text = stripped


def heading_name(text: str, max_length: int = MAX_LENGTH) -> str:
    """A readable identifier of at most ``max_length`` characters for a heading; ``""`` if none."""
    text = re.sub(r"[*_`]+(?=\w)|(?<=\w)[*_`]+", " ", text)  # **bold**, _em_, `code` marks
    text = _strip_numbering(text)
    main = _DETAIL.sub("", text)
    if not [w for w in _words(main) if w not in STOP_WORDS and w not in _LABELS]:
        main = _strip_numbering(re.sub(r"^[^:]*:", "", text)) if ":" in text else text
    words = _words(main)
    meaningful = [w for w in words if w not in STOP_WORDS and w not in _LABELS]
    while meaningful and meaningful[-1] in _JOINERS:  # "load and" after a cut
        meaningful.pop()
    # "Step 1" alone names nothing: the caller names the step after its code
    return _cut(meaningful or [w for w in words if w not in _LABELS], max_length)


# --------------------------------------------------------------------------- what a step produces

_LOADERS = re.compile(r"^(?:read_\w+|load\w*|fetch_\w+|open_\w+|loadtxt|genfromtxt|open|get_data)$")
_SPLITTERS = frozenset({"train_test_split", "random_split", "split"})
_FITTERS = frozenset({"fit", "train", "fit_generator", "partial_fit"})
_MODELISH = re.compile(
    r"(?:classifier|regressor|regression|model|estimator|pipeline|forest|tree|boost|svc|svr|"
    r"knn|kmeans|clf|reg|net|nn|xgb|lgbm|gbm|rf|lr)$",
    re.IGNORECASE,
)
_METRIC = re.compile(
    r"^(?:\w+_score|\w+_error|classification_report|confusion_matrix|score|evaluate)$"
)
_PLOTS = _set(
    "plot hist scatter imshow heatmap boxplot barplot countplot lineplot pairplot histplot "
    "kdeplot violinplot bar barh pie scatterplot regplot displot catplot"
)
_PLOT_MODULES = _set("plt sns ax axes fig px")
_SHOWS = _set("print display head tail describe info value_counts sample show")
_GENERIC_DATA = _set("df data dataset raw frame table d ds tmp")


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else ""


def _receiver(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id
    return ""


def _first_name_arg(call: ast.Call) -> str:
    for arg in [*call.args, *(k.value for k in call.keywords)]:
        if isinstance(arg, ast.Name):
            return arg.id
        if isinstance(arg, ast.Subscript | ast.Attribute) and isinstance(arg.value, ast.Name):
            return arg.value.id
    return ""


def _statements(body: list[ast.stmt]) -> Iterator[ast.stmt]:
    """The statements that run at cell level: nested blocks yes, function and class bodies no."""
    for stmt in body:
        if isinstance(stmt, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            continue
        yield stmt
        for field in ("body", "orelse", "finalbody", "handlers"):
            inner = getattr(stmt, field, None)
            if isinstance(inner, list):
                yield from _statements([s for s in inner if isinstance(s, ast.stmt)])
        for handler in getattr(stmt, "handlers", []):
            yield from _statements(handler.body)


def _targets(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Assign):
        targets: list[ast.expr] = list(node.targets)
    elif isinstance(node, ast.AnnAssign | ast.AugAssign):
        targets = [node.target]
    else:
        return []
    return [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]


def _file_stem(call: ast.Call) -> str:
    """The stem of a literal path argument (``"data/sales_2024.csv"`` -> ``sales``)."""
    for arg in call.args[:1]:
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
            stem = re.split(r"[/\\]", arg.value)[-1].split(".")[0]
            words = [w for w in _words(stem) if not w.isdigit() and w not in STOP_WORDS]
            noun = _cut(words, 20)
            return noun if len(noun) >= 3 else ""  # "x.csv" says nothing
    return ""


def _noun(name: str, call: ast.Call | None = None) -> str:
    if name.lower() in _GENERIC_DATA:
        return (_file_stem(call) if call is not None else "") or "data"
    return identifier(name)


def produced_name(
    trees: Iterable[ast.Module], outputs: Sequence[str], max_length: int = MAX_LENGTH
) -> str:
    """A name for a step from its code (``trees``) and the names later steps read (``outputs``).

    The most telling action wins: training a model, then scoring it, splitting data, loading
    data; else the first output gives ``make_<output>``. ``""`` when nothing fits.
    """
    loaded: list[str] = []
    fitted: list[str] = []
    metrics: list[str] = []
    split = predicted = False
    plotted: list[str] = []
    shown: list[str] = []
    written: list[str] = []
    models: set[str] = set()
    for tree in trees:
        for top in tree.body:
            written += [t for t in _targets(top) if len(t) >= 3]
            if isinstance(top, ast.Expr):
                value = top.value
                if isinstance(value, ast.Name):
                    shown.append(value.id)
                elif isinstance(value, ast.Call) and _call_name(value) in _SHOWS:
                    data = _receiver(value) or _first_name_arg(value)
                    if data:
                        shown.append(data)
        for stmt in _statements(tree.body):
            targets = _targets(stmt)
            for node in ast.iter_child_nodes(stmt):
                if isinstance(node, ast.stmt | ast.excepthandler):
                    continue  # nested statements come on their own
                for call in (n for n in ast.walk(node) if isinstance(n, ast.Call)):
                    name = _call_name(call)
                    if name in _FITTERS and _receiver(call):
                        fitted.append(_receiver(call))
                    elif _METRIC.match(name):
                        metrics.append(name)
                    elif name in _SPLITTERS:
                        split = True
                    elif name == "predict" or name == "predict_proba":
                        predicted = True
                    elif name in _PLOTS:
                        receiver = _receiver(call)
                        data = receiver if receiver not in _PLOT_MODULES else ""
                        plotted.append(data or _first_name_arg(call) or "")
                    elif _LOADERS.match(name) and targets:
                        loaded.append(_noun(targets[0], call))
                    elif _MODELISH.search(name) and name[:1].isupper() and targets:
                        fitted.append(targets[0])
                        models.add(targets[0])  # lin = LinearRegression() is a model
    if fitted:
        model = fitted[0]
        if models or any(_MODELISH.search(m) for m in fitted):
            base = "train_model"
        else:
            base = "fit_" + identifier(model)
    elif metrics:
        stems = list(dict.fromkeys(re.sub(r"_score$", "", m) for m in metrics))
        base = (
            "score_" + identifier(stems[0])
            if len(stems) == 1 and stems[0] != "score"
            else "evaluate"
        )
    elif split:
        base = "split_data"
    elif loaded:
        base = "load_" + loaded[0]
    elif predicted:
        base = "predict"
    elif outputs:
        base = "make_" + _noun(outputs[0])
    elif plotted:
        noun = next((p for p in plotted if p), "")
        base = "plot_" + _noun(noun) if noun else "plot"
    elif shown:
        base = "show_" + _noun(shown[0])
    elif written:
        base = "make_" + _noun(written[0])
    elif called := _first_call(trees):
        base = called  # what the step does: `extension`, `exit` (a clash gets `_step`)
    else:
        return ""
    return _cut(base.split("_"), max_length)


def _first_call(trees: Iterable[ast.Module]) -> str:
    """The first function or method the step calls by a readable name, as an identifier."""
    for tree in trees:
        stack: list[ast.AST] = list(reversed(tree.body))
        while stack:
            node = stack.pop()
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
                continue  # code the step defines, not code it runs
            if isinstance(node, ast.Call):
                name = _call_name(node)
                if len(name) >= 3 and not name.startswith("_") and name not in _SHOWS | _BUILTINS:
                    return identifier(name)
            stack.extend(reversed(list(ast.iter_child_nodes(node))))
    return ""


# --------------------------------------------------------------------------- uniqueness


def reserved(name: str) -> bool:
    """True for a keyword, soft keyword or builtin name."""
    return keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in _BUILTINS


def unique_name(
    base: str,
    taken: set[str] | frozenset[str],
    used: set[str] | frozenset[str] = frozenset(),
    max_length: int = MAX_LENGTH,
) -> str:
    """``base``, made unique and at most ``max_length`` characters long.

    A name in ``taken`` (what the notebook binds) or reserved (keywords, builtins) becomes
    ``base_step``; a name in ``used`` (other steps) gets ``_2``, ``_3``... Words are dropped
    from the end of ``base`` so that the suffixed name still fits.
    """

    def fit(stem: str, suffix: str) -> str:
        room = max_length - len(suffix)
        if len(stem) <= room:
            return stem + suffix
        return (_cut(stem.split("_"), room) or stem[:room]) + suffix

    name = fit(base, "") if base else base
    if name in taken or reserved(name):
        name = fit(base, "_step")
    stem, k = name, 2
    while name in used or name in taken or reserved(name):
        name, k = fit(stem, f"_{k}"), k + 1
    return name
