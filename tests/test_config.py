"""``[tool.nbops]`` format: the formatter of FMT001, set explicitly or detected from the project."""

from __future__ import annotations

from pathlib import Path

import pytest

from nbops.config import detect_formatter, load_config
from nbops.errors import ConfigError


def _project(tmp_path: Path, pyproject: str | None, precommit: str | None = None) -> Path:
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / ".git").mkdir()
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject, encoding="utf-8")
    if precommit is not None:
        (tmp_path / ".pre-commit-config.yaml").write_text(precommit, encoding="utf-8")
    (tmp_path / "nb").mkdir()
    return tmp_path / "nb"


def test_ruff_is_the_default(tmp_path: Path) -> None:
    assert load_config(_project(tmp_path, "[tool.nbops]\n")).format == "ruff"
    assert load_config(_project(tmp_path / "bare", None)).format == "ruff"


def test_tool_black_in_pyproject_means_black(tmp_path: Path) -> None:
    cfg = load_config(_project(tmp_path, "[tool.nbops]\n\n[tool.black]\nline-length = 100\n"))
    assert cfg.format == "black"
    assert cfg.black == {"line-length": 100}


def test_tool_black_without_a_nbops_table_means_black(tmp_path: Path) -> None:
    cfg = load_config(_project(tmp_path, "[tool.black]\nline-length = 70\n"))
    assert (cfg.format, cfg.black) == ("black", {"line-length": 70})


@pytest.mark.parametrize(
    "hooks",
    [
        "repos:\n  - repo: https://github.com/psf/black\n    rev: 24.1.0\n    hooks:\n      - id: black\n",
        (
            "repos:\n  - repo: https://github.com/psf/black-pre-commit-mirror\n    rev: 24.1.0\n"
            "    hooks:\n      - id: black-jupyter\n"
        ),
        "repos:\n- repo: local\n  hooks:\n  - id: black\n    entry: black\n    language: system\n",
    ],
)
def test_black_in_the_pre_commit_config_means_black(tmp_path: Path, hooks: str) -> None:
    assert load_config(_project(tmp_path, "[tool.nbops]\n", hooks)).format == "black"


def test_other_hooks_do_not_mean_black(tmp_path: Path) -> None:
    hooks = (
        "repos:\n  - repo: https://github.com/astral-sh/ruff-pre-commit\n    hooks:\n"
        "      - id: ruff-format\n  - repo: https://github.com/nbQA-dev/nbQA\n"
        "    hooks:\n      - id: nbqa-blacken-docs\n"
    )
    assert load_config(_project(tmp_path, "[tool.nbops]\n", hooks)).format == "ruff"
    assert detect_formatter(tmp_path) == "ruff"


def test_explicit_setting_wins(tmp_path: Path) -> None:
    start = _project(tmp_path, '[tool.nbops]\nformat = "ruff"\n\n[tool.black]\n')
    assert load_config(start).format == "ruff"
    (tmp_path / "pyproject.toml").write_text('[tool.nbops]\nformat = "black"\n', encoding="utf-8")
    assert load_config(start).format == "black"


def test_format_check_false_still_turns_the_check_off(tmp_path: Path) -> None:
    cfg = load_config(_project(tmp_path, '[tool.nbops]\nformat-check = false\nformat = "black"\n'))
    assert (cfg.format_check, cfg.format) == (False, "black")


def test_an_unknown_formatter_is_a_clear_error(tmp_path: Path) -> None:
    start = _project(tmp_path, '[tool.nbops]\nformat = "yapf"\n')
    with pytest.raises(ConfigError) as info:
        load_config(start)
    assert "format must be one of ruff, black" in info.value.message
    assert "'yapf'" in info.value.message
