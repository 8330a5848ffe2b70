"""Find the notebook's prediction path, so the generated library can expose ``predict(model, frame)``.

Where the notebook predicts (``y = model.predict(X)`` or ``predict_proba``), the frame ``X``
is traced back, statement by statement, through what can be replayed on new rows (column
selection, ``dropna``, ``fillna``, ``astype``..., a fitted transformer's ``transform``, numpy's
element-wise functions, a ``train_test_split`` part) to the raw frame it starts from. The path
becomes one expression over ``frame``; anything else on the way (a value the notebook computed,
a mutation, exploration code) means no ``predict``, with the reason as a plan warning.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass, replace

from nbops.modularize.plan import ModulePlan, PredictPath, StepSpec, result_classes

__all__ = ["add_predict_path", "find_predict_path"]

_PREDICT = frozenset({"predict", "predict_proba"})
# frame methods that return a new value computed row by row (or by columns) from the frame
_FRAME_METHODS = frozenset(
    """dropna fillna drop astype rename copy select_dtypes filter replace clip round abs
    to_numpy reindex""".split()  # noqa: SIM905 - a word list
)
_FRAME_ATTRIBUTES = frozenset({"values"})
# element-wise numpy functions (through the module's own import of numpy)
_NUMPY = frozenset({"log", "log1p", "sqrt", "exp", "abs", "asarray", "array"})
# calls that change their receiver (besides ``inplace=True``)
_MUTATORS = frozenset(
    """fit partial_fit fit_transform fit_predict set_params append extend insert update pop
    clear sort remove setdefault""".split()  # noqa: SIM905 - a word list
)
_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda, ast.ListComp, ast.SetComp,
           ast.DictComp, ast.GeneratorExp)  # fmt: skip


class _NoPath(Exception):
    """The prediction path cannot be replayed on new data; the message says why."""


@dataclass(frozen=True)
class _Stmt:
    cell: int
    stmt: ast.stmt
    library: bool  # in the library (not exploration left in the slim notebook)


def _walk(node: ast.AST) -> Iterator[ast.AST]:
    """The nodes of ``node`` in its own scope (not inside functions, classes, comprehensions)."""
    yield node
    for child in ast.iter_child_nodes(node):
        if not isinstance(child, _SCOPES):
            yield from _walk(child)


def _binds(stmt: ast.stmt, name: str) -> bool:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return stmt.name == name
    if isinstance(stmt, (ast.Import, ast.ImportFrom)):
        return any((a.asname or a.name.split(".")[0]) == name for a in stmt.names)
    return any(
        isinstance(n, ast.Name) and n.id == name and isinstance(n.ctx, (ast.Store, ast.Del)) for n in _walk(stmt)
    )


def _touches(stmt: ast.stmt, name: str) -> bool:
    """``stmt`` binds, deletes or changes ``name`` (a mutating method, ``inplace=True``,
    an item or attribute assignment)."""
    if _binds(stmt, name):
        return True
    for node in _walk(stmt):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            base = node.func.value
            if isinstance(base, ast.Name) and base.id == name:
                inplace = any(
                    k.arg == "inplace" and not (isinstance(k.value, ast.Constant) and not k.value.value)
                    for k in node.keywords
                )
                if inplace or node.func.attr in _MUTATORS:
                    return True
        if isinstance(node, (ast.Subscript, ast.Attribute)) and isinstance(node.ctx, (ast.Store, ast.Del)):
            base = node.value
            while isinstance(base, (ast.Subscript, ast.Attribute)):
                base = base.value
            if isinstance(base, ast.Name) and base.id == name:
                return True
    return False


def _statements(plan: ModulePlan) -> list[_Stmt]:
    out: list[_Stmt] = []
    sliced = plan.sliced
    for cell in plan.notebook.code_cells:
        symbols = plan.flow.symbols.get(cell.index)
        if symbols is None or symbols.tree is None or cell.index in plan.parameter_cells:
            continue
        hoisted = plan.hoisted.get(cell.index, set())
        slim = sliced.slim_statements(cell.index)
        for stmt in symbols.tree.body:
            if id(stmt) not in hoisted:
                library = cell.index not in sliced.explored and id(stmt) not in slim
                out.append(_Stmt(cell.index, stmt, library))
    return out


def _call_name(func: ast.expr) -> str:
    return func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""


class _Tracer:
    """Rebuilds the prediction's input as an expression over ``frame``, walking back."""

    def __init__(self, plan: ModulePlan, stmts: list[_Stmt], parameters: set[str]) -> None:
        self.plan = plan
        self.stmts = stmts
        self.parameters = parameters
        self.fitted: list[str] = []
        self.rows: str | None = None
        self.start: str | None = None

    def binding(self, name: str, before: int) -> int:
        for pos in range(before - 1, -1, -1):
            if _binds(self.stmts[pos].stmt, name):
                if not self.stmts[pos].library:
                    raise _NoPath(f"`{name}` is bound by code that stays in the slim notebook")
                return pos
        raise _NoPath(f"it reads `{name}`, which no statement before it binds")

    def untouched(self, name: str, after: int, until: int | None = None) -> None:
        """``name`` is not changed by any statement after ``after`` (up to ``until``)."""
        for item in self.stmts[after + 1 : until]:
            if _touches(item.stmt, name):
                raise _NoPath(f"`{name}` is changed again (cell {item.cell + 1}) after it is made")

    def kept(self, name: str, pos: int) -> None:
        """``name`` is not changed from statement ``pos`` (which reads it) on: its value in the
        pipeline's results is the one read there."""
        for item in self.stmts[pos:]:
            if _touches(item.stmt, name):
                raise _NoPath(f"`{name}` is changed (cell {item.cell + 1}) after the prediction path reads it")
        if self.plan.local(name) != name:
            raise _NoPath(f"`{name}` is renamed in the module")

    def static(self, node: ast.expr) -> ast.expr:
        """A literal (or a container of literals) or a parameter (read from PARAMETERS)."""
        if isinstance(node, ast.Constant):
            return node
        if isinstance(node, ast.List):
            return ast.List([self.static(e) for e in node.elts], ast.Load())
        if isinstance(node, ast.Tuple):
            return ast.Tuple([self.static(e) for e in node.elts], ast.Load())
        if isinstance(node, ast.Set):
            return ast.Set([self.static(e) for e in node.elts])
        if isinstance(node, ast.Dict):
            return ast.Dict([self.static(k) if k is not None else None for k in node.keys],
                            [self.static(v) for v in node.values])  # fmt: skip
        if isinstance(node, ast.UnaryOp) and isinstance(node.operand, ast.Constant):
            return node
        if isinstance(node, ast.Slice):
            return ast.Slice(*(self.static(p) if p is not None else None for p in (node.lower, node.upper, node.step)))
        if isinstance(node, ast.Name):
            if node.id in self.parameters:
                return ast.Subscript(ast.Name("PARAMETERS", ast.Load()), ast.Constant(node.id), ast.Load())
            raise _NoPath(f"it reads `{node.id}`, a value the notebook computes (not a literal or a parameter)")
        raise _NoPath(f"`{ast.unparse(node)}` is not a literal or a parameter")

    def trace(self, node: ast.expr, pos: int) -> ast.expr:
        if isinstance(node, ast.Name):
            return self.trace_name(node.id, pos)
        if isinstance(node, ast.Subscript):
            return ast.Subscript(self.trace(node.value, pos), self.static(node.slice), ast.Load())
        if isinstance(node, ast.Attribute) and node.attr in _FRAME_ATTRIBUTES:
            return ast.Attribute(self.trace(node.value, pos), node.attr, ast.Load())
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner, method = node.func.value, node.func.attr
            keywords = [ast.keyword(k.arg, self.static(k.value)) for k in node.keywords]
            if any(k.arg == "inplace" or k.arg is None for k in node.keywords):
                raise _NoPath(f"`{ast.unparse(node)}` changes a value in place")
            if method == "transform" and isinstance(owner, ast.Name) and len(node.args) == 1 and not keywords:
                self.fitted_object(owner.id, pos)
                return ast.Call(ast.Attribute(ast.Name(owner.id, ast.Load()), method, ast.Load()),
                                [self.trace(node.args[0], pos)], [])  # fmt: skip
            if (
                method in _NUMPY
                and isinstance(owner, ast.Name)
                and owner.id in self.plan.module_names
                and owner.id not in self.plan.functions
                and node.args
            ):
                args = [self.trace(node.args[0], pos), *(self.static(a) for a in node.args[1:])]
                return ast.Call(ast.Attribute(ast.Name(owner.id, ast.Load()), method, ast.Load()), args, keywords)
            if method in _FRAME_METHODS:
                args = [self.static(a) for a in node.args]
                return ast.Call(ast.Attribute(self.trace(owner, pos), method, ast.Load()), args, keywords)
        raise _NoPath(f"`{ast.unparse(node)}` is not a step nbops can replay on new rows")

    def fitted_object(self, name: str, pos: int) -> None:
        self.binding(name, pos)
        self.untouched(name, pos)
        if self.plan.local(name) != name or name in ("model", "frame"):
            raise _NoPath(f"the fitted `{name}` cannot be an argument of predict under its own name")
        if name not in self.fitted:
            self.fitted.append(name)

    def trace_name(self, name: str, pos: int) -> ast.expr:
        if name in self.parameters or name in self.plan.module_names:
            raise _NoPath(f"it predicts on `{name}`, which is not data the notebook made")
        bound = self.binding(name, pos)
        stmt = self.stmts[bound].stmt
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1:
            target, value = stmt.targets[0], stmt.value
            if isinstance(target, ast.Name) and self.replayable(value):
                self.untouched(name, bound, pos)  # a step of the path: read as it was made
                return self.trace(value, bound)
            if (
                isinstance(target, (ast.Tuple, ast.List))
                and isinstance(value, ast.Call)
                and _call_name(value.func) == "train_test_split"
            ):
                names = [e.id if isinstance(e, ast.Name) else None for e in target.elts]
                index = names.index(name) // 2
                if index >= len(value.args) or len(names) != 2 * len(value.args):
                    raise _NoPath(f"`{name}` comes from a `train_test_split` nbops cannot follow")
                self.untouched(name, bound, pos)
                if self.rows is None:  # the rows the notebook predicted: the nearest split
                    self.kept(name, pos)
                    self.rows = name
                return self.trace(value.args[index], bound)
        # anything else makes the raw frame (a file read, a function's result...), which may
        # be changed after it is made, until the path reads it
        self.kept(name, pos)
        self.start = name
        return ast.Name("frame", ast.Load())

    def replayable(self, value: ast.expr) -> bool:
        """``value`` is a step of the path (not where the raw frame is made)."""
        if isinstance(value, (ast.Name, ast.Subscript)):
            return True
        if isinstance(value, ast.Attribute):
            return value.attr in _FRAME_ATTRIBUTES
        if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
            return value.func.attr in _FRAME_METHODS | {"transform"} or (
                value.func.attr in _NUMPY
                and isinstance(value.func.value, ast.Name)
                and value.func.value.id in self.plan.module_names
            )
        return False


