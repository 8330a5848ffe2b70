"""Turns REST request bodies into typed requests: checks every field, confines paths to the root.

Nothing here touches tornado: a bad body is a :class:`~nbops.errors.UsageError` (400), a path
that leaves the server's root an :class:`~nbops.errors.AccessError` (403) and a notebook that
does not exist a :class:`~nbops.errors.NotFoundError` (404); the handlers map them with
:func:`nbops.errors.http_status`.

Hostile input is refused here, before any work: bodies nested past :data:`MAX_DEPTH`, with
NaN, 5,000-digit integers or lone surrogates; paths the file system cannot take (a name over
:data:`NAME_MAX` bytes, a path over :data:`PATH_MAX`), symlink loops; numbers out of range.
Messages name paths as the client sent them (root-relative) and echo at most a few dozen
characters of a value.
"""

from __future__ import annotations

import errno
import json
import math
import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any, Literal

from nbops.errors import AccessError, NbopsError, NotFoundError, UsageError

__all__ = [
    "TEAM_NAME",
    "CheckRequest",
    "FixRequest",
    "HistoryRequest",
    "LintRequest",
    "ModularizeRequest",
    "RunFormRequest",
    "RunRequest",
    "ScoreRequest",
    "SubmitRequest",
    "Target",
    "check_request",
    "confine",
    "fix_request",
    "hackathon_request",
    "history_request",
    "lint_request",
    "modularize_request",
    "params_request",
    "parse_body",
    "run_form_request",
    "run_request",
    "score_request",
    "submit_request",
]

_SELECTION_KEYS = {"select", "ignore", "format_check"}
_LINT_KEYS = {"path", "content", *_SELECTION_KEYS}
_FIX_KEYS = {*_LINT_KEYS, "unsafe", "clear_outputs", "write", "propose_parameters"}
_MODULARIZE_KEYS = {"path", "dry_run", "force", "package", "out"}
_RUN_KEYS = {"path", "parameters", "grid", "parallel", "kernel", "timeout", "executor", "scheduler",
             "pipeline"}
_RUN_FORM_KEYS = {"path", "mode", "fields", "parallel", "kernel", "timeout", "executor", "scheduler"}
_CHECK_KEYS = {"path", "content"}
_SUBMIT_KEYS = {"path", "title", "message", "reviewers", "base", "remote", "dry_run"}
_SCORE_KEYS = {"path", "team"}
_TITLE_LIMIT = 256  # characters of a pull request title (GitHub allows 256)
_MESSAGE_LIMIT = 20_000  # characters of the note to reviewers
_MAX_REVIEWERS = 50
# a git remote or branch name: no option-like or path-escaping forms, no spaces or controls
_GIT_NAME = re.compile(r"(?![-/.])(?!.*\.\.)(?!.*//)(?!.*\.lock$)[A-Za-z0-9._/-]{1,200}(?<![/.])")
# a forge user (alice, first.last), a team (org/team) or a group path; an optional leading @
_REVIEWER = re.compile(r"@?[A-Za-z0-9][A-Za-z0-9._-]{0,99}(/[A-Za-z0-9][A-Za-z0-9._-]{0,99})*")
# a hackathon team: a name of hackathon.toml's [teams.<name>] that is also a file name
TEAM_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_HISTORY_LIMIT = 20  # runs listed by default, as `nbops runs`
_MAX_LIMIT = 1000
MAX_PARALLEL = 64  # runs at a time in a sweep (the Run tab's limit too)
MAX_TIMEOUT_S = 1e7  # a run's timeout (about 115 days): larger ones overflow the timers
# JSON nesting a request may have: a notebook is ~6 levels, rich outputs and widget state a
# few dozen; deeper would only exhaust the recursion of the code that walks it
MAX_DEPTH = 200
NAME_MAX = 255  # bytes in one file name (Linux, macOS)
PATH_MAX = 4095  # bytes in a whole path, the root's included
_SHOWN = 60  # characters of a client value echoed in an error message
# a JSON string escape of a UTF-16 surrogate: only these can make a str that is not Unicode
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATE = re.compile("[\ud800-\udfff]")


@dataclass(frozen=True)
class Target:
    """A notebook named by a request: its real file inside the root and its root-relative name."""

    file: Path  # resolved (symlinks followed), always inside the root
    name: str  # the root-relative POSIX path the client sent, normalised


