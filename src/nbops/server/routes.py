"""The one table of REST routes: path templates (as in docs/rest-api.yaml), handlers, methods.

``ROUTES`` is the public API. The OpenAPI test checks it against ``docs/rest-api.yaml`` both
ways, so neither can change without the other. A route's methods are read from the handler
class itself (the verbs it implements), not declared twice.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from nbops.server.handlers import (
    CheckHandler,
    FallbackHandler,
    FixHandler,
    HackathonHandler,
    HackathonJobHandler,
    HackathonScoreHandler,
    LintHandler,
    ModularizeHandler,
    NbopsHandler,
    ParamsHandler,
    RuleHandler,
    RulesHandler,
    RunJobHandler,
    RunsHandler,
    RunValidateHandler,
    State,
    SubmitHandler,
    VersionHandler,
)
from nbops.server.health import HealthHandler, HealthReportHandler
from nbops.server.models import ModelArtifactHandler, ModelPromoteHandler, ModelsHandler

__all__ = ["ROUTES", "Route", "handlers"]

_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class Route:
    path: str  # OpenAPI path template relative to the server's base_url, e.g. /nbops/rules/{code}
    handler: type[NbopsHandler]

    @property
    def pattern(self) -> str:
        """The tornado regex: each ``{name}`` becomes a named group of one path segment."""
        return re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", self.path)

    @property
    def methods(self) -> tuple[str, ...]:
        """The HTTP verbs the handler implements itself (the rest are tornado's 405)."""
        own: set[str] = set()
        for cls in self.handler.__mro__:
            if cls is NbopsHandler:
                break
            own.update(name for name in vars(cls) if name.upper() in _VERBS)
        return tuple(v for v in _VERBS if v.lower() in own)


ROUTES: tuple[Route, ...] = (
    Route("/nbops/version", VersionHandler),
    Route("/nbops/rules", RulesHandler),
    Route("/nbops/rules/{code}", RuleHandler),
    Route("/nbops/lint", LintHandler),
    Route("/nbops/fix", FixHandler),
    Route("/nbops/modularize", ModularizeHandler),
    Route("/nbops/params", ParamsHandler),
    Route("/nbops/runs", RunsHandler),
    Route("/nbops/runs/validate", RunValidateHandler),
    Route("/nbops/runs/jobs/{id}", RunJobHandler),
    Route("/nbops/check", CheckHandler),
    Route("/nbops/submit", SubmitHandler),
    Route("/nbops/hackathon", HackathonHandler),
    Route("/nbops/hackathon/score", HackathonScoreHandler),
    Route("/nbops/hackathon/jobs/{id}", HackathonJobHandler),
    Route("/nbops/models", ModelsHandler),
    Route("/nbops/models/{name}/versions/{version}/artifact", ModelArtifactHandler),
    Route("/nbops/models/{name}/promote", ModelPromoteHandler),
    Route("/nbops/health", HealthHandler),
    Route("/nbops/health/{model}/checks/{run_id}/report", HealthReportHandler),
)


def handlers(state: State) -> list[tuple[str, type[NbopsHandler], dict[str, Any]]]:
    """Tornado handler specs (the extension app prefixes the server's base_url)."""
    specs = [(r.pattern, r.handler, {"state": state}) for r in ROUTES]
    # last: any other /nbops/ path answers a JSON 404 instead of Jupyter's HTML page
    specs.append((r"/nbops(?:/.*)?", FallbackHandler, {"state": state}))
    return specs
