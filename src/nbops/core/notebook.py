"""The notebook model: a lenient reader for real-world ``.ipynb`` files and a faithful writer.

Reading never validates strictly: files that break nbformat's schema but can be understood
(outputs on a markdown cell, cell ids in a 4.1 notebook, a ``null`` source) are read and their
problems recorded in :attr:`Notebook.problems`. Old formats (v1-v3) are upgraded through
nbformat. Writing changes only the cells that were changed and keeps every unknown key,
the original indentation and each cell's source representation (string or list of lines).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbops.errors import NotebookReadError, WriteError

__all__ = [
    "Cell",
    "Notebook",
    "cell_runs",
    "join_source",
    "notebook_from_dict",
    "read_notebook",
    "write_bytes_atomic",
    "write_text_atomic",
]

CODE = "code"
MARKDOWN = "markdown"
RAW = "raw"


def join_source(value: object) -> str:
    """Turn an nbformat ``source`` (str, list of str, or junk) into one string."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        try:
            return "".join(value)  # lines of text: join's fast path
        except TypeError:  # junk among the lines
            return "".join(part if isinstance(part, str) else str(part) for part in value)
    return str(value)


def _split_source(text: str) -> list[str]:
    return text.splitlines(keepends=True)


_BLANK: tuple[object, ...] = (None, "", [], {})  # metadata values that hold nothing
_CELL_KEYS = {"cell_type", "id", "source", "metadata", "outputs", "execution_count", "attachments"}


@dataclass(eq=False)
class Cell:
    """One cell; ``raw`` is the cell's JSON object, kept for faithful writing."""

    index: int
    cell_type: str
    source: str
    raw: dict[str, Any]
    execution_count: int | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)
    dirty: bool = False

    @property
    def id(self) -> str | None:
        value = self.raw.get("id")
        return value if isinstance(value, str) else None

    @property
    def metadata(self) -> dict[str, Any]:
        """The cell's metadata; ``{}`` (not stored: reading never changes the cell) when it
        has none or it is not an object."""
        meta = self.raw.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def tags(self) -> tuple[str, ...]:
        meta = self.raw.get("metadata")
        tags = meta.get("tags") if isinstance(meta, dict) else None
        if not isinstance(tags, list):
            return ()
        return tuple(t for t in tags if isinstance(t, str))

    @property
    def is_code(self) -> bool:
        return self.cell_type == CODE

    @property
    def is_markdown(self) -> bool:
        return self.cell_type == MARKDOWN

    @property
    def number(self) -> int:
        """1-based position shown to people (``cell 3``), as ruff and JupyterLab count."""
        return self.index + 1

    def contents(self) -> list[str]:
        """What the cell holds besides its source, in words (``outputs``, ``tags 'parameters'``).

        Empty when deleting the cell would lose nothing but its source. An execution count
        alone is not content: it only says that the (empty) cell ran.
        """
        held: list[str] = []
        outputs = self.raw.get("outputs")
        if outputs:
            held.append("outputs")
        if self.raw.get("attachments"):
            held.append("attachments")
        meta = self.raw.get("metadata")
        if isinstance(meta, dict):
            if self.tags:
                held.append("tags " + ", ".join(repr(t) for t in self.tags))
            elif meta.get("tags") not in _BLANK:  # malformed (a string, numbers): keep it too
                held.append("tags")
            other = sorted(k for k, v in meta.items() if k != "tags" and v not in _BLANK)
            if other:
                held.append("metadata " + ", ".join(repr(k) for k in other))
        elif meta not in _BLANK:
            held.append("metadata")
        unknown = sorted(k for k in self.raw if k not in _CELL_KEYS)
        if unknown:
            held.append("keys " + ", ".join(repr(k) for k in unknown))
        return held

    def set_source(self, text: str) -> None:
        """Replace the source, keeping the cell's original representation (str or lines)."""
        if text == self.source:
            return
        self.source = text
        self.raw["source"] = text if isinstance(self.raw.get("source"), str) else _split_source(text)
        self.dirty = True

    def add_tag(self, tag: str) -> None:
        if tag in self.tags:
            return
        meta = self.raw.get("metadata")
        if not isinstance(meta, dict):
            meta = {}
            self.raw["metadata"] = meta
        tags = meta.get("tags")
        if not isinstance(tags, list):
            tags = []
            meta["tags"] = tags
        tags.append(tag)
        self.dirty = True

    def clear_outputs(self) -> None:
        if self.cell_type != CODE:
            return
        if self.raw.get("outputs") or self.raw.get("execution_count") is not None:
            self.raw["outputs"] = []
            self.raw["execution_count"] = None
            self.outputs = []
            self.execution_count = None
            self.dirty = True


