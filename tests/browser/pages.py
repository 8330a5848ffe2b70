"""What the browser tests share: a page with its console messages, saving a notebook, the
console check every test ends with, and what a failing test prints."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Page", "debug", "is_from_nbops", "no_nbops_errors", "save_until_clean"]

_STATE_JS = """() => { const w = window.jupyterapp?.shell?.currentWidget;
  return { dirty: !!(w && w.context && w.context.model.dirty),
           saving: window.__nbopsSaving === true }; }"""
_SAVE_JS = """() => { window.__nbopsSaving = true;
  window.jupyterapp.commands.execute('docmanager:save')
    .finally(() => { window.__nbopsSaving = false; }); }"""
_KERNEL_JS = """async () => { const w = window.jupyterapp?.shell?.currentWidget;
  if (!w || !w.sessionContext) return;
  await w.sessionContext.ready;
  const k = w.sessionContext.session?.kernel;
  if (k) { await Promise.race([k.info, new Promise(r => setTimeout(r, 20000))]); } }"""


def save_until_clean(page: Any, *, timeout: float = 60.0, settle: float = 1.5) -> None:
    """Save the current notebook until it has stayed clean for ``settle`` seconds.

    Opening a notebook can mark it dirty after the first save: the kernel's info reply
    rewrites ``metadata.language_info`` (another Python than the one that saved the file),
    and JupyterLab adds cell ids. One save is not enough; a save can also stop at one of
    JupyterLab's own questions ("File Changed"), answered the way a user keeping their
    edit would.
    """
    page.evaluate(_KERNEL_JS)
    deadline = time.monotonic() + timeout
    clean_since: float | None = None
    while True:
        state = page.evaluate(_STATE_JS)
        now = time.monotonic()
        if not state["dirty"] and not state["saving"]:
            clean_since = clean_since if clean_since is not None else now
            if now - clean_since >= settle:
                return
        else:
            clean_since = None
            if not state["saving"]:
                page.evaluate(_SAVE_JS)
        accept = page.query_selector(".jp-Dialog .jp-mod-accept")
        if accept is not None and accept.is_visible():
            accept.click()
        if now > deadline:
            raise AssertionError(f"the notebook did not stay saved within {timeout:.0f} s: {state}")
        time.sleep(0.25)


def is_from_nbops(entry: dict[str, str]) -> bool:
    """A console message that nbops logged (its text or its script's URL says nbops)."""
    return "nbops" in entry["text"].lower() or "nbops" in entry["url"].lower()


@dataclass
class Page:
    page: Any  # playwright's Page
    console: list[dict[str, str]]


def no_nbops_errors(tab: Page, *, expected: str | None = None) -> None:
    """No errors from nbops in the console but the ``expected`` one (the browser logs every
    failed request by itself)."""
    errors = [
        c
        for c in tab.console
        if c["type"] in ("error", "pageerror")
        and is_from_nbops(c)
        and not (expected and expected in c["text"])
    ]
    assert not errors, errors


def debug(tab: Page, lab: Any, tmp_path: Path, name: str) -> None:
    """What a failing test leaves: a screenshot, the lab's log and the console."""
    tab.page.screenshot(path=str(tmp_path / f"{name}.png"))
    print(f"screenshots in {tmp_path}\n--- jupyter lab log ---\n{lab.log()}")
    print("--- console ---", *tab.console, sep="\n")
