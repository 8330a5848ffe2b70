"""The benchmark scripts: they start, their notebooks are valid data files, their generators are
deterministic, and what they probe in nbops still exists."""

from __future__ import annotations

import hashlib
import importlib
import json
import subprocess
import sys
from pathlib import Path

import make_verify_corpus
import nbformat
import nbtemplates
import pytest

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "benchmarks"
SCRIPTS = ["dask_bench.py", "deploy.py", "floor.py", "hackathon_bench.py", "lab.py", "make_corpus.py", "make_verify_corpus.py", "modularize.py", "monitor_bench.py",
           "precision.py", "requirements_bench.py", "run.py", "run_bench.py", "run_overhead.py", "submit_bench.py"]
TEMPLATES = sorted(nbtemplates.NOTEBOOKS.rglob("*.md"))


@pytest.mark.parametrize("script", SCRIPTS)
def test_script_answers_help(script: str) -> None:
    r = subprocess.run([sys.executable, str(BENCH / script), "--help"], capture_output=True,
                       text=True, timeout=120, check=False)
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("usage:")


def test_every_script_is_listed() -> None:
    scripts = {p.name for p in BENCH.glob("*.py") if not p.name.startswith("_")}
    assert scripts - {"harness.py", "nbtemplates.py"} == set(SCRIPTS)


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(BENCH)))
def test_template_is_a_valid_notebook(path: Path) -> None:
    cells = nbtemplates.load(path)
    filled = nbtemplates.fill(cells, k=1, p="base") if "${" in path.read_text() else cells
    nb = nbformat.reads(nbtemplates.dumps(nbtemplates.notebook(path.stem, filled)), as_version=4)
    nbformat.validate(nb)
    assert nbtemplates.parse(nbtemplates.render(cells)) == cells  # the format round-trips


def test_templates_exist() -> None:
    assert len(TEMPLATES) >= 27 + 2 + 1  # the verify corpus, the big notebook, trivial


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("no marker\n", "t.md: must start with a '<!-- cell: markdown|code -->' line"),
        ("<!-- cell: code -->\nx = 1\n", "t.md: cell 1: a code cell's source goes in a ```python fence"),
        ("<!-- cell: markdown tags=a -->\n# x\n", "t.md: cell 1: only code cells take tags here"),
    ],
)
def test_bad_template_names_file_and_cell(text: str, message: str) -> None:
    with pytest.raises(nbtemplates.TemplateError) as err:
        nbtemplates.parse(text, "t.md")
    assert str(err.value) == message


def test_fill_needs_every_placeholder() -> None:
    with pytest.raises(KeyError):
        nbtemplates.fill([("code", "x_${k} = ${p}", [])], k=1)


def test_verify_corpus_is_the_templates_byte_for_byte(tmp_path: Path) -> None:
    written = make_verify_corpus.write_all(tmp_path)
    committed = sorted((BENCH / "verify_corpus").glob("*.ipynb"))
    assert [p.name for p in written] == [p.name for p in committed]
    for new, old in zip(written, committed):
        assert new.read_bytes() == old.read_bytes(), new.name


def test_big_notebook_is_unchanged() -> None:
    # the issue-13 timing was measured on this notebook (sha256 of the generator's output then)
    text = json.dumps(make_verify_corpus.big_notebook(200), indent=1) + "\n"
    assert hashlib.sha256(text.encode()).hexdigest() == (
        "ba9922b36c4a0945276bea9641087f1134ff62f11886dd483727309e1520be99")
    nb = make_verify_corpus.big_notebook(37)
    assert len(nb["cells"]) == 37
    nbformat.validate(nbformat.from_dict(nb))


def test_make_corpus_is_deterministic_for_a_seed(tmp_path: Path) -> None:
    def build(out: Path, seed: int) -> str:
        cmd = [sys.executable, str(BENCH / "make_corpus.py"), "--offline", "--quiet",
               "--count", "40", "--seed", str(seed), "--out", str(out)]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
        assert r.returncode == 0, r.stderr
        return str(json.loads((out / "_manifest.json").read_text())["summary"]["fingerprint"])

    first, again = build(tmp_path / "a", 7), build(tmp_path / "b", 7)
    assert first == again
    files = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.ipynb"))
    assert files
    for rel in files:
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
    assert build(tmp_path / "c", 8) != first


def test_run_bench_probes_exist() -> None:
    run_bench = importlib.import_module("run_bench")
    for module_name, cls, attr, _key in run_bench.PROBES:
        owner = importlib.import_module(module_name)
        if cls is not None:
            owner = getattr(owner, cls)
        assert hasattr(owner, attr), f"{module_name}.{cls or ''}.{attr}"
