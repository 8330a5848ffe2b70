"""What the browser tests share: a page with its console messages, and saving a notebook."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

__all__ = ["Page", "is_from_nbops", "save_until_clean"]

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
