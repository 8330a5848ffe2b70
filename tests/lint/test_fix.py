"""``nbops fix``: safe fixes only, --diff writes nothing, atomic writes with a backup."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from nbops.core.notebook import Notebook, notebook_from_dict
from nbops.lint.diagnostic import Edit, Fix
from nbops.lint.fix import AppliedFix, apply_fix, unreported_changes

ROOT = Path(__file__).resolve().parents[2]
BAD = ROOT / "tests" / "notebooks" / "bad"


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "nbops", *args], capture_output=True, text=True, cwd=cwd or ROOT,
        timeout=300,
    )


def messy(path: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    first = code("import math\nx=1")
    first.metadata["custom"] = {"keep": True}
    params = code("# parameters\nalpha = 0.5\nn = 3")
    out = code("print(math.sqrt(alpha) , n)")
    out.outputs = [nbformat.v4.new_output("stream", name="stdout", text="0.7 3\n")]
    out.execution_count = 4
    nb.cells = [md("# Title"), first, params, code(""), out, md("The end.")]
    nb.metadata["extra"] = {"unknown": [1, 2]}
    nbformat.write(nb, path)
    return path


def test_diff_writes_nothing(tmp_path: Path) -> None:
    path = messy(tmp_path / "m.ipynb")
    before = path.read_bytes()
    proc = run_cli("fix", "--diff", str(path))
    assert proc.returncode == 1, proc.stderr
    assert path.read_bytes() == before
    assert "-x=1" in proc.stdout and "+x = 1" in proc.stdout
    assert not (tmp_path / ".nbops_backup").exists()


def test_fix_applies_safe_fixes_and_keeps_ids_metadata_and_outputs(tmp_path: Path) -> None:
    path = messy(tmp_path / "m.ipynb")
    ids_before = [c["id"] for c in json.loads(path.read_text())["cells"]]
    proc = run_cli("fix", "--format", "json", str(path))
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)["results"][0]
    codes = {a["code"] for a in result["applied"]}
    assert {"FMT001", "NB303", "NB107"} <= codes, codes
    data = json.loads(path.read_text())
    cells = data["cells"]
    empty_id = ids_before[3]
    assert [c["id"] for c in cells] == [i for i in ids_before if i != empty_id]
    assert "".join(cells[1]["source"]) == "import math\n\nx = 1"
    assert cells[1]["metadata"]["custom"] == {"keep": True}
    assert cells[2]["metadata"]["tags"] == ["parameters"]
    assert "".join(cells[3]["source"]) == "print(math.sqrt(alpha), n)"
    assert "".join(cells[3]["outputs"][0]["text"]) == "0.7 3\n", "outputs kept without --clear-outputs"
    assert data["metadata"]["extra"] == {"unknown": [1, 2]}
    backup = Path(result["backup"])
    assert backup.parent == tmp_path / ".nbops_backup" and backup.exists()
    assert nbformat.validate(nbformat.read(path, as_version=4)) is None
    again = run_cli("fix", str(path))
    assert "Nothing to fix." in again.stdout


def test_clear_outputs_is_opt_in(tmp_path: Path) -> None:
    path = messy(tmp_path / "m.ipynb")
    run_cli("fix", "--clear-outputs", "--no-backup", str(path))
    cells = json.loads(path.read_text())["cells"]
    assert all(c.get("outputs") in ([], None) for c in cells if c["cell_type"] == "code")
    assert all(c.get("execution_count") is None for c in cells if c["cell_type"] == "code")
    assert not (tmp_path / ".nbops_backup").exists()


def test_ruff_safe_fixes_are_applied_per_cell(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import sys\nimport os\nprint(sys.argv, os.sep)")]
    path = tmp_path / "r.ipynb"
    nbformat.write(nb, path)
    proc = run_cli("fix", "--no-format", "--no-backup", "--select", "I", "--format", "json", str(path))
    assert proc.returncode == 0, proc.stderr
    source = "".join(json.loads(path.read_text())["cells"][0]["source"])
    assert source.startswith("import os\nimport sys\n"), source
    applied = json.loads(proc.stdout)["results"][0]["applied"]
    assert [a["code"] for a in applied] == ["I001"]


def test_removing_unused_imports_is_unsafe_in_notebooks(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("import seaborn\nimport sys\nprint(sys.argv)")]
    path = tmp_path / "u.ipynb"
    nbformat.write(nb, path)
    lint = json.loads(run_cli("lint", "--no-cache", "--format", "json", "--select", "F401", str(path)).stdout)
    assert lint["diagnostics"][0]["fix"]["applicability"] == "unsafe"
    run_cli("fix", "--no-format", "--no-backup", str(path))
    assert "import seaborn" in "".join(json.loads(path.read_text())["cells"][0]["source"])
    run_cli("fix", "--no-format", "--no-backup", "--unsafe-fixes", str(path))
    assert "import seaborn" not in "".join(json.loads(path.read_text())["cells"][0]["source"])


def test_unparseable_notebook_is_left_untouched(tmp_path: Path) -> None:
    target = tmp_path / "broken.ipynb"
    target.write_bytes((BAD / "broken_json.ipynb").read_bytes())
    before = target.read_bytes()
    proc = run_cli("fix", str(target))
    assert proc.returncode == 2
    assert "left untouched" in proc.stderr and "Traceback" not in proc.stderr
    assert target.read_bytes() == before


def test_cell_with_syntax_error_is_not_touched_others_are(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell("def f(:\n  x=1"), nbformat.v4.new_code_cell("y=2")]
    path = tmp_path / "s.ipynb"
    nbformat.write(nb, path)
    run_cli("fix", "--no-backup", str(path))
    cells = json.loads(path.read_text())["cells"]
    assert "".join(cells[0]["source"]) == "def f(:\n  x=1"
    assert "".join(cells[1]["source"]) == "y = 2"


def test_magic_cells_survive_formatting(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("%matplotlib inline\nx=1"),
        nbformat.v4.new_code_cell("%%bash\necho hi"),
        nbformat.v4.new_code_cell("if True:\n    !pip install x\ny=2"),
    ]
    path = tmp_path / "g.ipynb"
    nbformat.write(nb, path)
    proc = run_cli("fix", "--no-backup", str(path))
    assert proc.returncode == 0, proc.stderr
    cells = ["".join(c["source"]) for c in json.loads(path.read_text())["cells"]]
    assert cells[0] == "%matplotlib inline\nx = 1"
    assert cells[1] == "%%bash\necho hi"
    assert "!pip install x" in cells[2] and "y = 2" in cells[2]


def test_ruff_fix_never_removes_an_import_a_magic_uses(tmp_path: Path) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("import math\nimport os"),
        nbformat.v4.new_code_cell("%time y = math.sqrt(2)"),
    ]
    path = tmp_path / "t.ipynb"
    nbformat.write(nb, path)
    lint = json.loads(run_cli("lint", "--no-cache", "--format", "json", str(path)).stdout)
    unused = {d["message"] for d in lint["diagnostics"] if d["code"] == "F401"}
    assert unused == {"`os` imported but unused"}, "the import used by %time is not reported"
    run_cli("fix", "--no-backup", str(path))
    first = "".join(json.loads(path.read_text())["cells"][0]["source"])
    assert "import math" in first


def test_select_limits_the_fixes_to_the_selected_codes(tmp_path: Path) -> None:
    path = messy(tmp_path / "m.ipynb")
    proc = run_cli("fix", "--select", "FMT001", str(path))
    assert proc.returncode == 0, proc.stderr
    nb = nbformat.read(path, as_version=4)
    assert nb.cells[1].source == "import math\n\nx = 1"  # formatted
    assert "parameters" not in nb.cells[2].metadata.get("tags", [])  # NB303 not applied
    assert len(nb.cells) == 6  # NB107 (empty cell) not applied
    proc = run_cli("fix", "--select", "NB303", str(path))
    assert proc.returncode == 0, proc.stderr
    nb = nbformat.read(path, as_version=4)
    assert "parameters" in nb.cells[2].metadata.get("tags", []) and len(nb.cells) == 6


def test_nbformat3_notebook_is_left_untouched_unless_upgrade_is_asked(tmp_path: Path) -> None:
    """fix used to rewrite it as 4.5 while reporting only I001 and NB107."""
    path = tmp_path / "old.ipynb"
    path.write_bytes((BAD / "v3_notebook.ipynb").read_bytes())
    before = path.read_bytes()
    for args in (("fix",), ("fix", "--diff")):
        proc = run_cli(*args, "--format", "json", str(path))
        assert proc.returncode == 2, proc.stderr
        assert path.read_bytes() == before
        (result,) = json.loads(proc.stdout)["results"]
        assert "nbformat 3 notebook" in result["error"] and "--upgrade" in result["error"]
        assert "nbops fix --upgrade" in proc.stderr and "left untouched" in proc.stderr
    proc = run_cli("fix", "--upgrade", "--format", "json", str(path))
    assert proc.returncode == 0, proc.stderr
    (result,) = json.loads(proc.stdout)["results"]
    assert result["applied"][0]["code"] == "upgrade" and result["applied"][0]["cell"] is None
    assert "converted from nbformat 3 to 4.5" in result["applied"][0]["message"]
    assert json.loads(path.read_text())["nbformat"] == 4
    assert Path(result["backup"]).read_bytes() == before


def test_upgrade_alone_is_written_and_reported(tmp_path: Path) -> None:
    path = tmp_path / "old.ipynb"
    path.write_bytes((BAD / "v3_notebook.ipynb").read_bytes())
    proc = run_cli("fix", "--upgrade", "--select", "NB303", "--no-format", str(path))
    assert proc.returncode == 0, proc.stderr
    assert "notebook: upgrade converted from nbformat 3" in proc.stdout
    assert json.loads(path.read_text())["nbformat"] == 4


def _guard_notebook() -> Notebook:
    return notebook_from_dict(
        {
            "nbformat": 4, "nbformat_minor": 5, "metadata": {"kernelspec": {"name": "python3"}},
            "cells": [
                {"cell_type": "markdown", "id": "m", "metadata": {}, "source": "# T"},
                {"cell_type": "code", "id": "a", "metadata": {"keep": 1}, "outputs": [],
                 "execution_count": 1, "source": "x=1"},
                {"cell_type": "code", "id": "b", "metadata": {}, "execution_count": 2,
                 "outputs": [{"output_type": "stream", "name": "stdout", "text": "1\n"}],
                 "source": "print(x)"},
            ],
        }
    )


def test_guard_catches_a_fix_that_changes_more_than_it_reports() -> None:
    nb = _guard_notebook()
    before = json.loads(nb.dumps())
    # a fix whose edits format cell 2, delete cell 3 (with its outputs) and tag cell 1...
    greedy = Fix(
        "format cell 2",
        "safe",
        (Edit("replace_source", 1, "x = 1"), Edit("add_tag", 0, "x"), Edit("delete_cell", 2)),
    )
    apply_fix(nb, greedy)
    nb.raw["nbformat_minor"] = 4
    nb.cells[1].raw["id"] = "changed"
    # ...while reporting only the source change of cell 2
    applied = [AppliedFix("FMT001", 1, "formatted with black", ((1, "source"),))]
    problems = unreported_changes(before, nb.to_dict(), applied)
    assert "the notebook's 'nbformat_minor' (changed)" in problems
    assert any("3 cells would become 2 with 0 deletion(s) reported" in p for p in problems)
    # reported honestly, only what was not reported is left
    honest = [
        AppliedFix("FMT001", 1, "formatted", ((1, "source"),)),
        AppliedFix("X", 0, "tag", ((0, "tags"),)),
        AppliedFix("Y", 2, "delete", ((2, "delete"),)),
    ]
    assert unreported_changes(before, nb.to_dict(), honest) == [
        "the notebook's 'nbformat_minor' (changed)",
        "cell 2: 'id' (changed)",
    ]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (lambda nb: nb.cells[2].raw.update(outputs=[]), "cell 3: 'outputs' (changed)"),
        (lambda nb: nb.cells[1].raw["metadata"].clear(), "cell 2: metadata 'keep' (removed)"),
        (lambda nb: nb.cells[0].set_source("# Other"), "cell 1: 'source' (changed)"),
        (lambda nb: nb.raw["metadata"].pop("kernelspec"), "the notebook's 'metadata' (changed)"),
        (lambda nb: nb.cells.reverse(), "the cells' order"),
    ],
)
def test_guard_names_each_unreported_change(change: Any, words: str) -> None:
    nb = _guard_notebook()
    before = json.loads(nb.dumps())
    change(nb)
    assert words in unreported_changes(before, nb.to_dict(), [])


@pytest.mark.parametrize(
    ("raw", "words"),
    [
        pytest.param(
            {"nbformat": 4, "nbformat_minor": 5, "metadata": {},
             "cells": ["junk", {"cell_type": "code", "metadata": {}, "outputs": [],
                                "execution_count": None, "source": "x=1"}]},
            "cells 1 are not JSON objects", id="junk-cell",
        ),
        pytest.param(
            {"cells": [{"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": "x=1"}]},
            "the notebook's 'nbformat' (added)", id="no-nbformat",
        ),
        pytest.param(
            {"nbformat": 4, "nbformat_minor": 5, "metadata": [],
             "cells": [{"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": "x=1"}]},
            "the notebook's 'metadata' (changed)", id="metadata-not-an-object",
        ),
    ],
)
def test_fix_refuses_to_write_what_the_reader_normalised(
    tmp_path: Path, raw: dict[str, Any], words: str
) -> None:
    """fix used to write these back silently without the junk cell, with an added
    'nbformat' or with metadata replaced, reporting only FMT001."""
    path = tmp_path / "odd.ipynb"
    path.write_text(json.dumps(raw))
    before = path.read_bytes()
    proc = run_cli("fix", "--no-backup", str(path))
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert path.read_bytes() == before
    assert "not written" in proc.stderr and words in proc.stderr, proc.stderr
    assert f"{path}:" in proc.stderr and "Traceback" not in proc.stderr


def test_fix_keeps_empty_cells_that_hold_outputs_or_tags(tmp_path: Path) -> None:
    """NB107's safe fix deleted them, the 'parameters' tag and the outputs with them."""
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell
    params = code("  ")
    params.metadata["tags"] = ["parameters"]
    shown = code("")
    shown.outputs = [nbformat.v4.new_output("stream", name="stdout", text="kept\n")]
    nb.cells = [params, code("x = 1"), shown, code("\n")]
    path = tmp_path / "e.ipynb"
    nbformat.write(nb, path)
    ids = [c.id for c in nb.cells]
    proc = run_cli("fix", "--no-backup", "--format", "json", str(path))
    assert proc.returncode == 0, proc.stderr
    applied = json.loads(proc.stdout)["results"][0]["applied"]
    assert [(a["code"], a["cell"]) for a in applied] == [("NB107", 4)]
    data = json.loads(path.read_text())
    assert [c["id"] for c in data["cells"]] == ids[:3]
    assert data["cells"][0]["metadata"]["tags"] == ["parameters"]
    assert "".join(data["cells"][2]["outputs"][0]["text"]) == "kept\n"
