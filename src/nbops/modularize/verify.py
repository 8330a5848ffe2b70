"""``nbops verify``: run the notebook and its pipeline on the same parameters, compare outputs.

The notebook runs through papermill on a real kernel with a capture cell inserted after each
step's last cell; the pipeline runs in a subprocess from the notebook's folder, which hands
verify the step graph (``PIPELINE``: where the capture cells go) before it calls
``run(params, on_step=...)``. Both write every step's outputs and results to capture files,
which are compared value by value (:mod:`nbops.modularize.compare`). Then the slim notebook (which
calls the library) runs on a real kernel with the same parameters, and what it shows is
compared with what the notebook showed, cell by cell where they correspond
(:mod:`nbops.modularize.displays`). The pipeline, the notebook and the slim notebook do not
depend on each other (the notebook starts once the step graph is in): they run at the same time on the cores there are (one after the other on
one core), and each comparison waits for what it compares.

The verdict is "equivalent" only when something was compared and nothing differs; "nothing
to compare" (exit :data:`EXIT_NOTHING_TO_COMPARE`) when no value and no display could be
compared; otherwise "not equivalent".

The module verified is the one on disk when it exists (what the repository holds), else a
freshly generated one in a temporary folder. A notebook that fails top to bottom is
equivalent to a pipeline that fails in the same step with the same error type, provided
everything before matched; the report says so.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from nbops.errors import ToolError, UsageError
from nbops.modularize.api import ModularizeOptions, modularize
from nbops.modularize.capture import CAPTURE_SOURCE, MISSING, load_capture
from nbops.modularize.compare import compare_values
from nbops.modularize.displays import SOURCE_CELLS_KEY, DisplayCheck, compare_displays
from nbops.modularize.slicing import clock_names

__all__ = [
    "EXIT_NOTHING_TO_COMPARE",
    "STEPS",
    "DisplayCheck",
    "NotebookRun",
    "OutputCheck",
    "VerifyOptions",
    "VerifyResult",
    "capture_code",
    "verify",
]

Status = Literal["equal", "differs", "not comparable", "not run", "ignored"]
Verdict = Literal["equivalent", "not equivalent", "nothing to compare"]

# exit codes of ``nbops verify``: 0 equivalent, 1 not equivalent, this one when nothing could
# be compared (2, 3 and 4 are nbops.errors' usage, tool and write errors)
EXIT_NOTHING_TO_COMPARE = 5
_COMPARED = ("equal", "differs")

# what verify does, in order: ``verify(on_step=...)`` is told as each starts
STEPS = ("planning", "running the pipeline", "running the notebook", "comparing outputs",
         "running the slim notebook")


@dataclass(frozen=True)
class VerifyOptions:
    """What ``nbops verify`` was asked for."""

    package: str | None = None
    out: Path | None = None
    parameters: Mapping[str, Any] = field(default_factory=dict)
    rtol: float = 1e-7
    atol: float = 1e-9
    timeout: float = 600.0
    kernel: str | None = None
    # step outputs/results not compared (values that change every run): NAME or STEP.NAME
    ignore: tuple[str, ...] = ()


@dataclass(frozen=True)
class OutputCheck:
    """One step output compared."""

    step: str
    name: str
    status: Status
    detail: str


@dataclass(frozen=True)
class Stop:
    """Where a run stopped early: the step, and the error."""

    step: str | None
    error: str  # "NameError: name 'x' is not defined"
    ename: str


@dataclass
class VerifyResult:
    """The comparison table and the verdict."""

    notebook: Path
    module_path: Path
    generated: bool  # the module was generated for this run (none on disk)
    checks: list[OutputCheck]
    notebook_stop: Stop | None
    pipeline_stop: Stop | None
    # what the notebook showed vs what the slim notebook shows
    displays: list[DisplayCheck] = field(default_factory=list)

    @property
    def values_compared(self) -> int:
        return sum(1 for c in self.checks if c.status in _COMPARED)

    @property
    def displays_compared(self) -> int:
        return sum(1 for d in self.displays if d.status in _COMPARED)

    @property
    def verdict(self) -> Verdict:
        if any(c.status == "differs" for c in self.checks) or any(
            d.status == "differs" for d in self.displays
        ):
            return "not equivalent"
        a, b = self.notebook_stop, self.pipeline_stop
        if (a is None) != (b is None) or (a and b and (a.step, a.ename) != (b.step, b.ename)):
            return "not equivalent"
        if not self.values_compared and not self.displays_compared:
            return "nothing to compare"
        return "equivalent"

    @property
    def equivalent(self) -> bool:
        """True only when something was compared and nothing differs."""
        return self.verdict == "equivalent"

    @property
    def exit_code(self) -> int:
        return {"equivalent": 0, "not equivalent": 1}.get(self.verdict, EXIT_NOTHING_TO_COMPARE)

    def summary(self) -> str:
        """What was compared: "15 values, 4 displays compared (ignored: stamp)"."""
        def count(n: int, what: str) -> str:
            return f"{n} {what}{'' if n == 1 else 's'}"

        values, displays = self.values_compared, self.displays_compared
        differ = [
            f"{sum(1 for c in self.checks if c.status == 'differs')} of {values} values",
            f"{sum(1 for d in self.displays if d.status == 'differs')} of {displays} displays",
        ]
        if self.verdict == "not equivalent":
            text = " and ".join(x for x in differ if not x.startswith("0 of")) or "the runs end differently"
            text += " differ" if not text.startswith("the runs") else ""
        else:
            text = f"{count(values, 'value')}, {count(displays, 'display')} compared"
        extra = []
        for status in ("not comparable", "not run"):
            n = sum(1 for c in self.checks if c.status == status)
            n += sum(1 for d in self.displays if d.status == status)
            if n:
                extra.append(f"{n} {status}")
        ignored = [f"{c.step}.{c.name}" for c in self.checks if c.status == "ignored"]
        if ignored:
            extra.append("ignored: " + ", ".join(ignored))
        return text + (f" ({'; '.join(extra)})" if extra else "")

    def to_dict(self) -> dict[str, Any]:
        def stop(s: Stop | None) -> dict[str, Any] | None:
            return None if s is None else {"step": s.step, "error": s.error}

        return {
            "notebook": str(self.notebook),
            "module": str(self.module_path),
            "generated": self.generated,
            "equivalent": self.equivalent,
            "verdict": self.verdict,
            "summary": self.summary(),
            "compared": {"values": self.values_compared, "displays": self.displays_compared},
            "notebook_stopped": stop(self.notebook_stop),
            "pipeline_stopped": stop(self.pipeline_stop),
            "outputs": [
                {"step": c.step, "name": c.name, "status": c.status, "detail": c.detail}
                for c in self.checks
            ],
            "displays": [
                {"step": d.step, "cells": d.cells, "output": d.what, "status": d.status, "detail": d.detail}
                for d in self.displays
            ],
        }


# Both runs start from the same seeds of Python's and numpy's global random generators, so a
# notebook that draws random numbers without seeding them can still be compared.
SEED = 0
_SEED_CODE = f"""
__import__("random").seed({SEED})
try:
    __import__("numpy").random.seed({SEED})
