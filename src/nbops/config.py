"""``[tool.nbops]`` from the nearest ``pyproject.toml``, typed and with defaults.

Keys (all optional)::

    [tool.nbops]
    select = ["NB", "FMT", "RUFF"]   # RUFF = ruff's own configured rule set
    ignore = []
    extend-select = []
    exclude = ["scratch/**"]          # globs, relative to the pyproject's folder
    format-check = true               # the format check (FMT001)
    format = "ruff"                   # or "black"; default: black where the project uses it
    fail-on = "info"                  # lowest severity that makes `nbops lint` exit 1
    cache = true

    [tool.nbops.severity]             # per-code severity override
    NB108 = "info"

    [tool.nbops.options]              # rule options (see docs/rules.md)
    max-cell-lines = 40

    [tool.nbops.per-file-ignores]
    "drafts/*.ipynb" = ["NB1"]

    [tool.nbops.submit]               # the review gate and submit (see docs/review.md)

    [tool.nbops.run]                  # nbops run (see docs/configuration.md)
    executor = "local"                # or "dask"
    scheduler = "tcp://HOST:8786"     # the Dask scheduler; unset: a local cluster
    retries = 1                       # kernel start failures and dead kernels

    [tool.nbops.promote]              # nbops promote / release: when champion moves
    metric = "accuracy"               # MLflow's MetricThreshold semantics (docs/deploy.md)
    greater-is-better = true
    min-value = 0.85
    min-absolute-change = 0.01        # against the champion
    min-relative-change = 0.01

    [tool.nbops.serve]                # the released model's acceptance threshold
    threshold = 0.7                   # in (0, 1]: a prediction below it is not accepted
    below = "abstain"                 # or "route" (to a human); log_model's values win

    [tool.nbops.health]               # nbops monitor's triggers (nbops.deploy.health)
    psi = {warn = 0.1, alert = 0.2}
"""

from __future__ import annotations

import fnmatch
import math
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbops.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "BELOW", "FORMATTERS", "Config", "PromoteConfig", "RunConfig", "ServeConfig", "acceptance_problem",
    "detect_formatter", "find_pyproject", "load_config", "project_root",
]

_SEVERITIES = ("error", "warning", "info")
FORMATTERS = ("ruff", "black")
# black in a pre-commit config: its repository or its hook ids (black, black-jupyter)
_PRECOMMIT_BLACK = re.compile(
    r"^\s*-?\s*(?:repo:\s*\S*psf/black|id:\s*black(?:-jupyter)?\s*$)", re.MULTILINE
)


@dataclass
class RunConfig:
    """``[tool.nbops.run]``: where ``nbops run`` executes (the executor's name is checked by
    ``nbops.run.executors``, which knows the plugins)."""

    executor: str = "local"
    scheduler: str | None = None
    retries: int = 1


@dataclass(frozen=True)
class PromoteConfig:
    """``[tool.nbops.promote]``: the thresholds a challenger must meet to become champion
    (MLflow's ``MetricThreshold``; judged by ``nbops.run.thresholds``). No metric: none."""

    metric: str | None = None
    greater_is_better: bool = True
    min_value: float | None = None
    min_absolute_change: float | None = None
    min_relative_change: float | None = None


BELOW = ("abstain", "route")  # what happens to a prediction below the acceptance threshold


def acceptance_problem(threshold: Any, below: Any) -> str | None:
    """What is wrong with an acceptance threshold and its ``below`` (None: nothing): the
    threshold a number in (0, 1], ``below`` one of :data:`BELOW`. Shared by ``[tool.nbops.serve]``
    and ``nbops.log_model``."""
    if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
            or not 0 < threshold <= 1:  # NaN fails the comparison too
        return f"threshold must be a probability in (0, 1], not {threshold!r}"
    if below not in BELOW:
        return f"below must be one of {', '.join(BELOW)}, not {below!r}"
    return None


@dataclass(frozen=True)
class ServeConfig:
    """``[tool.nbops.serve]``: the acceptance threshold ``nbops release`` records with a model
    that ``nbops.log_model`` gave none (docs/deploy.md, "Acceptance threshold")."""

    threshold: float | None = None
    below: str = "abstain"


