"""Build hook (hatchling's ``custom`` hook, [tool.hatch.build.hooks.custom]): the JupyterLab
extension.

The extension is built with npm from ``labextension/`` into ``src/nbops/labextension`` (git
ignored; an sdist carries it prebuilt), then shipped in the wheel as shared data under
``share/jupyter/labextensions/@nbops/labextension``. When it is not prebuilt and npm is not on
PATH, the build skips it with a warning and everything else (the CLI, the server extension)
is built as usual: ``pip install .`` and ``pip install git+...`` (and so the pre-commit hooks)
work without Node. ``NBOPS_SKIP_LABEXTENSION=1`` skips it even when npm is there.
``jupyter-builder``, which the npm build runs, is a build requirement only when the extension is
built (``dependencies``). See docs/packaging.md.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

NPM_PROJECT = "labextension"
BUILT = Path("src/nbops/labextension")  # jupyterlab.outputDir of labextension/package.json
MARKERS = ("package.json", "static/style.js")  # what a complete build leaves
DESTINATION = "share/jupyter/labextensions/@nbops/labextension"
SKIP_ENV = "NBOPS_SKIP_LABEXTENSION"


class LabExtensionHook(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def _root(self) -> Path:
        return Path(self.root)

    def _built(self) -> bool:
        return all((self._root() / BUILT / marker).is_file() for marker in MARKERS)

    def _stale(self) -> bool:
        """For an editable install: sources newer than the last (development) build."""
        if not self._built():
            return True
        built = (self._root() / BUILT / "package.json").stat().st_mtime
        project = self._root() / NPM_PROJECT
        sources = [project / "package.json", *(project / "src").rglob("*"), *(project / "style").rglob("*")]
        return any(p.is_file() and p.stat().st_mtime > built for p in sources)

    def _skip_reason(self) -> str | None:
        if os.environ.get(SKIP_ENV, "") not in ("", "0"):
            return f"{SKIP_ENV} is set"
        if not (self._root() / NPM_PROJECT / "package.json").is_file():
            return f"there is no {NPM_PROJECT}/ npm project here"
        if shutil.which("npm") is None:
            return "npm (Node.js) is not on PATH"
        return None

    def _needs_build(self, version: str) -> bool:
        if self.target_name not in ("wheel", "sdist"):
            return False
        if version == "editable":
            return self._stale()
        return not self._built()

    def dependencies(self) -> list[str]:
        # called before the build environment is made: ask for jupyter-builder (the npm
        # build's `jupyter-builder build`) only when the extension will be built here
        if self._skip_reason() is None and (not self._built() or self._stale()):
            return ["jupyter-builder>=1.3"]
        return []

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name not in ("wheel", "sdist"):
            return
        if self._needs_build(version):
            reason = self._skip_reason()
            if reason is None:
                self._npm_build(version)
            elif not self._built():
                self._warn(f"the JupyterLab extension is not built: {reason}. nbops installs without it "
                           "(the CLI and the server extension work; JupyterLab shows no nbops panel). "
                           "To get it: install nbops from a wheel (pip install nbops[lab]), or install "
                           "Node.js 20 with npm and build again.")
            else:
                self._warn(f"the JupyterLab extension in {BUILT} may be out of date ({reason}): "
                           "shipped as it is")
        if self.target_name == "wheel" and self._built():
            shared = build_data.setdefault("shared_data", {})
            shared[str(BUILT)] = DESTINATION
            shared[f"{NPM_PROJECT}/install.json"] = f"{DESTINATION}/install.json"

    def _npm_build(self, version: str) -> None:
        project = self._root() / NPM_PROJECT
        npm = shutil.which("npm") or "npm"
        script = "build" if version == "editable" else "build:prod"
        steps = [[npm, "run", script]]
        if not (project / "node_modules").is_dir():
            steps.insert(0, [npm, "install", "--no-audit", "--no-fund", "--loglevel=error"])
        for argv in steps:
            self.app.display_info(f"nbops: {' '.join(argv[1:])} (in {NPM_PROJECT}/)")
            done = subprocess.run(argv, cwd=project, check=False)
            if done.returncode != 0:
                message = (f"`npm {' '.join(argv[1:])}` in {NPM_PROJECT}/ failed (exit {done.returncode}): "
                           f"see its output above; {SKIP_ENV}=1 builds nbops without the JupyterLab extension")
                if version == "editable":
                    self._warn(message)  # an editable install still works (the browser tests fail)
                    return
                raise RuntimeError(message)
        if not self._built():
            raise RuntimeError(f"the npm build left no {BUILT}/{MARKERS[1]}: see labextension/package.json")

    def _warn(self, message: str) -> None:
        self.app.display_warning(f"nbops: {message}")