except ImportError:
    pass
"""
# The capture function is defined in a namespace of its own: names the notebook rebinds
# (``max = ...``) never reach it.
_SETUP = (
    f"__nbops_capture__ = (lambda ns: (__import__('builtins').exec({CAPTURE_SOURCE!r}, ns), "
    "ns['__nbops_capture__'])[1])({'__name__': 'nbops_capture'})\n" + _SEED_CODE
)

# the pipeline's process: its step graph (PIPELINE, what ``--describe`` prints) goes first, alone
# on the stdout verify reads, before any step runs; what the module prints goes to stderr
_RUNNER = r"""
import json, os, sys, traceback
module_name, params_file, capture_dir, capture_source = sys.argv[1:5]
graph_out = os.fdopen(os.dup(1), "w", encoding="utf-8")
os.dup2(2, 1)
exec(compile(open(capture_source, encoding="utf-8").read(), "<nbops capture>", "exec"))
""" + _SEED_CODE + r"""
import importlib
steps = []
def on_step(name, values):
    __nbops_capture__("%s/%d.pkl" % (capture_dir, len(steps)), list(values), values)
    steps.append(name)
status = {"steps": steps, "error": None}
try:
    try:
        module = importlib.import_module(module_name)
        graph_out.write(json.dumps({"steps": module.PIPELINE["steps"]}))
    finally:
        graph_out.close()
    with open(params_file, encoding="utf-8") as handle:
        params = json.load(handle)
    module.run(params, on_step=on_step)