@dataclass(frozen=True)
class LintRequest:
    target: Target
    content: dict[str, Any] | None  # unsaved notebook JSON from the front end, or None: read the file
    select: tuple[str, ...] | None = None
    ignore: tuple[str, ...] | None = None
    format_check: bool | None = None


@dataclass(frozen=True)
class FixRequest(LintRequest):
    unsafe: bool = False
    clear_outputs: bool = False
    write: bool = False
    propose_parameters: bool = False  # nbops fix --propose-parameters


@dataclass(frozen=True)
class ModularizeRequest:
    target: Target
    out: Path | None  # resolved, inside the root; None: modularize's default
    out_name: str | None  # the root-relative folder the client sent, normalised ("" is the root)
    package: str | None
    dry_run: bool = True
    force: bool = False


@dataclass(frozen=True)
class RunRequest:
    """``POST /nbops/runs``: the values are as sent (text or JSON), checked against the
    notebook's parameters only when the run starts (that needs the notebook read)."""

    target: Target
    parameters: dict[str, Any]
    grid: dict[str, list[Any]]  # in the order sent: the last name varies fastest
    parallel: int = 1
    kernel: str | None = None
    timeout: float | None = None
    executor: str | None = None  # None: the project's [tool.nbops.run] executor
    scheduler: str | None = None
    pipeline: bool = False  # run the generated module (`nbops run --pipeline`)


@dataclass(frozen=True)
class RunFormRequest:
    """``POST /nbops/runs/validate``: the Run tab's form, every value a text as typed
    (:func:`nbops.run.form.check_form` reads them)."""

    target: Target
    mode: Literal["run", "sweep", "pipeline"]
    fields: dict[str, str]
    parallel: str | None = None
    kernel: str | None = None
    timeout: str | None = None
    executor: str | None = None
    scheduler: str | None = None


@dataclass(frozen=True)
class CheckRequest:
    """``POST /nbops/check``: the saved notebook, or the open document's unsaved content."""

    target: Target
    content: dict[str, Any] | None


@dataclass(frozen=True)
class SubmitRequest:
    """``POST /nbops/submit``: what :class:`nbops.review.submit.SubmitOptions` takes (the
    saved file is submitted; None: the policy's or the notebook's default)."""

    target: Target
    title: str | None = None
    message: str | None = None
    reviewers: tuple[str, ...] = ()
    base: str | None = None
    remote: str | None = None
    dry_run: bool = False


@dataclass(frozen=True)
class ScoreRequest:
    """``POST /nbops/hackathon/score``: a notebook of the exercise checkout to score, and the
    team (None: the one of the checkout's ``team/<name>`` branch)."""

    target: Target
    team: str | None = None


@dataclass(frozen=True)
class HistoryRequest:
    target: Target
    limit: int = _HISTORY_LIMIT


def shown(value: object) -> str:
    """``repr(value)`` cut to a few dozen characters, for echoing client values in messages."""
    try:
        text = repr(value)
    except ValueError:  # an int too long for str() (not from JSON, whose parser refuses it)
        text = f"<{type(value).__name__}>"
    return text if len(text) <= _SHOWN else f"{text[: _SHOWN - 3]}..."


def _refuse_constant(name: str) -> None:
    raise UsageError(
        f"the request body is not valid JSON: {name} is not a JSON number",
        hint="send null, or a finite number",
    )


def _check_shape(value: dict[str, Any]) -> None:
    """Refuse nesting deeper than :data:`MAX_DEPTH` (walked without recursion)."""
    stack: list[tuple[dict[str, Any] | list[Any], int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item
        if depth > MAX_DEPTH:
            raise UsageError(
                f"the request body is nested more than {MAX_DEPTH} levels deep",
                hint="send a flatter JSON document",
            )
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))


