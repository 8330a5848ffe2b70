"""Shared test helpers (import as `from helpers import ...`; tests/ is on pytest's pythonpath)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nbops.config import Config
from nbops.core.snippets import notebook_from_snippet
from nbops.lint.diagnostic import Diagnostic
from nbops.lint.engine import Linter


def lint_snippet(
    text: str,
    select: Sequence[str] = ("NB",),
    *,
    path: str = "analysis.ipynb",
    options: dict[str, Any] | None = None,
) -> list[Diagnostic]:
    """Lint a snippet-format notebook with only ``select``'s rules (no ruff, no black)."""
    cfg = Config(options=options or {})
    linter = Linter(cfg, select=list(select), format_check=False, cache=False)
    return linter.lint_notebook(notebook_from_snippet(text, path=path))


def ipc_kernel_manager(folder: Path, **kwargs: Any) -> Any:
    """A kernel manager on IPC sockets in ``folder``: kernels started by parallel test workers
    then never race for the same TCP port ("Address already in use")."""
    from jupyter_client.manager import AsyncKernelManager

    folder.mkdir(parents=True, exist_ok=True)
    return AsyncKernelManager(
        kernel_name="python3", transport="ipc", ip=str(folder / "kernel"), **kwargs
    )


def codes_of(diags: Sequence[Diagnostic]) -> list[str]:
    return sorted({d.code for d in diags})


# two steps, one of them drawing unseeded random numbers (equal between two executions only
# when both start from verify's seeds): verify's and the hackathon scorer's tests
SEEDED_STEPS_NOTEBOOK = """
# %% tags=parameters
n = 4
factor = 1.5
# %% [markdown]
## Make
# %%
import random
base = list(range(n))
noise = random.random()
# %%
scaled = [b * factor for b in base]
# %% [markdown]
## Summarise
# %%
total = sum(scaled)
print(f"total {total}, noise {noise:.6f}")
"""