@dataclass
class Config:
    root: Path | None = None
    select: list[str] = field(default_factory=list)
    ignore: list[str] = field(default_factory=list)
    extend_select: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    format_check: bool = True
    format: str = "ruff"  # the formatter of FMT001 and its fix: "ruff" or "black"
    fail_on: str = "info"
    cache: bool = True
    severity: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    per_file_ignores: dict[str, list[str]] = field(default_factory=dict)
    black: dict[str, Any] = field(default_factory=dict)
    submit: dict[str, Any] = field(default_factory=dict)  # read by nbops.review.policy
    run: RunConfig = field(default_factory=RunConfig)
    promote: PromoteConfig = field(default_factory=PromoteConfig)
    serve: ServeConfig = field(default_factory=ServeConfig)
    health: dict[str, Any] = field(default_factory=dict)  # read by nbops.deploy.health

    def ignores_for(self, path: Path) -> list[str]:
        if not self.per_file_ignores:
            return []
        rel = _relative(path, self.root)
        out: list[str] = []
        for pattern, codes in self.per_file_ignores.items():
            if fnmatch.fnmatch(rel, pattern) or fnmatch.fnmatch(path.name, pattern):
                out.extend(codes)
        return out

    def is_excluded(self, path: Path) -> bool:
        if not self.exclude:
            return False
        rel = _relative(path, self.root)
        return any(
            fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, pat.rstrip("/") + "/*")
            for pat in self.exclude
        )

    def fingerprint(self) -> str:
        """A stable text of everything that changes lint results, for the cache key."""
        import json

        data = {
            k: v for k, v in self.__dict__.items()
            if k not in ("root", "cache", "exclude", "submit", "run", "promote", "serve",
                         "health")
        }
        return json.dumps(data, sort_keys=True, default=str)


def _relative(path: Path, root: Path | None) -> str:
    try:
        return path.resolve().relative_to(root).as_posix() if root else path.as_posix()
    except ValueError:
        return path.as_posix()