except BaseException as exc:
    status["error"] = {"ename": type(exc).__name__, "evalue": str(exc)[:2000],
                       "traceback": traceback.format_exc()[-4000:]}
with open("%s/status.json" % capture_dir, "w", encoding="utf-8") as handle:
    json.dump(status, handle)
"""


# how a caller executes the notebook for verify (``verify(notebook_run=...)``): given the code to
# run hidden in its kernel, the execution (nbops.kernel.Execution: the executed notebook with
# its cells' ORIGINAL_INDEX_KEY, the failure)
NotebookRun = Callable[[Any], Any]


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def capture_code(steps: list[dict[str, Any]], capture_dir: Path) -> Any:
    """What :func:`_instrumented` adds as cells, as code run hidden in the notebook's kernel
    (:class:`nbops.kernel.HiddenCode`): the seeds before the first cell, each step's capture
    after its last cell. The capture function is made afresh each time in a namespace of its
    own, so nothing is added to the notebook's."""
    from nbops.kernel import HiddenCode

    make = (f"(lambda ns: (__import__('builtins').exec({CAPTURE_SOURCE!r}, ns), "
            "ns['__nbops_capture__'])[1])({'__name__': 'nbops_capture'})")
    after: dict[int, tuple[str, ...]] = {}
    for i, step in enumerate(steps):
        code = f"{make}({str(capture_dir / f'{i}.pkl')!r}, {_compared_names(step)!r}, globals())"
        index = max(step["cells"]) - 1
        after[index] = (*after.get(index, ()), code)
    return HiddenCode(_SEED_CODE, after)


def _kernel_python(kernel: str) -> str:
    """The Python of a kernel spec (so the pipeline runs where the notebook runs)."""
    try:
        from jupyter_client.kernelspec import KernelSpecManager

        argv = KernelSpecManager().get_kernel_spec(kernel).argv
        if argv and os.path.isabs(argv[0]) and os.path.exists(argv[0]):
            return argv[0]
    except Exception:  # noqa: BLE001, S110 - any kernelspec trouble: use our own interpreter
        pass
    return sys.executable


def _instrumented(notebook: Path, steps: list[dict[str, Any]], capture_dir: Path) -> Any:
    """The notebook with capture cells after each step's last cell (original indexes kept)."""
    import nbformat

    from nbops.kernel import ORIGINAL_INDEX_KEY

    nb = nbformat.read(notebook, as_version=4)
    for index, cell in enumerate(nb.cells):
        cell.metadata[ORIGINAL_INDEX_KEY] = index
    after: dict[int, list[tuple[int, list[str]]]] = {}
    for i, step in enumerate(steps):
        names = _compared_names(step)
        after.setdefault(max(step["cells"]) - 1, []).append((i, names))
    tag = {"tags": ["nbops-capture"], ORIGINAL_INDEX_KEY: None}
    cells = [nbformat.v4.new_code_cell(_SETUP, metadata=dict(tag))]
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        for i, names in after.get(index, []):
            code = f"__nbops_capture__({str(capture_dir / f'{i}.pkl')!r}, {names!r}, globals())"
            cells.append(nbformat.v4.new_code_cell(code, metadata=dict(tag)))
    # papermill injects parameters after the cell tagged "parameters": keep that cell first
    nb.cells = cells
    return nb


def _compared_names(step: dict[str, Any]) -> list[str]:
    """A step's values compared by name: its outputs and results, but not the values the
    notebook only showed (the module names them; the displays compare them)."""
    captured = set(step.get("captured", []))
    return [n for n in [*step["outputs"], *step["results"]] if n not in captured]


