"""Root conftest: fixtures shared by every test folder (helpers live in tests/helpers.py)."""

from __future__ import annotations

from typing import Any

import pytest

from nbops.core.notebook import Notebook
from nbops.core.snippets import notebook_from_snippet


@pytest.fixture
def snippet_notebook() -> Any:
    def make(text: str, path: str = "analysis.ipynb") -> Notebook:
        return notebook_from_snippet(text, path=path)

    return make
