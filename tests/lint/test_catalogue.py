"""The rule catalogue as a whole: unique codes, complete docs, and examples that behave."""

from __future__ import annotations

import textwrap

import pytest

from nbops.core.notebook import notebook_from_bytes
from nbops.core.snippets import notebook_from_snippet
from nbops.errors import NotebookReadError
from nbops.lint.registry import FAMILIES, Selection, all_rules, get_rule
from nbops.lint.rule import Rule
from helpers import lint_snippet

RULES = all_rules()


def test_catalogue_size_and_families() -> None:
    assert len(RULES) >= 25
    families = {r.code[:3] for r in RULES}
    assert families == set(FAMILIES)
    for family in ("NB1", "NB2", "NB3", "NB4", "NB5"):
        assert sum(r.code.startswith(family) for r in RULES) >= 5, family


def test_codes_and_names_are_unique_and_well_formed() -> None:
    codes = [r.code for r in RULES]
    names = [r.name for r in RULES]
    assert len(set(codes)) == len(codes) and len(set(names)) == len(names)
    for r in RULES:
        assert r.code[:2] == "NB" and r.code[2:].isdigit() and len(r.code) == 5
        assert r.name == r.name.lower() and " " not in r.name
        assert len(" ".join(r.explanation.split())) > 150, f"{r.code}: explanation too thin"


@pytest.mark.parametrize("rule", [r for r in RULES if not r.engine_reported], ids=lambda r: r.code)
def test_bad_example_triggers_and_good_example_does_not(rule: type[Rule]) -> None:
    bad = lint_snippet(rule.bad_example, select=(rule.code,), path=rule.example_path)
    assert rule.code in {d.code for d in bad}, f"{rule.code}: bad example not reported"
    good = lint_snippet(rule.good_example, select=(rule.code,), path=rule.good_example_path)
    assert rule.code not in {d.code for d in good}, f"{rule.code}: good example reported"


def test_unreadable_example_really_is_unreadable() -> None:
    example = textwrap.dedent(get_rule("NB001").bad_example).strip()
    with pytest.raises(NotebookReadError):
        notebook_from_bytes(example.encode())


def test_tool_error_example_is_reported_by_the_engine() -> None:
    from nbops.config import Config
    from nbops.lint.engine import Linter

    rule = get_rule("NB005")
    nb = notebook_from_snippet(rule.bad_example)
    diags = Linter(Config(), select=["NB005", "F"], format_check=False, cache=False).lint_notebook(nb)
    assert "NB005" in {d.code for d in diags}
    good = notebook_from_snippet(rule.good_example)
    diags = Linter(Config(), select=["NB005", "F"], format_check=False, cache=False).lint_notebook(good)
    assert "NB005" not in {d.code for d in diags}


@pytest.mark.parametrize(
    ("select", "ignore", "code", "enabled"),
    [
        (["NB2"], [], "NB203", True),
        (["NB2"], [], "NB301", False),
        (["NB"], ["NB20"], "NB203", False),
        (["NB"], ["NB20"], "NB210", True),
        (["NB203"], ["NB2"], "NB203", True),  # the longer prefix wins
        (["ALL"], ["F401"], "F401", False),
        (["ALL"], [], "E501", True),
        (["NB"], [], "F401", False),
        (["NB2"], [], "NB001", True),  # input problems are always on
        (["NB2"], ["NB001"], "NB001", False),
    ],
)
def test_selection_prefixes(select: list[str], ignore: list[str], code: str, enabled: bool) -> None:
    assert Selection.build(select=select, ignore=ignore).enabled(code) is enabled
