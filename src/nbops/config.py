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
"""

from __future__ import annotations

import fnmatch
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

__all__ = ["FORMATTERS", "Config", "detect_formatter", "find_pyproject", "load_config", "project_root"]

_SEVERITIES = ("error", "warning", "info")
FORMATTERS = ("ruff", "black")
# black in a pre-commit config: its repository or its hook ids (black, black-jupyter)
_PRECOMMIT_BLACK = re.compile(
    r"^\s*-?\s*(?:repo:\s*\S*psf/black|id:\s*black(?:-jupyter)?\s*$)", re.MULTILINE
)


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
            k: v for k, v in self.__dict__.items() if k not in ("root", "cache", "exclude", "submit")
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
    black_table = tool.get("black", {})
    if isinstance(black_table, dict):
        cfg.black = dict(black_table)
    return cfg


def _black_table(file: Path) -> dict[str, Any]:
    try:
        black = tomllib.loads(file.read_text(encoding="utf-8")).get("tool", {}).get("black", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return {}
    return dict(black) if isinstance(black, dict) else {}