def find_pyproject(start: Path) -> Path | None:
    """The nearest ``pyproject.toml`` at or above ``start`` that has a ``[tool.nbops]`` table."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        candidate = folder / "pyproject.toml"
        if candidate.is_file():
            try:
                data = tomllib.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
                continue
            if "nbops" in data.get("tool", {}):
                return candidate
    return None


def project_root(start: Path) -> tuple[Path, bool]:
    """The project a file belongs to: the folder of the nearest ``pyproject.toml`` at or
    above ``start`` (never above the git repository), else the git root, else ``start``'s
    folder; the flag says whether a ``pyproject.toml`` was found."""
    here = start.resolve()
    if here.is_file():
        here = here.parent
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file():
            return folder, True
        if (folder / ".git").exists():
            return folder, False
    return here, False


def _strings(value: Any, key: str, path: Path) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return list(value)
    raise ConfigError(f"[tool.nbops] {key} must be a list of strings", path=path)


def detect_formatter(root: Path, tool: dict[str, Any] | None = None) -> str:
    """``"black"`` where the project at ``root`` uses black (a ``[tool.black]`` table in its
    ``pyproject.toml``, given as ``tool`` when already read, or black in its
    ``.pre-commit-config.yaml``), else ``"ruff"``."""
    if tool is None:
        try:
            data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
            data = {}
        tool = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    if isinstance(tool.get("black"), dict):
        return "black"
    for name in (".pre-commit-config.yaml", ".pre-commit-config.yml"):
        try:
            text = (root / name).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        if _PRECOMMIT_BLACK.search(text):
            return "black"
    return "ruff"


def load_config(start: Path | None = None, *, pyproject: Path | None = None) -> Config:
    """Read the config for files under ``start`` (default: the working directory)."""
    file = pyproject or find_pyproject(start or Path.cwd())
    if file is None:
        root, found = project_root(start or Path.cwd())
        cfg = Config(format=detect_formatter(root))
        if found and cfg.format == "black":
            cfg.black = _black_table(root / "pyproject.toml")
        return cfg
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=file) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc}", path=file) from None
    tool = data.get("tool", {})
    table = tool.get("nbops", {})
    if not isinstance(table, dict):
        raise ConfigError("[tool.nbops] must be a table", path=file)
    cfg = Config(root=file.parent.resolve())
    known = {
        "select", "ignore", "extend-select", "exclude", "format-check", "format", "fail-on",
        "cache",
        "severity", "options", "per-file-ignores", "submit", "run", "modularize", "hackathon",
        "promote", "serve", "health",
    }
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"unknown key(s) in [tool.nbops]: {', '.join(unknown)}",
            path=file,
            hint="see docs/configuration.md",
        )
    cfg.select = _strings(table.get("select", []), "select", file)
    cfg.ignore = _strings(table.get("ignore", []), "ignore", file)
    cfg.extend_select = _strings(table.get("extend-select", []), "extend-select", file)
    cfg.exclude = _strings(table.get("exclude", []), "exclude", file)
    cfg.format_check = bool(table.get("format-check", True))
    cfg.cache = bool(table.get("cache", True))
    fmt = table.get("format")
    if fmt is None:
        cfg.format = detect_formatter(file.parent, tool)
    elif fmt in FORMATTERS:
        cfg.format = fmt
    else:
        raise ConfigError(
            f"[tool.nbops] format must be one of {', '.join(FORMATTERS)}, not {fmt!r}",
            path=file,
            hint='format = "ruff" (the default) or "black"',
        )
    fail_on = table.get("fail-on", "info")
    if fail_on not in _SEVERITIES:
        raise ConfigError(f"fail-on must be one of {', '.join(_SEVERITIES)}", path=file)
    cfg.fail_on = fail_on
    sev = table.get("severity", {})
    if not isinstance(sev, dict) or any(v not in _SEVERITIES for v in sev.values()):
        raise ConfigError("[tool.nbops.severity] maps codes to error/warning/info", path=file)
    cfg.severity = {str(k).upper(): str(v) for k, v in sev.items()}
    opts = table.get("options", {})
    if not isinstance(opts, dict):
        raise ConfigError("[tool.nbops.options] must be a table", path=file)
    cfg.options = dict(opts)
    pfi = table.get("per-file-ignores", {})
    if not isinstance(pfi, dict):
        raise ConfigError("[tool.nbops.per-file-ignores] must be a table", path=file)
    cfg.per_file_ignores = {k: _strings(v, f"per-file-ignores.{k}", file) for k, v in pfi.items()}
    submit = table.get("submit", {})
    if not isinstance(submit, dict):
        raise ConfigError("[tool.nbops.submit] must be a table", path=file)
    cfg.submit = dict(submit)
    cfg.run = _run_table(table.get("run", {}), file)
    cfg.promote = _promote_table(table.get("promote", {}), file)
    cfg.serve = _serve_table(table.get("serve", {}), file)
    health = table.get("health", {})
    if not isinstance(health, dict):
        raise ConfigError("[tool.nbops.health] must be a table", path=file,
                          hint="e.g. psi = {warn = 0.1, alert = 0.2}; see docs/configuration.md")
    cfg.health = dict(health)
    black_table = tool.get("black", {})
    if isinstance(black_table, dict):
        cfg.black = dict(black_table)
    return cfg


def _run_table(run: Any, file: Path) -> RunConfig:
    """``[tool.nbops.run]``'s executor keys (its other keys are read where they are used)."""
    if not isinstance(run, dict):
        raise ConfigError("[tool.nbops.run] must be a table", path=file)
    out = RunConfig()
    executor = run.get("executor", out.executor)
    if not isinstance(executor, str) or not executor:
        raise ConfigError("[tool.nbops.run] executor must be a name", path=file,
                          hint='executor = "local" (the default) or "dask"')
    scheduler = run.get("scheduler")
    if scheduler is not None and (not isinstance(scheduler, str) or not scheduler.strip()):
        raise ConfigError("[tool.nbops.run] scheduler must be an address", path=file,
                          hint='scheduler = "tcp://HOST:8786" (leave it out: a local cluster)')
    retries = run.get("retries", out.retries)
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ConfigError(f"[tool.nbops.run] retries must be 0 or more, not {retries!r}",
                          path=file, hint="retries = 1 (the default): one more try")
    return RunConfig(executor, scheduler.strip() if scheduler else None, retries)


