"""Compare what two executed notebooks show: the original and its slim notebook.

``nbops verify`` runs the notebook and the slim notebook (which calls the generated library)
with the same parameters. Each slim code cell names the original cells it stands for (cell
metadata ``nbops_cells``, written by :mod:`nbops.modularize.slim`); the outputs of those
original cells are compared with the outputs of the slim cells, nbval-style:

- stdout: the cells' printed text, joined, line by line (stderr is left out: warnings and
  progress bars differ from run to run);
- each display (``execute_result`` and ``display_data`` alike, in order): a PNG image by size
  and mean absolute pixel difference (:data:`IMAGE_TOLERANCE`, never byte by byte); an HTML
  table (a pandas DataFrame) cell by cell; otherwise ``text/plain``;
- text goes through sanitizers first: memory addresses (and the module in an object's
  default repr), timestamps, temporary paths, durations and object ids become placeholders; numbers in the text compare within the
  tolerance.

Every difference is one :class:`DisplayCheck` naming the step, the cells and how they differ.
"""

from __future__ import annotations

import base64
import io
import math
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any, Literal

__all__ = [
    "IMAGE_TOLERANCE",
    "DisplayCheck",
    "compare_displays",
    "compare_image",
    "compare_output_lists",
    "compare_text",
    "sanitize",
]

Status = Literal["equal", "differs", "not comparable", "not run"]

IMAGE_TOLERANCE = 0.005  # mean absolute pixel difference (0-1 scale) under which images are equal
SOURCE_CELLS_KEY = "nbops_cells"  # as nbops.modularize.slim writes it
_MAX = 70  # characters of each side shown in a detail


@dataclass(frozen=True)
class DisplayCheck:
    """One output of the notebook compared with the slim notebook's."""

    step: str
    cells: str  # "cell 5" or "cells 5-6" (the original notebook's, 1-based)
    what: str  # "stdout", "display 2 (text/plain)", "display 1 (image)", "table", "run"
    status: Status
    detail: str


# --- sanitizers ------------------------------------------------------------------------

_TEMP = re.escape(tempfile.gettempdir().rstrip("/\\"))
_SANITIZERS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"0x[0-9a-fA-F]{4,}"), "0xADDRESS"),
    # an object's default repr names its class's module: __main__ in the notebook, the
    # library's module in the slim notebook
    (re.compile(r"<(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*)(?: object)? at 0xADDRESS>"), r"<\1 object at 0xADDRESS>"),
    (re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?"), "TIMESTAMP"),
    (re.compile(r"\b\d{1,2}:\d{2}:\d{2}(\.\d+)?\b"), "TIME"),
    (re.compile(rf"(?:{_TEMP}|/tmp|/var/folders|[A-Za-z]:\\[^\s'\"]*\\Temp)[/\\][^\s'\"),\]]*"), "TEMPPATH"),
    (re.compile(r"\b\d+(\.\d+)?(e-?\d+)?\s?(ns|µs|us|ms|s|sec|secs|seconds|min|mins|minutes)\b"), "DURATION"),
    (re.compile(r"\b(id|pid|Id|ID)([=: ]+)\d{5,}\b"), r"\1\2ID"),
    # random ids: a display handle's, a version-4 UUID
    (re.compile(r"\bdisplay_id=[0-9a-fA-F]{8,}\b"), "display_id=ID"),
    (re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}\b"), "UUID"),
]


def sanitize(text: str) -> str:
    """``text`` with volatile parts replaced: addresses, timestamps, temporary paths,
    durations ("took 1.23 s"), object ids."""
    for pattern, replacement in _SANITIZERS:
        text = pattern.sub(replacement, text)
    return text


# --- text ------------------------------------------------------------------------------

_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _short(text: str) -> str:
    text = text.replace("\n", "\\n")
    return repr(text if len(text) <= _MAX else text[: _MAX - 1] + "…")


def _close(a: str, b: str, rtol: float, atol: float) -> bool:
    """Two lines equal but for numbers within tolerance."""
    if _NUMBER.sub("#", a) != _NUMBER.sub("#", b):
        return False
    for x, y in zip(_NUMBER.findall(a), _NUMBER.findall(b)):
        fx, fy = float(x), float(y)
        if not math.isclose(fx, fy, rel_tol=rtol, abs_tol=atol):
            return False
    return True


def _as_shown(text: str) -> str:
    """``text`` as a terminal shows it: ``\r\n`` is a line end (what a shell command run by
    ``!cmd`` prints), a bare ``\r`` goes back to the line's start (progress bars)."""
    lines = text.replace("\r\n", "\n").split("\n")
    return "\n".join(line.rstrip("\r").rsplit("\r", 1)[-1] for line in lines)


def compare_text(original: str, generated: str, rtol: float = 1e-7, atol: float = 1e-9) -> str | None:
    """None when the two texts agree (as shown: line ends and ``\r`` as a terminal takes them;
    sanitized; numbers within tolerance), else how they differ."""
    a, b = sanitize(_as_shown(original)), sanitize(_as_shown(generated))
    if a == b:
        return None
    la, lb = a.rstrip("\n").split("\n"), b.rstrip("\n").split("\n")
    for i, (x, y) in enumerate(zip(la, lb)):
        if x != y and not _close(x, y, rtol, atol):
            where = f"line {i + 1}: " if max(len(la), len(lb)) > 1 else ""
            return f"{where}{_short(x.strip())} vs {_short(y.strip())}"
    if len(la) != len(lb):
        extra = la[len(lb)] if len(la) > len(lb) else lb[len(la)]
        side = "original" if len(la) > len(lb) else "slim notebook"
        return f"{len(la)} vs {len(lb)} lines; the {side} also shows {_short(extra.strip())}"
    return None


# --- tables ----------------------------------------------------------------------------


class _Table(HTMLParser):
    """The rows of the first HTML table: each a list of cell texts (th and td alike)."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.depth = 0
        self.cell: list[str] | None = None
        self.done = False

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if self.done:
            return
        if tag == "table":
            self.depth += 1
        elif tag == "tr" and self.depth == 1:
            self.rows.append([])
        elif tag in ("td", "th") and self.depth == 1 and self.rows:
            self.cell = []

    def handle_endtag(self, tag: str) -> None:
        if self.done:
            return
        if tag == "table":
            self.depth -= 1
            self.done = self.depth == 0
        elif tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(" ".join("".join(self.cell).split()))
            self.cell = None

    def handle_data(self, data: str) -> None:
        if self.cell is not None:
            self.cell.append(data)


def _table(html: str) -> list[list[str]] | None:
    if "<table" not in html:
        return None
    parser = _Table()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: BLE001 - malformed HTML: compare the text instead
        return None
    return parser.rows or None


def compare_tables(a: list[list[str]], b: list[list[str]], rtol: float, atol: float) -> str | None:
    """None when two parsed tables agree, else the first differing cell, by row and column."""
    if len(a) != len(b) or any(len(x) != len(y) for x, y in zip(a, b)):
        return f"table of {len(a)} rows vs {len(b)} rows" + (
            "" if len(a) != len(b) else " (different columns)"
        )
    header = a[0] if a else []
    for r, (x, y) in enumerate(zip(a, b)):
        for c, (u, v) in enumerate(zip(x, y)):
            su, sv = sanitize(u), sanitize(v)
            if su != sv and not _close(su, sv, rtol, atol):
                column = header[c] if r and c < len(header) and header[c] else f"{c + 1}"
                row = x[0] if x and x[0] else f"{r + 1}"
                where = f"header, column {c + 1}" if r == 0 else f"row {row!r}, column {column!r}"
                return f"table {where}: {_short(u)} vs {_short(v)}"
    return None


# --- images ----------------------------------------------------------------------------


def _pixels(data: bytes) -> Any:
    """A PNG as a float array (height, width, 4) in 0-1, with PIL or matplotlib."""
    import numpy as np

    try:
        from PIL import Image
    except ImportError:
        from matplotlib import image

        array = np.asarray(image.imread(io.BytesIO(data), format="png"), dtype=float)
        if array.max(initial=0) > 1:
            array = array / 255.0
    else:
        with Image.open(io.BytesIO(data)) as img:
            array = np.asarray(img.convert("RGBA"), dtype=float) / 255.0
    if array.ndim == 2:
        array = np.stack([array] * 3 + [np.ones_like(array)], axis=-1)
    elif array.shape[-1] == 3:
        array = np.concatenate([array, np.ones(array.shape[:2] + (1,))], axis=-1)
    return array


def compare_image(original: str | bytes, generated: str | bytes, tolerance: float = IMAGE_TOLERANCE) -> tuple[Status, str]:
    """Two PNGs (base64 text as in a notebook, or bytes): size, then mean absolute pixel
    difference under ``tolerance``."""
    def raw(x: str | bytes) -> bytes:
        return base64.b64decode(x) if isinstance(x, str) else x

    try:
        a, b = _pixels(raw(original)), _pixels(raw(generated))
    except Exception as exc:  # noqa: BLE001 - no decoder, a broken image: said, not raised
        return "not comparable", f"image could not be decoded: {type(exc).__name__}: {exc}"[:200]
    if a.shape != b.shape:
        return "differs", f"image size {a.shape[1]}x{a.shape[0]} vs {b.shape[1]}x{b.shape[0]}"
    diff = float(abs(a - b).mean())
    if diff > tolerance:
        return "differs", f"images differ: mean pixel difference {diff:.4f} (tolerance {tolerance:g})"
    return "equal", f"mean pixel difference {diff:.4f}"


# --- outputs ---------------------------------------------------------------------------


def _text(value: Any) -> str:
    return "".join(value) if isinstance(value, list) else str(value or "")


# what IPython's timing magics print (%time, %%time, %timeit: never the same twice) and what
# %pylab says of itself: the library has no magics
_TIMING = re.compile(
    r"^(CPU times: .*|Wall time: .*|.* per loop \(mean ± std\. dev\. of .*\)|"
    r"The slowest run took .*|.*may mean that an intermediate result is being cached\.|"
    r"%pylab is deprecated, use %matplotlib inline and import the required libraries\.|"
    r"Populating the interactive namespace from numpy and matplotlib)\n?",
    re.MULTILINE,
)


def _split(outputs: Iterable[Mapping[str, Any]]) -> tuple[str, list[Mapping[str, Any]], str | None]:
    """stdout text, display bundles (mime -> data) and the error's name, of cells' outputs.

    A display of ``None`` alone is left out (IPython never shows a ``None`` result; a
    library's display helper may), and so are the lines of IPython's timing magics."""
    stdout: list[str] = []
    bundles: list[Mapping[str, Any]] = []
    error: str | None = None
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream" and out.get("name") == "stdout":
            stdout.append(_text(out.get("text")))
        elif kind in ("execute_result", "display_data"):
            data = out.get("data") or {}
            if any(m.startswith("application/vnd.jupyter.widget") for m in data):
                # a widget view holds a model id only: its text (the widget's repr) is compared
                data = {"text/plain": data["text/plain"]} if "text/plain" in data else {}
            if data and not (set(data) == {"text/plain"} and _text(data["text/plain"]) == "None"):
                bundles.append(data)
        elif kind == "error":
            error = f"{out.get('ename', 'Error')}: {out.get('evalue', '')}".strip(": ")
    return _TIMING.sub("", "".join(stdout)), bundles, error


def _describe(bundle: Mapping[str, Any]) -> str:
    if "image/png" in bundle:
        return "image"
    return _short(_text(bundle.get("text/plain", "")).strip() or "?")


def _bundle(a: Mapping[str, Any], b: Mapping[str, Any], rtol: float, atol: float) -> tuple[str, Status, str]:
    """(kind, status, detail) of two displays."""
    if "image/png" in a and "image/png" in b:
        status, said = compare_image(_text(a["image/png"]), _text(b["image/png"]))
        return "image", status, said
    if "image/png" in a or "image/png" in b:
        return "image", "differs", f"{_describe(a)} vs {_describe(b)}"
    ta, tb = _table(_text(a.get("text/html", ""))), _table(_text(b.get("text/html", "")))
    if ta is not None and tb is not None:
        found = compare_tables(ta, tb, rtol, atol)
        return "table", ("differs" if found else "equal"), found or ""
    if "text/plain" in a and "text/plain" in b:
        text = compare_text(_text(a["text/plain"]), _text(b["text/plain"]), rtol, atol)
        return "text/plain", ("differs" if text else "equal"), text or ""
    kinds = sorted(set(a) & set(b))
    if not kinds:
        return "display", "differs", f"shown as {sorted(a)} vs {sorted(b)}"
    return kinds[0], "not comparable", f"{kinds[0]} is not compared"


def compare_output_lists(
    original: Sequence[Mapping[str, Any]], generated: Sequence[Mapping[str, Any]],
    rtol: float = 1e-7, atol: float = 1e-9,
) -> list[tuple[str, Status, str]]:
    """(what, status, detail) for each output compared: stdout, then the images in order,
    then the other displays in order. Images apart: the inline backend shows a cell's
    figures when the cell ends, so where they fall among other displays depends on where
    cells end, which the slim notebook changes."""
    out_a, all_a, _ = _split(original)
    out_b, all_b, _ = _split(generated)
    results: list[tuple[str, Status, str]] = []
    if out_a or out_b:
        detail = compare_text(out_a, out_b, rtol, atol)
        results.append(("stdout", "differs" if detail else "equal", detail or ""))
    for label, pick in (("image", True), ("display", False)):
        bundles_a = [b for b in all_a if ("image/png" in b) == pick]
        bundles_b = [b for b in all_b if ("image/png" in b) == pick]
        results += _in_order(label, bundles_a, bundles_b, rtol, atol)
    return results


def _in_order(
    label: str, bundles_a: Sequence[Mapping[str, Any]], bundles_b: Sequence[Mapping[str, Any]],
    rtol: float, atol: float,
) -> list[tuple[str, Status, str]]:
    results: list[tuple[str, Status, str]] = []
    for n, (a, b) in enumerate(zip(bundles_a, bundles_b), start=1):
        kind, status, detail = _bundle(a, b, rtol, atol)
        results.append((f"{label} {n}" + ("" if kind == "image" else f" ({kind})"), status, detail))
    for n in range(len(bundles_b), len(bundles_a)):
        results.append((f"{label} {n + 1}", "differs",
                        f"shown by the notebook only: {_describe(bundles_a[n])}"))
    for n in range(len(bundles_a), len(bundles_b)):
        results.append((f"{label} {n + 1}", "differs",
                        f"shown by the slim notebook only: {_describe(bundles_b[n])}"))
    return results


# --- notebooks -------------------------------------------------------------------------


def _span(cells: Sequence[int]) -> str:
    cells = sorted(cells)
    return f"cell {cells[0]}" if len(cells) == 1 else f"cells {cells[0]}-{cells[-1]}"


def _ran(cell: Mapping[str, Any]) -> bool:
    return cell.get("execution_count") is not None or bool(cell.get("outputs"))


def compare_displays(
    original: Any, slim: Any, steps: Sequence[Mapping[str, Any]], original_index_key: str,
    rtol: float = 1e-7, atol: float = 1e-9,
) -> list[DisplayCheck]:
    """Compare the executed ``original`` notebook's outputs (its cells carry their 0-based
    index under ``original_index_key``) with the executed ``slim`` notebook's, group by group:
    a group is the original cells (1-based) some slim cells stand for. ``steps`` (the
    pipeline's, cells 1-based) name the groups."""
    by_index: dict[int, Mapping[str, Any]] = {}
    for cell in original.get("cells", []):
        index = (cell.get("metadata") or {}).get(original_index_key)
        if isinstance(index, int) and cell.get("cell_type") == "code":
            by_index[index + 1] = cell
    groups: list[tuple[set[int], list[Mapping[str, Any]]]] = []
    checks: list[DisplayCheck] = []
    for position, cell in enumerate(slim.get("cells", []), start=1):
        sources = (cell.get("metadata") or {}).get(SOURCE_CELLS_KEY)
        if cell.get("cell_type") != "code":
            continue
        if not isinstance(sources, list) or not sources:
            # a cell of the slim notebook's own (its imports): it shows nothing, but may fail
            error = _split(cell.get("outputs", []))[2]
            if error:
                checks.append(DisplayCheck("-", f"slim cell {position}", "run", "differs",
                                           f"the slim notebook stops here: {error}"[:300]))
            continue
        wanted = {int(c) for c in sources if isinstance(c, int)}
        merged = [g for g in groups if g[0] & wanted]
        for g in merged:
            groups.remove(g)
            wanted |= g[0]
        slim_cells = [c for g in merged for c in g[1]] + [cell]
        groups.append((wanted, slim_cells))
    step_of = {int(c): str(s["name"]) for s in steps for c in s["cells"]}
    for cells, slim_cells in groups:
        originals = [by_index[c] for c in sorted(cells) if c in by_index]
        step = next((step_of[c] for c in sorted(cells) if c in step_of), "-")
        span = _span(sorted(cells))
        outs_a = [o for c in originals for o in c.get("outputs", [])]
        outs_b = [o for c in slim_cells for o in c.get("outputs", [])]
        error_a, error_b = _split(outs_a)[2], _split(outs_b)[2]
        ran_a = bool(originals) and all(_ran(c) for c in originals)
        ran_b = all(_ran(c) for c in slim_cells)
        if error_b and not error_a:
            checks.append(DisplayCheck(step, span, "run", "differs",
                                       f"the slim notebook stops here: {error_b}"[:300]))
            continue
        if error_a and not error_b and ran_b:
            checks.append(DisplayCheck(step, span, "run", "differs",
                                       f"the notebook stops here ({error_a}), the slim notebook does not"[:300]))
            continue
        if error_a and error_b:  # both stop here: what they showed before, and the error
            name_a, name_b = error_a.split(":")[0], error_b.split(":")[0]
            if name_a != name_b:
                checks.append(DisplayCheck(step, span, "run", "differs",
                                           f"the notebook stops with {name_a}, the slim notebook with {name_b}"))
                continue
            if not ran_b:
                # the step stopped before the slim notebook's cells that show its exploration
                # ran: what the notebook showed before the error has no counterpart
                checks.append(DisplayCheck(step, span, "run", "equal", f"both stop here with {name_a}"))
                continue
            ran_a = ran_b = True
        if not (ran_a and ran_b):
            if _split(outs_a)[:2] != ("", []) or not ran_a:
                who = "neither notebook ran" if not (ran_a or ran_b) else (
                    "the notebook did not run" if not ran_a else "the slim notebook did not run")
                checks.append(DisplayCheck(step, span, "outputs", "not run", f"{who} these cells"))
            continue
        for what, status, detail in compare_output_lists(outs_a, outs_b, rtol, atol):
            checks.append(DisplayCheck(step, span, what, status, detail))
    return checks
