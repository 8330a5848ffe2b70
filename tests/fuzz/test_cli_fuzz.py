"""Property-based fuzzing of the CLI (issue 12 §8): generated notebooks of every class through
``nbops lint`` (every format), ``fix`` (``--diff`` and a real write), ``modularize``
(``--dry-run`` and a real write into a temporary folder), ``check`` and ``params``.

What must hold for every input (:func:`exercise`):

- no traceback and no "internal error" in what a command prints (unless the notebook itself
  holds those words, in an error output for instance);
- only the exit codes the README and docs/ document for the command (:data:`EXIT_CODES`);
  exit 70, an internal error, is always a failure;
- valid JSON wherever JSON was asked for;
- the notebook's bytes unchanged unless ``fix`` was asked to write, and nothing written by
  ``--diff`` or ``--dry-run``;
- ``fix`` changes exactly what it reports: comparing the notebook JSON before and after, only
  the cells its report names changed (sources, tags), only the cells it reports deleting are
  gone and they held nothing, nothing else changed; the backup equals the original; the
  ``--diff`` run reports the same fixes as the write;
- every ``.py`` file a successful ``modularize`` wrote compiles.

Commands run in-process (``nbops.cli.main.main``, with ``SystemExit`` caught) for speed; each
call checks that it left the working directory, the environment and the standard streams as
it found them, and :func:`test_real_entry_point_agrees` runs a sample through the console
script to check the in-process results are the real ones. No kernel is ever started.

Profiles (tests/fuzz/conftest.py): ``ci`` by default, bounded and derandomized;
``NBOPS_FUZZ=large`` for ~25 times as many fresh examples, by hand::

    NBOPS_FUZZ=large .venv/bin/python -m pytest -p no:cacheprovider -n 2 tests/fuzz

``NBOPS_FUZZ_LOG=FILE`` appends each known failure a general test steps over to ``FILE``.

Failures known and being fixed elsewhere are listed in :data:`KNOWN_BUGS`: their dedicated
tests are marked xfail and the general tests step over inputs that fail only that way. When
a fix lands, delete its entry: the dedicated test must then pass and the general tests stop
tolerating the failure.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fuzz.strategies import (
    EXAMPLES,
    Case,
    broken_notebooks,
    cells_fix_may_not_delete,
    deep_notebooks,
    ipython_notebooks,
    kernel_notebooks,
    modules_that_may_not_compile,
    mutated_examples,
    notebooks_with_secrets,
    odd_notebooks,
    python_notebooks,
    v3_notebooks,
)
from hypothesis import Phase, event, given, settings
from hypothesis import strategies as st

from nbops.cli.main import main

# --------------------------------------------------------------------------- known failures

# Known and being fixed elsewhere (issue 12). Delete an entry when its fix lands.
KNOWN_BUGS: dict[str, str] = {}


def known(cause: str, examples: int) -> Callable[[Any], Any]:
    """:func:`ci` settings and, while ``cause`` is listed in :data:`KNOWN_BUGS`, the xfail
    mark (and no shrinking: the failure is known, minimising it again is wasted time)."""
    if cause not in KNOWN_BUGS:
        return ci(examples)
    mark = pytest.mark.xfail(strict=False, reason=KNOWN_BUGS[cause])
    quick = settings(ci(examples), phases=[p for p in Phase if p is not Phase.shrink])
    return lambda test: mark(quick(test))


# --------------------------------------------------------------------------- the contract

# Exit codes documented per command: lint and fix in the README and docs/configuration.md,
# modularize in docs/modularize.md and its --help, check in docs/review.md, params in its
# --help. 70 (internal error) and 130 (interrupted) are never right here. 3 (an external tool
# failed) is kept for the commands that run ruff or black and do not say otherwise.
EXIT_CODES: dict[str, set[int]] = {
    "lint": {0, 1, 2, 3, 4},  # 4: the --output-file cannot be written
    "fix": {0, 1, 2, 4},  # 1: --diff found something to change; 2: left untouched
    "modularize": {0, 2, 3, 4},  # 2 also: nothing can be written; 4: a conflict
    "check": {0, 1, 2, 3},
    "params": {0, 1, 2},
}
LINT_FORMATS = ("text", "json", "sarif", "github", "concise")
CRASH_WORDS = ("Traceback (most recent call last)", "internal error")
PYPROJECT = "[tool.nbops]\n"


class Finding(AssertionError):
    """A broken promise; ``cause`` names a known failure (a :data:`KNOWN_BUGS` key) or 'new'."""

    def __init__(self, cause: str, message: str) -> None:
        super().__init__(f"[{cause}] {message}")
        self.cause = cause


@dataclass
class Outcome:
    argv: tuple[str, ...]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        return (
            f"nbops {' '.join(self.argv)} -> exit {self.code}\n"
            f"--- stdout\n{self.out[-2000:]}\n--- stderr\n{self.err[-2000:]}"
        )


def _stream() -> io.TextIOWrapper:
    # a real text stream over bytes (``.buffer``, strict UTF-8), as a terminal or pipe gives
    return io.TextIOWrapper(io.BytesIO(), encoding="utf-8", newline="\n", write_through=True)


def _read(stream: io.TextIOWrapper) -> str:
    stream.flush()
    raw = stream.buffer
    assert isinstance(raw, io.BytesIO)
    return raw.getvalue().decode("utf-8")


_RECORD: list[Outcome] | None = None


@contextlib.contextmanager
def recording() -> Iterator[list[Outcome]]:
    """Collect the outcome of every :func:`cli` call made inside."""
    global _RECORD
    _RECORD = []
    try:
        yield _RECORD
    finally:
        _RECORD = None


def cli(*argv: str) -> Outcome:
    """``nbops ARGV`` in this process; checks it leaks no state (cwd, environment, streams)."""
    cwd, env = os.getcwd(), dict(os.environ)
    streams = (sys.stdout, sys.stderr)
    out, err = _stream(), _stream()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(list(argv))
        except SystemExit as exc:  # argparse
            code = exc.code if isinstance(exc.code, int) else 2
        except Exception:  # noqa: BLE001 (only with NBOPS_DEBUG set: main() makes it exit 70)
            traceback.print_exc()
            code = 70
    outcome = Outcome(argv, code, _read(out), _read(err))
    if _RECORD is not None:
        _RECORD.append(outcome)
    assert (sys.stdout, sys.stderr) == streams, f"{outcome}\nthe standard streams were replaced"
    assert os.getcwd() == cwd, f"{outcome}\nthe working directory changed to {os.getcwd()}"
    changed = sorted(k for k in env.keys() | os.environ.keys() if env.get(k) != os.environ.get(k))
    assert not changed, f"{outcome}\nthe environment changed: {changed}"
    return outcome


@contextlib.contextmanager
def project(case: Case) -> Iterator[Path]:
    """A temporary project (its own pyproject.toml, so caches and defaults stay inside it)
    holding the case's notebook; yields the notebook's path."""
    with tempfile.TemporaryDirectory(prefix="nbops-fuzz-") as folder:
        root = Path(folder)
        (root / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
        (root / "nb").mkdir()
        path = root / "nb" / case.name
        path.write_bytes(case.data)
        yield path


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` but the lint cache (which any command may fill)."""
    return {
        str(p.relative_to(folder)): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and ".nbops_cache" not in p.relative_to(folder).parts
    }


