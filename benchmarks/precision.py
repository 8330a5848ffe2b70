"""Precision of nbops' own rules on real notebooks, judged finding by finding (issue 16).

    python benchmarks/precision.py [--per-rule 10] [--seed 16] [--offline] [--report]

1. Lints real notebooks: the ``.ipynb`` files shipped in the pinned sdists below (fetched with
   ``pip download --no-deps --no-binary :all:`` into benchmarks/.cache/sdists/, the cache
   make_corpus.py uses) and examples/*.ipynb, all NB rules, no format check, no cache.
2. Samples up to ``--per-rule`` findings per rule. The sample is stable: findings are ordered
   by a seeded hash of their key (notebook, cell, code, message), so a re-run picks the same
   ones and a new finding only enters when its hash is among the lowest.
3. Merges the sample into benchmarks/precision/judged.json: verdicts ("right" / "wrong") and
   reasons already written are kept; new entries get ``"verdict": null`` with the cell's source
   as context, to be judged by reading it. Entries judged before and no longer found stay in
   the file under ``"gone"`` so no judgement is lost.
4. Prints precision per rule and per family (judged entries only) and, with ``--report``,
   writes it into docs/benchmarks.md between the ``precision`` markers.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tarfile
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import harness

from nbops.config import Config
from nbops.core.notebook import notebook_from_bytes
from nbops.lint.codes import FAMILIES
from nbops.lint.engine import Linter

SDISTS = [
    ("papermill", "2.7.0"),
    ("nbconvert", "7.17.2"),
    ("nbformat", "5.11.1"),
    ("nbclient", "0.11.0"),
    ("nbval", "0.11.0"),
    ("nbsphinx", "0.9.8"),
    ("scrapbook", "0.5.0"),
    ("lmfit", "1.3.4"),
    ("hvplot", "0.12.2"),
    ("holoviews", "1.23.2"),
    ("ipython", "8.37.0"),
]
CACHE = harness.HERE / ".cache" / "sdists"
OUT = harness.HERE / "precision"
JUDGED = OUT / "judged.json"
DOC = harness.REPO / "docs" / "benchmarks.md"
BEGIN, END = "<!-- precision:begin -->", "<!-- precision:end -->"
CONTEXT_CHARS = 1500
log = harness.logger("precision")


def notebooks(offline: bool) -> list[tuple[str, bytes]]:
    """(origin, bytes) of every notebook in the pinned sdists and examples/, sorted."""
    CACHE.mkdir(parents=True, exist_ok=True)
    found: list[tuple[str, bytes]] = []
    for name, version in SDISTS:
        tarball = CACHE / f"{name}-{version}.tar.gz"
        if not tarball.exists() and not offline:
            log(f"downloading {name}=={version}")
            harness.download_sdist(name, version, CACHE)
        if not tarball.exists():
            log(f"skipping {name}=={version}: no sdist in {CACHE.relative_to(harness.REPO)}")
            continue
        with tarfile.open(tarball) as tar:
            for member in tar.getmembers():
                if member.isfile() and member.name.endswith(".ipynb"):
                    data = tar.extractfile(member)
                    if data is not None:
                        found.append((member.name, data.read()))
    for path in sorted((harness.REPO / "examples").glob("*.ipynb")):
        found.append((str(path.relative_to(harness.REPO)), path.read_bytes()))
    return sorted(found)


def findings(sources: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
    """Every NB finding, with the source of its cell as context."""
    linter = Linter(Config(), select=["NB"], format_check=False, cache=False)
    out: list[dict[str, Any]] = []
    for origin, raw in sources:
        try:
            nb = notebook_from_bytes(raw, path=Path(origin))
        except Exception as exc:  # noqa: BLE001 (a broken test notebook is skipped, named)
            log(f"unreadable, skipped: {origin} ({type(exc).__name__})")
            continue
        for d in linter.lint_notebook(nb):
            if not d.code.startswith("NB") or d.code in ("NB005",):
                continue
            cell = d.cell_index
            context = ""
            if cell is not None and 0 <= cell < len(nb.cells):
                context = nb.cells[cell].source[:CONTEXT_CHARS]
            out.append({
                "key": f"{origin}|{cell}|{d.code}|{d.message}",
                "notebook": origin,
                "cell": None if cell is None else cell + 1,
                "line": d.line,
                "code": d.code,
                "severity": d.severity,
                "message": d.message,
                "context": context,
                "cells": len(nb.cells),
                "counts": sum(1 for c in nb.cells if c.is_code and c.execution_count is not None),
                "code_cells": sum(1 for c in nb.cells if c.is_code),
            })
    return out


def sample(found: list[dict[str, Any]], per_rule: int, seed: int) -> list[dict[str, Any]]:
    def rank(f: dict[str, Any]) -> str:
        return hashlib.sha256(f"{seed}|{f['key']}".encode()).hexdigest()

    by_rule: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for f in found:
        by_rule[f["code"]].append(f)
    picked: list[dict[str, Any]] = []
    for code in sorted(by_rule):
        picked += sorted(by_rule[code], key=rank)[:per_rule]
    return picked


def merge(picked: list[dict[str, Any]], judged: Path = JUDGED) -> dict[str, Any]:
    """The new sample with the verdicts of ``judged`` carried over by key."""
    old: dict[str, Any] = json.loads(judged.read_text()) if judged.exists() else {}
    known = {e["key"]: e for e in [*old.get("entries", []), *old.get("gone", [])]}
    entries = []
    for f in picked:
        prev = known.pop(f["key"], {})
        entries.append({**f, "verdict": prev.get("verdict"), "reason": prev.get("reason", "")})
    gone = [e for e in known.values() if e.get("verdict")]
    return {"entries": entries, "gone": gone}


def precision(entries: list[dict[str, Any]]) -> tuple[list[list[Any]], list[list[Any]]]:
    right: Counter[str] = Counter()
    judged: Counter[str] = Counter()
    for e in entries:
        if e["verdict"] in ("right", "wrong"):
            judged[e["code"]] += 1
            right[e["code"]] += e["verdict"] == "right"

    def pct(r: int, n: int) -> str:
        return f"{100 * r / n:.0f}%" if n else "-"

    rules = [[c, judged[c], right[c], pct(right[c], judged[c])] for c in sorted(judged)]
    families = []
    for fam, name in FAMILIES.items():
        codes = [c for c in judged if c.startswith(fam)]
        n, r = sum(judged[c] for c in codes), sum(right[c] for c in codes)
        if n:
            families.append([f"{fam} {name}", len(codes), n, r, pct(r, n)])
    return rules, families


def report(data: dict[str, Any], totals: Counter[str], notebooks_linted: int, per_rule: int,
           seed: int) -> str:
    rules, families = precision(data["entries"])
    lines = [
        (
            f"{notebooks_linted} real notebooks (the `.ipynb` files of {len(SDISTS)} pinned "
            f"sdists and examples/), all NB rules, `--no-format`; up to {per_rule} findings per "
            f"rule sampled with seed {seed}; {sum(r[1] for r in rules)} findings judged."
        ),
        "",
        "By family:",
        "",
        *harness.md_table(["family", "rules", "judged", "right", "precision"], families, "lrrrr"),
        "",
        "By rule (found = all findings of the rule in the corpus):",
        "",
        *harness.md_table(
            ["rule", "found", "judged", "right", "precision"],
            [[r[0], totals[r[0]], *r[1:]] for r in rules],
            "lrrrr",
        ),
    ]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--per-rule", type=int, default=10)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--offline", action="store_true", help="use cached sdists only")
    ap.add_argument("--report", action="store_true", help="write the tables into docs/benchmarks.md")
    args = ap.parse_args()
    sources = notebooks(args.offline)
    found = findings(sources)
    totals = Counter(f["code"] for f in found)
    data = merge(sample(found, args.per_rule, args.seed))
    OUT.mkdir(parents=True, exist_ok=True)
    harness.write_json(JUDGED, data)
    todo = [e for e in data["entries"] if e["verdict"] is None]
    body = report(data, totals, len(sources), args.per_rule, args.seed)
    print(body)
    if todo:
        print(f"\n{len(todo)} finding(s) not judged yet in {JUDGED.relative_to(harness.REPO)}",
              file=sys.stderr)
    if args.report:
        DOC.write_text(harness.splice(DOC.read_text(), BEGIN, END, f"{BEGIN}\n{body}\n{END}"))
        log(f"wrote {DOC.relative_to(harness.REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
