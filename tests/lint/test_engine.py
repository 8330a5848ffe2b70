"""The lint engine across processes: a notebook with a broken cell still gets ruff's findings
for its other cells (ruff re-run with the cell blanked, in the main process's threads), and
the worker pool reports exactly what a single process does."""

from __future__ import annotations

from pathlib import Path

import nbformat

from nbops.config import Config
from nbops.lint.engine import Linter


def _write(folder: Path, name: str, sources: list[str]) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, folder / name)


def _findings(folder: Path, jobs: int) -> dict[str, list[tuple[str, int | None]]]:
    linter = Linter(Config(), select=["NB003", "F401", "NB005"], format_check=False, cache=False,
                    jobs=jobs)
    reports = linter.lint_paths([folder])
    return {
        Path(r.path).name: sorted((d.code, d.cell_index) for d in r.diagnostics) for r in reports
    }


def test_broken_cells_keep_ruffs_findings_in_the_other_cells(tmp_path: Path) -> None:
    for i in range(10):  # enough files for the worker pool
        sources = ["import os\nimport json\nprint(json.dumps({}))\n", "x = 1\n"]
        if i % 2 == 0:
            sources.insert(1, "print 'python 2'\n")  # ruff stops here without the re-run
        _write(tmp_path, f"nb{i}.ipynb", sources)
    pooled = _findings(tmp_path, jobs=2)
    assert len(pooled) == 10
    for i in range(10):
        found = pooled[f"nb{i}.ipynb"]
        assert ("F401", 0) in found, found  # 'import os' unused, broken notebook or not
        assert (("NB003", 1) in found) == (i % 2 == 0), found
        assert not [c for c, _ in found if c == "NB005"], found
    assert pooled == _findings(tmp_path, jobs=1)


def test_the_file_cache_is_not_reused_when_the_ruff_configuration_changes(tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "nbs").mkdir(parents=True)
    _write(project / "nbs", "a.ipynb", ["x = 'a very long line ' + 'that goes on and on' * 2\n"])
    (project / "ruff.toml").write_text("line-length = 100\n[lint]\nselect = ['E501']\n")

    def lint() -> tuple[bool, list[str]]:
        linter = Linter(Config(root=project), select=["E501"], format_check=False,
                        cache_dir=tmp_path / "cache")
        report = linter.lint_file(project / "nbs" / "a.ipynb")
        return report.cached, [d.code for d in report.diagnostics]

    assert lint() == (False, [])
    assert lint() == (True, [])  # unchanged: served from the cache
    (project / "ruff.toml").write_text("line-length = 40\n[lint]\nselect = ['E501']\n")
    assert lint() == (False, ["E501"])  # the new line-length applies at once
