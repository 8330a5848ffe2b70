#!/usr/bin/env python
"""Benchmark the JupyterLab side of nbops in headless Debian Chromium (Python playwright).

Two numbers, each with a target:

1. Lint round trip from the panel, 100-cell notebook (target < 300 ms): time in the page
   (``performance.now()``) from a click on the notebook toolbar's ``.nbops-lint-button`` until
   the panel's ``.nbops-status[data-status]`` is back to ``done`` with ``.nbops-finding``
   rendered (a ``MutationObserver`` on the status; plus the next animation frame, i.e. paint).
   The browser's Resource Timing entry of the ``POST /nbops/lint`` splits that into client
   work before the request, request (network + server), and parse + render after it. The same
   body is also POSTed directly from Python (no browser) for the server's share.
2. Load time the extension adds (target < 100 ms): fresh browser contexts (empty cache) load
   ``/lab`` from navigation start until JupyterLab's ``app.restored`` resolved (and the next
   frame), on servers that differ only in the front-end extension:
   ``with`` (as installed), ``absent`` (a ``labextensions_path`` without ``@nbops/labextension``:
   nothing of it is fetched) and ``disabled`` (``labconfig/page_config.json`` with
   ``disabledExtensions``: its JS is still fetched, its plugin not activated, its CSS not loaded).
   Loads are interleaved, rotating the order every round, so drift on a shared VM hits all.

Every server and browser started here is stopped in ``finally`` blocks; ports are free ports,
all state lives in one temp dir (``--keep-tmp`` keeps it). Writes ``docs/benchmarks-lab.md``
and ``benchmarks/results/lab-latest.json``.

    python benchmarks/lab.py                  # N=20 lint round trips, M=10 loads per variant
    python benchmarks/lab.py --lint-runs 50 --loads 20
    python benchmarks/lab.py --only lint      # or --only load (the other part is not measured)
"""

from __future__ import annotations

import argparse
import copy
import datetime as _dt
import json
import math
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import harness

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
OUT_MD = REPO / "docs" / "benchmarks-lab.md"
OUT_JSON = REPO / "benchmarks" / "results" / "lab-latest.json"

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
EXT_NAME = "@nbops/labextension"
PLUGIN_ID = "@nbops/labextension:plugin"
NB_NAME = "bench100.ipynb"
TARGET_LINT_MS = 300.0
TARGET_LOAD_MS = 100.0


# -- helpers ---------------------------------------------------------------------------------
log = harness.logger("lab-bench")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


pct = harness.percentile
stats = harness.summary


def machine_info() -> dict[str, Any]:
    from importlib.metadata import PackageNotFoundError, version

    def v(pkg: str) -> str:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return "not installed"

    pkgs = ("jupyterlab", "jupyter_server", "playwright", "nbops")
    return harness.machine(
        loadavg_start=os.getloadavg(), **{p: v(p) for p in pkgs},
        chromium=harness.sh([CHROMIUM, "--version"], timeout=30),
    )


# -- notebook --------------------------------------------------------------------------------
def build_notebook(n_cells: int) -> dict[str, Any]:
    """``n_cells`` cells: the cells of examples/*.ipynb (sorted), repeated, with fresh ids."""
    sources = sorted(EXAMPLES.glob("*.ipynb"))
    if not sources:
        raise SystemExit(f"no notebooks in {EXAMPLES}")
    books = [json.loads(p.read_text(encoding="utf-8")) for p in sources]
    pool = [cell for nb in books for cell in nb["cells"]]
    cells = []
    for i in range(n_cells):
        cell = copy.deepcopy(pool[i % len(pool)])
        cell["id"] = f"bench-{i:03d}-{uuid.uuid4().hex[:8]}"
        cells.append(cell)
    return {
        "cells": cells,
        "metadata": copy.deepcopy(books[0].get("metadata", {})),
        "nbformat": 4,
        "nbformat_minor": max(5, int(books[0].get("nbformat_minor", 5))),
    }


# -- JupyterLab servers ----------------------------------------------------------------------
class Lab:
    """One ``jupyter lab`` in its own root, config, settings and workspace dirs."""

    def __init__(
        self,
        name: str,
        base: Path,
        extra_args: list[str] | None = None,
        page_config: dict[str, Any] | None = None,
    ) -> None:
        self.name = name
        self.dir = base / name
        self.root = self.dir / "root"
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.extra_args = extra_args or []
        self.page_config = page_config
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.dir / "server.log"

    def start(self) -> None:
        for sub in ("root", "config/labconfig", "runtime", "workspaces", "data"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        settings = self.dir / "settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text('{"fetchNews": "false"}')
        if self.page_config is not None:
            (self.dir / "config" / "labconfig" / "page_config.json").write_text(
                json.dumps(self.page_config)
            )
        env = dict(os.environ)
        env.update(
            JUPYTER_CONFIG_DIR=str(self.dir / "config"),  # the user config dir only: the
            # system/venv config (which enables the nbops server extension) is still read
            JUPYTERLAB_SETTINGS_DIR=str(self.dir / "settings"),
            JUPYTERLAB_WORKSPACES_DIR=str(self.dir / "workspaces"),
            JUPYTER_RUNTIME_DIR=str(self.dir / "runtime"),
            PYTHONUNBUFFERED="1",
        )
        cmd = [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root}",
            "--LabApp.expose_app_in_browser=True",  # window.jupyterapp
            *self.extra_args,
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            cmd.append("--allow-root")
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            cmd,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            cwd=self.root,
            start_new_session=True,  # own process group: kernels go down with it
        )
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"{self.name}: jupyter lab exited, see {self.log_path}:\n"
                    + self.log_path.read_text(errors="replace")[-3000:]
                )
            try:
                self.get("/api/status")
                log(f"server {self.name} up on port {self.port}")
                return
            except Exception:  # noqa: BLE001
                time.sleep(0.25)
        raise RuntimeError(f"{self.name}: jupyter lab not up after 90 s, see {self.log_path}")

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=10)
        else:  # the server is gone; make sure no kernel of its group survives
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self._log.close()
        log(f"server {self.name} stopped")
        self.proc = None

    def request(
        self, method: str, path: str, body: bytes | None = None, timeout: float = 60
    ) -> tuple[int, bytes]:
        req = urllib.request.Request(
            self.url + path,
            data=body,
            method=method,
            headers={"Authorization": f"token {self.token}", "Content-Type": "application/json"},
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read()

    def get(self, path: str) -> bytes:
        status, data = self.request("GET", path, timeout=5)
        if status != 200:
            raise RuntimeError(f"GET {path}: {status}")
        return data

    def lab_url(self, path: str = "/lab") -> str:
        return f"{self.url}{path}?token={self.token}"

    def page_config_data(self) -> dict[str, Any]:
        """The page config the server embeds in /lab (what the front end will see)."""
        html = self.get("/lab").decode("utf-8", "replace")
        start = html.index('id="jupyter-config-data"')
        start = html.index(">", start) + 1
        end = html.index("</script>", start)
        return json.loads(html[start:end])


# -- browser ---------------------------------------------------------------------------------
INIT_SCRIPT = r"""
(() => {
  if (window.top !== window) { return; }
  const marks = (window.__bench = {});
  let app;
  Object.defineProperty(window, 'jupyterapp', {
    configurable: true,
    get() { return app; },
    set(value) {
      app = value;
      marks.appSet = performance.now();
      value.started.then(() => { marks.started = performance.now(); });
      value.restored.then(() => {
        marks.restored = performance.now();
        requestAnimationFrame(() => { marks.restoredFrame = performance.now(); });
      });
    }
  });
})();
"""

LOAD_FACTS_JS = r"""
(pluginId) => {
  const app = window.jupyterapp;
  const nav = performance.getEntriesByType('navigation')[0];
  const res = performance.getEntriesByType('resource');
  const nbopsRes = res.filter(r => r.name.includes('/@nbops/labextension/'));
  return {
    marks: window.__bench,
    domContentLoaded: nav ? nav.domContentLoadedEventEnd : null,
    loadEventEnd: nav ? nav.loadEventEnd : null,
    resources: res.length,
    transferBytes: res.reduce((a, r) => a + (r.transferSize || 0), 0),
    nbopsResources: nbopsRes.map(r => r.name.replace(/^.*\/@nbops\/labextension\//, '').replace(/\?.*$/, '')),
    nbopsPanel: !!document.querySelector('#nbops-panel'),
    nbopsTab: !!document.querySelector(".jp-SideBar [data-id='nbops-panel']"),
    hasPlugin: app.hasPlugin(pluginId),
    pluginActivated: app.isPluginActivated ? app.isPluginActivated(pluginId) : null,
    labShellVisible: !!document.querySelector('.jp-LabShell #jp-main-dock-panel'),
  };
}
"""

# One lint round trip, measured in the page. `how` = 'button' | 'command'.
ROUND_TRIP_JS = r"""
async (how) => {
  const status = document.querySelector('#nbops-panel .nbops-status');
  if (!status) { throw new Error('no #nbops-panel .nbops-status'); }
  performance.clearResourceTimings();
  const r = { how };
  const done = new Promise((resolve, reject) => {
    const timer = setTimeout(() => { obs.disconnect(); reject(new Error('timeout; status=' + status.dataset.status)); }, 30000);
    const obs = new MutationObserver(() => {
      const s = status.dataset.status;
      if (s === 'linting' && r.linting === undefined) { r.linting = performance.now(); }
      if (s === 'error') { clearTimeout(timer); obs.disconnect(); reject(new Error('status error')); }
      if (r.linting !== undefined && s === 'done'
          && document.querySelector('#nbops-panel .nbops-finding')) {
        r.done = performance.now();
        clearTimeout(timer);
        obs.disconnect();
        requestAnimationFrame(() => { r.frame = performance.now(); resolve(); });
      }
    });
    obs.observe(status, { attributes: true, attributeFilter: ['data-status'] });
  });
  r.t0 = performance.now();
  if (how === 'command') {
    await window.jupyterapp.commands.execute('nbops:lint');
  } else {
    const btn = document.querySelector('.nbops-lint-button .jp-ToolbarButtonComponent')
             || document.querySelector('.nbops-lint-button button')
             || document.querySelector('.nbops-lint-button');
    btn.click();
  }
  await done;
  const entry = performance.getEntriesByType('resource').filter(e => e.name.includes('/nbops/lint')).pop();
  if (entry) {
    r.fetchStart = entry.fetchStart;
    r.requestStart = entry.requestStart;
    r.responseStart = entry.responseStart;
    r.responseEnd = entry.responseEnd;
    r.encodedBodySize = entry.encodedBodySize;
  }
  r.findings = Number(document.querySelector('#nbops-panel .nbops-summary')?.dataset.findings);
  r.findingNodes = document.querySelectorAll('#nbops-panel .nbops-finding').length;
  return r;
}
"""


def launch_browser(pw: Any, stack: ExitStack, profile: Path) -> Any:
    """A persistent context in a fresh profile (as the project's notes recommend)."""
    ctx = pw.chromium.launch_persistent_context(
        str(profile),
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS,
        headless=True,
        viewport={"width": 1400, "height": 900},
    )
    stack.callback(ctx.close)
    return ctx


# -- part 1: lint round trip -----------------------------------------------------------------
def bench_lint(pw: Any, base: Path, runs: int, warmup: int, cells: int) -> dict[str, Any]:
    nb = build_notebook(cells)
    lab = Lab("lint", base)
    out: dict[str, Any] = {"cells": cells, "runs": runs, "warmup": warmup}
    with ExitStack() as stack:
        lab.root.mkdir(parents=True, exist_ok=True)
        (lab.root / NB_NAME).write_text(json.dumps(nb, indent=1), encoding="utf-8")
        out["notebook_bytes"] = (lab.root / NB_NAME).stat().st_size
        lab.start()
        stack.callback(lab.stop)

        # the server's share: the same body the panel sends, straight from Python
        body = json.dumps({"path": NB_NAME, "content": nb}).encode()
        out["request_bytes"] = len(body)
        status, resp = lab.request("POST", "/nbops/lint", body)
        if status != 200:
            raise RuntimeError(f"POST /nbops/lint: {status} {resp[:500]!r}")
        out["response_bytes"] = len(resp)
        out["direct_findings"] = json.loads(resp)["summary"]["findings"]

        ctx = launch_browser(pw, stack, base / "profile-lint")
        page = ctx.pages[0] if ctx.pages else ctx.new_page()
        page.set_default_timeout(60000)
        t = time.perf_counter()
        page.goto(lab.lab_url(f"/lab/tree/{NB_NAME}"))
        page.wait_for_selector(".nbops-lint-button", state="visible")
        out["app_reachable"] = page.evaluate(
            "() => !!(window.jupyterapp && window.jupyterapp.commands)"
        )
        if out["app_reachable"]:
            page.evaluate("() => window.jupyterapp.commands.execute('nbops:open-panel')")
        else:
            page.click(".jp-SideBar [data-id='nbops-panel']")
        page.wait_for_selector("#nbops-panel .nbops-status[data-status='done']")
        page.wait_for_selector("#nbops-panel .nbops-finding")
        out["first_lint_after_goto_ms"] = (time.perf_counter() - t) * 1000
        out["panel_visible"] = page.is_visible("#nbops-panel")
        # let the kernel start and the page settle
        try:
            page.wait_for_selector(
                ".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=20000
            )
        except Exception:  # noqa: BLE001 - only a settling aid
            log("kernel not idle after 20 s; measuring anyway")
        page.wait_for_timeout(1500)

        def direct_post() -> float:
            (status, _), took = harness.timed(lambda: lab.request("POST", "/nbops/lint", body))
            if status != 200:
                raise RuntimeError(f"POST /nbops/lint: {status}")
            return took.wall * 1000

        # interleaved: button, command, direct POST in every round, so the three see the
        # same load on this shared VM
        hows = ["button"] + (["command"] if out["app_reachable"] else [])
        rows: dict[str, list[dict[str, Any]]] = {how: [] for how in hows}
        direct: list[float] = []
        for i in range(warmup + runs):
            got = {}
            for how in hows:
                got[how] = page.evaluate(ROUND_TRIP_JS, how)
                page.wait_for_timeout(150)
            d_ms = direct_post()
            page.wait_for_timeout(150)
            if i >= warmup:
                for how in hows:
                    rows[how].append(got[how])
                direct.append(d_ms)
        for how in hows:
            out[f"browser_{how}"] = rows[how]
            med = statistics.median(r["done"] - r["t0"] for r in rows[how])
            log(f"round trip via {how}: median {med:.0f} ms")
        out["direct_ms"] = direct
        log(f"direct POST /nbops/lint: median {statistics.median(direct):.0f} ms")
        out["loadavg_after_lint"] = os.getloadavg()
        out["findings_rendered"] = out["browser_button"][-1]["findingNodes"]
        out["findings_summary"] = out["browser_button"][-1]["findings"]
    return out


def summarize_lint(d: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {"direct": stats(d["direct_ms"])}
    for how in ("button", "command"):
        rows = d.get(f"browser_{how}")
        if not rows:
            continue
        s[how] = {
            "round_trip_dom": stats([r["done"] - r["t0"] for r in rows]),
            "round_trip_frame": stats([r["frame"] - r["t0"] for r in rows]),
        }
        if all("requestStart" in r for r in rows):
            s[how].update(
                before_request=stats([r["fetchStart"] - r["t0"] for r in rows]),
                request=stats([r["responseEnd"] - r["fetchStart"] for r in rows]),
                waiting=stats([r["responseStart"] - r["requestStart"] for r in rows]),
                after_response=stats([r["done"] - r["responseEnd"] for r in rows]),
                paint=stats([r["frame"] - r["done"] for r in rows]),
            )
    return s


# -- part 2: load time -----------------------------------------------------------------------
def bench_load(pw: Any, base: Path, loads: int, warmup: int) -> dict[str, Any]:
    out: dict[str, Any] = {"loads": loads, "warmup": warmup, "variants": {}}
    with ExitStack() as stack:
        # `absent`: the same labextensions path minus @nbops/labextension
        from jupyter_core.paths import jupyter_path

        ext_dir = base / "labextensions-absent"
        ext_dir.mkdir(parents=True, exist_ok=True)
        seen: set[str] = set()
        for p in jupyter_path("labextensions"):
            root = Path(p)
            if not root.is_dir():
                continue
            for pkg in sorted(root.glob("*/package.json")) + sorted(root.glob("@*/*/package.json")):
                name = pkg.parent.relative_to(root).as_posix()
                if name == EXT_NAME or name in seen:
                    continue
                seen.add(name)
                dest = ext_dir / name
                dest.parent.mkdir(parents=True, exist_ok=True)
                dest.symlink_to(pkg.parent.resolve(), target_is_directory=True)
        out["absent_labextensions"] = sorted(seen)
        labs = {
            "with": Lab("load-with", base),
            "absent": Lab(
                "load-absent", base, extra_args=[f"--LabApp.labextensions_path={ext_dir}"]
            ),
            "disabled": Lab(
                "load-disabled", base, page_config={"disabledExtensions": {EXT_NAME: True}}
            ),
        }
        for lab in labs.values():
            lab.start()
            stack.callback(lab.stop)

        # what each server tells the front end
        for key, lab in labs.items():
            pc = lab.page_config_data()
            fed = (
                [e["name"] for e in json.loads(pc.get("federated_extensions", "[]"))]
                if isinstance(pc.get("federated_extensions"), str)
                else [e["name"] for e in pc.get("federated_extensions", [])]
            )
            disabled = pc.get("disabledExtensions", [])
            status, _ = lab.request("GET", "/nbops/version")
            out["variants"][key] = {
                "federated_extensions": fed,
                "disabledExtensions": disabled,
                "server_extension_status": status,
                "runs": [],
            }
            log(f"{key}: federated={fed} disabled={disabled} /nbops/version={status}")

        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        stack.callback(browser.close)

        def one_load(lab: Lab) -> dict[str, Any]:
            ctx = browser.new_context(viewport={"width": 1400, "height": 900})  # empty cache
            try:
                ctx.add_init_script(INIT_SCRIPT)
                page = ctx.new_page()
                page.set_default_timeout(60000)
                page.goto(lab.lab_url(), wait_until="commit")
                page.wait_for_function(
                    "() => window.__bench && window.__bench.restoredFrame", polling=50
                )
                # let late plugin work (panels, status bar) finish before the DOM check
                page.wait_for_timeout(300)
                return page.evaluate(LOAD_FACTS_JS, PLUGIN_ID)
            finally:
                ctx.close()

        order = list(labs)
        for i in range(warmup):
            for key in order:
                one_load(labs[key])
        log(f"load warm-up done ({warmup} per variant)")
        for i in range(loads):
            rot = order[i % len(order) :] + order[: i % len(order)]  # rotate: no fixed position
            for key in rot:
                r = one_load(labs[key])
                r["round"] = i
                r["position"] = rot.index(key)
                out["variants"][key]["runs"].append(r)
            log(
                f"load round {i + 1}/{loads}: "
                + ", ".join(
                    f"{k}={out['variants'][k]['runs'][-1]['marks']['restored']:.0f}" for k in order
                )
            )
    return out


def summarize_load(d: dict[str, Any]) -> dict[str, Any]:
    s: dict[str, Any] = {}
    for key, v in d["variants"].items():
        runs = v["runs"]
        s[key] = {
            "restored": stats([r["marks"]["restored"] for r in runs]),
            "restored_frame": stats([r["marks"]["restoredFrame"] for r in runs]),
            "started": stats([r["marks"]["started"] for r in runs if "started" in r["marks"]]),
            "dom_content_loaded": stats([r["domContentLoaded"] for r in runs]),
            "nbops_panel_in_dom": sorted({r["nbopsPanel"] for r in runs}),
            "plugin_activated": sorted({str(r["pluginActivated"]) for r in runs}),
            "has_plugin": sorted({r["hasPlugin"] for r in runs}),
            "nbops_resources": sorted({x for r in runs for x in r["nbopsResources"]}),
            "transfer_kb_median": statistics.median(r["transferBytes"] for r in runs) / 1024,
        }
    for other in ("absent", "disabled"):
        if other not in d["variants"] or "with" not in d["variants"]:
            continue
        w = d["variants"]["with"]["runs"]
        o = d["variants"][other]["runs"]
        # paired by round (same round = adjacent in time)
        diffs = [a["marks"]["restored"] - b["marks"]["restored"] for a, b in zip(w, o)]
        s[f"with_minus_{other}"] = {
            "median_of_medians": s["with"]["restored"]["median"] - s[other]["restored"]["median"],
            "paired": stats(diffs),
            "paired_p10": pct(diffs, 10),
            "paired_iqr": [pct(diffs, 25), pct(diffs, 75)],
            "diffs": diffs,
        }
    return s


def load_verdict(pw: dict) -> tuple[bool | None, tuple[float, float]]:
    """PASS when the whole 95% CI of the added time is under the target, FAIL when it is
    all above, INCONCLUSIVE otherwise (the noise does not allow a verdict)."""
    lo, hi = harness.bootstrap_ci(pw["diffs"])  # of the median paired difference
    if hi < TARGET_LOAD_MS:
        return True, (lo, hi)
    if lo > TARGET_LOAD_MS:
        return False, (lo, hi)
    return None, (lo, hi)


# -- report ----------------------------------------------------------------------------------
def f(x: float | None, nd: int = 0) -> str:
    return "—" if x is None or math.isnan(x) else f"{x:.{nd}f}"


def render(res: dict[str, Any]) -> str:
    m = res["machine"]
    L: list[str] = []
    add = L.append
    add("# nbops in JupyterLab: lint round trip and load time")
    add("")
    add(
        f"Generated by `benchmarks/lab.py` on {res['finished']} (UTC); raw numbers in "
        "`benchmarks/results/lab-latest.json` (git-ignored). Rerun: "
        f"`{res['command']}` (about {res['duration_s'] / 60:.0f} min)."
    )
    add("")
    add("## Machine")
    add("")
    add("| | |")
    add("|---|---|")
    add(
        f"| CPU | {m['cpu']}, `nproc` = {m['nproc']}, {m['ram']} RAM; shared VM "
        f"(load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_start'])}) |"
    )
    add(f"| OS / Python | {m['os']} / {m['python'].split()[0]} |")
    add(f"| JupyterLab / jupyter_server | {m['jupyterlab']} / {m['jupyter_server']} |")
    add(
        f"| Browser | {m['chromium']}, headless (`/usr/bin/chromium`), driven by Python playwright {m['playwright']} |"
    )
    add(f"| nbops | {m['nbops']} (server extension + `{EXT_NAME}` as installed in the venv) |")
    add("")

    verdicts = []
    if "lint" in res:
        d, s = res["lint"], res["lint_summary"]
        b = s["button"]
        med = b["round_trip_dom"]["median"]
        ok = med < TARGET_LINT_MS
        verdicts.append(
            (
                "Lint round trip from the panel, 100-cell notebook (median)",
                f"< {TARGET_LINT_MS:.0f} ms",
                f"{med:.0f} ms",
                ok,
            )
        )
    if "load" in res:
        s2 = res["load_summary"]
        pw_ = s2["with_minus_absent"]
        diff = pw_["paired"]["median"]
        ok2, (lo, hi) = load_verdict(pw_)
        verdicts.append(
            (
                "Load time the extension adds (median of paired differences, with − absent)",
                f"< {TARGET_LOAD_MS:.0f} ms",
                f"{diff:+.0f} ms (95% CI {lo:+.0f} to {hi:+.0f} ms, {pw_['paired']['n']} pairs)",
                ok2,
            )
        )
    add("## Verdict")
    add("")
    add("| target | goal | measured | |")
    add("|---|---|---|---|")
    for name, goal, got, ok in verdicts:
        word = (
            "INCONCLUSIVE (the 95% CI straddles the target)"
            if ok is None
            else ("PASS" if ok else "FAIL")
        )
        add(f"| {name} | {goal} | {got} | **{word}** |")
    add("")

    if "lint" in res:
        d, s = res["lint"], res["lint_summary"]
        add("## 1. Lint round trip from the panel")
        add("")
        add("### Method")
        add("")
        add(
            f"- Notebook: {d['cells']} cells made by concatenating the cells of `examples/*.ipynb` "
            "(sorted by name, repeated until 100) with fresh unique ids, outputs kept "
            f"({d['notebook_bytes'] / 1024:.0f} KiB on disk; the lint request body is "
            f"{d['request_bytes'] / 1024:.0f} KiB, the answer {d['response_bytes'] / 1024:.0f} KiB, "
            f"{d['findings_summary']} findings, {d['findings_rendered']} `.nbops-finding` nodes)."
        )
        add(
            "- One `jupyter lab` (temp root, config, settings and workspace dirs, free port), one "
            "headless Chromium (fresh profile). The notebook is opened at `/lab/tree/…`, the nbops "
            "panel is opened (`nbops:open-panel`) and the on-open lint is waited for "
            "(`.nbops-status[data-status=done]` and a `.nbops-finding`), then the kernel to be idle."
        )
        add(
            f"- Then {d['warmup']} untimed and {d['runs']} timed round trips, 150 ms apart. Each is "
            "measured inside the page with `performance.now()`: t0 just before "
            "`.nbops-lint-button`'s `click()`; a `MutationObserver` on `.nbops-status` sees "
            "`data-status` go to `linting` and back to `done` with `.nbops-finding` nodes present "
            "(**DOM** column: the panel renders status, summary and findings in the same "
            "synchronous call); **+frame** is the next `requestAnimationFrame` after that (paint)."
        )
        add(
            "- The same with `window.jupyterapp.commands.execute('nbops:lint')` "
            f"(`window.jupyterapp` is reachable: {d['app_reachable']}; lab is started with "
            "`--LabApp.expose_app_in_browser=True`)."
        )
        add(
            "- Breakdown from the browser's Resource Timing entry of `POST /nbops/lint`: before "
            "request = click to `fetchStart` (debounce timer of 0 ms, `model.toJSON()`, "
            "`JSON.stringify`); request = `fetchStart` to `responseEnd` (network + server); "
            "waiting = `requestStart` to `responseStart` (≈ server time); after response = "
            "`responseEnd` to status `done` (JSON parse + panel render)."
        )
        add(
            f"- Server share measured directly: the same notebook POSTed to `/nbops/lint` from "
            "Python (`urllib`, token header, a new connection each time). The three kinds of "
            "measurement are interleaved (button, command, direct POST in every round), so all "
            "three see the same load on this shared VM "
            f"(load average after this part: {', '.join(f'{x:.2f}' for x in d.get('loadavg_after_lint', []))})."
        )
        add("")
        add("### Results (ms)")
        add("")
        add("| measure | median | p90 | min | max | runs |")
        add("|---|---|---|---|---|---|")

        def row(name: str, st: dict[str, Any]) -> None:
            add(
                f"| {name} | {f(st.get('median'))} | {f(st.get('p90'))} | {f(st.get('min'))} | "
                f"{f(st.get('max'))} | {st.get('n', 0)} |"
            )

        for how, label in (("button", "toolbar button"), ("command", "`nbops:lint` command")):
            if how not in s:
                continue
            h = s[how]
            row(f"**round trip, {label} (DOM)**", h["round_trip_dom"])
            row(f"round trip, {label} (+frame)", h["round_trip_frame"])
            if "request" in h:
                row("&nbsp;&nbsp;before request", h["before_request"])
                row("&nbsp;&nbsp;request (network + server)", h["request"])
                row("&nbsp;&nbsp;&nbsp;&nbsp;of which waiting (≈ server)", h["waiting"])
                row("&nbsp;&nbsp;after response (parse + render)", h["after_response"])
                row("&nbsp;&nbsp;to next frame", h["paint"])
        row("`POST /nbops/lint` from Python (server share)", s["direct"])
        add("")
        add(res.get("lint_analysis", ""))
        add("")

    if "load" in res:
        d, s = res["load"], res["load_summary"]
        add("## 2. Load time the extension adds")
        add("")
        add("### Method")
        add("")
        add(
            "Three `jupyter lab` servers, started side by side, differing only in the front-end "
            "extension (each keeps the nbops *server* extension; `GET /nbops/version` → "
            + ", ".join(f"{k}: {v['server_extension_status']}" for k, v in d["variants"].items())
            + "):"
        )
        add("")
        add(f"- **with**: as installed (`{EXT_NAME}` enabled).")
        add(
            "- **absent**: `--LabApp.labextensions_path=<tmp dir>` holding symlinks to every "
            f"installed federated extension except `{EXT_NAME}` "
            f"({', '.join('`' + x + '`' for x in d['absent_labextensions'])}). Nothing of nbops "
            "reaches the page: this is the baseline for the target."
        )
        add(
            "- **disabled**: a temp `JUPYTER_CONFIG_DIR` with `labconfig/page_config.json` = "
            f'`{{"disabledExtensions": {{"{EXT_NAME}": true}}}}` (JupyterLab 4\'s documented '
            "way; `jupyter labextension disable` writes the same file, but persistently in the "
            "real config dir). JupyterLab's bootstrap still fetches and initialises the "
            "extension's `remoteEntry` and module (it loads every federated extension before "
            "checking `disabledExtensions`), skips its CSS and does not activate its plugin; "
            "shown for comparison."
        )
        add("")
        add("Verified in every run (from the page, after `app.restored`):")
        add("")
        add(
            "| variant | federated extensions in page config | `disabledExtensions` | `#nbops-panel` in DOM | plugin activated | nbops files fetched |"
        )
        add("|---|---|---|---|---|---|")
        for key, v in d["variants"].items():
            ss = s[key]
            add(
                f"| {key} | {', '.join(v['federated_extensions'])} | "
                f"{', '.join(v['disabledExtensions']) or '—'} | "
                f"{', '.join(map(str, ss['nbops_panel_in_dom']))} | "
                f"{', '.join(ss['plugin_activated'])} | "
                f"{len(ss['nbops_resources'])} ({', '.join(ss['nbops_resources'][:3])}{'…' if len(ss['nbops_resources']) > 3 else ''}) |"
            )
        add("")
        add(
            f"Each load: a new browser context (empty cache and storage) in one headless Chromium, "
            "`page.goto('/lab?token=…')`; an init script traps the assignment of "
            "`window.jupyterapp` (`--LabApp.expose_app_in_browser=True`) and records "
            "`performance.now()` (milliseconds since navigation start) when `app.started` and "
            "`app.restored` resolve and at the next animation frame. **App ready = `app.restored`** "
            "(layout restored, every auto-start plugin activated). "
            f"{d['warmup']} untimed warm-up load per variant, then {d['loads']} rounds; each round "
            "loads every variant once, back to back, and the order rotates every round "
            "(with/absent/disabled, absent/disabled/with, …), so drift on this shared 2-core VM "
            "affects all variants alike and no variant always goes first. The difference is "
            "taken per round (paired) and its median reported, with its spread."
        )
        add("")
        add("### Results (ms from navigation start)")
        add("")
        add(
            "| variant | `app.restored` median | p90 | min | max | +frame median | `app.started` median | DOMContentLoaded median | transferred (KiB, median) | runs |"
        )
        add("|---|---|---|---|---|---|---|---|---|---|")
        for key in d["variants"]:
            ss = s[key]
            r = ss["restored"]
            add(
                f"| {key} | {f(r['median'])} | {f(r['p90'])} | {f(r['min'])} | {f(r['max'])} | "
                f"{f(ss['restored_frame']['median'])} | {f(ss['started']['median'])} | "
                f"{f(ss['dom_content_loaded']['median'])} | {f(ss['transfer_kb_median'])} | {r['n']} |"
            )
        add("")
        add(
            "| difference (`app.restored`) | median of paired diffs | p10 – p90 | IQR | min – max | difference of medians |"
        )
        add("|---|---|---|---|---|---|")
        for other in ("absent", "disabled"):
            k = f"with_minus_{other}"
            if k not in s:
                continue
            p = s[k]
            add(
                f"| with − {other} | **{p['paired']['median']:+.0f}** | {p['paired_p10']:+.0f} – "
                f"{p['paired']['p90']:+.0f} | {p['paired_iqr'][0]:+.0f} – {p['paired_iqr'][1]:+.0f} | "
                f"{p['paired']['min']:+.0f} – {p['paired']['max']:+.0f} | {p['median_of_medians']:+.0f} |"
            )
        add("")
        add(res.get("load_analysis", ""))
        add("")
    return "\n".join(L).rstrip() + "\n"


def analyse(res: dict[str, Any]) -> None:
    """Plain-language reading of the numbers, written into the report."""
    if "lint" in res:
        s = res["lint_summary"]
        b = s["button"]
        rt = b["round_trip_dom"]["median"]
        parts = []
        if "request" in b:
            parts.append(
                f"Of the median {rt:.0f} ms, about {b['before_request']['median']:.0f} ms are spent in the "
                f"page before the request leaves, {b['request']['median']:.0f} ms in the request "
                f"(server waiting ≈ {b['waiting']['median']:.0f} ms) and "
                f"{b['after_response']['median']:.0f} ms after the answer arrived (parse + render); "
                f"the next frame follows {b['paint']['median']:.0f} ms later. The server alone, "
                f"asked from Python in the same rounds, takes {s['direct']['median']:.0f} ms (median), "
                f"so the browser's request wait ({b['waiting']['median']:.0f} ms) is "
                + (
                    "mostly server time."
                    if s["direct"]["median"] >= 0.7 * b["waiting"]["median"]
                    else "clearly more than the server alone (contention with the browser on 2 cores)."
                )
            )
            shares = {
                "server (lint)": b["waiting"]["median"],
                "client before the request": b["before_request"]["median"],
                "rendering after the response": b["after_response"]["median"],
            }
            top = max(shares, key=shares.get)
            if rt >= TARGET_LINT_MS:
                parts.append(
                    f"The target is missed; the largest share is the {top} "
                    f"({shares[top]:.0f} ms of {rt:.0f} ms)."
                )
            else:
                parts.append(f"The target is met; the largest share is the {top}.")
        res["lint_analysis"] = "\n".join(parts)
    if "load" in res:
        s = res["load_summary"]
        p = s["with_minus_absent"]["paired"]
        kb = s["with"]["transfer_kb_median"] - s["absent"]["transfer_kb_median"]
        res["load_analysis"] = (
            f"The extension adds {p['median']:+.0f} ms (median of {p['n']} paired differences) to "
            f"the time until `app.restored`; the paired differences spread from {p['min']:+.0f} to "
            f"{p['max']:+.0f} ms, and single loads vary by several hundred ms on this VM, so "
            "differences of a few tens of ms are within the noise. The verdict uses a bootstrap 95% "
            "confidence interval of the median paired difference: PASS when all of it is under "
            "the 100 ms target, FAIL when all of it is above, INCONCLUSIVE otherwise (then rerun "
            "with more loads, `--loads 30`). What does not depend on the load: the extension adds "
            f"{len(s['with']['nbops_resources'])} files and about {kb:.0f} KiB to the page "
            "(transferred bytes, median), and one plugin activation."
        )


# -- main ------------------------------------------------------------------------------------
def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--lint-runs", type=int, default=20, help="timed lint round trips (N)")
    ap.add_argument("--lint-warmup", type=int, default=2)
    ap.add_argument("--cells", type=int, default=100)
    ap.add_argument("--loads", type=int, default=10, help="timed page loads per variant (M)")
    ap.add_argument("--load-warmup", type=int, default=1)
    ap.add_argument("--only", choices=("lint", "load"))
    ap.add_argument(
        "--render-only",
        action="store_true",
        help="measure nothing; rewrite the report from --out-json",
    )
    ap.add_argument("--keep-tmp", action="store_true", help="keep the temp dir (server logs)")
    ap.add_argument("--out-md", type=Path, default=OUT_MD)
    ap.add_argument("--out-json", type=Path, default=OUT_JSON)
    args = ap.parse_args(argv)

    if args.render_only:
        res = json.loads(args.out_json.read_text())
        res["load_summary"] = summarize_load(res["load"]) if "load" in res else None
        res = {k: v for k, v in res.items() if v is not None}
        analyse(res)
        args.out_md.write_text(render(res), encoding="utf-8")
        log(f"rewrote {args.out_md} from {args.out_json}")
        return 0
    if not Path(CHROMIUM).exists():
        raise SystemExit(
            f"{CHROMIUM} not found (apt-get install chromium); never `playwright install`"
        )
    from playwright.sync_api import sync_playwright

    started = time.monotonic()
    res: dict[str, Any] = {
        "started": _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "command": " ".join(
            ["python benchmarks/lab.py", *(sys.argv[1:] if argv is None else argv)]
        ),
        "machine": machine_info(),
        "targets_ms": {"lint_round_trip": TARGET_LINT_MS, "load_added": TARGET_LOAD_MS},
    }
    base = Path(tempfile.mkdtemp(prefix="nbops-labbench-"))
    log(f"temp dir {base}")
    try:
        with sync_playwright() as pw:
            if args.only in (None, "load"):
                res["load"] = bench_load(pw, base, args.loads, args.load_warmup)
                res["load_summary"] = summarize_load(res["load"])
            if args.only in (None, "lint"):
                res["lint"] = bench_lint(pw, base, args.lint_runs, args.lint_warmup, args.cells)
                res["lint_summary"] = summarize_lint(res["lint"])
    finally:
        if args.keep_tmp:
            log(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)
    res["finished"] = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M")
    res["duration_s"] = time.monotonic() - started
    res["machine"]["loadavg_end"] = os.getloadavg()
    analyse(res)
    harness.write_json(args.out_json, res)
    args.out_md.parent.mkdir(parents=True, exist_ok=True)
    args.out_md.write_text(render(res), encoding="utf-8")
    log(f"wrote {args.out_md} and {args.out_json}")
    if "lint_summary" in res:
        b = res["lint_summary"]["button"]["round_trip_dom"]
        log(
            f"lint round trip: median {b['median']:.0f} ms, p90 {b['p90']:.0f} ms "
            f"(target < {TARGET_LINT_MS:.0f}) -> {'PASS' if b['median'] < TARGET_LINT_MS else 'FAIL'}"
        )
    if "load_summary" in res:
        p = res["load_summary"]["with_minus_absent"]["paired"]
        ok, (lo, hi) = load_verdict(res["load_summary"]["with_minus_absent"])
        word = "INCONCLUSIVE" if ok is None else "PASS" if ok else "FAIL"
        log(
            f"load time added: median {p['median']:+.0f} ms, 95% CI {lo:+.0f}..{hi:+.0f} "
            f"(target < {TARGET_LOAD_MS:.0f}) -> {word}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
