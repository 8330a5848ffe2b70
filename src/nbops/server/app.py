"""The nbops Jupyter server extension app: its settings, its handlers and its lifecycle.

Configurable like any Jupyter app, e.g. in ``jupyter_server_config.json``::

    {"NbopsExtension": {"max_body_size": 104857600, "workers": 2}}
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from jupyter_server.extension.application import ExtensionApp
from traitlets import Integer

from nbops._version import version as nbops_version
from nbops.server.hackathon import Scoring
from nbops.server.handlers import State
from nbops.server.pool import WorkerPool
from nbops.server.runs import Runs

__all__ = ["NbopsExtension"]

MIB = 1024 * 1024


class NbopsExtension(ExtensionApp):
    """Serves the nbops REST API under ``<base_url>nbops/``."""

    name = "nbops"
    version = nbops_version()
    description = "nbops: lint, fix, modularize, run and submit notebooks from JupyterLab"
    load_other_extensions = True

    max_body_size = Integer(
        100 * MIB,
        help="Largest request body (bytes) the nbops API accepts; larger ones get 413.",
    ).tag(config=True)

    workers = Integer(2, help="Threads that run lint, fix and modularize requests.").tag(
        config=True
    )

    linters = Integer(8, help="Warm linters kept (one per config and rule selection).").tag(
        config=True
    )

    def initialize_settings(self) -> None:
        import importlib

        from nbops.lint.registry import all_rules

        all_rules()  # load the registry once, before worker threads race to do it
        # the same for what the workers import lazily: a module imported for the first time by
        # two threads at once can be seen half-initialised by one of them
        for module in ("black", "nbops.review.checks", "nbops.run.params"):
            importlib.import_module(module)
        assert self.serverapp is not None
        contents = getattr(self.serverapp, "contents_manager", None)
        root = Path(getattr(contents, "root_dir", None) or self.serverapp.root_dir).resolve()
        self.state = State(
            root=root,
            jobs=WorkerPool(root, workers=self.workers, linters=self.linters),
            max_body_size=self.max_body_size,
            runs=Runs(root),
            scoring=Scoring(root),
        )

    def initialize_handlers(self) -> None:
        from nbops.server.routes import handlers

        self.handlers.extend(handlers(self.state))

    async def stop_extension(self) -> None:
        state = getattr(self, "state", None)
        if state is not None:
            # running `nbops run` jobs are interrupted (their kernels stop with them), not left;
            # so are the hackathon's scoring jobs (the scorer's whole process group)
            loop = asyncio.get_running_loop()
            await asyncio.gather(
                loop.run_in_executor(None, state.runs.close),
                loop.run_in_executor(None, state.scoring.close),
            )
            state.jobs.close()