def _step_of_cell(steps: list[dict[str, Any]], cell: int | None) -> str | None:
    if cell is None:
        return None
    for step in steps:
        if cell + 1 in step["cells"]:
            return str(step["name"])
    # a cell outside every step (parameters, imports): the run stops before the first step
    earlier = [s for s in steps if min(s["cells"]) > cell + 1]
    return str(earlier[0]["name"]) if earlier else None


def verify(path: Path, options: VerifyOptions | None = None,
           on_step: Callable[[str], None] | None = None,
           *, notebook_run: NotebookRun | None = None) -> VerifyResult:
    """Run ``path`` and its pipeline with ``options.parameters``; compare every step output.
    ``on_step(name)``: one of :data:`STEPS` starts (the slim notebook's only when there is one).

    ``notebook_run(hidden)``: executes the notebook instead of verify's own instrumented copy,
    running ``hidden`` (seeds, then each step's capture) in its kernel (internal: the hackathon
    scorer's tracked run is verify's execution too). Its ``Execution`` must be of the notebook
    as it is, on ``options.parameters``, ``options.kernel`` and the notebook's folder; None:
    it could not take the captures, and verify executes its own instrumented copy."""
    options = options or VerifyOptions()
    step = on_step or (lambda name: None)
    step(STEPS[0])
    path = Path(path)
    plan = modularize(path, ModularizeOptions(package=options.package, out=options.out, dry_run=True))
    module_file = plan.module_file
    known = {p.name for p in plan.plan.parameters}
    unknown = sorted(set(options.parameters) - known)
    if unknown:
        raise UsageError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            path=path,
            hint=f"the parameters cell defines: {', '.join(sorted(known)) or 'none'}",
        )
    _check_ignored(path, plan.plan.steps, options.ignore)
    notebook_dir = path.resolve().parent
    with tempfile.TemporaryDirectory(prefix="nbops-verify-") as tmp_name:
        tmp = Path(tmp_name)
        generated = not module_file.path.exists()
        if generated:
            src = tmp / "src"
            target = src.joinpath(*plan.package.split("."), f"{plan.module}.py")
            target.parent.mkdir(parents=True)
            for level in range(len(plan.package.split("."))):
                init = src.joinpath(*plan.package.split(".")[: level + 1], "__init__.py")
                init.write_text("", encoding="utf-8")
            target.write_text(module_file.content, encoding="utf-8")
        else:
            src = plan.src_dir
        module_name = f"{plan.package}.{plan.module}"
        kernel = options.kernel or plan.plan.notebook.kernel_name or "python3"

        # the pipeline's step graph (PIPELINE) says what to capture in the notebook
        pipe_dir = tmp / "pipeline"
        pipe_dir.mkdir()
        params_file = tmp / "params.json"
        params_file.write_text(json.dumps(dict(options.parameters)), encoding="utf-8")
        capture_source = tmp / "capture.py"
        capture_source.write_text(CAPTURE_SOURCE, encoding="utf-8")
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(src), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        env.setdefault("MPLBACKEND", "Agg")
        env["PYTHONHASHSEED"] = "0"
        python = _kernel_python(kernel)
        step(STEPS[1])
        # one process imports the module: it says its step graph (what to capture in the
        # notebook) before it runs a step, then runs the pipeline
        pipeline = subprocess.Popen(
            [python, "-c", _RUNNER, module_name, str(params_file), str(pipe_dir), str(capture_source)],
            cwd=notebook_dir, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
            encoding="utf-8",
        )

        try:  # what verify prepares meanwhile
            from nbops.kernel import ORIGINAL_INDEX_KEY, execute_notebook

            slim = _slim_notebook(plan, generated)
        except BaseException:
            pipeline.kill()
            pipeline.communicate()
            raise

        def run_pipeline() -> int:
            try:
                return pipeline.wait(timeout=options.timeout)
            except subprocess.TimeoutExpired as exc:
                pipeline.kill()
                pipeline.wait()
                raise ToolError(
                    f"the pipeline ran longer than {options.timeout:g} s", path=path, hint="raise --timeout"
                ) from exc

        def stop_of_pipeline(returncode: int) -> Stop | None:
            """Where and why the pipeline stopped (its status file), None when it ran through."""
            status_file = pipe_dir / "status.json"
            status: dict[str, Any] = {"steps": [], "error": None}
            if status_file.exists():
                status = json.loads(status_file.read_text(encoding="utf-8"))
            else:  # the process died without a word (os._exit, a crash)
                done = len(list(pipe_dir.glob("*.pkl")))
                status = {
                    "steps": [s["name"] for s in steps[:done]],
                    "error": {"ename": "ProcessExit",
                              "evalue": f"the pipeline process exited with code {returncode}"},
                }
            if status.get("error"):
                err = status["error"]
                done = len(status["steps"])
                return Stop(
                    steps[done]["name"] if done < len(steps) else None,
                    f"{err['ename']}: {err['evalue']}".strip(": "),
                    err["ename"],
                )
            return None

        nb_dir = tmp / "notebook"
        nb_dir.mkdir()

        def run_notebook() -> Any:
            if notebook_run is not None:  # one execution shared with another use (the scorer's)
                shared = notebook_run(capture_code(steps, nb_dir))
                if shared is not None:
                    return shared
                for stale in nb_dir.glob("*.pkl"):  # None: it took no captures, verify runs it
                    stale.unlink()
            return execute_notebook(
                _instrumented(path, steps, nb_dir),
                tmp / "executed.ipynb",
                parameters=options.parameters,
                cwd=notebook_dir,
                kernel_name=kernel,
                timeout=options.timeout,
                label=str(path),
                env={"PYTHONHASHSEED": "0"},  # as the pipeline's: the same order of sets of strings
            )

        def run_slim() -> Any:
            # the slim notebook, on the same kernel and parameters, importing the library verified
            return execute_notebook(
                slim,
                tmp / "slim-executed.ipynb",
                parameters=options.parameters,
                cwd=notebook_dir,
                kernel_name=kernel,
                timeout=options.timeout,
                label=str(path.with_name(path.stem + "_slim.ipynb")),
                env={"PYTHONHASHSEED": "0", "PYTHONPATH": env["PYTHONPATH"]},
            )

        # the three executions are independent: at once on the cores there are (one core: one
        # after the other, in this order); the comparisons wait for what they compare
        cores = _cores()
        with ThreadPoolExecutor(max_workers=min(3, cores), thread_name_prefix="nbops-verify") as pool:
            pipeline_future = pool.submit(run_pipeline)
            assert pipeline.stdout is not None
            with pipeline.stdout:  # the step graph, or nothing when the module did not import
                graph = pipeline.stdout.read()
            try:
                steps: list[dict[str, Any]] = json.loads(graph)["steps"] if graph else []
            except (ValueError, KeyError, TypeError):
                steps = []  # cut short: the status says why
            if not steps and isinstance(pipeline_future.exception(), ToolError):
                pipeline_future.result()  # it ran out of time before it said its steps
            step(STEPS[2])
            notebook_future = pool.submit(run_notebook)
            slim_future = pool.submit(run_slim) if slim is not None and cores > 1 else None
            try:
                pipeline_stop = stop_of_pipeline(pipeline_future.result())
                execution = notebook_future.result()
            except BaseException:
                if slim_future is not None:
                    slim_future.cancel()
                raise
            notebook_stop = None
            if execution.failure is not None:
                notebook_stop = Stop(
                    _step_of_cell(steps, execution.failure.cell),
                    f"{execution.failure.ename}: {execution.failure.evalue}".strip(": "),
                    execution.failure.ename,
                )

            step(STEPS[3])
            checks = _compare(steps, nb_dir, pipe_dir, module_name, options, clock_names(plan.plan.flow))

            displays: list[DisplayCheck] = []
            if slim is not None:
                step(STEPS[4])
                slim_run = slim_future.result() if slim_future is not None else run_slim()
                displays = compare_displays(
                    execution.notebook, slim_run.notebook, steps, ORIGINAL_INDEX_KEY,
                    rtol=options.rtol, atol=options.atol,
                )
        result = VerifyResult(
            notebook=path,
            module_path=module_file.path,
            generated=generated,
            checks=checks,
            notebook_stop=notebook_stop,
            pipeline_stop=pipeline_stop,
            displays=displays,
        )
        shutil.rmtree(tmp, ignore_errors=True)
        return result


