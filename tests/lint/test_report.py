"""The report renderers: a run that fails part-way still ends its JSON document."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest

from nbops.errors import ToolError
from nbops.lint.diagnostic import Diagnostic
from nbops.lint.engine import FileReport
from nbops.lint.report import write_stream


def _reports_then_failure() -> Iterator[FileReport]:
    finding = Diagnostic(code="NB107", name="empty-cell", message="empty code cell: delete it",
                         severity="info", path="a.ipynb", cell_index=1)
    yield FileReport("a.ipynb", [finding])
    raise ToolError("ruff is not installed", hint="pip install ruff")


def test_json_document_is_closed_when_the_run_fails_part_way() -> None:
    """The header and the first findings used to be left as truncated JSON."""
    out = io.StringIO()
    with pytest.raises(ToolError, match="ruff is not installed"):
        write_stream(_reports_then_failure(), "json", out)
    data = json.loads(out.getvalue())
    assert [d["code"] for d in data["diagnostics"]] == ["NB107"]
    assert data["errors"] == [{"path": None, "message": "ruff is not installed"}]
    assert data["summary"]["files"] == 1