def cause_of(case: Case, outcome: Outcome | None = None) -> str:
    """The known failure a broken promise on ``case`` belongs to, else 'new'."""
    text = "" if outcome is None else outcome.out + outcome.err
    if "deep" in case.features and (
        outcome is None or "RecursionError" in text or outcome.code == 70
    ):
        return "deep-nesting"
    return "new"


def expect(case: Case, outcome: Outcome, command: str) -> None:
    """No traceback, a documented exit code."""
    source = case.data.decode("utf-8", "replace")
    text = outcome.out + outcome.err
    for words in CRASH_WORDS:
        if words in text and words not in source:
            raise Finding(cause_of(case, outcome), f"{words!r} in the output\n{outcome}")
    if outcome.code not in EXIT_CODES[command]:
        raise Finding(cause_of(case, outcome), f"undocumented exit code {outcome.code}\n{outcome}")


def json_of(case: Case, outcome: Outcome, text: str | None = None) -> Any:
    """The JSON document a command printed (or wrote: ``text``)."""
    try:
        return json.loads(outcome.out if text is None else text)
    except ValueError as exc:
        raise Finding(
            cause_of(case, outcome), f"--format json printed invalid JSON ({exc})\n{outcome}"
        ) from None


def refused(outcome: Outcome) -> bool:
    """A command that stopped on bad input before printing its document (``check``, ``params``
    and ``modularize`` on one unreadable notebook): exit 2, nothing on stdout, one error line."""
    return outcome.code == 2 and not outcome.out and outcome.err.startswith("nbops: error: ")


