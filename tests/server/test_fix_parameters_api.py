"""``POST /nbops/fix`` with ``propose_parameters``: the REST face of ``nbops fix
--propose-parameters``. Each answer is checked against docs/rest-api.yaml by ``api``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from nbops.core.notebook import read_notebook

Api = Callable[..., Awaitable[Any]]


async def test_propose_parameters_moves_the_constants_and_reports_each(api: Api, root: Path) -> None:
    path = root / "sub" / "churn.ipynb"
    before = path.read_bytes()
    body = {"path": "sub/churn.ipynb", "select": ["NB103"], "propose_parameters": True}
    reply = await api("POST", "nbops/fix", body)
    assert reply.status == 200, reply.body
    moved = [a for a in reply.body["applied"] if a["code"] == "propose-parameters"]
    assert len(moved) == 7 and all(a["cell"] == 3 for a in moved)  # churn's 7 constants
    assert moved[1]["message"].startswith("line 2: moved `SEED = 42` into a new cell tagged 'parameters'")
    assert reply.body["notes"] == [] and reply.body["written"] is False
    tagged = [c for c in reply.body["content"]["cells"] if "parameters" in c["metadata"].get("tags", [])]
    assert len(tagged) == 1 and "SEED = 42" in "".join(tagged[0]["source"])
    assert path.read_bytes() == before  # not written without "write"
    # written, then asked again: skipped with a note
    written = await api("POST", "nbops/fix", {**body, "write": True})
    assert written.body["written"] is True and written.body["backup"].startswith("sub/.nbops_backup/")
    assert any("parameters" in c.tags for c in read_notebook(path).cells)
    again = await api("POST", "nbops/fix", body)
    assert again.body["applied"] == [] and "tagged 'parameters' already" in again.body["notes"][0]


async def test_without_the_flag_nothing_moves_and_no_notes(api: Api, root: Path) -> None:
    reply = await api("POST", "nbops/fix", {"path": "sub/churn.ipynb", "select": ["NB103"]})
    assert reply.status == 200, reply.body
    assert "notes" not in reply.body and not reply.body["changed"]
    bad = await api("POST", "nbops/fix", {"path": "sub/churn.ipynb", "propose_parameters": "yes"})
    assert bad.status == 400 and "propose_parameters" in bad.body["message"]
