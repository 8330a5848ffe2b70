"""nbops verify runs the pipeline and the notebook at the same time when there are cores:
the step below waits (up to 60 s) until another process has reached it too, so run one after
the other the two see different values and verify says "not equivalent"."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from modularize_helpers import write_notebook

pytestmark = pytest.mark.slow

RENDEZVOUS = """
# %% [markdown]
## Meet
# %%
import glob
import os
import time

open(f"mark-{os.getpid()}", "w").close()
deadline = time.time() + 60
while len(glob.glob("mark-*")) < 2 and time.time() < deadline:
    time.sleep(0.1)
together = len(glob.glob("mark-*")) >= 2
# %% [markdown]
## Say
# %%
answer = "together" if together else "alone"
print(answer)
"""


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 cores")
def test_the_pipeline_and_the_notebook_run_at_the_same_time(tmp_path: Path) -> None:
    write_notebook(RENDEZVOUS, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "nbops", "verify", "analysis.ipynb", "--package", "pkg"],
        cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.strip().splitlines()[-1].startswith("equivalent: ")
    assert len(list(tmp_path.glob("mark-*"))) >= 2