@dataclass(eq=False)
class Notebook:
    """A notebook read leniently from disk or from JSON sent by a front end."""

    path: Path | None
    raw: dict[str, Any]
    cells: list[Cell]
    nbformat: int
    nbformat_minor: int
    problems: list[str] = field(default_factory=list)
    upgraded_from: int | None = None
    indent: int | None = 1
    text: str = ""
    structure_changed: bool = False

    # -- queries ---------------------------------------------------------------------------
    @property
    def metadata(self) -> dict[str, Any]:
        meta = self.raw.get("metadata")
        return meta if isinstance(meta, dict) else {}

    @property
    def display_path(self) -> str:
        return str(self.path) if self.path is not None else "<notebook>"

    @property
    def language(self) -> str:
        """Lower-case kernel language; ``python`` when the notebook does not say."""
        meta = self.metadata
        info = meta.get("language_info")
        if isinstance(info, dict) and isinstance(info.get("name"), str) and info["name"]:
            return str(info["name"]).lower()
        spec = meta.get("kernelspec")
        if isinstance(spec, dict):
            lang = spec.get("language")
            if isinstance(lang, str) and lang:
                return lang.lower()
            name = spec.get("name")
            if isinstance(name, str):
                lowered = name.lower()
                for known in ("python", "ir", "julia", "scala", "javascript", "bash", "sql"):
                    if lowered.startswith(known):
                        return "r" if known == "ir" else known
        return "python"

    @property
    def is_python(self) -> bool:
        return self.language.startswith("python") or self.language in {"ipython", "python3"}

    @property
    def kernel_name(self) -> str | None:
        spec = self.metadata.get("kernelspec")
        if isinstance(spec, dict) and isinstance(spec.get("name"), str):
            return str(spec["name"])
        return None

    @property
    def code_cells(self) -> list[Cell]:
        return [c for c in self.cells if c.cell_type == CODE]

    def iter_code(self) -> Iterator[Cell]:
        return (c for c in self.cells if c.cell_type == CODE)

    @property
    def dirty(self) -> bool:
        return self.structure_changed or any(c.dirty for c in self.cells)

    # -- edits -----------------------------------------------------------------------------
    def delete_cells(self, indexes: set[int]) -> None:
        if not indexes:
            return
        self.cells = [c for c in self.cells if c.index not in indexes]
        self._renumber()

    def insert_cell(self, position: int, raw: dict[str, Any]) -> Cell:
        """Insert the cell JSON ``raw`` (nbformat 4) before the cell at ``position``."""
        source = join_source(raw.get("source", ""))
        cell = Cell(position, str(raw.get("cell_type", CODE)), source, raw, dirty=True)
        self.cells.insert(position, cell)
        self._renumber()
        return cell

    def _renumber(self) -> None:
        for i, cell in enumerate(self.cells):
            cell.index = i
        self.raw["cells"] = [c.raw for c in self.cells]
        self.structure_changed = True

    # -- output ----------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        self.raw["cells"] = [c.raw for c in self.cells]
        return self.raw

    def dumps(self) -> str:
        """Serialise as nbformat does (sorted keys, original indent, trailing newline)."""
        text = json.dumps(self.to_dict(), indent=self.indent, sort_keys=True, ensure_ascii=False)
        return text + "\n"

    def write(self, path: str | Path | None = None, *, backup_dir: Path | None = None) -> Path | None:
        """Write atomically; when ``backup_dir`` is given the old file is copied there first.

        Returns the backup's path, if one was made.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise WriteError("notebook has no path to write to")
        data = self.dumps()
        backup: Path | None = None
        try:
            if backup_dir is not None and target.exists():
                backup_dir.mkdir(parents=True, exist_ok=True)
                stamp = _timestamp()
                backup = backup_dir / f"{target.stem}.{stamp}{target.suffix}"
                n = 1
                while backup.exists():
                    backup = backup_dir / f"{target.stem}.{stamp}-{n}{target.suffix}"
                    n += 1
                backup.write_bytes(target.read_bytes())
            write_text_atomic(target, data)
        except OSError as exc:
            raise WriteError(f"cannot write notebook: {exc.strerror or exc}", path=target) from exc
        for cell in self.cells:
            cell.dirty = False
        self.structure_changed = False
        self.text = data
        return backup


def _umask() -> int:
    """The process's umask, read without changing it where the OS allows (``os.umask`` both
    sets and returns it, a race with other threads creating files)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    old = os.umask(0o022)
    os.umask(old)
    return old


