"""Write a large notebook full of image outputs, for size and speed tests.

A 50 MB notebook is too big to commit, so tests make one in a temporary directory::

    from tests.notebooks.make_large import make_large_notebook  # or import by path

    path = make_large_notebook(tmp_path / "large.ipynb")          # about 50 MiB
    path = make_large_notebook(tmp_path / "small.ipynb", 1)       # about 1 MiB

The notebook is a valid nbformat 4.5 notebook (Python kernel metadata, cell ids) made of a
title cell, a setup cell and many executed code cells, each with a short plotting source, a small stream
output and a ``display_data`` output holding a real base64 PNG (noise, so it does not
compress) with a ``text/plain`` fallback. Only the standard library is used, and the output
is deterministic for a given size.
"""

from __future__ import annotations

import base64
import json
import random
import struct
import zlib
from pathlib import Path

__all__ = ["make_large_notebook", "make_png"]

MIB = 1024 * 1024


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (
        struct.pack(">I", len(data))
        + kind
        + data
        + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    )


def make_png(width: int, height: int, rng: random.Random) -> bytes:
    """A valid RGB PNG of random pixels (incompressible, so size ~ 3 * width * height)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row_bytes = width * 3
    raw = b"".join(b"\x00" + rng.randbytes(row_bytes) for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 1))
        + _chunk(b"IEND", b"")
    )


def _setup_cell() -> dict[str, object]:
    source = (
        "import matplotlib.pyplot as plt\n"
        "import numpy as np\n"
        "\n"
        "frames = np.random.default_rng(0).random((1000, 256, 256, 3))"
    )
    return {
        "cell_type": "code",
        "execution_count": 1,
        "id": "large-setup",
        "metadata": {},
        "outputs": [],
        "source": source.splitlines(keepends=True),
    }


def _cell(index: int, png: bytes) -> dict[str, object]:
    count = index + 2
    source = (
        f"fig, ax = plt.subplots(figsize=(8, 6))\n"
        f"ax.imshow(frames[{index}])\n"
        f'ax.set_title("frame {index}")'
    )
    return {
        "cell_type": "code",
        "execution_count": count,
        "id": f"large-{index:05d}",
        "metadata": {},
        "outputs": [
            {"name": "stdout", "output_type": "stream", "text": [f"rendering frame {index}\n"]},
            {
                "data": {
                    "image/png": base64.b64encode(png).decode("ascii"),
                    "text/plain": ["<Figure size 800x600 with 1 Axes>"],
                },
                "metadata": {},
                "output_type": "display_data",
            },
        ],
        "source": source.splitlines(keepends=True),
    }


def make_large_notebook(
    path: str | Path,
    megabytes: float = 50,
    *,
    image_side: int = 256,
    seed: int = 0,
) -> Path:
    """Write a notebook of at least ``megabytes`` MiB to ``path`` and return the path.

    Each code cell carries one ``image_side`` x ``image_side`` noise PNG (about 256 KiB of
    base64 at the default side), so 50 MiB is about 200 cells. The file is streamed to disk
    cell by cell; memory use stays around one image.
    """
    path = Path(path)
    target = int(megabytes * MIB)
    rng = random.Random(seed)
    header = {
        "cell_type": "markdown",
        "id": "large-title",
        "metadata": {},
        "source": ["# Large notebook\n", "\n", "Many executed cells with image outputs."],
    }
    metadata = {
        "kernelspec": {
            "display_name": "Python 3 (ipykernel)",
            "language": "python",
            "name": "python3",
        },
        "language_info": {"name": "python", "version": "3.11.7"},
    }
    written = 0
    with path.open("w", encoding="utf-8") as out:

        def emit(text: str) -> None:
            nonlocal written
            out.write(text)
            written += len(text)

        emit('{\n "cells": [\n')
        emit(json.dumps(header, indent=1))
        emit(",\n")
        emit(json.dumps(_setup_cell(), indent=1))
        index = 0
        while written < target:
            emit(",\n")
            emit(json.dumps(_cell(index, make_png(image_side, image_side, rng)), indent=1))
            index += 1
        emit("\n ],\n")
        emit(' "metadata": ' + json.dumps(metadata, indent=1) + ",\n")
        emit(' "nbformat": 4,\n "nbformat_minor": 5\n}\n')
    return path


if __name__ == "__main__":
    import sys

    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("large.ipynb")
    size = float(sys.argv[2]) if len(sys.argv) > 2 else 50
    written = make_large_notebook(target, size)
    print(f"wrote {written} ({written.stat().st_size / MIB:.1f} MiB)")
