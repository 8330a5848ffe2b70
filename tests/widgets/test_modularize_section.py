"""The panel's "Modularize" section, driven through its widget objects (no browser, no kernel),
against a copy of the wine example in a project folder: the plan, "Write files" on disk, the
"unchanged" preview after it, a hand-edited module as a conflict that needs the overwrite box,
and failures in plain words."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from nbops.widgets import panel
from nbops.widgets.modularize import FORCE_LABEL, cell_ranges

ROOT = Path(__file__).resolve().parents[2]
WINE = ROOT / "examples" / "wine_classifier.ipynb"
# "Which measurements matter" only shows (a plot, a table): it stays in the slim notebook
STEPS = ("data", "model_and_evaluation")


@pytest.fixture(autouse=True)
def _close_widgets() -> Iterator[None]:
    """Close every widget a test made: left open, their comms fail noisily at exit."""
    yield
    from ipywidgets import Widget

    Widget.close_all()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A project folder (``pyproject.toml`` names it ``wine-models``) with the wine example in
    ``notebooks/``."""
    root = tmp_path / "proj"
    (root / "notebooks").mkdir(parents=True)
    (root / "pyproject.toml").write_text('[project]\nname = "wine-models"\n', encoding="utf-8")
    (root / "notebooks" / "wine_classifier.ipynb").write_bytes(WINE.read_bytes())
    return root


def files_of(project: Path) -> dict[str, Path]:
    return {
        "module": project / "src" / "wine_models" / "wine_classifier.py",
        "init": project / "src" / "wine_models" / "__init__.py",
        "tests": project / "tests" / "test_wine_classifier.py",
        "notebook": project / "notebooks" / "wine_classifier_slim.ipynb",
    }


def actions(section: object) -> dict[str, str]:
    result = section.result  # type: ignore[attr-defined]
    assert result is not None
    return {f.kind: f.action for f in result.files}


def file_row(html: str, path: str) -> str:
    """The files table's row of ``path`` (its action badge is in it)."""
    end = html.index(f"<code>{path}</code>")
    start = html.rindex("<tr>", 0, end)
    return html[start : html.index("</tr>", end)]


def test_the_section_does_nothing_until_asked(project: Path) -> None:
    p = panel(project / "notebooks" / "wine_classifier.ipynb")
    section = p.modularize
    assert p.sections.index(section) == 1 and section.title == "Modularize"
    assert [s.title for s in p.sections] == ["Lint", "Modularize", "Submit for review"]
    assert section.result is None and section.summary == "not previewed yet"
    assert section.write_button.disabled is True
    assert section.force_checkbox.layout.display == "none"
    assert "save the notebook, then Preview" in section.plan_html.value
    p.refresh()  # the panel's refresh previews only once the section was previewed
    assert section.result is None
    assert not (project / "src").exists() and not (project / "tests").exists()


def test_preview_lists_the_steps_and_the_files_to_create(project: Path) -> None:
    section = panel(project / "notebooks" / "wine_classifier.ipynb").modularize
    section.preview_button.click()
    assert section.error is None, section.result_html.value
    assert actions(section) == {
        "init": "create", "module": "create", "tests": "create", "notebook": "create"
    }  # fmt: skip
    html = section.plan_html.value
    assert "<code>wine_models.wine_classifier</code>" in html
    assert "<code>notebooks/wine_classifier.ipynb</code>" in html
    assert "2 steps, cut by headings" in html and "dry run: nothing written" in html
    for name in STEPS:
        assert f"<code>{name}</code>" in html
    # a step's cells, inputs -> outputs and parameters
    row = html[html.index("<code>model_and_evaluation</code>") :]
    row = row[: row.index("</tr>")]
    assert "8–9" in row and "features, target → model" in row and "C, SEED, TEST_SIZE" in row
    assert "also returns accuracy" in row
    # what it returns: the frozen dataclass with its fields; its size in lines; the cells
    # whose exploration stays in the slim notebook (the plot of cell 11 among them)
    plan = section.result.to_dict(project)  # type: ignore[union-attr]
    step = plan["steps"][1]
    assert step["returns"] == "ModelAndEvaluationResult" and step["fields"][:2] == ["model", "accuracy"]
    assert f"ModelAndEvaluationResult({', '.join(step['fields'])})</code>" in row
    assert step["lines"] > 0 and f">{step['lines']}</td>" in row
    assert 11 in step["exploration"] and f">{cell_ranges(step['exploration'])}</td>" in row
    data = html[html.index("<code>data</code>") :]
    assert "DataResult(features, target)</code>" in data[: data.index("</tr>")]
    for label in ("Lines", "Returns", "In notebook"):
        assert f">{label}</th>" in html
    assert "<code>TEST_SIZE = 0.25</code>" in html and "share of the wines" in html
    # wine's names are snake_case in the module: nothing carried over to exempt, no problem
    for path in ("src/wine_models/wine_classifier.py", "tests/test_wine_classifier.py",
                 "notebooks/wine_classifier_slim.ipynb", "src/wine_models/__init__.py"):  # fmt: skip
        assert ">create</span>" in file_row(html, path)
    assert section.write_button.disabled is False and section.blocked_html.value == ""
    assert section.force_checkbox.layout.display == "none"
    assert section.summary == "wine_models.wine_classifier: 2 steps; 4 create"
    assert not (project / "src").exists()  # a preview writes nothing


