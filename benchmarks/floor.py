"""The floor of a linter written in Python: read every notebook and parse every code cell, nothing else.

``python benchmarks/floor.py FOLDER``. Any Python notebook linter with rules on the syntax
tree does at least this: decode each ``.ipynb`` (``json``) and ``ast.parse`` each code cell
(IPython's ``%``/``!`` lines dropped, the way nbops masks them). No rule, no analysis, no ruff.
``run.py --only issue16`` measures it beside bare ``ruff check`` to show how much of the
``--no-format <= 2x ruff`` budget is spent before a single rule runs.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
import warnings
from pathlib import Path


def cells(nb: object) -> list[str]:
    if not isinstance(nb, dict):
        return []
    out = []
    for cell in nb.get("cells") or []:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        out.append("".join(src) if isinstance(src, list) else str(src))
    return out


def main(folder: Path) -> int:
    parsed = 0
    warnings.simplefilter("ignore")  # SyntaxWarnings of invalid escapes, as a linter silences them
    for path in sorted(folder.rglob("*.ipynb")):
        try:
            nb = json.loads(path.read_bytes())
        except ValueError:
            continue
        for src in cells(nb):
            code = "\n".join(
                "" if line.lstrip().startswith(("%", "!")) else line for line in src.splitlines()
            )
            try:
                ast.parse(code)
            except (SyntaxError, ValueError):
                continue
            parsed += 1
    print(f"{parsed} code cells parsed")
    return 0


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", type=Path, help="the notebooks (searched recursively)")
    sys.exit(main(ap.parse_args().folder))
