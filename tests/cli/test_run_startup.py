"""``nbops run`` starts without the other commands' modules: the same parser, less to import."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from nbops.cli.main import build_parser


def _run_help(parser: argparse.ArgumentParser, command: str) -> str:
    (sub,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return str(sub.choices[command].format_help())


def test_the_run_parser_alone_is_the_run_parser_of_the_whole_cli() -> None:
    alone, whole = build_parser("run"), build_parser()
    for command in ("run", "runs", "promote", "ui", "tracking-server"):
        assert _run_help(alone, command) == _run_help(whole, command)
    assert "lint" in _run_help(whole, "lint") and "run" in _run_help(whole, "run")


def test_nbops_run_does_not_import_lint_or_the_other_commands(tmp_path: Path) -> None:
    script = (
        "import json, sys\n"
        "from nbops.cli.main import main\n"
        "code = main(['run', 'missing.ipynb'])\n"
        "print(json.dumps([code, sorted(m for m in sys.modules if m.startswith("
        "('nbops.lint', 'nbops.cli.lint_commands', 'nbops.cli.review_commands')))]))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    code, loaded = json.loads(proc.stdout.strip().splitlines()[-1])
    assert code == 2 and "missing.ipynb" in proc.stderr  # parsed and refused as before
    assert loaded == []


def test_other_commands_still_parse_with_the_whole_cli(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "nbops", "lint", "--help"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0 and "usage: nbops lint" in proc.stdout


def test_the_recorder_helper_starts_before_the_run_modules_are_imported(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "toy"\n')
    (tmp_path / "toy.ipynb").write_text(
        '{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'
    )
    script = (
        "import json, os, sys\n"
        "from nbops.run import recorder\n"
        "def spy():\n"
        "    heavy = ('nbops.lint', 'nbops.run.params', 'nbops.run.runner', 'papermill', 'mlflow')\n"
        "    print(json.dumps(sorted(m for m in heavy if m in sys.modules)), flush=True)\n"
        "    os._exit(0)\n"
        "recorder.prestart = spy\n"
        "from nbops.cli.main import main\n"
        "main(['run', 'toy.ipynb'])\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0 and proc.stdout.strip(), proc.stderr
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []
