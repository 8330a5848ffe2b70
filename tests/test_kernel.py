"""nbops.kernel on a real kernel: the kernel's working directory without a process-wide
chdir, kernels that are missing or die."""

from __future__ import annotations

import contextlib
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest

from nbops.core.snippets import notebook_from_snippet
from nbops.errors import ToolError, UsageError, exit_code
from nbops.kernel import check_kernel, execute_notebook

pytestmark = pytest.mark.slow

WHERE = """
# %% tags=parameters
pause = 0.0
# %%
import os, time
time.sleep(pause)
print(os.getcwd())
"""

# Audit hooks cannot be removed: one hook for the session, recording only while armed.
_CHDIRS: list[str] = []
_ARMED = threading.Event()


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "os.chdir" and _ARMED.is_set():
        _CHDIRS.append(str(args[0]))


sys.addaudithook(_audit)


@contextlib.contextmanager
def recording_chdirs() -> Iterator[list[str]]:
    """Every ``os.chdir`` of this process (any thread) inside the block."""
    _CHDIRS.clear()
    _ARMED.set()
    try:
        yield _CHDIRS
    finally:
        _ARMED.clear()


class CwdSampler(threading.Thread):
    """Reads ``os.getcwd()`` over and over, as the runner's tracking thread resolves paths."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.seen: set[str] = set()
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.seen.add(os.getcwd())
            self.stop.wait(0.001)


def _printed(nb: object) -> str:
    cell = nb.cells[-1]  # type: ignore[attr-defined]
    return "".join(o.get("text", "") for o in cell.outputs if o.get("name") == "stdout").strip()


def test_the_kernel_runs_in_its_folder_and_the_process_never_changes_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "where.ipynb").write_text(notebook_from_snippet(WHERE).dumps(), encoding="utf-8")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "out").mkdir(parents=True)
    monkeypatch.chdir(elsewhere)  # relative paths below are taken from here, not from proj
    sampler = CwdSampler()
    sampler.start()
    try:
        with recording_chdirs() as chdirs:
            execution = execute_notebook(
                Path("../proj/where.ipynb"), Path("out/where.ipynb"), parameters={"pause": 0.5},
                cwd=Path("../proj"),
            )
    finally:
        sampler.stop.set()
        sampler.join()
    assert chdirs == []  # no os.chdir at all, from any thread
    assert sampler.seen == {str(elsewhere)}
    assert execution.failure is None
    assert execution.output == elsewhere / "out" / "where.ipynb" and execution.output.is_file()
    assert Path(_printed(execution.notebook)) == project.resolve()
    assert Path(_printed(nbformat.read(execution.output, as_version=4))) == project.resolve()


def test_an_output_path_with_braces_is_written_as_given(tmp_path: Path) -> None:
    # papermill formats output paths with the parameters: '{pause}' would become '0.5'
    (tmp_path / "where.ipynb").write_text(notebook_from_snippet(WHERE).dumps(), encoding="utf-8")
    folder = tmp_path / "run {pause}"
    folder.mkdir()
    execution = execute_notebook(
        tmp_path / "where.ipynb", folder / "out.ipynb", parameters={"pause": 0.5}, cwd=tmp_path
    )
    assert execution.failure is None and (folder / "out.ipynb").is_file()


def test_each_cell_is_reported_as_it_starts_and_ends_and_a_broken_hook_stops_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / "where.ipynb").write_text(notebook_from_snippet(WHERE).dumps(), encoding="utf-8")
    calls: list[tuple[int, int, str | None]] = []

    def on_cell(done: int, total: int, source: str | None) -> None:
        calls.append((done, total, source))
        if len(calls) == 1:
            raise RuntimeError("a progress bar that breaks")

    execution = execute_notebook(tmp_path / "where.ipynb", tmp_path / "out.ipynb",
                                 parameters={"pause": 0.1}, cwd=tmp_path, on_cell=on_cell)
    assert execution.failure is None
    # three cells (the injected parameters among them): start with the source, end with None
    assert [(d, t) for d, t, _ in calls] == [(0, 3), (1, 3), (1, 3), (2, 3), (2, 3), (3, 3)]
    assert calls[0][2] == "pause = 0.0" and calls[2][2] == "# Parameters\npause = 0.1\n"
    assert [s for _, _, s in calls[1::2]] == [None, None, None]


EXPECTED_ERROR = """
# %% tags=raises-exception
undefined_name
# %%
print("after")
# %%
1 / 0
"""


def test_an_error_the_notebook_expects_is_no_failure_a_later_one_is(tmp_path: Path) -> None:
    (tmp_path / "errors.ipynb").write_text(notebook_from_snippet(EXPECTED_ERROR).dumps(), encoding="utf-8")
    execution = execute_notebook(tmp_path / "errors.ipynb", tmp_path / "out.ipynb", cwd=tmp_path)
    # nbclient runs past the tagged cell's NameError; the run fails on the ZeroDivisionError
    assert execution.failure is not None and execution.failure.ename == "ZeroDivisionError"
    ran = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    assert any(o.get("text") == "after\n" for c in ran.cells for o in c.get("outputs", []))


DIES = """
# %%
import os, signal
print("before")
# %%
os.kill(os.getpid(), signal.SIGKILL)
# %%
print("never")
"""


def test_a_kernel_that_kills_itself_is_a_tool_error(tmp_path: Path) -> None:
    (tmp_path / "dies.ipynb").write_text(notebook_from_snippet(DIES).dumps(), encoding="utf-8")
    with pytest.raises(ToolError) as caught:
        execute_notebook(
            tmp_path / "dies.ipynb", tmp_path / "out.ipynb", cwd=tmp_path, label="dies.ipynb"
        )
    assert exit_code(caught.value) == 3
    assert "the kernel stopped: DeadKernelError" in str(caught.value)
    assert str(caught.value).startswith("dies.ipynb: ")


def _node(snippet: str) -> nbformat.NotebookNode:
    return nbformat.reads(notebook_from_snippet(snippet).dumps(), as_version=4)


def _with_kernelspec(name: str) -> nbformat.NotebookNode:
    nb = _node(WHERE)
    nb.metadata["kernelspec"] = {"name": name, "display_name": name, "language": "python"}
    return nb


def test_check_kernel_names_the_notebook_and_the_installed_kernels() -> None:
    assert check_kernel(_with_kernelspec("python3")) == "python3"
    assert check_kernel(_node(WHERE)) == "python3"  # no kernelspec: python3
    assert check_kernel(_with_kernelspec("nosuch"), "python3") == "python3"  # --kernel wins
    with pytest.raises(UsageError) as asked:
        check_kernel(_with_kernelspec("python3"), "nosuch", label="toy.ipynb")
    text = str(asked.value)
    assert text.startswith("toy.ipynb: no Jupyter kernel named 'nosuch' (--kernel)")
    assert "installed kernels: python3" in text and "jupyter kernelspec list" in text
    with pytest.raises(UsageError) as declared:
        check_kernel(_with_kernelspec("nosuch"), label="toy.ipynb")
    assert "the notebook's kernelspec names the kernel 'nosuch'" in str(declared.value)
    assert exit_code(declared.value) == 2


def test_hidden_code_runs_in_the_kernel_without_adding_cells(tmp_path: Path) -> None:
    from nbops.kernel import HiddenCode

    cells = [nbformat.v4.new_code_cell("a = SEEDED + 1"), nbformat.v4.new_markdown_cell("text"),
             nbformat.v4.new_code_cell("b = a * 2\nb"), nbformat.v4.new_code_cell("1 / 0"),
             nbformat.v4.new_code_cell("c = 3")]
    nb = nbformat.v4.new_notebook(cells=cells)
    mark = tmp_path / "marks"
    mark.mkdir()
    after = {i: (f"open({str(mark / str(i))!r}, 'w').write(repr(globals().get({name!r})))",)
             for i, name in ((0, "a"), (2, "b"), (3, "c"), (4, "c"))}
    hidden = HiddenCode.from_json(HiddenCode("SEEDED = 41", after).to_json())  # as a run reads it
    execution = execute_notebook(nb, tmp_path / "out.ipynb", cwd=tmp_path, hidden=hidden)
    assert execution.failure is not None and execution.failure.ename == "ZeroDivisionError"
    # after the cells that ran; none after the failing one (the run stops), nor later
    assert {p.name: p.read_text() for p in mark.iterdir()} == {"0": "42", "2": "84"}
    ran = nbformat.read(tmp_path / "out.ipynb", as_version=4)
    code = [c for c in ran.cells if c.cell_type == "code"]
    assert [c.source for c in code] == ["a = SEEDED + 1", "b = a * 2\nb", "1 / 0", "c = 3"]
    assert [c.execution_count for c in code[:3]] == [1, 2, 3]  # hidden runs take no count
    assert code[1].outputs[0]["data"]["text/plain"] == "84"