def test_write_creates_the_files_and_the_next_preview_says_unchanged(project: Path) -> None:
    notebook = project / "notebooks" / "wine_classifier.ipynb"
    before = notebook.read_bytes()
    section = panel(notebook).modularize
    section.preview_button.click()
    section.write_button.click()
    assert section.error is None, section.result_html.value
    paths = files_of(project)
    for path in paths.values():
        assert path.is_file(), path
    assert notebook.read_bytes() == before  # the notebook is only read
    assert section.written is not None and section.written.written
    assert "def run(" in paths["module"].read_text(encoding="utf-8")
    shown = section.result_html.value
    assert "Modularized notebooks/wine_classifier.ipynb: wrote 4 files" in shown
    assert "<code>src/wine_models/wine_classifier.py</code>" in shown
    assert str(paths["module"].resolve()) in shown  # where the module is, in full
    assert "from wine_models.wine_classifier import run" in shown
    assert "pytest tests/test_wine_classifier.py" in shown
    # previewed again: everything unchanged, nothing left to write
    assert set(actions(section).values()) == {"unchanged"}
    assert ">unchanged</span>" in file_row(
        section.plan_html.value, "src/wine_models/wine_classifier.py"
    )
    assert section.write_button.disabled is True
    assert "Nothing to write" in section.blocked_html.value
    assert section.summary == "written: wine_models.wine_classifier"
    # a fresh Preview clears the write's report and says the same
    section.preview_button.click()
    assert section.result_html.value == "" and set(actions(section).values()) == {"unchanged"}


def test_a_module_edited_by_hand_is_a_conflict_until_overwrite_is_ticked(project: Path) -> None:
    section = panel(project / "notebooks" / "wine_classifier.ipynb").modularize
    section.preview_button.click()
    section.write_button.click()
    module = files_of(project)["module"]
    generated = module.read_text(encoding="utf-8")
    module.write_text(generated + "\n# my own change\n", encoding="utf-8")
    section.preview_button.click()
    assert actions(section)["module"] == "conflict"
    assert actions(section)["tests"] == "unchanged"
    assert ">conflict</span>" in file_row(
        section.plan_html.value, "src/wine_models/wine_classifier.py"
    )
    assert section.force_checkbox.layout.display != "none"
    assert section.force_checkbox.description == FORCE_LABEL
    assert section.force_checkbox.value is False
    assert section.write_button.disabled is True
    assert "1 file already exists that nbops did not write" in section.blocked_html.value
    # a click that gets through anyway (a stale front end) writes nothing
    section.write_button.click()
    assert "# my own change" in module.read_text(encoding="utf-8")
    section.force_checkbox.value = True
    assert section.write_button.disabled is False and section.blocked_html.value == ""
    section.write_button.click()
    assert section.error is None, section.result_html.value
    assert module.read_text(encoding="utf-8") == generated
    assert "wrote 1 file" in section.result_html.value
    assert "overwrite <code>src/wine_models/wine_classifier.py</code>" in section.result_html.value
    assert set(actions(section).values()) == {"unchanged"}
    assert section.force_checkbox.value is False  # never carried over to the next plan
    assert section.force_checkbox.layout.display == "none"