def unchanged(case: Case, path: Path, outcome: Outcome) -> None:
    if path.read_bytes() != case.data:
        raise Finding(cause_of(case, outcome), f"the notebook's bytes changed\n{outcome}")


# --------------------------------------------------------------------------- fix's report


def _doc(data: bytes) -> Any:
    return json.loads(data.decode("utf-8").removeprefix("\ufeff"))


def _is_empty(cell: Any) -> bool:
    """A cell holding nothing but a blank source (what NB107 and NB502 may delete)."""
    if not isinstance(cell, dict):
        return False
    source = cell.get("source")
    text = (
        "".join(source) if isinstance(source, list) else source if isinstance(source, str) else ""
    )
    meta = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
    return (
        not text.strip()
        and not cell.get("outputs")
        and not cell.get("attachments")
        and not meta.get("tags")
    )


def fix_problems(before: Any, after: Any, applied: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """``(cause, what)`` for every change in ``after`` that ``applied`` does not account for."""
    found: list[tuple[str, str]] = []
    v3 = isinstance(before, dict) and before.get("nbformat") == 3
    top = "nbformat3-rewrite" if v3 else "new"
    for key in sorted(set(before) | set(after)):
        if key != "cells" and before.get(key) != after.get(key):
            was, now = str(before.get(key))[:200], str(after.get(key))[:200]
            found.append((top, f"top-level {key!r} changed: {was} -> {now}"))
    if v3 or not isinstance(before.get("cells"), list):
        return found
    old, new = before["cells"], after.get("cells")
    named: set[int] = set()
    deleted: set[int] = set()
    nb107: set[int] = set()  # deleted as empty: the source must be blank too
    for entry in applied:
        index = entry.get("cell_index")
        if isinstance(index, int):
            named.add(index)
            message = str(entry.get("message", ""))
            if entry["code"] == "NB107" or (entry["code"] == "NB502" and "delete cell" in message):
                deleted.add(index)
                if entry["code"] == "NB107":
                    nb107.add(index)
        # a fix may edit a second cell it names in its message (NB502: "... in cell 2")
        named |= {int(n) - 1 for n in re.findall(r"\bcell (\d+)", str(entry.get("message", "")))}
    for index in sorted(deleted):
        if not 0 <= index < len(old):
            continue
        cell = old[index]
        if index not in nb107 and isinstance(cell, dict):
            cell = {**cell, "source": ""}  # NB502 moved its import away: the rest must be empty
        if not _is_empty(cell):
            held = json.dumps(old[index])[:300]
            found.append(
                (
                    "fix-deletes-content",
                    f"cell {index + 1} deleted although it holds more than a blank source: {held}",
                )
            )
    kept = [(i, c) for i, c in enumerate(old) if i not in deleted]
    if not isinstance(new, list) or len(kept) != len(new):
        now = len(new) if isinstance(new, list) else repr(new)
        found.append(
            ("new", f"{len(old)} cells before, {now} after, {len(deleted)} deletion(s) reported")
        )
        return found
    for (index, a), b in zip(kept, new):
        if not isinstance(a, dict) or not isinstance(b, dict):
            if a != b:
                found.append(("new", f"cell {index + 1} changed"))
            continue
        for key in sorted(set(a) | set(b)):
            va, vb = a.get(key), b.get(key)
            if key == "source" and index in named:
                continue
            if key == "metadata" and index in named:  # a named cell may get a tag
                va = {k: v for k, v in (va if isinstance(va, dict) else {}).items() if k != "tags"}
                vb = {k: v for k, v in (vb if isinstance(vb, dict) else {}).items() if k != "tags"}
            if va != vb:
                change = f"{str(va)[:200]} -> {str(vb)[:200]}"
                found.append(
                    ("new", f"cell {index + 1}: {key!r} changed, no fix reported it: {change}")
                )
    return found


def check_fix_write(case: Case, path: Path, diff_report: Any | None) -> None:
    outcome = cli("fix", "--format", "json", str(path))
    expect(case, outcome, "fix")
    if outcome.code == 1:
        raise Finding(cause_of(case, outcome), f"exit 1 is --diff's, not a write's\n{outcome}")
    report = json_of(case, outcome)
    entries = report.get("results", [])
    if len(entries) != 1:
        raise Finding("new", f"one notebook, {len(entries)} results\n{outcome}")
    entry = entries[0]
    if diff_report is not None:
        said = [(a["code"], a["cell"]) for a in diff_report["results"][0]["applied"]]
        done = [(a["code"], a["cell"]) for a in entry["applied"]]
        if said != done:
            raise Finding("new", f"--diff reported {said}, the write applied {done}\n{outcome}")
    if not entry.get("written"):
        unchanged(case, path, outcome)
        return
    backup = Path(entry["backup"]) if entry.get("backup") else None
    if backup is None or backup.read_bytes() != case.data:
        raise Finding("new", f"the backup {backup} is not the original\n{outcome}")
    try:
        before, after = _doc(case.data), _doc(path.read_bytes())
    except ValueError as exc:
        raise Finding("new", f"fix wrote a file that is not JSON: {exc}\n{outcome}") from None
    problems = fix_problems(before, after, entry["applied"])
    if problems:
        causes = {c for c, _ in problems}
        cause = next(iter(causes)) if len(causes) == 1 else "new"
        raise Finding(
            cause,
            "fix changed what it did not report:\n  "
            + "\n  ".join(f"[{c}] {w}" for c, w in problems)
            + f"\n{outcome}",
        )


# --------------------------------------------------------------------------- modularize


def check_modularize(case: Case, path: Path) -> None:
    root = path.parent.parent
    out = root / "out"
    before = tree(root)
    dry = cli("modularize", str(path), "--dry-run", "--out", str(out))
    expect(case, dry, "modularize")
    if tree(root) != before:
        raise Finding(cause_of(case, dry), f"--dry-run wrote files\n{dry}")
    wrote = cli("modularize", str(path), "--out", str(out), "--format", "json")
    expect(case, wrote, "modularize")
    unchanged(case, path, wrote)
    if refused(wrote):
        return
    plan = json_of(case, wrote)  # also on a conflict (exit 4): the error and the plan
    if wrote.code != 0:
        return
    broken = []
    for file in sorted(out.rglob("*.py")):
        try:
            compile(file.read_text(encoding="utf-8"), str(file), "exec")
        except (SyntaxError, ValueError, UnicodeDecodeError) as exc:
            broken.append(f"{file.relative_to(root)}: {type(exc).__name__}: {exc}")
    for file in plan.get("files", []):
        if file.get("kind") == "notebook" and file.get("action") in ("create", "overwrite"):
            slim = out / file["path"]  # paths in the plan are relative to --out
            try:
                json.loads(slim.read_bytes())
            except (OSError, ValueError) as exc:
                broken.append(f"the slim notebook {slim.name}: {exc}")
    if broken:
        cause = "deep-nesting" if "deep" in case.features else "module-does-not-compile"
        raise Finding(
            cause, "modularize exited 0 but wrote:\n  " + "\n  ".join(broken) + f"\n{wrote}"
        )


# --------------------------------------------------------------------------- all commands


def exercise(case: Case, *, fix_diff_format: str = "json", tolerate: bool = True) -> None:
    """Every command on ``case``; a known failure is stepped over when ``tolerate``."""
    try:
        _exercise(case, fix_diff_format)
    except Finding as finding:
        if tolerate and finding.cause in KNOWN_BUGS:
            if os.environ.get("NBOPS_FUZZ_LOG"):  # a file to list the known failures met
                with open(os.environ["NBOPS_FUZZ_LOG"], "a", encoding="utf-8") as log:
                    log.write(f"{case.kind} {finding}\n{case!r}\n=====\n")
            event(f"known failure stepped over: {finding.cause}")  # --hypothesis-show-statistics
            return
        raise


def _exercise(case: Case, fix_diff_format: str) -> None:
    with project(case) as path:
        for fmt in LINT_FORMATS:
            outcome = cli("lint", "-j", "1", "--format", fmt, str(path))
            expect(case, outcome, "lint")
            if fmt in ("json", "sarif"):
                json_of(case, outcome)
            unchanged(case, path, outcome)
        # one gate run gives both reports: JSON into the file, the text on stdout
        report = path.parent.parent / "check.json"
        outcome = cli("check", str(path), "--format", "json", "--output-file", str(report))
        expect(case, outcome, "check")
        if report.exists():
            json_of(case, outcome, report.read_text(encoding="utf-8"))
        elif not refused(outcome):
            raise Finding(cause_of(case, outcome), f"no report and no error\n{outcome}")
        unchanged(case, path, outcome)
        for fmt in ("text", "json"):
            outcome = cli("params", str(path), "--format", fmt)
            expect(case, outcome, "params")
            if fmt == "json" and not refused(outcome):
                json_of(case, outcome)
            unchanged(case, path, outcome)
        check_modularize(case, path)
        diff = cli("fix", "--diff", "--format", fix_diff_format, str(path))
        expect(case, diff, "fix")
        diff_report = json_of(case, diff) if fix_diff_format == "json" else None
        unchanged(case, path, diff)
        check_fix_write(case, path, diff_report)


def ci(examples: int) -> settings:
    """The selected profile (tests/fuzz/conftest.py) with ``examples`` examples in ``ci``."""
    profile = settings.get_profile(f"nbops-fuzz-{os.environ.get('NBOPS_FUZZ', 'ci')}")
    return settings(profile, max_examples=max(1, examples * profile.max_examples // 10))


FIX_DIFF_FORMAT = st.sampled_from(["json", "text"])


# --------------------------------------------------------------------------- the classes


@ci(25)
@given(odd_notebooks(), FIX_DIFF_FORMAT)
def test_valid_but_odd_notebooks(case: Case, fmt: str) -> None:
    exercise(case, fix_diff_format=fmt)


@ci(30)
@given(broken_notebooks(), FIX_DIFF_FORMAT)
def test_broken_files(case: Case, fmt: str) -> None:
    exercise(case, fix_diff_format=fmt)


@ci(25)
@given(ipython_notebooks(), FIX_DIFF_FORMAT)
def test_ipython_syntax(case: Case, fmt: str) -> None:
    exercise(case, fix_diff_format=fmt)


@ci(25)
@given(python_notebooks(), FIX_DIFF_FORMAT)
def test_python_edge_cases(case: Case, fmt: str) -> None:
    exercise(case, fix_diff_format=fmt)


@ci(10)
@given(kernel_notebooks(), FIX_DIFF_FORMAT)
def test_other_kernels(case: Case, fmt: str) -> None:
    exercise(case, fix_diff_format=fmt)


@ci(25)
@given(mutated_examples(), FIX_DIFF_FORMAT)
def test_mutated_examples(case: Case, fmt: str) -> None:
    exercise(case, fix_diff_format=fmt)


# --------------------------------------------------------------------------- known failures


@known("deep-nesting", 3)
@given(deep_notebooks())
def test_deep_nesting_every_command(case: Case) -> None:
    exercise(case, tolerate=False)


@known("nbformat3-rewrite", 4)
@given(v3_notebooks())
def test_fix_leaves_nbformat3_alone(case: Case) -> None:
    exercise(case, tolerate=False)


@known("deep-nesting", 3)
@given(deep_notebooks())
def test_deep_nesting_is_an_nb001_entry(case: Case) -> None:
    with project(case) as path:  # through the console script: its recursion limit, 1,000
        proc = subprocess.run(
            [*_entry_points()[0], "lint", "--format", "json", str(path)],
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        outcome = Outcome(
            ("lint", "--format", "json", str(path)), proc.returncode, proc.stdout, proc.stderr
        )
        expect(case, outcome, "lint")
        codes = {d.get("code") for d in json_of(case, outcome).get("diagnostics", [])}
        if outcome.code != 2 or "NB001" not in codes:
            raise Finding(
                "deep-nesting", f"not an NB001 entry with exit 2: {sorted(codes)}\n{outcome}"
            )


@known("fix-deletes-content", 4)
@given(cells_fix_may_not_delete())
def test_fix_deletes_only_empty_cells(case: Case) -> None:
    with project(case) as path:
        check_fix_write(case, path, None)


@known("module-does-not-compile", 4)
@given(modules_that_may_not_compile())
def test_written_module_compiles(case: Case) -> None:
    with project(case) as path:
        check_modularize(case, path)


@known("secret-in-module", 3)
@given(notebooks_with_secrets())
def test_no_secret_in_generated_files(drawn: tuple[Case, str]) -> None:
    case, key = drawn
    with project(case) as path:
        lint = cli("lint", "--format", "json", "--select", "NB401", str(path))
        if not any(d["code"] == "NB401" for d in json_of(case, lint)["diagnostics"]):
            return  # not a key the detector recognises (a placeholder-looking string)
        outcome = cli("modularize", str(path), "--out", str(path.parent.parent / "out"))
        expect(case, outcome, "modularize")
        leaked = [
            name
            for name, data in tree(path.parent.parent).items()
            if name != f"nb/{case.name}" and key.encode() in data
        ]
        if leaked:
            raise Finding("secret-in-module", f"the key is in {leaked}\n{outcome}")


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.ipynb")))
def test_examples_are_not_refused(name: str) -> None:
    """The oracle is not vacuous: on the bundled examples every command does its work
    (no exit 2 or 4 that would also let a CLI refusing everything pass)."""
    case = Case("example", name, (EXAMPLES / name).read_bytes())
    with recording() as calls:
        exercise(case, tolerate=False)
    refused = [c for c in calls if c.code not in (0, 1)]
    assert not refused, "\n".join(map(str, refused))
    assert len(calls) == len(LINT_FORMATS) + 7, [c.argv[0] for c in calls]  # every command ran


# --------------------------------------------------------------------------- the real entry point

ENTRY_SAMPLE = [
    ("wine_classifier.ipynb", (EXAMPLES / "wine_classifier.ipynb").read_bytes()),
    ("truncated.ipynb", (EXAMPLES / "churn_classifier.ipynb").read_bytes()[:5000]),
    (
        "magics.ipynb",
        json.dumps(
            {
                "cells": [
                    {
                        "cell_type": "code",
                        "metadata": {},
                        "outputs": [],
                        "execution_count": None,
                        "source": "%matplotlib inline\nx = !ls\n!echo {x}\nimport os\nos?",
                    },
                    {
                        "cell_type": "code",
                        "metadata": {},
                        "outputs": [],
                        "execution_count": None,
                        "source": "",
                    },
                ],
                "metadata": {},
                "nbformat": 4,
                "nbformat_minor": 4,
            }
        ).encode(),
    ),
]
ENTRY_COMMANDS = [
    ("lint", "--format", "json"),
    ("fix", "--diff", "--format", "json"),
    ("modularize", "--dry-run", "--format", "json"),
    ("params", "--format", "json"),
]


def _entry_points() -> list[list[str]]:
    script = Path(sys.executable).with_name("nbops")
    return [[sys.executable, "-m", "nbops"]] + ([[str(script)]] if script.exists() else [])


@pytest.mark.parametrize(("name", "data"), ENTRY_SAMPLE, ids=[n for n, _ in ENTRY_SAMPLE])
def test_real_entry_point_agrees(name: str, data: bytes) -> None:
    """The console script and ``python -m nbops`` print and exit as the in-process calls do
    (in-process calls leak no state into the results), and never crash."""
    case = Case("sample", name, data)
    with project(case) as path:
        for command, *options in ENTRY_COMMANDS:
            argv = (command, str(path), *options)
            inside = cli(*argv)
            expect(case, inside, command)
            for entry in _entry_points():
                proc = subprocess.run(
                    [*entry, *argv], capture_output=True, text=True, timeout=300, check=False
                )
                real = Outcome(argv, proc.returncode, proc.stdout, proc.stderr)
                expect(case, real, command)
                assert (real.code, real.out, real.err) == (inside.code, inside.out, inside.err), (
                    f"{' '.join(entry)}:\n{real}\n\nin-process:\n{inside}"
                )
            unchanged(case, path, inside)