def write_bytes_atomic(target: Path, data: bytes) -> None:
    """Replace ``target`` with ``data`` in one step (temp file + fsync + rename).

    An existing file keeps its mode; a new one gets the usual ``0o666`` less the umask (the
    temporary file ``mkstemp`` makes is ``0o600``). Raises ``OSError``: callers wrap it in
    their own error naming what was being written.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        mode = target.stat().st_mode & 0o7777 if target.exists() else 0o666 & ~_umask()
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_text_atomic(target: Path, data: str) -> None:
    """:func:`write_bytes_atomic` of ``data`` as UTF-8 with ``\\n`` line ends."""
    write_bytes_atomic(target, data.encode("utf-8"))


def _timestamp() -> str:
    import time

    return time.strftime("%Y%m%d-%H%M%S")


_INDENT_RE = re.compile(r"^\{\s*\n( *)\"", re.MULTILINE)


def _detect_indent(text: str) -> int | None:
    match = _INDENT_RE.match(text)
    if match is None:
        return None if text.lstrip().startswith("{") and "\n" not in text.strip() else 1
    return len(match.group(1)) or None


def read_notebook(path: str | Path) -> Notebook:
    """Read a notebook from disk, leniently. Raises :class:`NotebookReadError` with the reason."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise NotebookReadError("no such file", path=file) from None
    except IsADirectoryError:
        raise NotebookReadError("is a directory, not a notebook", path=file) from None
    except OSError as exc:
        raise NotebookReadError(f"cannot read file: {exc.strerror or exc}", path=file) from None
    return notebook_from_bytes(data, path=file)