def test_a_conflict_that_appears_after_the_preview_is_shown_not_overwritten(
    project: Path,
) -> None:
    section = panel(project / "notebooks" / "wine_classifier.ipynb").modularize
    section.preview_button.click()
    tests_file = files_of(project)["tests"]
    tests_file.parent.mkdir()
    tests_file.write_text("def test_mine():\n    pass\n", encoding="utf-8")
    section.write_button.click()  # the preview said create; the file is there now
    assert tests_file.read_text(encoding="utf-8") == "def test_mine():\n    pass\n"
    assert not files_of(project)["module"].exists()  # nothing was written
    assert "Files changed since the preview" in section.plan_html.value
    assert actions(section)["tests"] == "conflict" and section.write_button.disabled is True
    # ticked for one conflict, a second one appearing later is not overwritten either
    section.force_checkbox.value = True
    module = files_of(project)["module"]
    module.parent.mkdir(parents=True)
    module.write_text("MINE = 1\n", encoding="utf-8")
    section.write_button.click()
    assert module.read_text(encoding="utf-8") == "MINE = 1\n"
    assert tests_file.read_text(encoding="utf-8") == "def test_mine():\n    pass\n"
    assert actions(section)["module"] == "conflict" and section.force_checkbox.value is False
    assert "Files changed since the preview" in section.plan_html.value


def test_the_package_field_and_a_bad_package_name(project: Path) -> None:
    section = panel(project / "notebooks" / "wine_classifier.ipynb").modularize
    section.package_text.value = "team.models"
    section.preview_button.click()
    assert section.result is not None and section.result.package == "team.models"
    assert "<code>team.models.wine_classifier</code>" in section.plan_html.value
    # changing the name after the preview: write what was previewed, or preview again
    section.package_text.value = "other"
    assert section.write_button.disabled is True
    assert "package name changed" in section.blocked_html.value
    section.package_text.value = "team.models"
    assert section.write_button.disabled is False
    section.write_button.click()
    assert (project / "src" / "team" / "models" / "wine_classifier.py").is_file()
    section.package_text.value = "my-models"
    section.preview_button.click()
    assert section.result is None and section.write_button.disabled is True
    shown = section.result_html.value
    assert "The preview could not run." in shown
    assert "&#x27;my-models&#x27; is not a Python package name" in shown
    assert "leave the field empty" in shown and "Traceback" not in shown


def test_a_broken_notebook_is_a_clear_error_naming_the_file(project: Path) -> None:
    broken = project / "notebooks" / "broken.ipynb"
    broken.write_text("{not json", encoding="utf-8")
    section = panel(broken).modularize
    section.preview_button.click()
    assert section.result is None and section.error
    shown = section.result_html.value
    assert "The preview could not run." in shown and "broken.ipynb: broken JSON" in shown
    assert "restore it from version control" in shown  # the hint
    assert section.summary.startswith("error: broken.ipynb")
    assert section.write_button.disabled is True and section.preview_button.disabled is False
    assert section.plan_html.value == ""


def test_a_non_python_notebook_and_a_notebook_that_is_gone(project: Path) -> None:
    notebook = project / "notebooks" / "wine_classifier.ipynb"
    content = json.loads(notebook.read_text(encoding="utf-8"))
    content["metadata"]["kernelspec"] = {"name": "ir", "display_name": "R", "language": "R"}
    content["metadata"]["language_info"] = {"name": "R"}
    r_notebook = project / "notebooks" / "analysis.ipynb"
    r_notebook.write_text(json.dumps(content), encoding="utf-8")
    section = panel(r_notebook).modularize
    section.preview_button.click()
    assert "kernel language is &#x27;r&#x27;" in section.result_html.value
    assert "nbops modularizes Python notebooks" in section.result_html.value
    # deleted after the panel found it
    gone = panel(notebook).modularize
    notebook.unlink()
    gone.preview_button.click()
    assert "wine_classifier.ipynb: no such notebook" in gone.result_html.value
    assert gone.write_button.disabled is True


