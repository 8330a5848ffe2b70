"""A notebook's parameters (papermill's ``parameters`` cell) and the values a run gives them.

:func:`read_parameters` finds the parameters cell as papermill does (the first cell tagged
``parameters``) or, failing that, the first code cell whose first non-blank line is a
``# parameters`` comment (which papermill ignores: :func:`add_parameters_tag` tags it). Each
``name = value`` assignment becomes a :class:`ParamSpec`: its default (``ast.literal_eval``),
its type (from the default, or from an annotation such as ``alpha: float = 1``) and its help
(the comment beside it, else the comment line(s) right above it).

:func:`resolve` turns a command line into the parameter sets of the runs: parameter files
(YAML or JSON) first, then ``-p NAME VALUE`` pairs, then ``--grid NAME=V1,V2`` items
expanded into their cartesian product. Every mistake (an unknown name, a value of the wrong
type, a broken file) is a :class:`~nbops.errors.UsageError` raised here, before any kernel
starts.
"""

from __future__ import annotations

import ast
import difflib
import functools
import importlib
import io
import itertools
import json
import math
import os
import re
import shlex
import tokenize
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TypedDict, cast

from nbops import api_types
from nbops.core.magics import translate
from nbops.core.notebook import Cell, Notebook, read_notebook
from nbops.errors import CellError, NotFoundError, UsageError

__all__ = [
    "MISSING_PARAMETERS_RULE",
    "PARAMETERS_TAG",
    "PARAM_TYPES",
    "NotebookParameters",
    "ParamSpec",
    "add_parameters_tag",
    "check_values",
    "expand_grid",
    "load_parameter_file",
    "parse_value",
    "read_parameters",
    "resolve",
]

PARAMETERS_TAG: Final = "parameters"
PARAM_TYPES: Final = ("int", "float", "str", "bool", "list", "dict", "tuple", "none", "expression")
# the lint rule that reports a notebook without a parameters cell (and tags the obvious one)
MISSING_PARAMETERS_RULE: Final = "NB303"

_MARKER = re.compile(r"^#\s*parameters\b", re.IGNORECASE)  # as NB303 reads it
_PRAGMA = re.compile(r"^(?:noqa\b|type:|fmt:|pragma\b|pylint:|isort:)", re.IGNORECASE)
_NBOPS_MARK = re.compile(r"^nbops:\s*param(?:eter)?\b:?\s*", re.IGNORECASE)
_ANNOTATIONS: Final = {
    "int": "int", "float": "float", "str": "str", "bool": "bool", "list": "list",
    "List": "list", "dict": "dict", "Dict": "dict", "tuple": "tuple", "Tuple": "tuple",
}  # fmt: skip
_TYPE_WORDS: Final = {
    "int": "an integer (int)",
    "float": "a number (float)",
    "bool": "a boolean (bool: true/false, yes/no, 1/0)",
    "str": "text (str)",
    "list": "a list (list: JSON or a Python literal)",
    "dict": "a mapping (dict: JSON or a Python literal)",
    "tuple": "a tuple (tuple: a JSON list or a Python literal)",
    "none": "any value",
    "expression": "any value",
}
_SAMPLES: Final = {
    "int": "3", "float": "0.5", "bool": "true", "str": "text", "list": "[1, 2]",
    "dict": '{"key": 1}', "tuple": "[1, 2]",
}  # fmt: skip
_TRUE: Final = frozenset({"true", "yes", "1"})
_FALSE: Final = frozenset({"false", "no", "0"})


@dataclass(frozen=True)
class ParamSpec:
    """One ``name = value`` of the parameters cell.

    ``default`` is the Python value (``ast.literal_eval``), ``None`` when the value is not a
    literal (then ``type`` is ``"expression"``, or the annotation's type: ``x: float = f()``);
    ``default_source`` is its source text;
    ``cell`` is the 0-based cell index and ``line`` the 1-based line in that cell.
    """

    name: str
    default: Any
    default_source: str
    type: str
    help: str
    cell: int
    line: int