_PROMOTE_KEYS = ("metric", "greater-is-better", "min-value", "min-absolute-change",
                 "min-relative-change")
_PROMOTE_HINT = 'e.g. metric = "accuracy", min-value = 0.85; see docs/configuration.md'


def _promote_table(promote: Any, file: Path) -> PromoteConfig:
    """``[tool.nbops.promote]``, checked as MLflow checks a ``MetricThreshold``."""
    where = "[tool.nbops.promote]"
    try:  # shown relative to the working directory, never as an absolute path
        file = Path(os.path.relpath(file))
    except ValueError:  # another drive (Windows)
        file = Path(file.name)
    if not isinstance(promote, dict):
        raise ConfigError(f"{where} must be a table", path=file, hint=_PROMOTE_HINT)
    unknown = sorted(set(promote) - set(_PROMOTE_KEYS))
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(unknown)}", path=file,
                          hint="known: " + ", ".join(_PROMOTE_KEYS))

    def number(key: str) -> float | None:
        value = promote.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value):
            raise ConfigError(f"{where} {key} must be a number, not {value!r}", path=file,
                              hint=_PROMOTE_HINT)
        return float(value)

    metric = promote.get("metric")
    if metric is not None and (not isinstance(metric, str) or not metric.strip()):
        raise ConfigError(f"{where} metric must be a metric's name, not {metric!r}", path=file,
                          hint=_PROMOTE_HINT)
    greater = promote.get("greater-is-better", True)
    if not isinstance(greater, bool):
        raise ConfigError(f"{where} greater-is-better must be true or false, not {greater!r}",
                          path=file, hint="greater-is-better = false for a loss or an error")
    minimum, absolute, relative = (number(k) for k in _PROMOTE_KEYS[2:])
    if absolute is not None and absolute <= 0:
        raise ConfigError(f"{where} min-absolute-change must be above 0, not {absolute!r}",
                          path=file, hint="min-absolute-change = 0.01 (leave it out: none)")
    if relative is not None and not 0 <= relative <= 1:
        raise ConfigError(f"{where} min-relative-change must be between 0 and 1, not "
                          f"{relative!r}", path=file, hint="min-relative-change = 0.01 (1%)")
    thresholds = (minimum, absolute, relative)
    if metric is None and (any(t is not None for t in thresholds) or "greater-is-better" in promote):
        raise ConfigError(f"{where} has thresholds but no metric", path=file, hint=_PROMOTE_HINT)
    if metric is not None and all(t is None for t in thresholds):
        raise ConfigError(f"{where} metric {metric!r} has no threshold", path=file,
                          hint="add min-value, min-absolute-change or min-relative-change")
    return PromoteConfig(metric.strip() if metric else None, greater, minimum, absolute, relative)


def _serve_table(serve: Any, file: Path) -> ServeConfig:
    """``[tool.nbops.serve]``: ``threshold`` and ``below``, checked as ``nbops.log_model``
    checks them."""
    where, hint = "[tool.nbops.serve]", 'e.g. threshold = 0.7, below = "abstain" (or "route")'
    try:  # shown relative to the working directory, never as an absolute path
        file = Path(os.path.relpath(file))
    except ValueError:
        file = Path(file.name)
    if not isinstance(serve, dict):
        raise ConfigError(f"{where} must be a table", path=file, hint=hint)
    unknown = sorted(set(serve) - {"threshold", "below"})
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(unknown)}", path=file,
                          hint="known: threshold, below")
    threshold, below = serve.get("threshold"), serve.get("below", "abstain")
    if threshold is None:
        if "below" in serve:
            raise ConfigError(f"{where} has below but no threshold", path=file, hint=hint)
        return ServeConfig()
    problem = acceptance_problem(threshold, below)
    if problem:
        raise ConfigError(f"{where} {problem}", path=file, hint=hint)
    return ServeConfig(float(threshold), below)


def _black_table(file: Path) -> dict[str, Any]:
    try:
        black = tomllib.loads(file.read_text(encoding="utf-8")).get("tool", {}).get("black", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return {}
    return dict(black) if isinstance(black, dict) else {}
