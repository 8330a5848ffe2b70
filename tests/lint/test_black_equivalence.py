"""FMT001 without IPython gives what ``black.format_cell`` (black[jupyter]) gives, on every
code cell of real notebooks: the repository's and, when they can be downloaded, those in the
papermill, nbconvert and nbformat sdists. IPython is installed here, so black's own notebook
mode is the reference; ``nbops.tools.format_cell`` never imports it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from pathlib import Path

import black
import pytest

from nbops.tools import format_cell

ROOT = Path(__file__).resolve().parents[2]
MODE = black.Mode(is_ipynb=True)
SDISTS = ("papermill", "nbconvert", "nbformat")


def _cells(notebook: Path | bytes) -> list[str]:
    try:
        raw = json.loads(notebook.read_bytes() if isinstance(notebook, Path) else notebook)
        cells = raw.get("cells", [])
    except (ValueError, AttributeError, OSError):
        return []
    out = []
    for cell in cells if isinstance(cells, list) else []:
        source = cell.get("source", "") if isinstance(cell, dict) else ""
        if cell.get("cell_type") == "code" and isinstance(source, (str, list)):
            text = source if isinstance(source, str) else "".join(source)
            if text.strip():
                out.append(text)
    return out


def _black(cell: str) -> str | None:
    try:
        return black.format_cell(cell, fast=True, mode=MODE)
    except black.NothingChanged:
        return None


def _compare(cells: list[str]) -> tuple[Counter[str], list[str]]:
    """Outcome counts and the cells where nbops and black disagree."""
    counts: Counter[str] = Counter()
    different = []
    for cell in cells:
        try:
            theirs: str | None = black.format_cell(cell, fast=True, mode=MODE)
        except black.NothingChanged:
            theirs = None
        except Exception:  # noqa: BLE001 - black fails; nbops leaves such a cell alone
            counts["black fails, nbops leaves it"] += 1
            assert format_cell(cell, MODE) is None, cell
            continue
        ours = format_cell(cell, MODE)
        if ours != theirs and ours in {_black(cell) for _ in range(5)}:
            theirs = ours  # black's random tokens collided with the cell's text this time
        if ours == theirs:
            counts["same: formatted" if theirs is not None else "same: unchanged or skipped"] += 1
        else:
            counts["different"] += 1
            different.append(cell)
    return counts, different


def _report(what: str, counts: Counter[str]) -> None:
    total = sum(counts.values())
    same = total - counts["different"]
    print(f"\n{what}: {total} code cells, {same} agree ({100 * same / max(total, 1):.2f}%): {dict(counts)}")


def test_repository_notebooks_format_as_black_does() -> None:
    notebooks = [
        p
        for folder in ("examples", "tests/notebooks", "benchmarks/verify_corpus")
        for p in sorted((ROOT / folder).rglob("*.ipynb"))
    ]
    assert len(notebooks) > 20
    cells = [cell for nb in notebooks for cell in _cells(nb)]
    counts, different = _compare(cells)
    _report(f"{len(notebooks)} repository notebooks", counts)
    assert counts["same: formatted"] > 10  # the corpus has cells black rewrites
    assert not different, different[:3]


def _sdist_notebooks() -> list[tuple[str, bytes]]:
    cache = Path(tempfile.gettempdir()) / "nbops-black-sdists"
    cache.mkdir(exist_ok=True)
    if not list(cache.glob("*.tar.gz")):
        proc = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             "-d", str(cache), "-q", *SDISTS],
            capture_output=True, text=True, timeout=300, check=False,
        )
        if proc.returncode != 0:
            pytest.skip(f"cannot download the {', '.join(SDISTS)} sdists (offline?): {proc.stderr[-300:]}")
    found = []
    for archive in sorted(cache.glob("*.tar.gz")):
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                if member.name.endswith(".ipynb") and member.isfile():
                    data = tar.extractfile(member)
                    if data is not None:
                        found.append((member.name, data.read()))
    if not found:
        pytest.skip("the downloaded sdists hold no notebooks")
    return found


def test_sdist_notebooks_format_as_black_does() -> None:
    notebooks = _sdist_notebooks()
    cells = [cell for _, data in notebooks for cell in _cells(data)]
    counts, different = _compare(cells)
    _report(f"{len(notebooks)} notebooks of the {', '.join(SDISTS)} sdists", counts)
    assert not different, different[:3]
