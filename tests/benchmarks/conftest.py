"""The benchmark scripts run as ``python benchmarks/NAME.py`` and import each other by bare name
(``import harness``): their tests import them the same way, with ``benchmarks/`` on sys.path."""

from __future__ import annotations

import sys
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCHMARKS) not in sys.path:
    sys.path.insert(0, str(BENCHMARKS))