@dataclass(frozen=True)
class NotebookParameters:
    """The parameters cell of a notebook and its assignments.

    ``cell`` is the 0-based index of the parameters cell (``None`` when there is none);
    ``tagged`` is False when the cell was found only by its ``# parameters`` first line.
    """

    path: Path | None
    cell: int | None
    tagged: bool
    specs: list[ParamSpec]

    @property
    def names(self) -> list[str]:
        return [s.name for s in self.specs]

    def get(self, name: str) -> ParamSpec | None:
        return next((s for s in self.specs if s.name == name), None)

    @property
    def display_path(self) -> str:
        return str(self.path) if self.path is not None else "<notebook>"


# --------------------------------------------------------------------------- reading


def read_parameters(path_or_notebook: str | os.PathLike[str] | Notebook) -> NotebookParameters:
    """The parameters of a notebook (a path, or a notebook already read).

    Raises :class:`~nbops.errors.NotebookReadError` for an unreadable file,
    :class:`~nbops.errors.UsageError` for a notebook that is not Python and
    :class:`~nbops.errors.CellError` when the parameters cell does not parse.
    A notebook without a parameters cell gives ``cell=None`` and no specs.
    """
    nb = (
        path_or_notebook
        if isinstance(path_or_notebook, Notebook)
        else read_notebook(Path(path_or_notebook))
    )
    cell, tagged = _parameters_cell(nb)
    if cell is None:
        return NotebookParameters(nb.path, None, False, [])
    if not cell.is_code:
        return NotebookParameters(nb.path, cell.index, tagged, [])
    if not nb.is_python:
        raise UsageError(
            f"nbops reads the parameters of Python notebooks only (this one is {nb.language})",
            path=nb.path,
        )
    return NotebookParameters(nb.path, cell.index, tagged, _specs(nb, cell))


def _first_line(cell: Cell) -> str:
    return next((line.strip() for line in cell.source.splitlines() if line.strip()), "")


def _parameters_cell(nb: Notebook) -> tuple[Cell | None, bool]:
    for cell in nb.cells:  # papermill: the first cell tagged `parameters`, of any type
        if PARAMETERS_TAG in cell.tags:
            return cell, True
    for cell in nb.code_cells:
        if _MARKER.match(_first_line(cell)):
            return cell, False
    return None, False


def _comments(python: str) -> dict[int, str]:
    """1-based line -> the text of the comment on that line (without ``#``)."""
    found: dict[int, str] = {}
    try:
        for tok in tokenize.generate_tokens(io.StringIO(python).readline):
            if tok.type == tokenize.COMMENT:
                found[tok.start[0]] = tok.string[1:].strip()
    except (tokenize.TokenError, SyntaxError):
        pass  # ast.parse accepted it; a tokenizer quirk only costs the help texts
    return found


def _help_text(comment: str) -> str:
    text = _NBOPS_MARK.sub("", comment.strip())
    if _PRAGMA.match(text) or not any(ch.isalnum() for ch in text):
        return ""  # a linter pragma, or a ruler made of dashes
    return text


def _help_for(stmt: ast.stmt, lines: list[str], comments: dict[int, str]) -> str:
    """The comment beside the statement (its first line, else its last), else the comment
    lines right above it (no blank line between; the ``# parameters`` marker excluded)."""
    end = stmt.end_lineno or stmt.lineno
    for number in dict.fromkeys((stmt.lineno, end)):
        line = lines[number - 1] if number <= len(lines) else ""
        if number in comments and not line.lstrip().startswith("#"):
            text = _help_text(comments[number])
            if text:
                return text
    above: list[str] = []
    number = stmt.lineno - 1
    while number >= 1:
        line = lines[number - 1].strip()
        if not line.startswith("#") or _MARKER.match(line) or number not in comments:
            break
        text = _help_text(comments[number])
        if text:
            above.append(text)
        number -= 1
    return " ".join(reversed(above))


