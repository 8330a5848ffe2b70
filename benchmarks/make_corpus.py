#!/usr/bin/env python3
"""Build the nbops benchmark corpus: ~300 real and realistic notebooks.

Deterministic: the same --seed, --count, pinned sdists and examples/ give
byte-identical files (the summary prints a fingerprint to compare).

Sources
  * the .ipynb files inside the sdists of a few Jupyter packages (pinned in
    SDISTS below), fetched with ``pip download --no-deps --no-binary :all:``
    into benchmarks/.cache/sdists/ and read straight from the tarballs;
  * the project's own examples/*.ipynb (whatever exists when this runs);
  * generated notebooks: messy variants of the real ones (shuffled execution
    counts, magics, long cells, image outputs, syntax errors, stripped
    outputs, cells concatenated from several notebooks), 100-300 cell
    notebooks, notebooks with multi-MB outputs, synthetic data-science
    notebooks, and ~1% broken files (truncated JSON, merge-conflict markers,
    empty file).

The corpus is laid out in blocks of 100 slots with a fixed mix per block,
shuffled with the seed, and drawn from one sequential RNG: the first 300
notebooks of ``--count 1200`` are the ``--count 300`` corpus, so the memory
sweep (300/600/1200) compares folders with the same mix.

Usage
  python benchmarks/make_corpus.py                      # -> benchmarks/corpus/
  python benchmarks/make_corpus.py --count 1200 --out benchmarks/.cache/corpus-1200
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import random
import re
import shutil
import struct
import sys
import tarfile
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness import download_sdist

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
CACHE = HERE / ".cache"
DEFAULT_OUT = HERE / "corpus"
DEFAULT_SEED = 20240611

# Pinned sdists whose test/doc notebooks seed the corpus.  nbdime was tried
# and dropped: its sdist needs a jupyterlab build just for pip to read its
# metadata, so `pip download --no-binary :all:` fails.  ipywidgets' sdist
# ships no notebooks.
SDISTS = [
    ("papermill", "2.7.0"),
    ("nbconvert", "7.17.2"),
    ("nbformat", "5.11.1"),
    ("nbclient", "0.11.0"),
    ("nbval", "0.11.0"),
    ("jupytext", "1.19.6"),
]

# Fixed mix per block of 100 notebooks (sums to 100).
BLOCK = {
    "real": 30,  # a real notebook, as shipped
    "variant": 35,  # real cells made messy, 10-50 cells
    "synthetic": 27,  # generated data-science notebook, 10-50 cells
    "large100": 4,  # 100-150 cells
    "large300": 2,  # 250-300 cells
    "huge-output": 1,  # multi-MB outputs
    "broken": 1,  # not a readable notebook
}
assert sum(BLOCK.values()) == 100


# --------------------------------------------------------------------------
# sources
# --------------------------------------------------------------------------
@dataclass
class Source:
    origin: str  # "papermill-2.7.0/..." or "examples/x.ipynb"
    raw: bytes
    nb: Any = None  # parsed JSON, or None if not JSON
    python_v4: bool = False
    name: str = ""


def fetch_sdists(offline: bool) -> list[Path]:
    d = CACHE / "sdists"
    d.mkdir(parents=True, exist_ok=True)
    out = []
    for name, version in SDISTS:
        found = sorted(d.glob(f"{name}-{version}.tar.gz")) + sorted(d.glob(f"{name}-{version}.zip"))
        if not found and not offline:
            print(f"[corpus] downloading {name}=={version} sdist", file=sys.stderr)
            r = download_sdist(name, version, d)
            if r.returncode != 0:
                print(
                    f"[corpus] WARNING: could not download {name}=={version}:\n" + r.stderr[-1500:],
                    file=sys.stderr,
                )
            found = sorted(d.glob(f"{name}-{version}.tar.gz")) + sorted(
                d.glob(f"{name}-{version}.zip")
            )
        if not found:
            print(
                f"[corpus] WARNING: skipping {name}=={version} (no sdist in {d})", file=sys.stderr
            )
            continue
        out.append(found[0])
    return out


def is_python(nb: dict) -> bool:
    md = nb.get("metadata") or {}
    if not isinstance(md, dict):
        return False
    ks = md.get("kernelspec") or {}
    li = md.get("language_info") or {}
    lang = (ks.get("language") if isinstance(ks, dict) else None) or (
        li.get("name") if isinstance(li, dict) else None
    )
    return isinstance(lang, str) and lang.lower() == "python"


def load_sources(offline: bool) -> tuple[list[Source], list[Source], list[str]]:
    """(sdist sources, example sources, skipped descriptions)."""
    seen: set[str] = set()
    skipped: list[str] = []

    def make(origin: str, raw: bytes) -> Source | None:
        h = hashlib.sha256(raw).hexdigest()
        if h in seen:
            skipped.append(f"{origin} (duplicate)")
            return None
        seen.add(h)
        try:
            nb = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            skipped.append(f"{origin} (not valid JSON)")
            return None
        if not isinstance(nb, dict):
            skipped.append(f"{origin} (JSON but not an object)")
            return None
        s = Source(origin=origin, raw=raw, nb=nb, name=Path(origin).name)
        s.python_v4 = (
            nb.get("nbformat") == 4
            and isinstance(nb.get("cells"), list)
            and isinstance(nb.get("metadata"), dict)
            and is_python(nb)
        )
        return s

    sdist_sources: list[Source] = []
    for tb in fetch_sdists(offline):
        with tarfile.open(tb) as t:
            for m in sorted(t.getmembers(), key=lambda m: m.name):
                if m.isfile() and m.name.endswith(".ipynb"):
                    f = t.extractfile(m)
                    assert f is not None
                    s = make(m.name, f.read())
                    if s:
                        sdist_sources.append(s)
    examples: list[Source] = []
    for p in sorted((REPO / "examples").glob("*.ipynb")):
        s = make(f"examples/{p.name}", p.read_bytes())
        if s:
            examples.append(s)
    return sdist_sources, examples, skipped


# --------------------------------------------------------------------------
# notebook building helpers
# --------------------------------------------------------------------------
PY_METADATA = {
    "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
    "language_info": {
        "codemirror_mode": {"name": "ipython", "version": 3},
        "file_extension": ".py",
        "mimetype": "text/x-python",
        "name": "python",
        "nbconvert_exporter": "python",
        "pygments_lexer": "ipython3",
        "version": "3.11.7",
    },
}


def split_lines(text: str) -> list[str]:
    lines = text.splitlines(keepends=True)
    return lines


def src_text(cell: dict) -> str:
    s = cell.get("source", "")
    return "".join(s) if isinstance(s, list) else str(s)


def code(source: str, outputs: list | None = None, count: int | None = None, tags=None) -> dict:
    md: dict = {}
    if tags:
        md["tags"] = list(tags)
    return {
        "cell_type": "code",
        "execution_count": count,
        "metadata": md,
        "outputs": outputs or [],
        "source": split_lines(source.strip("\n")),
    }


def markdown(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": split_lines(source.strip("\n"))}


def stream(text: str, name: str = "stdout") -> dict:
    return {"name": name, "output_type": "stream", "text": split_lines(text)}


def result(count: int | None, text: str, html: str | None = None) -> dict:
    data: dict = {"text/plain": split_lines(text)}
    if html:
        data["text/html"] = split_lines(html)
    return {"data": data, "execution_count": count, "metadata": {}, "output_type": "execute_result"}


def png_output(png: bytes, text: str = "<Figure size 640x480 with 1 Axes>") -> dict:
    return {
        "data": {"image/png": base64.b64encode(png).decode("ascii") + "\n", "text/plain": [text]},
        "metadata": {},
        "output_type": "display_data",
    }


def error_output(ename: str, evalue: str, frames: list[str]) -> dict:
    return {
        "ename": ename,
        "evalue": evalue,
        "output_type": "error",
        "traceback": frames + [f"\x1b[0;31m{ename}\x1b[0m: {evalue}"],
    }


def make_png(rng: random.Random, target_bytes: int, width: int = 640) -> bytes:
    """A valid RGB PNG of roughly target_bytes (noise rows on a white page,
    like a dense scatter plot: incompressible where there is ink)."""
    row = width * 3
    noisy_rows = max(1, target_bytes // row)
    height = max(noisy_rows + 20, int(width * 0.75))
    noisy = set(rng.sample(range(height), min(noisy_rows, height)))
    white = b"\x00" + b"\xff" * row
    raw = bytearray()
    for y in range(height):
        raw += (b"\x00" + rng.randbytes(row)) if y in noisy else white

    def chunk(tag: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + tag
            + data
            + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"IDAT", zlib.compress(bytes(raw), 6))
        + chunk(b"IEND", b"")
    )


def realistic_png(rng: random.Random) -> bytes:
    # matplotlib figures in real notebooks: mostly 10-60 KB, some up to ~180 KB
    size = int(
        rng.choice([10, 15, 18, 22, 25, 30, 35, 45, 60, 90, 150]) * 1024 * rng.uniform(0.8, 1.2)
    )
    return make_png(rng, size)


def finish(
    nb_cells: list[dict], rng: random.Random, minor: int = 5, metadata: dict | None = None
) -> dict:
    nb = {
        "cells": nb_cells,
        "metadata": metadata if metadata is not None else json.loads(json.dumps(PY_METADATA)),
        "nbformat": 4,
        "nbformat_minor": minor,
    }
    fix_ids(nb, rng)
    return nb


_ID_RE = re.compile(r"^[a-zA-Z0-9-_]{1,64}$")


def fix_ids(nb: dict, rng: random.Random) -> None:
    """nbformat >= 4.5 needs unique cell ids; < 4.5 must not have them."""
    minor = nb.get("nbformat_minor", 0)
    used: set[str] = set()
    for c in nb["cells"]:
        if isinstance(minor, int) and minor >= 5:
            cid = c.get("id")
            if not isinstance(cid, str) or cid in used or not _ID_RE.match(cid):
                cid = f"{rng.getrandbits(32):08x}"
                while cid in used:
                    cid = f"{rng.getrandbits(32):08x}"
            c["id"] = cid
            used.add(cid)
            # keep a stable key order: id after cell_type, like Jupyter
            items = list(c.items())
            c.clear()
            c["cell_type"] = dict(items)["cell_type"]
            c["id"] = cid
            for k, v in items:
                if k not in ("cell_type", "id"):
                    c[k] = v
        else:
            c.pop("id", None)
        if c.get("cell_type") != "code":
            c.pop("outputs", None)
            c.pop("execution_count", None)


def dump(nb: Any) -> bytes:
    return (json.dumps(nb, indent=1, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


def renumber(cells: list[dict], rng: random.Random, mode: str) -> None:
    """mode: linear | shuffled | gaps | partial | none"""
    code_cells = [c for c in cells if c.get("cell_type") == "code"]
    n = len(code_cells)
    if mode == "linear":
        counts: list[int | None] = list(range(1, n + 1))
    elif mode == "shuffled":
        counts = list(range(1, n + 1))
        rng.shuffle(counts)
        # real hidden-state notebooks: some cells re-run later
        for i in rng.sample(range(n), k=min(n, max(1, n // 6))):
            counts[i] = n + rng.randint(1, 3 * n)
    elif mode == "gaps":
        c, counts = 0, []
        for _ in range(n):
            c += rng.choice([1, 1, 1, 2, 3, 7])
            counts.append(c)
    elif mode == "partial":
        counts = [i + 1 if rng.random() < 0.7 else None for i in range(n)]
    else:
        counts = [None] * n
    for cell, cnt in zip(code_cells, counts):
        cell["execution_count"] = cnt
        for o in cell.get("outputs", []):
            if o.get("output_type") == "execute_result":
                o["execution_count"] = cnt
        if cnt is None:
            cell["outputs"] = []


# --------------------------------------------------------------------------
# synthetic data-science notebooks
# --------------------------------------------------------------------------
DOMAINS = [
    {
        "slug": "churn",
        "title": "Customer churn prediction",
        "file": "customers.csv",
        "target": "churned",
        "num": ["tenure_months", "monthly_charges", "total_charges", "support_calls", "age"],
        "cat": ["contract", "payment_method", "region"],
        "task": "clf",
    },
    {
        "slug": "housing",
        "title": "House price regression",
        "file": "housing.csv",
        "target": "price",
        "num": ["sqft", "bedrooms", "bathrooms", "year_built", "lot_size", "distance_to_center"],
        "cat": ["neighborhood", "house_type"],
        "task": "reg",
    },
    {
        "slug": "sales",
        "title": "Weekly sales forecast",
        "file": "sales_2023.parquet",
        "target": "units_sold",
        "num": ["price", "discount", "store_size", "temperature", "fuel_price"],
        "cat": ["store_id", "dept", "holiday"],
        "task": "reg",
    },
    {
        "slug": "fraud",
        "title": "Card fraud detection",
        "file": "transactions.csv",
        "target": "is_fraud",
        "num": ["amount", "hour", "merchant_risk", "distance_km", "n_tx_24h"],
        "cat": ["merchant_category", "channel"],
        "task": "clf",
    },
    {
        "slug": "sensors",
        "title": "Sensor anomaly exploration",
        "file": "sensor_log.csv",
        "target": "failure",
        "num": ["temp_c", "vibration", "pressure", "rpm", "humidity"],
        "cat": ["machine", "line"],
        "task": "clf",
    },
    {
        "slug": "reviews",
        "title": "Review sentiment baseline",
        "file": "reviews.jsonl",
        "target": "label",
        "num": ["length", "n_exclaim", "stars"],
        "cat": ["product_group"],
        "task": "clf",
    },
    {
        "slug": "energy",
        "title": "Building energy usage",
        "file": "energy.csv",
        "target": "kwh",
        "num": ["area_m2", "occupants", "outside_temp", "insulation_score"],
        "cat": ["building_type", "climate_zone"],
        "task": "reg",
    },
]

NAMES_STYLE = [
    "{slug}_analysis",
    "{slug}-eda",
    "{slug}_model_v2",
    "Untitled{n}",
    "{slug}_analysis-Copy1",
    "{slug} exploration",
    "01_{slug}_baseline",
    "{slug}_final_FINAL",
    "scratch_{slug}",
    "Copy of {slug}_notebook",
    "{slug}_training",
    "report_{slug}",
]


def df_html(rng: random.Random, cols: list[str], nrows: int = 5) -> tuple[str, str]:
    head = "".join(f"      <th>{c}</th>\n" for c in cols)
    body = []
    rows_txt = []
    for i in range(nrows):
        vals = [
            (
                f"{rng.uniform(0, 1000):.2f}"
                if rng.random() < 0.7
                else rng.choice(["A", "B", "C", "north", "south"])
            )
            for _ in cols
        ]
        tds = "".join(f"      <td>{v}</td>\n" for v in vals)
        body.append(f"    <tr>\n      <th>{i}</th>\n{tds}    </tr>\n")
        rows_txt.append(f"{i:<4}" + "  ".join(f"{v:>10}" for v in vals))
    html = (
        "<div>\n<style scoped>\n    .dataframe tbody tr th:only-of-type {\n        vertical-align: middle;\n    }\n"
        '</style>\n<table border="1" class="dataframe">\n  <thead>\n    <tr style="text-align: right;">\n      <th></th>\n'
        + head
        + "    </tr>\n  </thead>\n  <tbody>\n"
        + "".join(body)
        + "  </tbody>\n</table>\n</div>"
    )
    text = "    " + "  ".join(f"{c:>10}" for c in cols) + "\n" + "\n".join(rows_txt)
    return text, html


class Synth:
    """Generates the cells of a data-science notebook, section by section."""

    def __init__(self, rng: random.Random, messy: float):
        self.rng = rng
        self.messy = messy  # 0 = tidy, 1 = very messy
        self.d = rng.choice(DOMAINS)

    def m(self, p: float) -> bool:
        return self.rng.random() < p * self.messy

    def imports(self) -> dict:
        r = self.rng
        lines = ["import numpy as np", "import pandas as pd", "import matplotlib.pyplot as plt"]
        if r.random() < 0.6:
            lines.append("import seaborn as sns")
        if self.d["task"] == "clf":
            lines += [
                "from sklearn.linear_model import LogisticRegression",
                "from sklearn.ensemble import RandomForestClassifier",
                "from sklearn.metrics import accuracy_score, roc_auc_score, classification_report",
            ]
        else:
            lines += [
                "from sklearn.linear_model import Ridge",
                "from sklearn.ensemble import GradientBoostingRegressor",
                "from sklearn.metrics import mean_absolute_error, r2_score",
            ]
        lines.append("from sklearn.model_selection import train_test_split")
        if self.m(0.5):
            lines += ["import os, sys", "import warnings", "warnings.filterwarnings('ignore')"]
        if self.m(0.3):
            lines.append("from pathlib import *")
        if self.m(0.4):
            lines.append("import json, pickle, re, time  # some unused")
        r.shuffle(lines) if self.m(0.3) else None
        return code("\n".join(lines))

    def magics(self) -> list[dict]:
        out = []
        if self.rng.random() < 0.6:
            out.append(code("%matplotlib inline"))
        if self.m(0.5):
            out.append(code("%load_ext autoreload\n%autoreload 2"))
        if self.m(0.4):
            out.append(
                code(
                    "!pip install -q xgboost shap==0.44.0",
                    [stream("Note: you may need to restart the kernel to use updated packages.\n")],
                )
            )
        return out

    def config(self) -> dict:
        d = self.d
        if self.m(0.5):
            path = self.rng.choice(
                [
                    f"/home/alice/projects/{d['slug']}/data/{d['file']}",
                    f"C:\\\\Users\\\\bob\\\\Desktop\\\\{d['file']}",
                    f"/Users/carol/Downloads/{d['file']}",
                ]
            )
        else:
            path = f"data/{d['file']}"
        lines = [f'DATA_PATH = "{path}"']
        if self.rng.random() < 0.5:
            lines.append("SEED = 42")
        lines.append(f'TARGET = "{d["target"]}"')
        if self.m(0.25):
            lines.append(
                'API_KEY = "sk-live-'
                + "".join(self.rng.choice("abcdef0123456789") for _ in range(32))
                + '"'
            )
        if self.m(0.2):
            lines.append('os.chdir("/tmp/work")')
        tags = ["parameters"] if self.rng.random() < 0.3 else None
        return code("\n".join(lines), tags=tags)

    def load(self) -> list[dict]:
        d = self.d
        reader = {"csv": "read_csv", "parquet": "read_parquet", "jsonl": "read_json"}[
            d["file"].rsplit(".", 1)[1]
        ]
        extra = ", lines=True" if reader == "read_json" else ""
        src = f"df = pd.{reader}(DATA_PATH{extra})\ndf.shape"
        if self.m(0.2):
            src = f'df = pd.read_csv("https://example.org/datasets/{d["file"]}")\ndf.shape'
        n = self.rng.randint(2000, 200000)
        cols = d["num"] + d["cat"] + [d["target"]]
        text, html = df_html(self.rng, cols)
        return [
            code(src, [result(None, f"({n}, {len(cols)})")]),
            code("df.head()", [result(None, text, html)]),
        ]

    def inspect(self) -> list[dict]:
        d = self.d
        cells = [
            markdown("## Data overview"),
            code(
                "df.info()",
                [
                    stream(
                        "<class 'pandas.core.frame.DataFrame'>\nRangeIndex: 48210 entries, 0 to 48209\n"
                        + "".join(
                            f" {i}   {c:<20} 48210 non-null  float64\n"
                            for i, c in enumerate(d["num"])
                        )
                        + f"dtypes: float64({len(d['num'])}), object({len(d['cat'])})\nmemory usage: 4.2+ MB\n"
                    )
                ],
            ),
        ]
        text, html = df_html(self.rng, d["num"], 8)
        cells.append(code("df.describe()", [result(None, text, html)]))
        cells.append(
            code(
                "df.isna().sum()",
                [
                    result(
                        None,
                        "\n".join(f"{c:<22}{self.rng.randint(0, 300)}" for c in d["num"] + d["cat"])
                        + "\ndtype: int64",
                    )
                ],
            )
        )
        if self.m(0.5):
            cells.append(code("df.columns"))
        if self.m(0.4):
            cells.append(code(""))  # empty cell
        return cells

    def clean(self) -> list[dict]:
        d = self.d
        num = d["num"]
        lines = [f"df = df.dropna(subset=['{d['target']}'])"]
        for c in self.rng.sample(num, k=min(2, len(num))):
            if self.m(0.5):
                lines.append(f"df['{c}']=df['{c}'].fillna(df['{c}'].median())")
            else:
                lines.append(f'df["{c}"] = df["{c}"].fillna(df["{c}"].median())')
        for c in d["cat"]:
            lines.append(f'df["{c}"] = df["{c}"].astype("category")')
        cells = [
            markdown(
                "## Cleaning\n\nDrop rows without a target, impute numeric columns with the median."
            ),
            code("\n".join(lines)),
        ]
        if self.m(0.5):
            cells.append(
                code(
                    f"df = df[df['{num[0]}'] < df['{num[0]}'].quantile(0.99)]\nprint(len(df))",
                    [stream(f"{self.rng.randint(1000, 90000)}\n")],
                )
            )
        return cells

    def eda(self) -> list[dict]:
        d, r = self.d, self.rng
        cells = [markdown("## Exploratory analysis")]
        for c in r.sample(d["num"], k=min(len(d["num"]), r.randint(1, 3))):
            src = (
                f"fig, ax = plt.subplots(figsize=(8, 4))\n"
                f'df["{c}"].hist(bins=50, ax=ax)\n'
                f'ax.set_title("{c} distribution")\nplt.show()'
            )
            outs = (
                [png_output(realistic_png(r), "<Figure size 800x400 with 1 Axes>")]
                if r.random() < 0.9
                else []
            )
            cells.append(code(src, outs))
        if r.random() < 0.6:
            cells.append(
                code(
                    "corr = df.select_dtypes('number').corr()\n"
                    "sns.heatmap(corr, annot=True, fmt='.2f', cmap='coolwarm')\nplt.show()",
                    [png_output(realistic_png(r), "<Figure size 640x480 with 2 Axes>")],
                )
            )
        if self.m(0.5):
            cells.append(
                code(
                    f"df.groupby('{d['cat'][0]}')['{d['target']}'].mean().plot(kind='bar')",
                    [
                        result(None, "<Axes: xlabel='{}'>".format(d["cat"][0])),
                        png_output(realistic_png(r)),
                    ],
                )
            )
        return cells

    def long_cell(self) -> dict:
        """A 60-150 line cell of helper functions and feature engineering."""
        d, r = self.d, self.rng
        out = ["# feature engineering (copied from the old pipeline)"]
        for i in range(r.randint(6, 16)):
            c = r.choice(d["num"])
            out += [
                f"def feat_{c}_{i}(frame, window={r.randint(2, 30)}):",
                f'    s = frame["{c}"].rolling(window, min_periods=1).mean()',
                "    s = (s - s.mean()) / (s.std() + 1e-9)",
                f"    return s.clip(-{r.randint(3, 5)}, {r.randint(3, 5)})",
                "",
            ]
        out.append(
            "for fn in [{}]:".format(", ".join(f"feat_{r.choice(d['num'])}_0" for _ in range(1)))
        )
        out.append("    df[fn.__name__] = fn(df)")
        out += [f'df["{a}_x_{b}"] = df["{a}"] * df["{b}"]' for a, b in zip(d["num"], d["num"][1:])]
        if self.m(0.5):
            out.append(
                "x = "
                + " + ".join(f"df['{c}'].mean()" for c in d["num"] * 3)
                + "  # a very long line nobody wrapped"
            )
        return code("\n".join(out))

    def model(self) -> list[dict]:
        d, r = self.d, self.rng
        seeded = not self.m(0.6)
        rs = ", random_state=SEED" if seeded else ""
        feats = d["num"]
        split = (
            f"X = df[{feats!r}]\ny = df[TARGET]\n"
            f"X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2{rs})"
        )
        if d["task"] == "clf":
            est = r.choice(
                [
                    f"LogisticRegression(max_iter=1000{rs.replace('random_state=SEED', 'random_state=SEED') if seeded else ''})",
                    f"RandomForestClassifier(n_estimators={r.choice([100, 200, 500])}{rs})",
                ]
            )
            metric = (
                "pred = model.predict_proba(X_test)[:, 1]\n"
                "print('AUC', roc_auc_score(y_test, pred))\n"
                "print(classification_report(y_test, pred > 0.5))"
            )
            out = stream(
                f"AUC {r.uniform(0.6, 0.95):.4f}\n              precision    recall  f1-score   support\n\n"
                f"       False       0.{r.randint(70, 99)}      0.{r.randint(70, 99)}      0.{r.randint(70, 99)}      {r.randint(1000, 9000)}\n"
                f"        True       0.{r.randint(30, 80)}      0.{r.randint(30, 80)}      0.{r.randint(30, 80)}       {r.randint(100, 900)}\n"
            )
        else:
            est = r.choice(
                [
                    f"Ridge(alpha={r.choice([0.1, 1.0, 10.0])})",
                    f"GradientBoostingRegressor(n_estimators={r.choice([100, 300])}{rs})",
                ]
            )
            metric = (
                "pred = model.predict(X_test)\n"
                "print(f'MAE={mean_absolute_error(y_test, pred):.3f}  R2={r2_score(y_test, pred):.3f}')"
            )
            out = stream(f"MAE={r.uniform(1, 5000):.3f}  R2={r.uniform(0.3, 0.95):.3f}\n")
        cells = [
            markdown("## Model"),
            code(split),
            code(
                f"model = {est}\nmodel.fit(X_train, y_train)",
                [result(None, est.replace(rs, "").replace("SEED", "42"))],
            ),
            code(metric, [out]),
        ]
        if self.m(0.3):
            cells.append(
                code("import pdb; pdb.set_trace()" if r.random() < 0.5 else "breakpoint()")
            )
        if self.m(0.3):
            cells.append(
                code(
                    "from sklearn.model_selection import cross_val_score\n"
                    "scores = cross_val_score(model, X, y, cv=5)\nscores.mean()",
                    [result(None, f"{r.uniform(0.5, 0.9):.6f}")],
                )
            )
        if r.random() < 0.4:
            cells.append(
                code(
                    "importances = pd.Series(model.feature_importances_ if hasattr(model, 'feature_importances_') else model.coef_.ravel(), index=X.columns)\n"
                    "importances.sort_values().plot.barh()\nplt.tight_layout()",
                    [png_output(realistic_png(r))],
                )
            )
        return cells

    def error_cell(self) -> dict:
        d = self.d
        return code(
            f"df['{d['num'][0]}_log'] = np.log(df['{d['num'][0]}_raw'])",
            [
                error_output(
                    "KeyError",
                    f"'{d['num'][0]}_raw'",
                    [
                        "\x1b[0;31m---------------------------------------------------------------------------\x1b[0m",
                        "\x1b[0;31mKeyError\x1b[0m                                  Traceback (most recent call last)",
                        "File \x1b[0;32m~/venv/lib/python3.11/site-packages/pandas/core/indexes/base.py:3805\x1b[0m, in \x1b[0;36mIndex.get_loc\x1b[0;34m(self, key)\x1b[0m",
                    ],
                )
            ],
        )

    def save(self) -> list[dict]:
        d = self.d
        cells = [
            code(
                f"import joblib\njoblib.dump(model, 'models/{d['slug']}_model.joblib')",
                [result(None, f"['models/{d['slug']}_model.joblib']")],
            )
        ]
        if self.m(0.3):
            cells.append(
                code(f"df.to_csv('/home/alice/shared/{d['slug']}_clean.csv', index=False)")
            )
        return cells

    def notebook_cells(self, lo: int, hi: int) -> list[dict]:
        d, r = self.d, self.rng
        cells: list[dict] = []
        if not self.m(0.4):
            cells.append(
                markdown(
                    f"# {d['title']}\n\nQuick analysis of `{d['file']}`; target is `{d['target']}`."
                )
            )
        cells += self.magics()
        cells.append(self.imports())
        cells.append(self.config())
        cells += self.load()
        cells += self.inspect()
        cells += self.clean()
        cells += self.eda()
        if r.random() < 0.5:
            cells.append(self.long_cell())
        if self.m(0.3):
            cells.append(self.error_cell())
        cells += self.model()
        cells += self.save()
        if not self.m(0.5):
            cells.append(
                markdown(
                    "## Conclusion\n\nThe baseline works; next: tune hyper-parameters and add features."
                )
            )
        target = r.randint(lo, hi)
        # grow toward the target size with more EDA / modelling iterations
        while len(cells) < target:
            more = r.choice([self.eda, self.model, self.clean, self.inspect])()
            pos = r.randint(max(1, len(cells) // 3), len(cells))
            cells[pos:pos] = more
        return cells[: max(target, lo)]


def synthetic(rng: random.Random, lo: int, hi: int) -> tuple[dict, str]:
    messy = rng.choice([0.0, 0.3, 0.6, 1.0, 1.0])
    s = Synth(rng, messy)
    cells = s.notebook_cells(lo, hi)
    renumber(
        cells,
        rng,
        rng.choice(["linear", "linear", "shuffled", "gaps", "partial"]) if messy else "linear",
    )
    nb = finish(cells, rng, minor=rng.choice([4, 5, 5]))
    name = rng.choice(NAMES_STYLE).format(slug=s.d["slug"], n=rng.choice(["", "1", "2", "7"]))
    return nb, name


# --------------------------------------------------------------------------
# variants of real notebooks
# --------------------------------------------------------------------------
MAGICS = [
    "%matplotlib inline",
    "%%time\n",
    "%load_ext autoreload\n%autoreload 2",
    "!pip install -q pandas",
    "%timeit sum(range(1000))",
    "!ls -la data/",
    "%cd ..",
    "%pdb on",
    "%%capture\nimport noisy_module",
    "%env CUDA_VISIBLE_DEVICES=0",
    "%config InlineBackend.figure_format = 'retina'",
    "%%bash\necho hello\nls",
    "%%writefile helper.py\ndef f(x):\n    return x + 1",
]

SYNTAX_ERRORS = [
    "def broken(x)\n    return x",
    "print('unterminated)",
    "for i in range(3):\nprint(i)",
    "x = [1, 2, 3\ny = 4",
    "if x == 1\n    pass",
    "return_value = = 3",
    "class A:\n  def f(self):\n      pass\n    x = 1",
]


def clone(x: Any) -> Any:
    return json.loads(json.dumps(x))


def real_cells(pool: list[Source], rng: random.Random, k: int) -> list[dict]:
    out: list[dict] = []
    while len(out) < k:
        s = rng.choice(pool)
        cells = [
            c
            for c in s.nb["cells"]
            if isinstance(c, dict) and c.get("cell_type") in ("code", "markdown", "raw")
        ]
        if not cells:
            continue
        start = rng.randrange(len(cells))
        out += clone(cells[start : start + rng.randint(1, 12)])
    return out[:k]


def apply_mess(cells: list[dict], rng: random.Random, kinds: list[str]) -> list[str]:
    done = []
    if "magics" in kinds:
        for _ in range(rng.randint(1, 4)):
            cells.insert(rng.randint(0, len(cells)), code(rng.choice(MAGICS)))
        done.append("magics")
    if "long-cell" in kinds:
        cells.insert(rng.randint(0, len(cells)), Synth(rng, 1.0).long_cell())
        done.append("long-cell")
    if "images" in kinds:
        for c in rng.sample([c for c in cells if c.get("cell_type") == "code"] or [], k=0) or []:
            pass
        code_cells = [c for c in cells if c.get("cell_type") == "code"]
        for c in rng.sample(code_cells, k=min(len(code_cells), rng.randint(1, 4))):
            c.setdefault("outputs", []).append(png_output(realistic_png(rng)))
        done.append("images")
    if "syntax-error" in kinds:
        code_cells = [c for c in cells if c.get("cell_type") == "code"]
        if code_cells:
            rng.choice(code_cells)["source"] = split_lines(rng.choice(SYNTAX_ERRORS))
            done.append("syntax-error")
    if "duplicates" in kinds:
        for _ in range(rng.randint(1, 5)):
            i = rng.randrange(len(cells))
            cells.insert(i + 1, clone(cells[i]))
        done.append("duplicates")
    if "empty-cells" in kinds:
        for _ in range(rng.randint(1, 3)):
            cells.insert(rng.randint(0, len(cells)), code(rng.choice(["", "\n", "   "])))
        done.append("empty-cells")
    if "stripped" in kinds:
        for c in cells:
            if c.get("cell_type") == "code":
                c["outputs"] = []
                c["execution_count"] = None
        done.append("stripped")
    return done


def variant(
    rng: random.Random, pool: list[Source], lo: int, hi: int, synth_share: float = 0.4
) -> tuple[dict, str, str]:
    base = rng.choice(pool)
    nb = clone(base.nb)
    cells = [c for c in nb["cells"] if isinstance(c, dict)]
    target = rng.randint(lo, hi)
    # grow: concatenate cells from other real notebooks and synthetic sections
    while len(cells) < target:
        if rng.random() < synth_share:
            s = Synth(rng, rng.random())
            cells += rng.choice([s.eda, s.model, s.clean, s.inspect, s.load])()
        else:
            cells += real_cells(pool, rng, rng.randint(3, 15))
    cells = cells[:target]
    mess = [
        k
        for k, p in [
            ("magics", 0.5),
            ("long-cell", 0.3),
            ("images", 0.4),
            ("syntax-error", 0.12),
            ("duplicates", 0.3),
            ("empty-cells", 0.3),
            ("stripped", 0.15),
        ]
        if rng.random() < p
    ]
    done = apply_mess(cells, rng, mess)
    if "stripped" not in done:
        mode = rng.choice(["shuffled", "shuffled", "gaps", "partial", "linear"])
        renumber(cells, rng, mode)
        done.append("exec-" + mode)
    nb["cells"] = cells
    minor = nb.get("nbformat_minor", 4)
    if not isinstance(minor, int) or minor < 4:
        nb["nbformat_minor"] = 4  # concatenated cells may carry 4.x fields
    fix_ids(nb, rng)
    stem = Path(base.name).stem
    return (
        nb,
        stem + rng.choice(["", "_v2", "-Copy1", " (edited)", "_wip", "_old"]),
        "+".join(done) + f" from {base.origin}",
    )


def huge_output(rng: random.Random, pool: list[Source]) -> tuple[dict, str, str]:
    """2-8 MB: many large figures plus a giant printed frame, as people commit."""
    s = Synth(rng, 0.8)
    cells = s.notebook_cells(15, 35)
    target_mb = rng.uniform(2.0, 8.0)
    code_cells = [c for c in cells if c.get("cell_type") == "code"]
    size = 0
    while size < target_mb * 1024 * 1024 * 0.75:  # base64 adds a third
        png = make_png(rng, int(rng.uniform(150, 400) * 1024))
        rng.choice(code_cells).setdefault("outputs", []).append(png_output(png))
        size += len(png)
    rows = rng.randint(8000, 20000)
    text = "".join(
        f"{i:<7}{rng.uniform(0, 1e4):>12.3f}{rng.uniform(-1, 1):>12.5f}  {rng.choice(['north', 'south', 'east', 'west'])}\n"
        for i in range(rows)
    )
    cells.append(
        code("pd.set_option('display.max_rows', None)\nprint(df.to_string())", [stream(text)])
    )
    renumber(cells, rng, rng.choice(["linear", "shuffled"]))
    nb = finish(cells, rng)
    return (
        nb,
        f"{s.d['slug']}_with_all_outputs",
        f"~{target_mb:.1f} MB of images + {rows} printed rows",
    )


def broken(rng: random.Random, pool: list[Source], i: int) -> tuple[bytes, str, str]:
    kind = ["truncated", "conflict", "empty", "truncated"][i % 4]
    base = rng.choice(pool)
    raw = dump(base.nb)
    if kind == "truncated":  # editor / disk died mid-save
        return (
            raw[: int(len(raw) * rng.uniform(0.3, 0.9))],
            Path(base.name).stem + "_autosave",
            f"truncated JSON of {base.origin}",
        )
    if kind == "conflict":  # committed merge conflict
        lines = raw.decode("utf-8").splitlines(keepends=True)
        a = rng.randrange(len(lines) // 3, max(len(lines) // 3 + 1, 2 * len(lines) // 3))
        b = min(len(lines), a + rng.randint(2, 8))
        mid = "".join(lines[a:b])
        text = (
            "".join(lines[:a])
            + "<<<<<<< HEAD\n"
            + mid
            + "=======\n"
            + mid.replace("1", "2")
            + ">>>>>>> feature/cleanup\n"
            + "".join(lines[b:])
        )
        return (
            text.encode("utf-8"),
            Path(base.name).stem + "_merge",
            f"merge-conflict markers in {base.origin}",
        )
    return b"", "Untitled", "empty file (0 bytes)"


# --------------------------------------------------------------------------
# assembly
# --------------------------------------------------------------------------
@dataclass
class Entry:
    path: str
    kind: str
    origin: str
    bytes: int
    cells: int | None
    sha256: str


@dataclass
class Builder:
    out: Path
    rng: random.Random
    sdist: list[Source]
    examples: list[Source]
    entries: list[Entry] = field(default_factory=list)
    counters: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.real_stream = list(self.examples) + self.shuffled(self.sdist)
        # variant material: Python nbformat-4 notebooks, minus the multi-MB one
        # (its outputs would turn every variant into a multi-MB notebook;
        # examples/ are left out of it on purpose, so that adding or editing an
        # example changes only the slots the examples fill, not every variant)
        self.py_pool = [s for s in self.sdist if s.python_v4 and len(s.raw) < 1024**2]
        if not self.py_pool:  # offline with no cached sdists: vary the examples instead
            self.py_pool = [s for s in self.examples if s.python_v4 and len(s.raw) < 1024**2]

    def shuffled(self, xs: list) -> list:
        xs = list(xs)
        self.rng.shuffle(xs)
        return xs

    def write(self, kind: str, name: str, data: bytes, origin: str, cells: int | None) -> None:
        idx = len(self.entries)
        safe = "".join(ch if ch not in '/\\:*?"<>|' else "_" for ch in name)[:80]
        rel = f"{kind}/{idx:04d}-{safe}.ipynb"
        p = self.out / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data)
        self.entries.append(
            Entry(rel, kind, origin, len(data), cells, hashlib.sha256(data).hexdigest())
        )

    def add(self, kind: str) -> None:
        rng = self.rng
        n = self.counters[kind]
        self.counters[kind] += 1
        if kind == "real":
            src = self.real_stream[n % len(self.real_stream)]
            if n < len(self.real_stream):
                data, origin = src.raw, src.origin
            else:  # pool exhausted (big corpora): a re-run copy of a real notebook
                nb = clone(src.nb)
                if isinstance(nb.get("cells"), list) and nb.get("nbformat") == 4:
                    renumber(nb["cells"], rng, rng.choice(["shuffled", "gaps"]))
                data, origin = dump(nb), f"re-run copy of {src.origin}"
            cells = len(src.nb["cells"]) if isinstance(src.nb.get("cells"), list) else None
            self.write("real", Path(src.name).stem, data, origin, cells)
        elif kind == "variant":
            lo, hi = rng.choice([(10, 20), (15, 35), (20, 50), (30, 50)])
            nb, name, origin = variant(rng, self.py_pool, lo, hi)
            self.write("variant", name, dump(nb), origin, len(nb["cells"]))
        elif kind == "synthetic":
            nb, name = synthetic(rng, *rng.choice([(10, 20), (15, 30), (20, 40), (30, 50)]))
            self.write(
                "synthetic", name, dump(nb), "generated data-science notebook", len(nb["cells"])
            )
        elif kind in ("large100", "large300"):
            lo, hi = (100, 150) if kind == "large100" else (250, 300)
            if rng.random() < 0.5:
                nb, name, origin = variant(rng, self.py_pool, lo, hi, synth_share=0.6)
            else:
                nb, name = synthetic(rng, lo, hi)
                origin = "generated data-science notebook"
            self.write(
                "large", f"{name}_{len(nb['cells'])}cells", dump(nb), origin, len(nb["cells"])
            )
        elif kind == "huge-output":
            nb, name, origin = huge_output(rng, self.py_pool)
            self.write("huge-output", name, dump(nb), origin, len(nb["cells"]))
        elif kind == "broken":
            data, name, origin = broken(rng, self.py_pool, n)
            self.write("broken", name, data, origin, None)
        else:
            raise ValueError(kind)

    def build(self, count: int) -> None:
        # the slot order has its own RNG so that the content RNG's sequence does
        # not depend on --count (a bigger corpus starts with the smaller one)
        slot_rng = random.Random(f"slots-{self.rng.random()}")
        slots: list[str] = []
        while len(slots) < count:
            block = [k for k, v in BLOCK.items() for _ in range(v)]
            slot_rng.shuffle(block)
            slots += block
        for kind in slots[:count]:
            self.add(kind)


def summarize(
    entries: list[Entry], out: Path, skipped: list[str], sources: int, examples: int
) -> dict:
    sizes = sorted(e.bytes for e in entries)
    total = sum(sizes)
    cells = [e.cells for e in entries if e.cells is not None]
    buckets = [
        ("0-9", 0, 9),
        ("10-50", 10, 50),
        ("51-99", 51, 99),
        ("100-199", 100, 199),
        ("200-300", 200, 300),
        (">300", 301, 10**9),
    ]
    dist = {name: sum(lo <= c <= hi for c in cells) for name, lo, hi in buckets}
    size_buckets = [
        ("<10 KB", 0, 10 * 1024),
        ("10-100 KB", 10 * 1024, 100 * 1024),
        ("100 KB-1 MB", 100 * 1024, 1024**2),
        ("1-10 MB", 1024**2, 10 * 1024**2),
        (">10 MB", 10 * 1024**2, 10**12),
    ]
    sdist_ = {name: sum(lo <= s < hi for s in sizes) for name, lo, hi in size_buckets}
    fp = hashlib.sha256("".join(f"{e.path}:{e.sha256}\n" for e in entries).encode()).hexdigest()
    return {
        "count": len(entries),
        "total_bytes": total,
        "median_bytes": sizes[len(sizes) // 2] if sizes else 0,
        "max_bytes": sizes[-1] if sizes else 0,
        "total_cells": sum(cells),
        "by_kind": dict(Counter(e.kind for e in entries)),
        "cells_distribution": dist,
        "size_distribution": sdist_,
        "unreadable": sum(e.cells is None and e.kind == "broken" for e in entries),
        "real_sources_available": sources,
        "examples_included": examples,
        "skipped_sources": skipped,
        "fingerprint": fp,
    }


def human(n: float) -> str:
    for unit in ["B", "KB", "MB", "GB"]:
        if n < 1024 or unit == "GB":
            return f"{n:.1f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return str(n)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--count", type=int, default=300, help="number of notebooks (default 300)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output folder (default benchmarks/corpus for 300, benchmarks/.cache/corpus-N otherwise)",
    )
    ap.add_argument(
        "--offline", action="store_true", help="use only sdists already in benchmarks/.cache/sdists"
    )
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)
    out: Path = args.out or (DEFAULT_OUT if args.count == 300 else CACHE / f"corpus-{args.count}")
    out = out.resolve()

    sdist, examples, skipped = load_sources(args.offline)
    if not sdist and not examples:
        print("[corpus] no source notebooks at all (offline and empty cache?)", file=sys.stderr)
        return 2
    if out.exists():
        # only ever delete a folder this script made
        if not (out / "_manifest.json").exists() and any(out.iterdir()):
            print(
                f"[corpus] refusing to overwrite {out}: not a corpus folder (no _manifest.json)",
                file=sys.stderr,
            )
            return 2
        shutil.rmtree(out)
    out.mkdir(parents=True)
    # isolate the corpus from the repo's own tool configuration: ruff, black and
    # nbops all stop looking for configuration at this folder
    (out / "pyproject.toml").write_text(
        "# Benchmark corpus root: every tool runs with its default settings here.\n"
        "[tool.ruff]\n\n[tool.black]\n\n[tool.nbops]\n\n[tool.nbqa]\n"
    )

    b = Builder(out=out, rng=random.Random(args.seed), sdist=sdist, examples=examples)
    b.build(args.count)
    summary = summarize(b.entries, out, skipped, len(sdist), len(examples))
    # what the corpus was made from: equal for corpora of any --count built from
    # the same inputs (run.py rebuilds the 600/1200 ones when this differs)
    inputs = hashlib.sha256()
    inputs.update(Path(__file__).read_bytes())
    inputs.update(repr((args.seed, SDISTS)).encode())
    for s_ in sdist + examples:
        inputs.update(s_.origin.encode() + hashlib.sha256(s_.raw).digest())
    summary.update(
        seed=args.seed,
        sdists=[f"{n}=={v}" for n, v in SDISTS],
        out=str(out),
        inputs_fingerprint=inputs.hexdigest(),
    )
    manifest = {"summary": summary, "files": [e.__dict__ for e in b.entries]}
    (out / "_manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")

    if not args.quiet:
        s = summary
        print(f"corpus: {out}")
        print(
            f"  notebooks: {s['count']}   total size: {human(s['total_bytes'])}   "
            f"median: {human(s['median_bytes'])}   largest: {human(s['max_bytes'])}   cells: {s['total_cells']}"
        )
        print("  by kind:   " + ", ".join(f"{k}={v}" for k, v in sorted(s["by_kind"].items())))
        print(
            "  cells:     "
            + ", ".join(f"{k}: {v}" for k, v in s["cells_distribution"].items())
            + f"  (+{s['unreadable']} unreadable)"
        )
        print("  sizes:     " + ", ".join(f"{k}: {v}" for k, v in s["size_distribution"].items()))
        print(
            f"  sources:   {s['real_sources_available']} usable notebooks from {len(SDISTS)} sdists, "
            f"{s['examples_included']} from examples/; skipped {len(skipped)}"
        )
        for sk in skipped:
            print(f"             skipped {sk}")
        print(f"  seed: {s['seed']}   fingerprint: {s['fingerprint'][:16]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
