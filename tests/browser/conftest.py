"""Fixtures for the browser tests: a real ``jupyter lab`` with nbops, and headless Chromium.

- ``lab``: one JupyterLab per test module (module scope: under ``pytest -n 2`` each xdist
  worker that runs browser tests starts its own), on 127.0.0.1 with a free port and a random
  token, serving a temp copy of ``examples/*.ipynb``. Everything it reads or writes besides
  the venv is isolated in temp dirs: config, runtime, data, user settings (with the "Jupyter
  news" toast turned off) and workspaces. A test module may set ``LAB_ARGS`` (a list of
  extra ``jupyter lab`` options) for its own server.
- The front end it serves is the one built from ``labextension/`` into
  ``src/nbops/labextension/`` (``npm run build:prod``): that directory is linked into a temp
  ``JUPYTER_PATH`` entry as ``labextensions/@nbops/labextension``, which JupyterLab searches
  before the venv's ``share/jupyter``. So the tests run the current build with an editable
  install (which does not put it in the venv) and still work with a regular install (which
  does). Without a build anywhere the tests fail with how to build it.
- ``browser``: Chromium from Debian (``/usr/bin/chromium``) driven by Python playwright,
  never a browser downloaded by ``playwright install``. Without either the tests are
  skipped with the reason.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from browser.pages import Page

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
BUILT_EXTENSION = ROOT / "src" / "nbops" / "labextension"
EXTENSION_NAME = "@nbops/labextension"
CHROMIUM = Path("/usr/bin/chromium")
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
START_TIMEOUT = 60.0


@dataclass
class Lab:
    base_url: str
    token: str
    root_dir: Path
    log_path: Path

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.base_url}/{path.lstrip('/')}{sep}token={self.token}"

    def log(self) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-4000:]
        except OSError:
            return ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _installed_extension() -> bool:
    """Whether the venv's own data dirs already hold the built extension."""
    from jupyter_core.paths import jupyter_path

    return any(
        (Path(d) / EXTENSION_NAME / "package.json").is_file() for d in jupyter_path("labextensions")
    )


def _require_browser() -> None:
    if not CHROMIUM.exists():
        pytest.skip("Debian chromium not installed: apt-get install -y chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("playwright not installed: pip install playwright (never `playwright install`)")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)  # jupyter shuts down kernels and exits on SIGTERM
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Lab]:
    _require_browser()  # no point starting a server nobody can look at
    base = tmp_path_factory.mktemp("lab")
    root_dir = base / "root"
    root_dir.mkdir()
    for nb in EXAMPLES.glob("*.ipynb"):
        shutil.copy2(nb, root_dir / nb.name)

    settings_dir = base / "settings"
    notif = settings_dir / "@jupyterlab" / "apputils-extension"
    notif.mkdir(parents=True)
    # no "get notified about Jupyter news?" toast over the page
    (notif / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false"}), encoding="utf-8"
    )
    # no autosave: the test checks that fixes never reach the disk by themselves
    docmanager = settings_dir / "@jupyterlab" / "docmanager-extension"
    docmanager.mkdir(parents=True)
    (docmanager / "plugin.jupyterlab-settings").write_text(
        json.dumps({"autosave": False}), encoding="utf-8"
    )
    workspaces = base / "workspaces"
    workspaces.mkdir()
    config_dir = base / "config"
    config_dir.mkdir()
    runtime_dir = base / "runtime"
    runtime_dir.mkdir()

    env = dict(os.environ)
    env.update(
        JUPYTERLAB_SETTINGS_DIR=str(settings_dir),
        JUPYTERLAB_WORKSPACES_DIR=str(workspaces),
        JUPYTER_CONFIG_DIR=str(config_dir),  # ignore ~/.jupyter
        JUPYTER_RUNTIME_DIR=str(runtime_dir),
        JUPYTER_PLATFORM_DIRS="1",
        PYTHONUNBUFFERED="1",
    )
    if (BUILT_EXTENSION / "package.json").is_file():
        data_dir = base / "data"
        (data_dir / "labextensions" / "@nbops").mkdir(parents=True)
        (data_dir / "labextensions" / EXTENSION_NAME).symlink_to(BUILT_EXTENSION)
        env["JUPYTER_PATH"] = os.pathsep.join(
            [str(data_dir), *filter(None, [os.environ.get("JUPYTER_PATH")])]
        )
    elif not _installed_extension():
        pytest.fail(
            f"{EXTENSION_NAME} is not built: run `npm ci && npm run build:prod` in "
            "labextension/ (or `pip install .`, which builds it)"
        )

    token = secrets.token_hex(16)
    port = _free_port()
    log_path = base / "jupyter-lab.log"
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        "--allow-root",
        "--ip=127.0.0.1",
        f"--port={port}",
        "--port-retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root_dir}",
        "--ServerApp.jpserver_extensions=nbops=True",
        f"--LabApp.workspaces_dir={workspaces}",
        f"--LabApp.user_settings_dir={settings_dir}",
        # lets the tests read the notebook model (window.jupyterapp) instead of scraping text
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.news_url=",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        *getattr(request.module, "LAB_ARGS", ()),
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            cmd, cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL
        )
    lab = Lab(f"http://127.0.0.1:{port}", token, root_dir, log_path)
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if proc.poll() is not None:
                pytest.fail(f"jupyter lab exited with {proc.returncode}:\n{lab.log()}")
            try:
                with urllib.request.urlopen(lab.url("api/status"), timeout=2) as r:
                    if r.status == 200:
                        break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"jupyter lab did not answer in {START_TIMEOUT:.0f} s:\n{lab.log()}")
            time.sleep(0.2)
        # the server extension must be there: the panel would only show "server missing"
        with urllib.request.urlopen(lab.url("nbops/version"), timeout=10) as r:
            assert r.status == 200, lab.log()
        yield lab
    finally:
        _stop(proc)


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A persistent Chromium context with a fresh profile (BrowserContext)."""
    _require_browser()
    from playwright.sync_api import sync_playwright

    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1500, "height": 950},
        )
        try:
            yield ctx
        finally:
            ctx.close()


@pytest.fixture
def tab(browser: Any) -> Iterator[Page]:
    """A new page, with what it logs to the console."""
    page = browser.new_page()
    console: list[dict[str, str]] = []
    page.on(
        "console",
        lambda m: console.append(
            {"type": m.type, "text": m.text, "url": (m.location or {}).get("url", "")}
        ),
    )
    page.on(
        "pageerror",
        lambda e: console.append(
            {"type": "pageerror", "text": f"{e}\n{getattr(e, 'stack', '')}", "url": ""}
        ),
    )
    try:
        yield Page(page, console)
    finally:
        page.close()
