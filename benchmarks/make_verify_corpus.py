#!/usr/bin/env python3
"""Write the executable notebooks that `benchmarks/modularize.py` runs `nbops verify` on.

Realistic small data-science notebooks, written by hand (one template per notebook in
``benchmarks/notebooks/verify/*.md``, read by ``nbtemplates.py``) rather than taken from
elsewhere, that run offline in a few seconds on the stdlib, numpy, pandas, scikit-learn and
matplotlib: scikit-learn's bundled toy datasets and numpy random data
with fixed seeds, no network, no files outside a temporary directory. Their structure
varies on purpose, since that is what `nbops modularize` has to cope with: H2 / H3 / H1-only
headings or none at all, ``step:*`` tags, a ``parameters`` cell, functions reading notebook
globals, a ``global`` statement, data mutated in a later section, names redefined, loops and
branches at top level, classes and dataclasses, plotting, magics (``%matplotlib inline``,
``%time``, ``%%time``, ``!echo``), a star import, ``try``/``except``, ``del``, ``display()``.

Also provides ``big_notebook(n_cells)``: the realistic N-cell notebook the timing part of
the benchmark modularizes (``notebooks/big/head.md``, then ``notebooks/big/section.md``
repeated, round k working on what round k-1 made, cut at N cells).

Deterministic: no timestamps, fixed cell ids. The notebooks carry no outputs.
``tests/benchmarks/`` checks that the templates still give the committed ``verify_corpus/``
byte for byte.

Usage
  python benchmarks/make_verify_corpus.py             # -> benchmarks/verify_corpus/*.ipynb
  python benchmarks/make_verify_corpus.py --check     # ... and execute each one (nbclient)
  python benchmarks/make_verify_corpus.py --big 200 --out /tmp/x   # also write big_200.ipynb
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import harness
import nbtemplates as templates

HERE = Path(__file__).resolve().parent
DEFAULT_OUT = HERE / "verify_corpus"
VERIFY = templates.NOTEBOOKS / "verify"
BIG = templates.NOTEBOOKS / "big"


def names() -> list[str]:
    """The notebooks of the verify corpus (one template each)."""
    return sorted(p.stem for p in VERIFY.glob("*.md"))


def big_notebook(n_cells: int = 200) -> dict[str, Any]:
    """A realistic notebook of exactly ``n_cells`` cells (about 3/4 code), executable offline.

    Sections of one markdown heading and a handful of code cells, cycling through
    load / clean / features / helper function / model / evaluation / plot, each section
    working on names the earlier ones made.
    """
    cells = templates.load(BIG / "head.md")
    section = templates.load(BIG / "section.md")
    k, prev = 0, "base"
    while len(cells) < n_cells:
        k += 1
        cells += templates.fill(section, k=k, p=prev)
        prev = f"df_{k}"
    return templates.notebook(f"big_{n_cells}", cells[:n_cells])


def write_all(out: Path) -> list[Path]:
    """Write every notebook into ``out`` (unchanged files untouched, stale ones removed)."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names():
        p = out / f"{name}.ipynb"
        text = templates.dumps(templates.notebook(name, templates.load(VERIFY / f"{name}.md")))
        if not p.exists() or p.read_text(encoding="utf-8") != text:
            p.write_text(text, encoding="utf-8")
        written.append(p)
    # drop notebooks of an earlier version of this script
    for p in out.glob("*.ipynb"):
        if p.stem not in names():
            p.unlink()
    return written


def execute(path: Path, timeout: int = 120) -> tuple[bool, float, str]:
    """Run a notebook in a temp dir with nbclient: (ok, seconds, error)."""
    import tempfile

    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory() as tmp:

        def run() -> str:
            try:
                NotebookClient(
                    nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": tmp}}
                ).execute()
            except Exception as e:  # noqa: BLE001 - report any failure
                return f"{type(e).__name__}: {str(e)[-500:]}"
            return ""

        err, took = harness.timed(run)
    return not err, took.wall, err


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT)
    ap.add_argument("--check", action="store_true", help="execute every notebook (nbclient)")
    ap.add_argument("--big", type=int, default=0, help="also write big_N.ipynb with N cells")
    args = ap.parse_args(argv)
    paths = write_all(args.out)
    if args.big:
        p = args.out / f"big_{args.big}.ipynb"
        p.write_text(json.dumps(big_notebook(args.big), indent=1) + "\n", encoding="utf-8")
        paths.append(p)
    print(f"[verify_corpus] {len(paths)} notebooks in {args.out}")
    bad = 0
    if args.check:
        for p in paths:
            ok, secs, err = execute(p)
            bad += not ok
            print(f"  {'ok  ' if ok else 'FAIL'} {secs:5.1f}s {p.name} {err}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