def _slim_notebook(plan: Any, generated: bool) -> Any:
    """The slim notebook to run, with the seeds set first: the one on disk when the module is
    (they were written together) and it maps its cells to the notebook's, else the one
    modularize would write now. None when there is none."""
    import nbformat

    slim = next((f for f in plan.files if f.kind == "notebook"), None)
    if slim is None:
        return None
    nb = None
    if not generated and slim.path.exists():
        try:
            nb = nbformat.read(slim.path, as_version=4)
        except Exception:  # noqa: BLE001 - unreadable or invalid: use a fresh one
            nb = None
        if nb is not None and not any(SOURCE_CELLS_KEY in c.metadata for c in nb.cells):
            nb = None  # written by an older nbops, or by hand: its cells cannot be matched
    if nb is None:
        nb = nbformat.reads(slim.content, as_version=4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(_SEED_CODE, metadata={"tags": ["nbops-capture"]}))
    return nb


def _check_ignored(path: Path, steps: Any, ignore: tuple[str, ...]) -> None:
    """Every ``--ignore`` names a step output or result (NAME or STEP.NAME), before any run."""
    names = {n for step in steps for n in (*step.outputs, *step.results)}
    qualified = {f"{step.name}.{n}" for step in steps for n in (*step.outputs, *step.results)}
    unknown = [name for name in ignore if name not in names and name not in qualified]
    if unknown:
        raise UsageError(
            f"--ignore {unknown[0]}: no step output or result has this name",
            path=path,
            hint="the compared names are: " + (", ".join(sorted(qualified)[:20]) or "none")
            + (" ..." if len(qualified) > 20 else ""),
        )