def test_a_notebook_that_cannot_be_located_is_an_error_in_the_section(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(project)
    section = panel(project / "notebooks" / "missing.ipynb").modularize
    section.preview_button.click()
    assert section.result is None and "does not exist" in section.result_html.value
    assert "panel(&quot;path/to/notebook.ipynb&quot;)" in section.result_html.value  # the hint


def test_text_from_the_notebook_is_escaped(project: Path) -> None:
    notebook = project / "notebooks" / "wine_classifier.ipynb"
    content = json.loads(notebook.read_text(encoding="utf-8"))
    cells = content["cells"]
    # an entity-encoded tag (a raw one is markup, dropped from the heading's text)
    cells[9]["source"] = "## &lt;script&gt;alert(1)&lt;/script&gt; Which measurements matter\n"
    cells[10]["source"] = (
        cells[10]["source"]
        if isinstance(cells[10]["source"], str)
        else "".join(cells[10]["source"])
    ) + '\n!echo "<script>alert(2)</script>" | tee shown.txt\n'
    notebook.write_text(json.dumps(content), encoding="utf-8")
    section = panel(notebook).modularize
    section.preview_button.click()
    assert section.error is None, section.result_html.value
    titles = [s.title for s in section.result.plan.steps]  # type: ignore[union-attr]
    assert any("<script>alert(1)</script>" in t for t in titles)
    messages = [p.message for p in section.result.problems]  # type: ignore[union-attr]
    assert any("<script>alert(2)</script>" in m for m in messages)
    html = section.plan_html.value
    assert "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Which measurements matter" in html
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html and ">error</span>" in html


def test_plan_rows_show_size_returns_what_stays_in_the_notebook_and_proposed() -> None:
    from nbops.widgets.modularize import render_plan

    step = {
        "name": "prepare", "title": "Prepare", "cells": [4, 5, 6], "inputs": [], "outputs": ["X"],
        "results": [], "returns": None, "fields": [], "parameters": ["SEED"], "doc": "",
        "lines": 12, "exploration": [5, 6],
    }
    plan = {
        "notebook": "nb.ipynb", "package": "pkg", "module": "nb", "strategy": "headings",
        "dry_run": True, "steps": [step, {**step, "name": "fit", "cells": [8], "exploration": [],
                                          "lines": 3, "inputs": ["X"], "outputs": [],
                                          "results": ["model", "score"], "returns": "FitResult",
                                          "fields": ["model", "score"]}],
        "parameters": [
            {"name": "SEED", "default": "0", "cell": 2, "help": "random seed", "proposed": False},
            {"name": "ALPHA", "default": "0.1", "cell": 3, "help": "", "proposed": True},
        ],
        "problems": [], "files": [],
    }
    html = render_plan(plan)
    prepare = html[html.index("<code>prepare</code>") :]
    prepare = prepare[: prepare.index("</tr>")]
    assert ">12</td>" in prepare and ">5–6</td>" in prepare and "<code>X</code>" in prepare
    fit = html[html.index("<code>fit</code>") :]
    fit = fit[: fit.index("</tr>")]
    assert ">3</td>" in fit and "FitResult(model, score)</code>" in fit and ">—</td>" in fit
    seed = html[html.index("<code>SEED = 0</code>") :]
    assert ">proposed</span>" not in seed[: seed.index("</li>")]
    alpha = html[html.index("<code>ALPHA = 0.1</code>") :]
    assert ">proposed</span>" in alpha[: alpha.index("</li>")]


def test_cell_ranges() -> None:
    assert cell_ranges([5, 1, 2, 3, 3]) == "1–3, 5"
    assert cell_ranges([8]) == "8" and cell_ranges([]) == ""


CHURN = Path(__file__).resolve().parents[2] / "examples" / "churn_classifier.ipynb"


def test_a_plan_with_errors_makes_write_not_the_primary_button(project: Path) -> None:
    section = panel(project / "notebooks" / "wine_classifier.ipynb").modularize
    section.preview_button.click()
    assert section.write_button.button_style == "primary"
    churn = project / "notebooks" / "churn_classifier.ipynb"
    churn.write_bytes(CHURN.read_bytes())  # a hard-coded key: an error in the plan
    section = panel(churn).modularize
    section.preview_button.click()
    assert section.error is None, section.result_html.value
    assert any(p.severity == "error" and "CRM_API_KEY" in p.message for p in section.result.problems)  # type: ignore[union-attr]
    assert section.write_button.button_style == "warning" and not section.write_button.disabled
    assert "sk_live" not in section.plan_html.value
    # churn's constants are proposed parameters: badged in the list
    html = section.plan_html.value
    seed = html[html.index("<code>SEED = 42</code>") :]
    assert ">proposed</span>" in seed[: seed.index("</li>")]


def test_a_plan_that_cannot_be_written_disables_write(project: Path) -> None:
    broken = project / "notebooks" / "broken.ipynb"
    doc = json.loads(CHURN.read_text(encoding="utf-8"))
    key_cell = next(c for c in doc["cells"] if "CRM_API_KEY =" in "".join(c["source"]))
    # the key inside a longer string cannot be replaced by a read from the environment
    key_cell["source"] = 'headers = {"Authorization": "Bearer ' + "sk_live_51HxExample" + 'ExampleExample00"}\n'
    broken.write_text(json.dumps(doc), encoding="utf-8")
    section = panel(broken).modularize
    section.preview_button.click()
    assert section.result is not None and section.result.refusal is not None
    assert section.write_button.disabled
    assert "Nothing can be written" in section.blocked_html.value
    assert not (project / "src").exists()
