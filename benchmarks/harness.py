"""The one small harness every benchmark script stands on: timing, side-by-side ratios, the
machine context, and report writing.

The scripts run as ``python benchmarks/NAME.py`` and import it as ``import harness``.

- timing: :func:`timed` (wall and CPU time of a call), :func:`repeat` (warm-up, then runs),
  :func:`interleave` (several workloads in rotating order in one session), :func:`run_timed`
  (one subprocess, timed, its output to a log) and :func:`run_measured` (commands in a fresh
  wrapper process: wall, CPU and peak RSS of the whole process tree);
- statistics: :func:`median`, :func:`percentile`, :func:`summary` (median and spread),
  :func:`ratio`, :func:`paired_ratios` and :func:`bootstrap_ci` (wall times drift 2-3x on a
  shared machine, so comparisons are ratios of runs measured side by side);
- the machine: :func:`machine` (cores, CPU, RAM, OS, Python, load average), :func:`loadavg`,
  :func:`versions` (of packages in another Python), :func:`git_rev`, :func:`context_line`;
- reports: :func:`md_table`, :func:`splice` (a marked section of a markdown file replaced, the
  rest kept byte for byte), :func:`section` (a ``## `` section read back), :func:`write_json`.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
RESULTS = HERE / "results"
T = TypeVar("T")


# -- logging and small helpers ----------------------------------------------------------------
def logger(tag: str) -> Callable[[str], None]:
    """A ``log(msg)`` printing ``[tag HH:MM:SS] msg`` to stderr."""

    def log(msg: str) -> None:
        print(f"[{tag} {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)

    return log


def now() -> str:
    """UTC now, ISO 8601 to the second."""
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat()


def sh(cmd: Sequence[str], timeout: float = 120, **kw: Any) -> str:
    """A command's stdout (its stderr when stdout is empty), stripped; never raises."""
    try:
        r = subprocess.run(list(cmd), capture_output=True, text=True, timeout=timeout, check=False, **kw)
        return str(r.stdout or r.stderr).strip()
    except (OSError, subprocess.TimeoutExpired) as e:
        return f"unavailable ({e.__class__.__name__})"


def fmt_s(x: float | None) -> str:
    """Seconds for a report: ms below 1 s, two decimals below 100 s, whole seconds above."""
    if x is None:
        return "–"
    if x < 1:
        return f"{x * 1000:.0f} ms"
    return f"{x:.2f} s" if x < 100 else f"{x:.0f} s"


def download_sdist(name: str, version: str, dest: Path) -> subprocess.CompletedProcess[str]:
    """``pip download`` one pinned sdist (no dependencies, no wheels) into ``dest``."""
    cmd = [
        sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check",
        "--no-deps", "--no-binary", ":all:", f"{name}=={version}", "-d", str(dest),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, check=False)


# -- statistics -------------------------------------------------------------------------------
def median(xs: Iterable[float | None]) -> float | None:
    """Median of the values that are not None; None when there are none."""
    vals = [x for x in xs if x is not None]
    return statistics.median(vals) if vals else None


def percentile(xs: Iterable[float], p: float) -> float:
    """Percentile with linear interpolation (``p`` in 0..100); nan for no values."""
    vals = sorted(xs)
    if not vals:
        return float("nan")
    k = (len(vals) - 1) * p / 100.0
    lo, hi = int(k), min(int(k) + 1, len(vals) - 1)
    return vals[lo] + (vals[hi] - vals[lo]) * (k - lo)


def summary(xs: Iterable[float]) -> dict[str, Any]:
    """n, min, median, mean, p90, max and the spread ((max - min) / median) of the values."""
    vals = list(xs)
    if not vals:
        return {"n": 0}
    med = statistics.median(vals)
    return {
        "n": len(vals), "min": min(vals), "median": med, "mean": statistics.fmean(vals),
        "p90": percentile(vals, 90), "max": max(vals),
        "spread": (max(vals) - min(vals)) / med if med else None,
    }


