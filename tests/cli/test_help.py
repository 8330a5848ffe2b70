"""``nbops --help`` and every command's: help for each command and option, and its exit codes."""

from __future__ import annotations

import argparse
import ast
import inspect
import re
import textwrap
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import pytest

from nbops import errors
from nbops.cli import exits
from nbops.cli.main import build_parser


def _commands(
    parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[str, argparse.ArgumentParser, str | None]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield " ".join((*prefix, name)), sub, helps.get(name)
                yield from _commands(sub, (*prefix, name))


COMMANDS = {name: (parser, summary) for name, parser, summary in _commands(build_parser())}


def test_every_command_and_option_has_help() -> None:
    missing: list[str] = []
    for name, (parser, summary) in COMMANDS.items():
        if not summary:
            missing.append(f"{name}: no summary in `nbops --help`")
        if not parser.description:
            missing.append(f"{name}: no description")
        for action in parser._actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            if not action.help or action.help == argparse.SUPPRESS:
                flag = "/".join(action.option_strings) or action.metavar or action.dest
                missing.append(f"{name} {flag}: no help")
    assert not missing, "\n".join(missing)


def _listed(parser: argparse.ArgumentParser) -> set[int]:
    text = parser.format_help()
    assert "exit codes:" in text, parser.prog
    section = text.split("exit codes:", 1)[1]
    return {int(m[1]) for m in re.finditer(r"^  (\d+) ", section, re.M)}


def _int_returns(node: ast.AST | None) -> set[int]:
    if isinstance(node, ast.Constant) and type(node.value) is int:
        return {node.value}
    if isinstance(node, ast.IfExp):
        return _int_returns(node.body) | _int_returns(node.orelse)
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) \
            and node.value.id == "exits":
        return {getattr(exits, node.attr)}
    return set()


def _codes_in_source(handler: Callable[..., Any]) -> set[int]:
    """Exit codes a handler returns or raises, read off its module's source: ``return N``,
    ``raise SomeError(...)`` (through nbops.errors.exit_code), following the module's own
    functions it calls."""
    module: ModuleType | None = inspect.getmodule(handler)
    assert module is not None
    functions = {
        node.name: node
        for node in ast.walk(ast.parse(inspect.getsource(module)))
        if isinstance(node, ast.FunctionDef)
    }
    codes: set[int] = set()
    todo, seen = [handler.__name__], set()
    while todo:
        name = todo.pop()
        if name in seen or name not in functions:
            continue
        seen.add(name)
        for node in ast.walk(functions[name]):
            if isinstance(node, ast.Return):
                codes |= _int_returns(node.value)
            elif isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call) \
                    and isinstance(node.exc.func, ast.Name):
                cls = getattr(errors, node.exc.func.id, None)
                if isinstance(cls, type) and issubclass(cls, errors.NbopsError):
                    codes.add(errors.exit_code(cls("")))
            elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
                todo.append(node.func.id)
    return codes


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_help_lists_the_exit_codes_the_command_returns(name: str) -> None:
    parser, _ = COMMANDS[name]
    listed = _listed(parser)
    assert {2, 70, 130} <= listed  # usage errors, internal errors, Ctrl-C: main() for all
    handler = parser.get_default("handler")
    if handler is not None and handler.__name__ != "<lambda>":
        found = _codes_in_source(handler)
        assert found <= listed, f"nbops {name} returns {sorted(found - listed)} not in its help"


# commands that end with 3 when a tool fails or an optional package is missing
TOOL_FAILURES = {"lint", "run", "runs", "promote", "ui", "tracking-server", "verify", "submit",
                 "check", "hackathon score"}


def test_the_source_scan_finds_returns_and_raises() -> None:
    """The scan is what holds the help to the code: it sees through helpers and errors."""
    from nbops.cli import review_commands, run_commands

    assert {0, 1, 3, 130} <= _codes_in_source(run_commands.cmd_run)  # via _report
    assert {2, 4} <= _codes_in_source(review_commands.cmd_check)  # raise WriteError(...)


@pytest.mark.parametrize("name", sorted(TOOL_FAILURES))
def test_tool_failures_are_listed_as_3(name: str) -> None:
    assert exits.TOOL == 3 and 3 in _listed(COMMANDS[name][0])


def test_the_table_covers_every_error_s_exit_code() -> None:
    """The codes nbops.errors maps errors to are the ones the help explains."""
    classes = [c for c in vars(errors).values()
               if isinstance(c, type) and issubclass(c, errors.NbopsError)]
    assert {errors.exit_code(c("")) for c in classes} <= set(exits.MEANINGS)
    assert errors.exit_code(RuntimeError()) == exits.INTERNAL


def test_exit_code_rows_stay_one_per_line() -> None:
    text = COMMANDS["lint"][0].format_help()
    rows = text.split("exit codes:", 1)[1].strip("\n").split("\n")
    assert rows[0].startswith("  0 ")
    assert all(re.match(r"  \d+ +\S|       +\S", row) for row in rows), rows
    assert textwrap.dedent("usage error") not in rows[0]