def notebook_from_bytes(data: bytes, *, path: Path | None = None) -> Notebook:
    """Parse notebook bytes; every failure is a :class:`NotebookReadError` naming the cause."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise NotebookReadError(
            f"not UTF-8 text (bad byte at offset {exc.start})",
            path=path,
            hint="notebooks are UTF-8 JSON; re-save it from Jupyter or convert it with iconv",
        ) from None
    if not text or text.isspace():  # (isspace stops at the first other character; strip copies)
        raise NotebookReadError(
            "file is empty", path=path, hint="an empty file is not a notebook; delete it or re-save it"
        )
    try:
        raw = json.loads(text)
    except RecursionError:
        # the C parser gives up near the interpreter's recursion limit (about 1,000 levels)
        raise _too_deep(path, None) from None
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) - 1
        reason = "truncated JSON (the file ends early)" if truncated else "broken JSON"
        raise NotebookReadError(
            f"{reason}: {exc.msg} at line {exc.lineno} column {exc.colno}",
            path=path,
            hint="restore it from version control or a checkpoint in .ipynb_checkpoints/",
        ) from None
    except ValueError:  # an integer past Python's int_max_str_digits (4,300)
        raise NotebookReadError(
            "an integer of more than 4,300 digits", path=path,
            hint="no notebook field holds such a number: restore the file from version control "
            "or a checkpoint",
        ) from None
    if re.search(r"\\u[dD][89a-fA-F]", text):  # a \uD8xx-\uDFxx escape: maybe a lone half
        _refuse_lone_surrogates(raw, path)
    nb = notebook_from_dict(raw, path=path)
    nb.text = text
    nb.indent = _detect_indent(text)
    return nb


def _encodable(value: object) -> bool:
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except (UnicodeEncodeError, RecursionError, ValueError):
        return False
    return True


def _refuse_lone_surrogates(raw: object, path: Path | None) -> None:
    """Refuse JSON whose strings hold half a UTF-16 surrogate pair (``"\\udcff"``): valid
    JSON, but no UTF-8 text, so ``ast.parse``, ruff and every writer would fail on it later."""
    if _encodable(raw):
        return
    place = ""
    cells = raw.get("cells") if isinstance(raw, dict) else None
    if isinstance(cells, list):
        for index, cell in enumerate(cells):
            if not _encodable(cell):
                place = f" in cell {index + 1}"
                break
    raise NotebookReadError(
        f"a string{place} holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff), "
        "which is not text",
        path=path,
        hint="remove the escape or replace it with the character meant; re-save from Jupyter",
    )


# Real notebooks nest a few dozen levels (widget state, Vega and Plotly specs). Past this,
# nbformat, papermill, copy.deepcopy and json.dumps recurse once or more per level and hit
# Python's recursion limit (RecursionError) wherever they run; refusing at read time makes
# every command report the same clear error instead.
MAX_JSON_DEPTH = 100
_SCALARS = {str, int, float, bool, type(None)}


def _deep_value(raw: object, limit: int) -> list[str | int] | None:
    """The key path of a value nested more than ``limit`` levels deep, or None.

    Iterative (an explicit stack), so it never recurses however deep the input is.
    """
    stack: list[tuple[object, int, list[str | int]]] = [(raw, 1, [])]
    while stack:
        node, depth, where = stack.pop()
        if depth > limit:
            return where
        values: Any = node.values() if isinstance(node, dict) else node
        if set(map(type, values)) <= _SCALARS:  # in C: lists of source lines cost little
            continue
        items: Any = node.items() if isinstance(node, dict) else enumerate(values)
        for key, child in items:
            if isinstance(child, (dict, list)):
                stack.append((child, depth + 1, where + [key] if len(where) < 4 else where))
    return None


def _too_deep(path: Path | None, where: list[str | int] | None) -> NotebookReadError:
    """The error for JSON nested past :data:`MAX_JSON_DEPTH`, naming the cell when known."""
    place = ""
    if where and where[0] == "cells" and len(where) > 1 and isinstance(where[1], int):
        part = f" ({where[2]})" if len(where) > 2 else ""
        place = f" in cell {where[1] + 1}{part}"
    elif where:
        place = f" in the notebook's '{where[0]}'"
    return NotebookReadError(
        f"JSON nested more than {MAX_JSON_DEPTH} levels deep{place}",
        path=path,
        hint="real notebooks nest a few dozen levels: remove the deep value, a metadata entry "
        "or an output, or clear the outputs",
    )


def notebook_from_dict(raw: object, *, path: Path | None = None) -> Notebook:
    """Build the model from parsed JSON (a file's, or a front end's unsaved content)."""
    if not isinstance(raw, dict):
        raise NotebookReadError("not a notebook: the JSON top level is not an object", path=path)
    deep = _deep_value(raw, MAX_JSON_DEPTH)
    if deep is not None:
        raise _too_deep(path, deep)
    problems: list[str] = []
    major = raw.get("nbformat")
    upgraded_from: int | None = None
    if not isinstance(major, int):
        if "cells" in raw and isinstance(raw.get("cells"), list):
            problems.append("missing 'nbformat' version; read as nbformat 4")
            major = 4
            raw["nbformat"] = 4
            raw.setdefault("nbformat_minor", 0)
        else:
            raise NotebookReadError(
                "not a notebook: no 'nbformat' version and no 'cells' list", path=path
            )
    if major < 4:
        raw = _upgrade(raw, major, path)
        upgraded_from = major
        problems.append(f"nbformat {major} notebook, upgraded to nbformat 4 for analysis")
    elif major > 4:
        problems.append(f"nbformat {major} is newer than this nbops knows; read as version 4")
    minor = raw.get("nbformat_minor")
    if not isinstance(minor, int):
        minor = 0
        problems.append("missing 'nbformat_minor'")
    if not isinstance(raw.get("metadata"), dict):
        if "metadata" in raw:
            problems.append("notebook 'metadata' is not an object")
        raw["metadata"] = {}
    raw_cells = raw.get("cells")
    if not isinstance(raw_cells, list):
        raise NotebookReadError("not a notebook: 'cells' is missing or not a list", path=path)
    cells: list[Cell] = []
    kept: list[dict[str, Any]] = []
    for i, rc in enumerate(raw_cells):
        if not isinstance(rc, dict):
            problems.append(f"cell {i + 1} is not a JSON object and was ignored")
            continue
        index = len(cells)
        ctype = rc.get("cell_type")
        if ctype not in (CODE, MARKDOWN, RAW):
            problems.append(f"cell {i + 1}: unknown cell_type {ctype!r}, treated as raw")
            ctype = RAW
        src = rc.get("source")
        if src is None:
            problems.append(f"cell {i + 1}: source is null")
        elif not isinstance(src, (str, list)):
            problems.append(f"cell {i + 1}: source is not text")
        outputs = rc.get("outputs")
        count = rc.get("execution_count")
        if ctype == CODE:
            if not isinstance(outputs, list):
                if outputs is not None:
                    problems.append(f"cell {i + 1}: outputs is not a list")
                outputs = []
            if count is not None and not isinstance(count, int):
                problems.append(f"cell {i + 1}: execution_count is not an integer")
                count = None
        else:
            if "outputs" in rc:
                problems.append(f"cell {i + 1}: a {ctype} cell has outputs")
            if "execution_count" in rc:
                problems.append(f"cell {i + 1}: a {ctype} cell has an execution_count")
            outputs, count = [], None
        # an upgraded notebook's ids come from the upgrade (NB002 already says it was upgraded)
        if "id" in rc and upgraded_from is None and (major, minor) < (4, 5):
            problems.append(f"cell {i + 1}: cell ids need nbformat 4.5 (this is 4.{minor})")
        cells.append(
            Cell(
                index=index,
                cell_type=str(ctype),
                source=join_source(src),
                raw=rc,
                execution_count=count,
                outputs=[o for o in outputs if isinstance(o, dict)],
            )
        )
        kept.append(rc)
    if len(kept) != len(raw_cells):
        raw["cells"] = kept
    return Notebook(
        path=path,
        raw=raw,
        cells=cells,
        nbformat=4,
        nbformat_minor=minor,
        problems=problems,
        upgraded_from=upgraded_from,
    )


def _import_nbformat() -> None:
    """Import nbformat without jsonschema's optional ``rfc3987_syntax``: that module compiles
    lark grammars on import (~0.8 CPU s, more than linting a hundred notebooks), for the
    ``iri`` string format nbformat's schemas never use. Only where this process has imported
    neither yet (a lint worker); the block is lifted right after."""
    import sys

    if "nbformat" in sys.modules or "rfc3987_syntax" in sys.modules:
        return
    sys.modules["rfc3987_syntax"] = None  # type: ignore[assignment]  # import -> ImportError
    try:
        import nbformat.converter  # noqa: F401
    finally:
        if sys.modules.get("rfc3987_syntax", 0) is None:
            del sys.modules["rfc3987_syntax"]


def _upgrade(raw: dict[str, Any], major: int, path: Path | None) -> dict[str, Any]:
    try:
        _import_nbformat()
        from nbformat.converter import convert
        from nbformat.reader import reads as read_any_version

        # reads() rejoins old formats' multi-line lists; convert() then upgrades step by step
        node = read_any_version(json.dumps(raw))  # type: ignore[no-untyped-call]
        if major < 3:
            node = convert(node, 3)  # type: ignore[no-untyped-call]
        upgraded = _upgrade_v3(node)
        # nbformat gives each upgraded cell a random id; the same file must read the same way
        # every time (findings, caches and fixes name cells by id)
        for number, cell in enumerate(upgraded["cells"], 1):
            cell["id"] = f"cell-{number}"
    except Exception as exc:  # noqa: BLE001 (nbformat raises many types on malformed old files)
        raise NotebookReadError(
            f"nbformat {major} notebook could not be upgraded to version 4: {exc}",
            path=path,
            hint="open and re-save it in a current Jupyter",
        ) from None
    result: dict[str, Any] = json.loads(json.dumps(upgraded))
    return result


def _upgrade_v3(nb: Any) -> Any:
    """``nbformat.converter.convert(nb, 4)`` of an nbformat 3 node (the same steps and errors)
    without the two schema validations of ``nbformat.v4.convert.upgrade``: they only log, and
    cost more CPU than the rest of an upgrade (compiling both schemas, ~60 ms a process)."""
    from nbformat.v4.convert import upgrade_cell
    from nbformat.v4.nbbase import nbformat, nbformat_minor

    try:
        orig_nbformat = nb.pop("orig_nbformat", None)
        orig_nbformat_minor = nb.pop("orig_nbformat_minor", None)
        nb.metadata.orig_nbformat = orig_nbformat or 3
        nb.metadata.orig_nbformat_minor = orig_nbformat_minor or 0
        nb.nbformat = nbformat
        nb.nbformat_minor = nbformat_minor
        nb["cells"] = cells = []
        for ws in nb.pop("worksheets", []):  # several worksheets are flattened
            for cell in ws["cells"]:
                cells.append(upgrade_cell(cell))  # type: ignore[no-untyped-call]
        nb.metadata.pop("name", "")
        nb.metadata.pop("signature", "")
    except AttributeError as exc:
        raise ValueError(
            "Notebook could not be converted from version 3 to version 4 because it's "
            f"missing a key: {exc}"
        ) from None
    return nb


def cell_runs(cells: Iterable[int]) -> list[tuple[int, int]]:
    """Runs of consecutive cell numbers, ``(first, last)``: ``[5, 6, 9, 10, 11]`` ->
    ``[(5, 6), (9, 11)]`` (each front writes them its own way)."""
    ordered = sorted(set(cells))
    runs: list[tuple[int, int]] = []
    for cell in ordered:
        if runs and cell == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], cell)
        else:
            runs.append((cell, cell))
    return runs