def _predictions(stmts: list[_Stmt]) -> Iterator[tuple[int, ast.Call | None]]:
    """Each statement that predicts: (position, the call when the statement is ``name =
    model.predict(X)``, else None)."""
    for pos, item in enumerate(stmts):
        calls = [
            n
            for n in _walk(item.stmt)
            if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr in _PREDICT
        ]
        if not calls:
            continue
        stmt = item.stmt
        simple = (
            isinstance(stmt, ast.Assign)
            and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name)
            and stmt.value is calls[0]
            and isinstance(calls[0].func, ast.Attribute)
            and isinstance(calls[0].func.value, ast.Name)
            and len(calls[0].args) == 1
            and not calls[0].keywords
        )
        yield pos, calls[0] if simple else None


def find_predict_path(
    plan: ModulePlan, specs: list[StepSpec], param_names: set[str]
) -> tuple[PredictPath | None, str | None, list[StepSpec]]:
    """The notebook's prediction path, or why there is none (None when the notebook does not
    predict); the steps, with what ``predict`` and its test need from them returned."""
    stmts = _statements(plan)
    reason: str | None = None
    for pos, call in _predictions(stmts):
        item = stmts[pos]
        where = f"cell {item.cell + 1}"
        try:
            if call is None:
                raise _NoPath("the prediction is not of the form `name = model.predict(X)`")
            if not item.library:
                raise _NoPath("the prediction stays in the slim notebook")
            path, specs_out = _path(plan, specs, param_names, stmts, pos, call)
        except _NoPath as exc:
            reason = reason or f"{where}: {exc}"
            continue
        return path, None, specs_out
    return None, reason, specs