def _literal(node: ast.expr) -> tuple[bool, Any]:
    try:
        return True, ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def _type_of(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "bool"
    for cls, name in ((int, "int"), (float, "float"), (str, "str"), (list, "list"),
                      (dict, "dict"), (tuple, "tuple")):  # fmt: skip
        if isinstance(value, cls):
            return name
    return "expression"  # set, bytes, complex: literals, but not a type a command line gives


def _annotated_type(annotation: ast.expr | None) -> str | None:
    node = annotation
    if isinstance(node, ast.Subscript):  # list[int], Dict[str, int]
        node = node.value
    if isinstance(node, ast.Attribute):  # typing.List
        return _ANNOTATIONS.get(node.attr)
    if isinstance(node, ast.Name):
        return _ANNOTATIONS.get(node.id)
    return None


def _spec_type(literal: bool, value: Any, annotation: ast.expr | None) -> str:
    inferred = _type_of(value) if literal else "expression"
    declared = _annotated_type(annotation)
    if declared is None or not literal:
        return declared or inferred
    try:
        _coerce_typed(declared, value)
    except TypeError:
        return inferred  # the annotation contradicts the value: trust the value
    return declared


def _specs(nb: Notebook, cell: Cell) -> list[ParamSpec]:
    source = translate(cell.source)
    python = source.python
    try:
        tree = ast.parse(python)
    except (ValueError, MemoryError, RecursionError) as exc:  # null bytes; nesting too deep
        raise CellError(
            "the parameters cell does not parse: "
            + ("it holds a null byte" if isinstance(exc, ValueError) else "it is nested too deeply"),
            path=nb.path,
            cell=cell.index,
            hint="papermill runs this cell before the values it injects; it must be valid Python",
        ) from None
    except SyntaxError as exc:
        raise CellError(
            f"the parameters cell does not parse: {exc.msg} (line {exc.lineno})",
            path=nb.path,
            cell=cell.index,
            hint="papermill runs this cell before the values it injects; it must be valid Python",
        ) from None
    lines = python.splitlines()
    comments = _comments(python)
    specs: dict[str, ParamSpec] = {}
    for stmt in tree.body:
        annotation: ast.expr | None = None
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value, annotation = [stmt.target], stmt.value, stmt.annotation
        else:
            continue
        names = [t.id for t in targets if isinstance(t, ast.Name)]
        if not names:
            continue
        literal, default = _literal(value)
        text = ast.get_source_segment(python, value) or ast.unparse(value)
        kind = _spec_type(literal, default, annotation)
        if kind in ("float", "tuple", "list") and literal:
            default = _coerce_typed(kind, default)  # `x: float = 1` -> 1.0
        help_text = _help_for(stmt, lines, comments)
        for name in names:  # a reassignment keeps the first position and the last value
            specs[name] = ParamSpec(name, default, text, kind, help_text, cell.index, stmt.lineno)
    return list(specs.values())


# --------------------------------------------------------------------------- values


def _coerce_typed(kind: str, value: Any) -> Any:
    """``value`` (already a Python value) as a parameter of type ``kind``; TypeError if not."""
    if kind in ("none", "expression"):
        return value
    if kind == "bool":
        if isinstance(value, bool):
            return value
    elif kind == "int":
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif kind == "float":
        if isinstance(value, float):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
    elif kind == "str":
        if isinstance(value, str):
            return value
    elif kind == "list":
        if isinstance(value, (list, tuple)):
            return list(value)
    elif kind == "tuple":
        if isinstance(value, (list, tuple)):
            return tuple(value)
    elif kind == "dict" and isinstance(value, dict):
        return value
    raise TypeError(kind)


def _example(spec: ParamSpec) -> str:
    """A value of the spec's type to show in a hint, in command-line form."""
    if spec.type in ("int", "float", "bool", "str") and spec.default is not None:
        text = str(spec.default).lower() if isinstance(spec.default, bool) else str(spec.default)
        if "\n" not in text and 0 < len(text) <= 40:
            return text
    if spec.type in ("list", "dict", "tuple") and spec.default is not None:
        try:
            text = json.dumps(spec.default)
        except (TypeError, ValueError):
            text = ""
        if text and len(text) <= 40:
            return text
    return _SAMPLES.get(
        spec.type, spec.default_source if len(spec.default_source) <= 40 else "VALUE"
    )


def _hint(spec: ParamSpec) -> str:
    return f"for example: -p {spec.name} {shlex.quote(_example(spec))}"


def _parse_structure(text: str) -> tuple[bool, Any]:
    """JSON, else a Python literal (neither when nested too deeply to read)."""
    try:
        return True, json.loads(text)
    except RecursionError:
        return False, None  # literal_eval would recurse as deep
    except ValueError:
        pass
    try:
        return True, ast.literal_eval(text.strip())
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return False, None


def parse_value(spec: ParamSpec, text: str) -> Any:
    """Command-line text as a value of ``spec``'s type.

    int; float (an int is accepted); bool (true/false, yes/no, 1/0, any case); str (as is);
    list, dict, tuple (JSON or a Python literal); none and expression (JSON, else a Python
    literal, else the text itself). Raises :class:`~nbops.errors.UsageError` naming the
    parameter, the expected type and the text, with an example as the hint.
    """
    kind = spec.type
    word = text.strip()
    if kind == "str":
        return text
    if kind in ("none", "expression"):
        ok, value = _parse_structure(text)
        return value if ok else text
    try:
        if kind == "int":
            return int(word)
        if kind == "float":
            return float(word)
        if kind == "bool":
            if word.lower() in _TRUE:
                return True
            if word.lower() in _FALSE:
                return False
            raise ValueError(word)
        if kind in ("list", "dict", "tuple"):
            ok, value = _parse_structure(text)
            if ok:
                return _coerce_typed(kind, value)
    except (ValueError, TypeError):
        pass
    raise UsageError(
        f"parameter {spec.name!r} expects {_TYPE_WORDS.get(kind, kind)}, not {text!r}",
        hint=_hint(spec),
    )


def unknown_parameter(params: NotebookParameters, name: str) -> UsageError:
    """The error for a value given to a parameter ``params`` does not have."""
    known = params.names
    if params.cell is None:
        return UsageError(
            f"unknown parameter {name!r}: {params.display_path} has no parameters cell",
            hint=f"tag the cell that sets the run's values 'parameters' (lint rule "
            f"{MISSING_PARAMETERS_RULE}; `nbops params {params.display_path}` explains)",
        )
    if not known:
        return UsageError(
            f"unknown parameter {name!r}: the parameters cell (cell {params.cell + 1}) of "
            f"{params.display_path} assigns no values",
        )
    lowered = {k.lower(): k for k in known}
    guess = lowered.get(name.lower()) or next(
        iter(difflib.get_close_matches(name, known, n=1, cutoff=0.6)), None
    )
    message = f"unknown parameter {name!r}"
    if guess is not None:
        message += f" (did you mean {guess!r}?)"
    return UsageError(message + f"; the notebook's parameters: {', '.join(known)}")


def _spec(params: NotebookParameters, name: str) -> ParamSpec:
    spec = params.get(name)
    if spec is None:
        raise unknown_parameter(params, name)
    return spec


def _check(spec: ParamSpec, value: Any, *, from_file: bool = False) -> Any:
    try:
        return _coerce_typed(spec.type, value)
    except TypeError:
        pass
    hint = _hint(spec)
    if from_file and (
        value is None or (spec.type == "str" and isinstance(value, (bool, int, float)))
    ):
        hint = "quote the value in the file (YAML reads yes/no/on/off, null and numbers as such)"
    raise UsageError(
        f"parameter {spec.name!r} expects {_TYPE_WORDS.get(spec.type, spec.type)}, "
        f"not {type(value).__name__} {value!r}",
        hint=hint,
    ) from None


def check_values(params: NotebookParameters, values: Mapping[str, Any]) -> dict[str, Any]:
    """Check already-typed values (from a YAML or JSON file) against the parameters.

    Unknown names and type mismatches raise :class:`~nbops.errors.UsageError` (an int is
    accepted for a float and becomes one; a bool is not an int; a list is accepted for a
    tuple). Returns the values, converted where accepted.
    """
    checked: dict[str, Any] = {}
    for name, value in values.items():
        if not isinstance(name, str):
            raise UsageError(f"parameter names are text, not {type(name).__name__} {name!r}")
        checked[name] = _check(_spec(params, name), value, from_file=True)
    return checked


# --------------------------------------------------------------------------- files

# YAML 1.1 (PyYAML) reads `1e-3` as text; YAML 1.2 and every user read it as a number.
_YAML_FLOAT = re.compile(
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+]?[0-9]+)?
    |[-+]?(?:[0-9][0-9_]*)(?:[eE][-+]?[0-9]+)
    |\.[0-9_]+(?:[eE][-+]?[0-9]+)?
    |[-+]?\.(?:inf|Inf|INF)
    |\.(?:nan|NaN|NAN))$""",
    re.VERBOSE,
)


@functools.cache
def _yaml_loader() -> Any:
    """PyYAML's SafeLoader that also reads ``1e-3`` as a float."""
    yaml: Any = importlib.import_module("yaml")  # PyYAML, a papermill dependency
    loader: Any = type("_ParameterLoader", (yaml.SafeLoader,), {})
    loader.add_implicit_resolver("tag:yaml.org,2002:float", _YAML_FLOAT, list("-+0123456789."))
    return loader


