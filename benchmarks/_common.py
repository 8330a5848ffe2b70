"""Helpers the benchmark scripts share (run as scripts: ``from _common import ...``)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def cpu_and_ram() -> tuple[str, str]:
    """This machine's CPU model and RAM as shown in the reports ("?" when unknown)."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError):
        pass
    return cpu, mem


def download_sdist(name: str, version: str, dest: Path) -> subprocess.CompletedProcess[str]:
    """``pip download`` one pinned sdist (no dependencies, no wheels) into ``dest``."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-binary", ":all:", f"{name}=={version}", "-d", str(dest),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)