def _check_unicode(value: object) -> None:
    """Refuse strings (keys too) with lone UTF-16 surrogates: they are no text and no file name."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise UsageError(
                    "the request body holds a lone UTF-16 surrogate (\\ud800-\\udfff) in a string",
                    hint="send valid Unicode text",
                )
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def parse_body(data: bytes) -> dict[str, Any]:
    """The request body as a JSON object (400 for anything else).

    Refused as well, each with its own 400: NaN and Infinity (not JSON), integers of more
    digits than Python converts (``sys.get_int_max_str_digits``), nesting deeper than
    :data:`MAX_DEPTH` and strings with lone surrogates."""
    if not data.strip():
        raise UsageError("the request body is empty", hint="send a JSON object")
    try:
        value = json.loads(data, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UsageError(f"the request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise UsageError(
            f"the request body is nested more than {MAX_DEPTH} levels deep",
            hint="send a flatter JSON document",
        ) from None
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        raise UsageError(
            "the request body holds an integer with too many digits",
            hint="numbers in requests are at most a few digits long",
        ) from None
    if not isinstance(value, dict):
        raise UsageError("the request body must be a JSON object")
    _check_shape(value)
    if _SURROGATE_ESCAPE.search(data):
        _check_unicode(value)
    return value


def _relative_parts(value: object, field: str, what: str) -> list[str]:
    """The segments of a client path; refuses absolute paths, ``..`` and names no file system
    takes (NUL, too long) before any file access."""
    if not isinstance(value, str) or not value.strip():
        raise UsageError(
            f"'{field}' must be a non-empty string", hint=f"{what} relative to the server root"
        )
    if "\0" in value:
        raise UsageError(f"'{field}' contains a NUL character")
    if _SURROGATE.search(value):
        raise UsageError(f"'{field}' is not valid Unicode text (a lone surrogate)")
    posix = value.replace("\\", "/")
    if posix.startswith("/") or PurePosixPath(value).is_absolute() or PureWindowsPath(value).drive:
        raise AccessError(
            "absolute paths are not allowed", hint="send the path relative to the server root"
        )
    parts = [p for p in posix.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise AccessError(
            "'..' is not allowed in a path", hint="send the path relative to the server root"
        )
    for part in parts:
        if len(part.encode("utf-8")) > NAME_MAX:
            raise UsageError(
                f"'{field}' has a name longer than {NAME_MAX} bytes: {shown(part)}",
                hint="file and folder names are at most 255 bytes",
            )
    if len(posix.encode("utf-8")) > PATH_MAX:
        raise UsageError(f"'{field}' is longer than {PATH_MAX} bytes", hint="send a shorter path")
    return parts


def _os_error(exc: OSError, name: str) -> NbopsError:
    """The error for a path the file system refused, named root-relative (``exc`` names it
    by its real path, which stays in the server)."""
    if exc.errno == errno.ENAMETOOLONG:
        return UsageError("the path is too long for the file system", path=name,
                          hint="send a shorter path")  # fmt: skip
    if exc.errno == errno.ELOOP:
        return AccessError("the path is a symlink loop", path=name)
    reason = exc.strerror or os.strerror(exc.errno or 0) or type(exc).__name__
    return AccessError(f"cannot use the path: {reason}", path=name)


def _inside(root: Path, parts: list[str], name: str) -> Path:
    """``root/parts`` with symlinks followed; it must still be inside ``root``."""
    joined = root.joinpath(*parts)
    if len(os.fsencode(joined)) > PATH_MAX:
        raise UsageError("the path is too long for the file system", path=name,
                         hint="send a shorter path")  # fmt: skip
    try:
        file = joined.resolve()
    except OSError as exc:
        raise _os_error(exc, name) from None
    except RuntimeError:  # Python < 3.13: "Symlink loop from '<the real path>'"
        raise AccessError("the path is a symlink loop", path=name) from None
    if not file.is_relative_to(root):
        raise AccessError("the path leads outside the server root", path=name)
    return file


def exists(file: Path, name: str) -> bool:
    """``file.exists()``, with the errors it can raise (too long, no permission) as nbops
    errors naming ``name``."""
    try:
        return file.exists()
    except OSError as exc:
        raise _os_error(exc, name) from None


def confine(root: Path, value: object, *, must_exist: bool) -> Target:
    """Resolve a client path inside ``root``; refuse anything that could leave it.

    ``root`` must already be resolved. Absolute paths and ``..`` are refused before touching
    the file system; symlinks are then followed and the real file must still be in the root.
    """
    parts = _relative_parts(value, "path", "a notebook path")
    name = "/".join(parts)
    if not name.lower().endswith(".ipynb"):
        raise UsageError("only .ipynb notebooks are accepted", path=name)
    file = _inside(root, parts, name)
    if must_exist and not exists(file, name):
        raise NotFoundError("no such notebook", path=name)
    return Target(file=file, name=name)


def confine_dir(root: Path, value: object, field: str) -> tuple[Path, str]:
    """A client folder inside ``root`` (it need not exist yet): its real path and its name."""
    parts = _relative_parts(value, field, "a folder")
    name = "/".join(parts)
    folder = _inside(root, parts, name)
    if exists(folder, name) and not folder.is_dir():
        raise UsageError(f"'{field}' is not a folder", path=name)
    return folder, name


def _codes(body: dict[str, Any], key: str) -> tuple[str, ...] | None:
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise UsageError(f"'{key}' must be a list of rule codes (strings)")
    return tuple(v.strip() for v in value)


def _flag(body: dict[str, Any], key: str, default: bool | None) -> bool | None:
    value = body.get(key, default)
    if value is not None and not isinstance(value, bool):
        raise UsageError(f"'{key}' must be true or false")
    return value


def _known(fields: dict[str, Any], allowed: set[str], what: str = "field") -> None:
    unknown = sorted(set(fields) - allowed)
    if unknown:
        raise UsageError(
            f"unknown {what}(s): {', '.join(unknown)}", hint=f"allowed: {', '.join(sorted(allowed))}"
        )


def _common(body: dict[str, Any], root: Path, allowed: set[str]) -> dict[str, Any]:
    _known(body, allowed)
    content = body.get("content")
    if content is not None and not isinstance(content, dict):
        raise UsageError("'content' must be a notebook JSON object")
    if "path" not in body:
        raise UsageError("'path' is required", hint="a notebook path relative to the server root")
    return {
        "target": confine(root, body["path"], must_exist=content is None),
        "content": content,
        "select": _codes(body, "select"),
        "ignore": _codes(body, "ignore"),
        "format_check": _flag(body, "format_check", None),
    }


def lint_request(body: dict[str, Any], root: Path) -> LintRequest:
    """``POST /nbops/lint``: ``{"path", "content"?, "select"?, "ignore"?, "format_check"?}``."""
    return LintRequest(**_common(body, root, _LINT_KEYS))


def fix_request(body: dict[str, Any], root: Path) -> FixRequest:
    """``POST /nbops/fix``: the lint fields plus ``unsafe``, ``clear_outputs``, ``write`` and
    ``propose_parameters``."""
    fields = _common(body, root, _FIX_KEYS)
    write = bool(_flag(body, "write", False))
    if write and fields["content"] is not None:
        raise UsageError(
            "'write' is only allowed for a saved notebook (a path without 'content')",
            hint="apply the returned content to the open document instead",
        )
    return FixRequest(
        **fields,
        unsafe=bool(_flag(body, "unsafe", False)),
        clear_outputs=bool(_flag(body, "clear_outputs", False)),
        write=write,
        propose_parameters=bool(_flag(body, "propose_parameters", False)),
    )


def modularize_request(body: dict[str, Any], root: Path) -> ModularizeRequest:
    """``POST /nbops/modularize``: ``{"path", "dry_run"?, "force"?, "package"?, "out"?}``."""
    _known(body, _MODULARIZE_KEYS)
    if "path" not in body:
        raise UsageError("'path' is required", hint="a notebook path relative to the server root")
    target = confine(root, body["path"], must_exist=True)
    package = body.get("package")
    if package is not None and (not isinstance(package, str) or not package.strip()):
        raise UsageError("'package' must be a non-empty string", hint="a Python package name")
    out: Path | None = None
    out_name: str | None = None
    if body.get("out") is not None:
        out, out_name = confine_dir(root, body["out"], "out")
    return ModularizeRequest(
        target=target,
        out=out,
        out_name=out_name,
        package=package.strip() if package is not None else None,
        dry_run=bool(_flag(body, "dry_run", True)),
        force=bool(_flag(body, "force", False)),
    )


def _notebook(fields: dict[str, Any], root: Path) -> Target:
    if "path" not in fields:
        raise UsageError("'path' is required", hint="a notebook path relative to the server root")
    return confine(root, fields["path"], must_exist=True)


def params_request(query: dict[str, str], root: Path) -> Target:
    """``GET /nbops/params?path=P``: the saved notebook whose parameters are asked for."""
    _known(query, {"path"}, "query argument")
    return _notebook(query, root)


def _positive_int(value: object, field: str, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= maximum:
        raise UsageError(f"'{field}' must be an integer from 1 to {maximum}, not {shown(value)}")
    return value


def run_request(body: dict[str, Any], root: Path) -> RunRequest:
    """``POST /nbops/runs``: ``{"path", "parameters"?, "grid"?, "parallel"?, "kernel"?, "timeout"?,
    "executor"?, "scheduler"?, "pipeline"?}``."""
    _known(body, _RUN_KEYS)
    target = _notebook(body, root)
    parameters = body.get("parameters") or {}
    if not isinstance(parameters, dict):
        raise UsageError(
            "'parameters' must be an object of parameter names and values",
            hint='for example: {"alpha": "0.5"} (text, parsed as `nbops run -p`) or {"alpha": 0.5}',
        )
    grid = body.get("grid") or {}
    if not isinstance(grid, dict) or not all(isinstance(v, list) for v in grid.values()):
        raise UsageError(
            "'grid' must be an object of parameter names and lists of values",
            hint='for example: {"alpha": ["0.1", "1"], "seed": [0, 1]}',
        )
    kernel = body.get("kernel")
    if kernel is not None and (not isinstance(kernel, str) or not kernel.strip() or "\0" in kernel):
        raise UsageError("'kernel' must be a kernel name", hint="for example: python3")
    timeout = body.get("timeout")
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or not math.isfinite(timeout)
        or not 0 < timeout <= MAX_TIMEOUT_S
    ):
        raise UsageError(
            f"'timeout' must be a positive number of seconds, at most {MAX_TIMEOUT_S:,.0f}, "
            f"not {shown(timeout)}"
        )
    executor, scheduler = body.get("executor"), body.get("scheduler")
    if executor is not None and (
        not isinstance(executor, str) or not executor.strip() or "\0" in executor
        or len(executor) > 200
    ):
        raise UsageError("'executor' must be an executor's name", hint="local or dask")
    if scheduler is not None and (
        not isinstance(scheduler, str) or not scheduler.strip() or "\0" in scheduler
        or len(scheduler) > 2000
    ):
        raise UsageError("'scheduler' must be a Dask scheduler's address",
                         hint="for example: tcp://HOST:8786 (null: a local cluster)")
    pipeline = body.get("pipeline", False)
    if not isinstance(pipeline, bool):
        raise UsageError(f"'pipeline' must be true or false, not {shown(pipeline)}")
    if pipeline and grid:
        raise UsageError("a pipeline runs one parameter set: send 'parameters', not 'grid'")
    return RunRequest(
        pipeline=pipeline,
        target=target,
        parameters=dict(parameters),
        grid={name: list(values) for name, values in grid.items()},
        parallel=_positive_int(body.get("parallel", 1), "parallel", MAX_PARALLEL),
        kernel=kernel.strip() if kernel is not None else None,
        timeout=float(timeout) if timeout is not None else None,
        executor=executor.strip() if executor is not None else None,
        scheduler=scheduler.strip() if scheduler is not None else None,
    )


def run_form_request(body: dict[str, Any], root: Path) -> RunFormRequest:
    """``POST /nbops/runs/validate``: ``{"path", "mode", "fields", "parallel"?, "kernel"?,
    "timeout"?, "executor"?, "scheduler"?}``; the field's values are checked by the form, only
    their types here."""
    _known(body, _RUN_FORM_KEYS)
    target = _notebook(body, root)
    mode = body.get("mode")
    if mode not in ("run", "sweep", "pipeline"):
        raise UsageError(f"'mode' must be \"run\", \"sweep\" or \"pipeline\", not {shown(mode)}")
    fields = body.get("fields")
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise UsageError(
            "'fields' must be an object of parameter names and texts",
            hint='for example: {"alpha": "0.1, 0.5"} (each text as typed in the form)',
        )
    texts: dict[str, str | None] = {}
    for key in ("parallel", "kernel", "timeout", "executor", "scheduler"):
        value = body.get(key)
        if value is not None and not isinstance(value, str):
            raise UsageError(
                f"'{key}' must be a text (as typed in the form) or null, not {shown(value)}"
            )
        texts[key] = value
    return RunFormRequest(target=target, mode=mode, fields=dict(fields), **texts)


def history_request(query: dict[str, str], root: Path) -> HistoryRequest:
    """``GET /nbops/runs?path=P[&limit=N]``: the notebook and how many tracked runs to list."""
    _known(query, {"path", "limit"}, "query argument")
    target = _notebook(query, root)
    text = query.get("limit", str(_HISTORY_LIMIT)).strip()
    # ASCII digits only: str.isdigit() takes "²", which int() refuses, and any length
    if not re.fullmatch(r"[0-9]{1,4}", text) or not 1 <= int(text) <= _MAX_LIMIT:
        raise UsageError(f"'limit' must be an integer from 1 to {_MAX_LIMIT}, not {shown(text)}")
    return HistoryRequest(target=target, limit=int(text))


def check_request(body: dict[str, Any], root: Path) -> CheckRequest:
    """``POST /nbops/check``: ``{"path", "content"?}`` (with ``content``, no file is needed)."""
    _known(body, _CHECK_KEYS)
    content = body.get("content")
    if content is not None and not isinstance(content, dict):
        raise UsageError("'content' must be a notebook JSON object")
    if "path" not in body:
        raise UsageError("'path' is required", hint="a notebook path relative to the server root")
    return CheckRequest(
        target=confine(root, body["path"], must_exist=content is None), content=content
    )


def _text(body: dict[str, Any], key: str, limit: int) -> str | None:
    """An optional free text: a string without NUL, at most ``limit`` characters; blank is None."""
    value = body.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or "\0" in value:
        raise UsageError(f"'{key}' must be a string")
    if len(value) > limit:
        raise UsageError(f"'{key}' is longer than {limit:,} characters")
    return value.strip() or None


def _git_name(body: dict[str, Any], key: str, what: str) -> str | None:
    value = _text(body, key, 200)
    if value is not None and not _GIT_NAME.fullmatch(value):
        raise UsageError(
            f"'{key}' is not a valid {what} name: {shown(value)}",
            hint=f"a {what} name such as {'origin' if key == 'remote' else 'main'}",
        )
    return value


def _reviewers(body: dict[str, Any]) -> tuple[str, ...]:
    value = body.get("reviewers")
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError("'reviewers' must be a list of user names (strings)")
    names = [v.strip() for v in value if v.strip()]
    if len(names) > _MAX_REVIEWERS:
        raise UsageError(f"at most {_MAX_REVIEWERS} reviewers, not {len(names)}")
    for name in names:
        if not _REVIEWER.fullmatch(name):
            raise UsageError(
                f"not a user or team name: {shown(name)}",
                hint="user names (alice), teams (org/team); separate them with commas",
            )
    return tuple(dict.fromkeys(n.removeprefix("@") for n in names))


def submit_request(body: dict[str, Any], root: Path) -> SubmitRequest:
    """``POST /nbops/submit``: ``{"path", "title"?, "message"?, "reviewers"?, "base"?,
    "remote"?, "dry_run"?}``; the notebook must be saved (there is no ``content``)."""
    _known(body, _SUBMIT_KEYS)
    target = _notebook(body, root)
    return SubmitRequest(
        target=target,
        title=_text(body, "title", _TITLE_LIMIT),
        message=_text(body, "message", _MESSAGE_LIMIT),
        reviewers=_reviewers(body),
        base=_git_name(body, "base", "branch"),
        remote=_git_name(body, "remote", "remote"),
        dry_run=bool(_flag(body, "dry_run", False)),
    )


def hackathon_request(query: dict[str, str], root: Path) -> Target:
    """``GET /nbops/hackathon?path=P``: the saved notebook whose exercise is asked for."""
    _known(query, {"path"}, "query argument")
    return _notebook(query, root)


def score_request(body: dict[str, Any], root: Path) -> ScoreRequest:
    """``POST /nbops/hackathon/score``: ``{"path", "team"?}``."""
    _known(body, _SCORE_KEYS)
    target = _notebook(body, root)
    team = _text(body, "team", 100)
    if team is not None and not TEAM_NAME.fullmatch(team):
        raise UsageError(
            f"'team' is not a team name: {shown(team)}",
            hint="a name of hackathon.toml's [teams.<name>]: letters, digits, '.', '-', '_'",
        )
    return ScoreRequest(target=target, team=team)