def _path(
    plan: ModulePlan,
    specs: list[StepSpec],
    param_names: set[str],
    stmts: list[_Stmt],
    pos: int,
    call: ast.Call,
) -> tuple[PredictPath, list[StepSpec]]:
    assert isinstance(call.func, ast.Attribute) and isinstance(call.func.value, ast.Name)
    stmt = stmts[pos].stmt
    assert isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0], ast.Name)
    model, predictions = call.func.value.id, stmt.targets[0].id
    tracer = _Tracer(plan, stmts, param_names)
    tracer.binding(model, pos)
    tracer.untouched(model, pos)
    tracer.kept(predictions, pos + 1)
    body = tracer.trace(call.args[0], pos)
    if tracer.start is None:
        raise _NoPath("the predicted frame does not start from data the notebook made")
    taken = {"predict", "model", "frame"}
    clash = sorted(taken & (plan.names - {model}) | ({"predict"} & {s.name for s in specs}))
    if "predict" in clash or "predict" in plan.module_names:
        raise _NoPath("the notebook has its own `predict`")
    names = {n.id for n in ast.walk(body) if isinstance(n, ast.Name)}
    if names & {"model"} - {model}:
        raise _NoPath("the path reads a value named `model` besides the model")
    expression = ast.unparse(
        ast.Call(ast.Attribute(ast.Name("model", ast.Load()), call.func.attr, ast.Load()), [body], [])
    )
    wanted = [model, *tracer.fitted, tracer.start, predictions, *([tracer.rows] if tracer.rows else [])]
    specs = _returned(plan, specs, stmts, wanted)
    path = PredictPath(
        method=call.func.attr,
        model=model,
        frame=tracer.start,
        rows=tracer.rows,
        fitted=tuple(tracer.fitted),
        predictions=predictions,
        expression=expression,
        cell=stmts[pos].cell,
        line=stmt.lineno,
    )
    return path, specs