def _yaml_load(file: Path, text: str) -> Any:
    yaml: Any = importlib.import_module("yaml")
    try:
        return yaml.load(text, Loader=_yaml_loader())  # a SafeLoader subclass: plain data only
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise UsageError(f"YAML syntax error{where}: {problem}", path=file) from None


def load_parameter_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a YAML (``.yaml``, ``.yml``) or JSON (``.json``) file of ``name: value`` pairs.

    Raises :class:`~nbops.errors.NotFoundError` for a missing file and
    :class:`~nbops.errors.UsageError` for another suffix, a file that does not parse (naming
    the line) or one that is not a mapping. An empty YAML file is an empty mapping.
    """
    file = Path(path)
    suffix = file.suffix.lower()
    if suffix not in (".yaml", ".yml", ".json"):
        raise UsageError("a parameter file is YAML (.yaml, .yml) or JSON (.json)", path=file)
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise NotFoundError("no such parameter file", path=file) from None
    except UnicodeDecodeError:
        raise UsageError("the parameter file is not UTF-8 text", path=file) from None
    except OSError as exc:
        raise UsageError(
            f"cannot read the parameter file: {exc.strerror or exc}", path=file
        ) from None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UsageError(
                f"JSON syntax error at line {exc.lineno}, column {exc.colno}: {exc.msg}", path=file
            ) from None
    else:
        data = _yaml_load(file, text)
        if data is None:
            return {}
    if not isinstance(data, dict):
        raise UsageError(
            f"a parameter file holds a mapping of names to values, not a {_kind_name(data)}",
            path=file,
            hint='write one `name: value` per line (YAML) or {"name": value} (JSON)',
        )
    for key in data:
        if not isinstance(key, str):
            raise UsageError(
                f"parameter names are text, not {type(key).__name__} {key!r}", path=file
            )
    return dict(data)


def _kind_name(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    return type(value).__name__


# --------------------------------------------------------------------------- grid


def _grid_values(spec: ParamSpec, text: str) -> list[Any]:
    stripped = text.strip()
    if stripped.startswith("["):
        ok, parsed = _parse_structure(stripped)
        if not ok or not isinstance(parsed, list):
            raise UsageError(
                f"grid values of {spec.name!r} start with '[' but are not a JSON list: {text!r}",
                hint=f"--grid {spec.name}=[v1,v2] (one JSON list of the values) or "
                f"--grid {spec.name}=v1,v2",
            )
        return [_check(spec, value) for value in parsed]
    if not stripped:
        return []
    pieces = [piece.strip() for piece in text.split(",")]
    if any(not piece for piece in pieces):
        raise UsageError(
            f"empty value in the grid values of {spec.name!r}: {text!r}",
            hint=f'give an empty text as a JSON list: --grid {spec.name}=\'["", "x"]\'',
        )
    return [parse_value(spec, piece) for piece in pieces]


def expand_grid(
    base: Mapping[str, Any], grid: Sequence[str], params: NotebookParameters
) -> list[dict[str, Any]]:
    """One parameter set per combination of the grid's values, ``base`` in each.

    Each item is ``NAME=V1,V2,...`` (values parsed as :func:`parse_value` does) or
    ``NAME=[V1, V2]`` (a JSON list of the values, for values holding commas:
    ``NAME=[[1,2],[3,4]]`` is two values). The cartesian product runs in the order given,
    the last item varying fastest. A grid name also in ``base`` takes the grid's values.
    Duplicate names, duplicate values, an empty value list and unknown names raise
    :class:`~nbops.errors.UsageError`.
    """
    axes: list[tuple[str, list[Any]]] = []
    seen: set[str] = set()
    for item in grid:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise UsageError(
                f"grid item {item!r} is not NAME=VALUES", hint="for example: --grid alpha=0.1,0.5,1"
            )
        if name in seen:
            raise UsageError(
                f"{name!r} appears twice in the grid",
                hint=f"give all its values in one item: --grid {name}=V1,V2,V3",
            )
        seen.add(name)
        spec = _spec(params, name)
        values = _grid_values(spec, text)
        if not values:
            raise UsageError(
                f"no values for {name!r} in the grid", hint=f"for example: --grid {name}=V1,V2"
            )
        keys = [_key(v) for v in values]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            raise UsageError(
                f"the grid gives {name!r} the same value twice: {', '.join(duplicates)}"
            )
        axes.append((name, values))
    if not axes:
        return [dict(base)]
    names = [name for name, _ in axes]
    runs: list[dict[str, Any]] = []
    for combination in itertools.product(*(values for _, values in axes)):
        run = {k: v for k, v in base.items() if k not in seen}
        run.update(zip(names, combination))
        runs.append(run)
    return runs


def _key(value: Any) -> str:
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    return repr(value)


def resolve(
    params: NotebookParameters,
    pairs: Sequence[tuple[str, str]],
    files: Sequence[str | os.PathLike[str]],
    grid: Sequence[str],
) -> list[dict[str, Any]]:
    """The parameter sets of the runs a command line asks for: one dict per run.

    Parameter files first (a later file overrides an earlier one), then ``-p NAME VALUE``
    pairs (the last pair for a name wins), then the grid expands (:func:`expand_grid`). Each
    dict holds only the names given, not the notebook's defaults. Every error is a
    :class:`~nbops.errors.UsageError` (or :class:`~nbops.errors.NotFoundError` for a missing
    file) raised before anything runs; a name given both with ``-p`` and in the grid is one.
    """
    base: dict[str, Any] = {}
    for file in files:
        values = load_parameter_file(file)
        try:
            base.update(check_values(params, values))
        except UsageError as exc:
            raise UsageError(exc.message, path=Path(file), hint=exc.hint) from None
    given: set[str] = set()
    for name, text in pairs:
        base[name] = parse_value(_spec(params, name), text)
        given.add(name)
    for item in grid:
        name = item.partition("=")[0].strip()
        if name in given:
            raise UsageError(
                f"{name!r} is given both with -p and in --grid",
                hint="drop one: -p fixes the value for every run, --grid varies it",
            )
    return expand_grid(base, grid, params)


# --------------------------------------------------------------------------- fix


def add_parameters_tag(path: str | os.PathLike[str]) -> bool:
    """Tag the untagged ``# parameters`` cell ``parameters`` (atomic write, the old file kept
    in ``.nbops_backup/`` beside the notebook). Returns whether the notebook changed: False
    when a cell is already tagged or no cell starts with ``# parameters``."""
    file = Path(path)
    nb = read_notebook(file)
    cell, tagged = _parameters_cell(nb)
    if cell is None or tagged:
        return False
    cell.add_tag(PARAMETERS_TAG)
    nb.write(file, backup_dir=file.parent / ".nbops_backup")
    return True