def ratio(a: float | None, b: float | None) -> float | None:
    """``a / b``, None when either is missing or ``b`` is 0."""
    return None if a is None or not b else a / b


def paired_ratios(a: Sequence[float], b: Sequence[float]) -> list[float]:
    """Run i of ``a`` over run i of ``b``: runs measured side by side share the machine's drift."""
    if len(a) != len(b):
        raise ValueError(f"paired_ratios: {len(a)} runs against {len(b)}")
    return [x / y for x, y in zip(a, b) if y]


def bootstrap_ci(
    xs: Sequence[float], resamples: int = 4000, seed: int = 20261122,
    stat: Callable[[list[float]], float] = statistics.median,
) -> tuple[float, float]:
    """Seeded bootstrap 95 % confidence interval of ``stat`` (the median) of ``xs``."""
    rng = random.Random(seed)
    stats = sorted(stat(rng.choices(list(xs), k=len(xs))) for _ in range(resamples))
    return stats[int(0.025 * resamples)], stats[int(0.975 * resamples) - 1]


# -- timing -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Sample:
    """One timed call: wall seconds and CPU seconds of this process and its waited-for children
    (a busy machine inflates the wall time, hardly the CPU time)."""

    wall: float
    cpu: float


def _cpu() -> float:
    import resource

    own = time.process_time()
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own + ch.ru_utime + ch.ru_stime


def timed(fn: Callable[[], T]) -> tuple[T, Sample]:
    """Call ``fn``; its result and its :class:`Sample`."""
    t, c = time.perf_counter(), _cpu()
    out = fn()
    return out, Sample(time.perf_counter() - t, _cpu() - c)


def repeat(fn: Callable[[], Any], runs: int, warmup: int = 1) -> list[Sample]:
    """``warmup`` untimed calls, then ``runs`` timed ones."""
    for _ in range(warmup):
        fn()
    return [timed(fn)[1] for _ in range(runs)]


def interleave(
    workloads: Mapping[str, Callable[[int], T]], runs: int, warmup: int = 0, rotate: bool = True,
    after_round: Callable[[int], Any] | None = None,
) -> dict[str, list[T]]:
    """Run each workload ``warmup + runs`` times, all of them in each round (the order rotating
    from round to round when ``rotate``), so drift hits them alike; each call gets its round
    (negative for warm-up) and returns its measurement; ``after_round(i)`` runs after each
    timed round. The measurements of the timed rounds, by workload."""
    names = list(workloads)
    out: dict[str, list[T]] = {n: [] for n in names}
    for i in range(-warmup, runs):
        k = i % len(names) if rotate else 0
        for name in names[k:] + names[:k]:
            value = workloads[name](i)
            if i >= 0:
                out[name].append(value)
        if i >= 0 and after_round is not None:
            after_round(i)
    return out


def run_timed(
    cmd: Sequence[str], *, cwd: Path, env: Mapping[str, str] | None = None,
    timeout: float | None = None, log: Path | None = None, capture: bool = False,
) -> dict[str, Any]:
    """Run one command (stdin closed); ``rc`` (None on timeout), ``timeout``, ``secs``, ``spawn``
    (wall clock) and, with ``capture``, ``stdout`` / ``stderr``; otherwise its output goes to
    ``log`` (or is dropped)."""
    full_env = {**os.environ, **(env or {})}
    out_fh = open(log, "a") if log and not capture else None  # noqa: SIM115 - closed below
    spawn, t0 = time.time(), time.perf_counter()
    rc: int | None
    try:
        r = subprocess.run(
            list(cmd), cwd=cwd, env=full_env, timeout=timeout, check=False, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE if capture else (out_fh or subprocess.DEVNULL),
            stderr=subprocess.PIPE if capture else subprocess.STDOUT, text=capture or None,
        )
        rc, so, se, to = r.returncode, r.stdout, r.stderr, False
    except subprocess.TimeoutExpired as e:
        rc, to = None, True
        so, se = (x.decode(errors="replace") if isinstance(x, bytes) else (x or "")
                  for x in (e.stdout, e.stderr))
    finally:
        if out_fh:
            out_fh.close()
    res: dict[str, Any] = {"rc": rc, "timeout": to, "secs": time.perf_counter() - t0, "spawn": spawn}
    if capture:
        res.update(stdout=so or "", stderr=se or "")
    return res


PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


def tree_rss(pid: int) -> int:
    """Sum of the RSS (bytes) of ``pid`` and all its descendants, from /proc."""
    total, stack, seen = 0, [pid], set()
    while stack:
        p = stack.pop()
        if p in seen:
            continue
        seen.add(p)
        try:
            with open(f"/proc/{p}/statm") as f:
                total += int(f.read().split()[1]) * PAGE
            for tid in os.listdir(f"/proc/{p}/task"):
                try:
                    with open(f"/proc/{p}/task/{tid}/children") as f:
                        stack += [int(x) for x in f.read().split()]
                except OSError:
                    pass
        except (OSError, ValueError, IndexError):
            pass
    return total


def measure_here(spec: Mapping[str, Any]) -> dict[str, Any]:
    """Run ``spec["cmds"]`` one after the other in this process (output appended to
    ``spec["stdout"]``), sampling the RSS of each one's process tree every ``sample_ms``; wall
    time (total and per command), exit codes, timeout, CPU and peak RSS of the children. Run it
    in a fresh process (:func:`run_measured`): ``getrusage(RUSAGE_CHILDREN)`` is cumulative."""
    import resource

    sample = spec.get("sample_ms", 50) / 1000.0
    rcs, per, peak_tree, timed_out = [], [], 0, False
    t0 = time.perf_counter()
    with open(spec["stdout"], "ab") as out:
        for cmd in spec["cmds"]:
            t = time.perf_counter()
            p = subprocess.Popen(
                cmd, cwd=spec["cwd"], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env={**os.environ, **spec.get("env", {})},
            )
            deadline = t + spec["timeout"]
            while True:
                try:
                    p.wait(timeout=sample if sample > 0 else None)
                    break
                except subprocess.TimeoutExpired:
                    peak_tree = max(peak_tree, tree_rss(p.pid))
                    if time.perf_counter() > deadline:
                        p.kill()
                        p.wait()
                        timed_out = True
                        break
            per.append(time.perf_counter() - t)
            rcs.append(p.returncode)
            if timed_out:
                break
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall": time.perf_counter() - t0, "per_cmd": per, "rcs": rcs, "timed_out": timed_out,
        "maxrss_kb": ru.ru_maxrss,  # largest single process of the tree
        "tree_peak_kb": peak_tree // 1024,  # sampled sum over the tree
        "user": ru.ru_utime, "sys": ru.ru_stime,
    }