def _returned(plan: ModulePlan, specs: list[StepSpec], stmts: list[_Stmt], names: list[str]) -> list[StepSpec]:
    """``specs`` with each of ``names`` returned by the step whose code last binds or changes
    it (as a result when it is not returned yet)."""
    out = list(specs)
    for name in dict.fromkeys(names):
        cells = [s.cell for s in stmts if s.library and _touches(s.stmt, name)]
        if not cells or name.startswith("_") or name in plan.module_names:
            raise _NoPath(f"the pipeline cannot return `{name}`")
        index = next((i for i, s in enumerate(out) if cells[-1] in s.cells), None)
        if index is None:
            raise _NoPath(f"`{name}` is made outside the steps")
        spec = out[index]
        if name in spec.outputs or name in spec.results:
            continue
        if name not in plan.sliced.bound.get(cells[-1], set()):
            raise _NoPath(f"`{name}` is not made by the library code of step `{spec.name}`")
        out[index] = replace(spec, results=tuple(sorted((*spec.results, name))))
    return out


def add_predict_path(plan: ModulePlan) -> ModulePlan:
    """Find ``plan``'s prediction path (:attr:`ModulePlan.predict`), or say in the plan why
    the module has no ``predict`` (a warning, only when the notebook predicts)."""
    param_names = {p.name for p in plan.parameters}
    path, reason, specs = find_predict_path(plan, plan.steps, param_names)
    if path is not None:
        # a step that returned one value may now return two: its dataclass (same names as before)
        plan.steps = result_classes(plan, [replace(s, returns=None) for s in specs])
        plan.predict = path
    elif reason is not None:
        plan.no_predict = reason
        plan.problem(None, None, "warning", f"no predict(model, frame) in the module: {reason}")
    return plan
