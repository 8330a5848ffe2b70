"""nbops.core.layout: where the generated library lives, as modularize writes it (the two
always agree: the examples, --package, --out, the project's configured and [project] names)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nbops.core.layout import Layout, library_layout
from nbops.errors import UsageError
from nbops.modularize import ModularizeOptions, modularize

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted(p for p in (ROOT / "examples").glob("*.ipynb") if not p.stem.endswith("_slim"))


def _agree(layout: Layout, notebook: Path, options: ModularizeOptions) -> None:
    result = modularize(notebook, options)
    assert (result.package, result.module) == (layout.package, layout.module)
    assert {f.kind: f.path for f in result.files} == {
        "init": layout.init_path,
        "module": layout.module_path,
        "tests": layout.tests_path,
        "notebook": layout.slim_path,
    }
    assert result.src_dir == layout.src_dir
    messages = [p.message for p in result.problems]
    assert all(note in messages for note in layout.notes)


@pytest.mark.parametrize("notebook", EXAMPLES, ids=lambda p: p.stem)
def test_layout_and_modularize_agree_on_the_examples(notebook: Path) -> None:
    layout = library_layout(notebook)
    # the examples are in nbops' own project, which names the package (DIR is the project)
    assert (layout.out, layout.package, layout.notes) == (ROOT, "nbops", ())
    _agree(layout, notebook, ModularizeOptions(dry_run=True))


def _project(tmp_path: Path, pyproject: str | None) -> Path:
    """The wine example in ``tmp_path/notebooks``, with a pyproject.toml above it."""
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    (tmp_path / "notebooks").mkdir()
    return Path(shutil.copy(ROOT / "examples" / "wine_classifier.ipynb", tmp_path / "notebooks"))


@pytest.mark.parametrize(
    ("pyproject", "package", "out", "expected"),
    [
        (None, None, None, "wine_classifier"),  # no project: the notebook's name, DIR its folder
        ('[project]\nname = "Acme-Models"\n', None, None, "acme_models"),
        ('[tool.nbops.modularize]\npackage = "acme.lib"\n', None, None, "acme.lib"),
        ('[project]\nname = "acme"\n', "team.models", None, "team.models"),
        (None, None, "out", "wine_classifier"),  # --out outside: the slim notebook goes to DIR
        ('[project]\nname = "acme"\n', None, ".", "acme"),  # --out the project itself
        ('[project]\nname = "acme"\n', "x", "notebooks/deep", "x"),
        # a project name that would hide a standard module is passed over, with a note
        ('[project]\nname = "json"\n', None, "out", "wine_classifier"),
    ],
)
def test_layout_and_modularize_agree_on_package_and_out(
    tmp_path: Path, pyproject: str | None, package: str | None, out: str | None, expected: str
) -> None:
    notebook = _project(tmp_path, pyproject)
    out_dir = tmp_path / out if out is not None else None
    layout = library_layout(notebook, package=package, out=out_dir)
    assert layout.package == expected
    assert layout.module == "wine_classifier"
    assert layout.out == (out_dir or (tmp_path if pyproject else notebook.parent)).resolve()
    assert layout.slim_dir == (
        notebook.parent if notebook.parent.is_relative_to(layout.out) else layout.out
    )
    assert layout.import_name == f"{expected}.wine_classifier"
    assert bool(layout.notes) == (pyproject is not None and '"json"' in pyproject)
    _agree(layout, notebook, ModularizeOptions(package=package, out=out_dir, dry_run=True))


def test_layout_refuses_what_modularize_refuses(tmp_path: Path) -> None:
    notebook = _project(tmp_path, '[tool.nbops.modularize]\npackage = "not valid"\n')
    (tmp_path / "file").write_text("", encoding="utf-8")
    for kwargs in ({"package": "class"}, {"out": tmp_path / "file"}, {}):
        with pytest.raises(UsageError) as by_layout:
            library_layout(notebook, **kwargs)  # type: ignore[arg-type]
        with pytest.raises(UsageError) as by_modularize:
            modularize(notebook, ModularizeOptions(dry_run=True, **kwargs))  # type: ignore[arg-type]
        assert by_layout.value.message == by_modularize.value.message
        assert by_layout.value.path == by_modularize.value.path
