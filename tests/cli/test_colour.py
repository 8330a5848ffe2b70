"""Colour of ``nbops lint``'s text output: --color, FORCE_COLOR and NO_COLOR, as ruff reads them.

The order: ``--color always|never`` wins; then FORCE_COLOR (set and not empty: colour even when
piped, and over NO_COLOR, as ruff does); then NO_COLOR (set and not empty: no colour); then
colour only on a terminal. pytest's captured stdout is not a terminal, as a pipe is not.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from nbops.cli.main import main

ESC = "\033["


@pytest.fixture
def notebook(tmp_path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("x = 1")]  # NB101: no title
    path = tmp_path / "analysis.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.mark.parametrize(
    ("env", "flag", "coloured"),
    [
        ({}, None, False),  # piped: no colour
        ({"FORCE_COLOR": "1"}, None, True),  # was ignored
        ({"FORCE_COLOR": "0"}, None, True),  # any non-empty value forces it
        ({"FORCE_COLOR": ""}, None, False),  # empty: as if unset
        ({"NO_COLOR": "1"}, None, False),
        ({"NO_COLOR": "1", "FORCE_COLOR": "1"}, None, True),  # FORCE_COLOR wins, as in ruff
        ({"FORCE_COLOR": "1"}, "never", False),  # the flag wins over both
        ({"NO_COLOR": "1"}, "always", True),
    ],
)
def test_colour_follows_flag_then_force_color_then_no_color(
    notebook: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
    env: dict[str, str], flag: str | None, coloured: bool,
) -> None:
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    argv = ["lint", "--no-cache", "--select", "NB101", "--no-format", str(notebook)]
    code = main(argv + (["--color", flag] if flag else []))
    out = capsys.readouterr().out
    assert code == 1 and "NB101" in out
    assert (ESC in out) is coloured, out
