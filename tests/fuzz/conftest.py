"""Hypothesis profiles of the CLI fuzz suite (see tests/fuzz/test_cli_fuzz.py).

``NBOPS_FUZZ`` picks one: ``ci`` (the default) is bounded and derandomized, the same
examples every run, so the suite takes well under 90 s on 2 cores; ``large`` draws ~25 times
as many fresh examples each run and is meant to be run by hand::

    NBOPS_FUZZ=large .venv/bin/python -m pytest -p no:cacheprovider -n 2 tests/fuzz

The profiles are registered here and applied per test by the test module (never loaded
globally), so other suites' Hypothesis settings are left alone: a test asking for ``n``
examples gets ``n * max_examples / 10`` of the profile's. Neither profile writes an example
database.
"""

from __future__ import annotations

import os
from typing import Any

from hypothesis import HealthCheck, settings

PROFILE = os.environ.get("NBOPS_FUZZ", "ci")
if PROFILE not in ("ci", "large"):
    raise ValueError(f"NBOPS_FUZZ={PROFILE!r}: use 'ci' (the default) or 'large'")

_COMMON: dict[str, Any] = {
    "deadline": None,  # a CLI call's time depends on the machine's load, not on the input
    "database": None,
    "suppress_health_check": list(HealthCheck),  # large inputs and slow examples are the point
}
settings.register_profile("nbops-fuzz-ci", derandomize=True, max_examples=10, **_COMMON)
settings.register_profile(
    "nbops-fuzz-large", derandomize=False, max_examples=250, print_blob=True, **_COMMON
)