_CLOCK = "a clock reading (or arithmetic on one): it differs from run to run"


def _compare(
    steps: list[dict[str, Any]],
    nb_dir: Path,
    pipe_dir: Path,
    module: str,
    options: VerifyOptions,
    clocks: set[str],
) -> list[OutputCheck]:
    originals: list[dict[str, Any] | None] = []
    pipelines: list[dict[str, Any] | None] = []
    for i in range(len(steps)):
        a, b = nb_dir / f"{i}.pkl", pipe_dir / f"{i}.pkl"
        originals.append(load_capture(a, [module]) if a.exists() else None)
        pipelines.append(load_capture(b, [module]) if b.exists() else None)
    probes = {
        f"{steps[i]['name']}.{name}": value
        for i, values in enumerate(originals)
        if values
        for name, value in values.items()
    }
    checks: list[OutputCheck] = []
    for i, step in enumerate(steps):
        names = _compared_names(step)
        original, generated = originals[i], pipelines[i]
        for name in names:
            if name in options.ignore or f"{step['name']}.{name}" in options.ignore:
                checks.append(OutputCheck(step["name"], name, "ignored", "--ignore"))
                continue
            if name in clocks:  # t0 = time.time(), elapsed = time.time() - t0
                checks.append(OutputCheck(step["name"], name, "not comparable", _CLOCK))
                continue
            if original is None or generated is None:
                who = (
                    "neither run reached this step"
                    if original is None and generated is None
                    else ("the notebook" if original is None else "the pipeline")
                    + " did not reach this step"
                )
                checks.append(OutputCheck(step["name"], name, "not run", who))
                continue
            outcome = compare_values(
                original.get(name, MISSING),
                generated.get(name, MISSING),
                rtol=options.rtol,
                atol=options.atol,
                probes=probes,
            )
            checks.append(OutputCheck(step["name"], name, outcome.status, outcome.detail))
    return checks