def _json_value(value: Any) -> tuple[bool, Any]:
    """``(True, value as JSON)`` when ``value`` is plain data JSON keeps as it is."""
    if value is None or isinstance(value, (bool, int, str)):
        return True, value
    if isinstance(value, float):
        return (True, value) if math.isfinite(value) else (False, None)
    if isinstance(value, (list, tuple)):
        items = [_json_value(v) for v in value]
        return (all(ok for ok, _ in items), [v for _, v in items])
    if isinstance(value, dict):
        if not all(isinstance(k, str) for k in value):
            return False, None
        pairs = {k: _json_value(v) for k, v in value.items()}
        return (all(ok for ok, _ in pairs.values()), {k: v for k, (_, v) in pairs.items()})
    return False, None


def _spec_json(spec: ParamSpec) -> api_types.Parameter:
    ok, default = _json_value(spec.default)
    literal = spec.type != "expression"
    return {
        "name": spec.name,
        "type": cast(api_types.ParameterType, spec.type),  # one of PARAM_TYPES
        "default": default if ok and literal else spec.default_source,
        "default_source": spec.default_source,
        "help": spec.help,
        "cell": spec.cell + 1,
        "line": spec.line,
    }


class ParametersDocument(TypedDict):
    """``nbops params --format json``: the schema's ``Parameters`` without what the server adds
    (``message``, ``tracking``)."""

    notebook: str
    cell: int | None
    tagged: bool
    parameters: list[api_types.Parameter]