def run_measured(
    cmds: Sequence[Sequence[str]], *, cwd: Path, stdout: Path, timeout: float,
    env: Mapping[str, str] | None = None, sample_ms: float = 50,
) -> dict[str, Any]:
    """:func:`measure_here` in a fresh wrapper process (``python harness.py --_measure``), plus
    ``peak_kb``: the larger of the sampled tree sum and the largest single process."""
    spec = {"cmds": [list(c) for c in cmds], "cwd": str(cwd), "stdout": str(stdout),
            "timeout": timeout, "env": dict(env or {}), "sample_ms": sample_ms}
    r = subprocess.run([sys.executable, __file__, "--_measure", json.dumps(spec)],
                       capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise RuntimeError(f"measure wrapper failed: {r.stderr[-2000:]}")
    m: dict[str, Any] = json.loads(r.stdout.strip().splitlines()[-1])
    m["peak_kb"] = max(m["maxrss_kb"], m["tree_peak_kb"])
    return m


# -- the machine ------------------------------------------------------------------------------
def loadavg() -> str:
    """The 1, 5 and 15 minute load averages, e.g. ``"1.52 0.98 0.61"``."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def cpu_and_ram() -> tuple[str, str]:
    """This machine's CPU model and RAM as shown in the reports ("?" when unknown)."""
    cpu = "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "?"
    try:
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        mem = f"{kb / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError):
        pass
    return cpu, mem


_VERSIONS = (
    "import importlib.metadata as m, sys\nfor p in sys.argv[1:]:\n"
    "    try: print(p, m.version(p))\n    except Exception: print(p, '-')"
)


def versions(python: Path | str, packages: Sequence[str]) -> str:
    """``"pkg 1.2, other -"``: the installed versions of ``packages`` in ``python``."""
    return sh([str(python), "-c", _VERSIONS, *packages]).replace("\n", ", ")


def git_rev(repo: Path = REPO) -> str:
    """The short HEAD of ``repo``, with a note when ``src/`` has uncommitted changes."""
    rev = sh(["git", "-C", str(repo), "rev-parse", "--short", "HEAD"])
    dirty = sh(["git", "-C", str(repo), "status", "--porcelain", "--", "src"])
    return rev + (" (src/ has uncommitted changes)" if dirty and "fatal" not in dirty else "")


def machine(**extra: Any) -> dict[str, Any]:
    """The context every report records: cores, CPU, RAM, OS, this Python, load average, and
    ``extra`` (versions, tool paths) after them."""
    cpu, ram = cpu_and_ram()
    return {
        "nproc": os.cpu_count(), "cpu": cpu, "ram": ram, "os": platform.platform(),
        "python": f"{platform.python_version()} ({sys.executable})", "loadavg": loadavg(), **extra,
    }


def context_line(m: Mapping[str, Any]) -> str:
    """One line for a report's header: ``2 cores (CPU), RAM, Python X, load average a b c``."""
    py = str(m.get("python", "?")).split()[0]
    return (f"{m.get('nproc', '?')} cores ({m.get('cpu', '?')}), {m.get('ram', '?')} RAM, "
            f"Python {py}, load average {m.get('loadavg', '?')}")


# -- reports ----------------------------------------------------------------------------------
def md_table(header: Sequence[str], rows: Iterable[Sequence[Any]], align: str = "") -> list[str]:
    """A markdown table's lines; ``align`` is one of ``l``/``r``/``c`` per column (default left)."""
    marks = {"l": "---", "r": "---:", "c": ":---:"}
    sep = [marks[align[i]] if i < len(align) else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(map(str, header)) + " |", "|" + "|".join(sep) + "|"]
    lines += ["| " + " | ".join("" if c is None else str(c) for c in row) + " |" for row in rows]
    return lines


def splice(text: str, begin: str, end: str, body: str) -> str:
    """``text`` with the part from the line starting with ``begin`` to ``end`` (markers
    included) replaced by ``body`` (which carries its own markers), every other byte kept; when
    the markers are missing, ``body`` is appended after one blank line."""
    a = text.find(begin)
    b = text.find(end, a + len(begin)) if a >= 0 else -1
    if a >= 0 and b >= 0:
        return text[:a] + body.rstrip("\n") + text[b + len(end):]
    return text.rstrip("\n") + "\n\n" + body.rstrip("\n") + "\n"


def section(text: str, heading: str) -> str | None:
    """The lines under the first ``## `` heading starting with ``heading``, up to the next
    ``## `` heading, stripped of blank lines at both ends; None when there is none."""
    lines = text.splitlines()
    start = next((i for i, line in enumerate(lines) if line.startswith(heading)), None)
    if start is None:
        return None
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start + 1:end]).strip("\n")


def write_json(path: Path, data: Any) -> Path:
    """``data`` as indented JSON (unknown types as strings) at ``path``, folders created."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=1, default=str) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    if sys.argv[1:2] == ["--_measure"]:  # the wrapper process of run_measured
        print(json.dumps(measure_here(json.loads(sys.argv[2]))))
    else:
        print(__doc__)
