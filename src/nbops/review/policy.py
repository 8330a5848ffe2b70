"""The review policy: ``[tool.nbops.submit]`` read, validated and given its defaults.

::

    [tool.nbops.submit]
    sections = ["Data", "Parameters", "Evaluation|Metrics", "Limitations", "Owner"]
    fail-on = "warning"            # lint findings at or above this severity fail the gate
    summary-min-words = 20         # prose under the title saying what the notebook is for
    strip-outputs = true           # the submitted copy has no outputs
    max-output-bytes = 1000000     # with strip-outputs = false: the outputs' size limit
    base = "main"                  # the branch the pull request targets
    remote = "origin"
    reviewers = []
    forge = ""                     # "github" | "gitlab" (default: detected from the remote)
    api-url = ""                   # self-hosted forges
    token-env = ""                 # NAME of the variable holding the token (never the token)
    model = ""                     # registered MLflow model: the report compares with its champion

    [tool.nbops.submit.checks]     # per check: "required" | "optional" | "off"
    library = "required"
    tracked-run = "optional"
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbops import api_types
from nbops.config import Config
from nbops.errors import ConfigError
from nbops.review.gate import Level
from nbops.review.gate_checks import CHECK_IDS, DEFAULT_LEVELS

# CHECK_IDS, DEFAULT_LEVELS: every check of the gate and its default level, in checklist
# order, read off the registry (re-exported here)
__all__ = ["CHECK_IDS", "DEFAULT_LEVELS", "Level", "Policy", "load_policy"]

_LEVELS = ("required", "optional", "off")
_SEVERITIES: tuple[api_types.Severity, ...] = ("error", "warning", "info")

_KEYS = {
    "sections", "fail-on", "summary-min-words", "strip-outputs", "max-output-bytes", "base",
    "remote", "reviewers", "forge", "api-url", "token-env", "checks", "model",
}


@dataclass(frozen=True)
class Policy:
    """What the gate requires and how a submission is made."""

    levels: dict[str, Level] = field(default_factory=lambda: dict(DEFAULT_LEVELS))
    sections: tuple[str, ...] = ("Data", "Parameters", "Evaluation|Metrics", "Limitations", "Owner")
    fail_on: api_types.Severity = "warning"
    summary_min_words: int = 20
    strip_outputs: bool = True
    max_output_bytes: int = 1_000_000
    base: str = "main"
    remote: str = "origin"
    reviewers: tuple[str, ...] = ()
    forge: str | None = None
    api_url: str | None = None
    token_env: str | None = None
    model: str | None = None

    def level(self, check: str) -> Level:
        return self.levels.get(check, "off")

    def to_json(self) -> api_types.Policy:
        return {
            "checks": dict(self.levels),
            "sections": list(self.sections),
            "fail_on": self.fail_on,
            "summary_min_words": self.summary_min_words,
            "strip_outputs": self.strip_outputs,
            "max_output_bytes": self.max_output_bytes,
            "base": self.base,
            "remote": self.remote,
            "reviewers": list(self.reviewers),
            "forge": self.forge,
            "model": self.model,
        }


def _strings(value: object, key: str, where: Path | None) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(f"[tool.nbops.submit] {key} must be a list of non-empty strings", path=where)
    return tuple(v.strip() for v in value)


def _text(table: dict[str, Any], key: str, where: Path | None) -> str | None:
    value = table.get(key)
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise ConfigError(f"[tool.nbops.submit] {key} must be a string", path=where)
    return value.strip()


def load_policy(config: Config | None = None, overrides: dict[str, Level] | None = None) -> Policy:
    """The policy of ``config``'s project (defaults when it has no ``[tool.nbops.submit]``);
    ``overrides`` set check levels on top (the CLI's ``--require`` / ``--skip``)."""
    table = dict(config.submit) if config is not None else {}
    where = (config.root / "pyproject.toml") if config is not None and config.root else None
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise ConfigError(
            f"unknown key(s) in [tool.nbops.submit]: {', '.join(unknown)}",
            path=where,
            hint=f"known keys: {', '.join(sorted(_KEYS))} (see docs/review.md)",
        )
    levels: dict[str, Level] = dict(DEFAULT_LEVELS)
    checks = table.get("checks", {})
    if not isinstance(checks, dict):
        raise ConfigError("[tool.nbops.submit.checks] must be a table", path=where)
    for name, level in {**checks, **(overrides or {})}.items():
        if name not in DEFAULT_LEVELS:
            raise ConfigError(
                f"unknown check {name!r} in [tool.nbops.submit.checks]",
                path=where,
                hint=f"checks: {', '.join(CHECK_IDS)}",
            )
        if level not in _LEVELS:
            raise ConfigError(
                f"check {name!r} must be one of {', '.join(_LEVELS)}, not {level!r}", path=where
            )
        levels[name] = level
    fail_on = table.get("fail-on", "warning")
    if fail_on not in _SEVERITIES:
        raise ConfigError(f"[tool.nbops.submit] fail-on must be one of {', '.join(_SEVERITIES)}", path=where)
    words = table.get("summary-min-words", 20)
    size = table.get("max-output-bytes", 1_000_000)
    for key, number in (("summary-min-words", words), ("max-output-bytes", size)):
        if not isinstance(number, int) or isinstance(number, bool) or number < 0:
            raise ConfigError(f"[tool.nbops.submit] {key} must be a whole number >= 0", path=where)
    strip = table.get("strip-outputs", True)
    if not isinstance(strip, bool):
        raise ConfigError("[tool.nbops.submit] strip-outputs must be true or false", path=where)
    return Policy(
        levels=levels,
        sections=_strings(table["sections"], "sections", where) if "sections" in table else Policy.sections,
        fail_on=next(s for s in _SEVERITIES if s == fail_on),  # checked above
        summary_min_words=int(words),
        strip_outputs=strip,
        max_output_bytes=int(size),
        base=_text(table, "base", where) or "main",
        remote=_text(table, "remote", where) or "origin",
        reviewers=_strings(table.get("reviewers", []), "reviewers", where) if table.get("reviewers") else (),
        forge=_text(table, "forge", where),
        api_url=_text(table, "api-url", where),
        token_env=_text(table, "token-env", where),
        model=_text(table, "model", where),
    )