def parameters_document(params: NotebookParameters) -> ParametersDocument:
    """``nbops params --format json``'s document, the server's too (cells and lines 1-based)."""
    return {
        "notebook": params.display_path,
        "cell": None if params.cell is None else params.cell + 1,
        "tagged": params.tagged,
        "parameters": [_spec_json(s) for s in params.specs],
    }


def no_cell_message(shown: str) -> str:
    """What NB303 asks of a notebook without a parameters cell, and how to fix it."""
    return (
        f"{shown}: no parameters cell: no cell is tagged '{PARAMETERS_TAG}' and no code cell "
        f"starts with a '# parameters' comment, so papermill can only run it with the values "
        f"written in it (lint rule {MISSING_PARAMETERS_RULE} missing-parameters-cell).\n"
        f"Put the values a run may change (input paths, dates, seeds, thresholds) in one cell "
        f"of plain assignments near the top and tag it '{PARAMETERS_TAG}'; "
        f"`nbops fix {shlex.quote(shown)} --select {MISSING_PARAMETERS_RULE}` tags the obvious "
        f"cell when there is one.\n"
    )


def _as_json(value: Any, what: str) -> str:
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        raise UsageError(
            f"{what} cannot be handed to a run: not expressible as JSON",
            hint="give it as a list, dict, number, boolean or text",
        ) from None


def _request_value(params: NotebookParameters, name: str, value: Any) -> Any:
    """Text as ``nbops run -p NAME VALUE`` reads it; JSON taken as is, checked by type."""
    spec = params.get(name)
    if spec is None:
        raise unknown_parameter(params, name)
    if isinstance(value, str):
        return parse_value(spec, value)
    try:
        return check_values(params, {name: value})[name]
    except UsageError as exc:
        raise UsageError(
            exc.message,
            hint=f"send {name!r} as text (read as by `nbops run -p`) or as a JSON value "
            f"of its type ({spec.type})",
        ) from None


def check_run_request(
    params: NotebookParameters, parameters: Mapping[str, Any], grid: Mapping[str, Sequence[Any]]
) -> tuple[dict[str, Any], list[str], int]:
    """A run request (the server's ``POST /nbops/runs``: fixed values and grid values, each
    text as ``-p`` reads it or a JSON value of the parameter's type) checked as ``nbops run``
    checks its options: the typed fixed values, the ``--grid NAME=[JSON list]`` items and the
    number of runs. Every mistake is a :class:`~nbops.errors.UsageError`, before anything runs."""
    base = {name: _request_value(params, name, v) for name, v in parameters.items()}
    items: list[str] = []
    for name, values in grid.items():
        if name in parameters:
            raise UsageError(
                f"{name!r} is given both in 'parameters' and in 'grid'",
                hint="drop one: 'parameters' fixes the value for every run, 'grid' varies it",
            )
        typed = [_request_value(params, name, v) for v in values]
        items.append(f"{name}={_as_json(typed, f'a grid value of {name!r}')}")
    sets = expand_grid(base, items, params)  # empty lists, duplicates, as the CLI
    _as_json(base, "a parameter value")
    return base, items, len(sets)
