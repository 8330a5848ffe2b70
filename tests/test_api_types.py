"""src/nbops/api_types.py, the Python types of the REST API, is generated from docs/rest-api.yaml
by scripts/gen_api_types.py: the committed module must be what the current schema generates
(a schema change without regeneration, or a hand edit, fails), and the generator must turn each
schema feature the file uses into the right type."""

from __future__ import annotations

import difflib
import importlib.util
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any, get_args

import pytest
import yaml

from nbops import api_types

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "docs" / "rest-api.yaml"
MODULE = ROOT / "src" / "nbops" / "api_types.py"


@pytest.fixture(scope="module")
def gen() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_api_types", ROOT / "scripts" / "gen_api_types.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _render(gen: ModuleType, schemas: str) -> str:
    text = "openapi: 3.1.0\ncomponents:\n  schemas:\n" + textwrap.indent(textwrap.dedent(schemas), "    ")
    return str(gen.render(text))


def test_the_committed_module_is_what_the_schema_generates(gen: ModuleType) -> None:
    fresh = gen.render(SCHEMA.read_text(encoding="utf-8"))
    committed = MODULE.read_text(encoding="utf-8")
    if committed != fresh:
        diff = difflib.unified_diff(
            committed.splitlines(), fresh.splitlines(),
            "src/nbops/api_types.py (committed)", "generated from docs/rest-api.yaml",
            lineterm="", n=1,
        )  # fmt: skip
        shown = "\n".join(list(diff)[:60])
        pytest.fail(
            "src/nbops/api_types.py is not what docs/rest-api.yaml generates: run "
            f"`python scripts/gen_api_types.py` and commit the file.\n{shown}"
        )


def test_a_schema_change_without_regeneration_is_caught(gen: ModuleType) -> None:
    """The comparison above sees a changed field: a new required property of Version."""
    spec = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    spec["components"]["schemas"]["Version"]["properties"]["build"] = {"type": "string"}
    spec["components"]["schemas"]["Version"]["required"].append("build")
    changed = gen.render(yaml.safe_dump(spec, sort_keys=False))
    assert changed != MODULE.read_text(encoding="utf-8")
    assert "class Version(TypedDict):" in changed
    assert "    build: str\n" in changed.split("class Version(TypedDict):")[1]


def test_every_schema_is_a_name_of_the_module() -> None:
    spec = yaml.safe_load(SCHEMA.read_text(encoding="utf-8"))
    for name in spec["components"]["schemas"]:
        assert name in api_types.__all__, name
        assert hasattr(api_types, name), name
    # the state vocabulary, the answers' keys and what is optional, as the schema says
    assert get_args(api_types.JobState) == ("queued", "running", "finished", "failed", "cancelled")
    assert api_types.Job.__required_keys__ == set(spec["components"]["schemas"]["Job"]["required"])
    assert "pass" in api_types.GateReportSummary.__required_keys__  # a keyword as a key


def test_the_features_become_types(gen: ModuleType) -> None:
    text = _render(gen, """
        State:
          type: string
          enum: [low, "off"]
        Thing:
          type: object
          description: A thing.
          required: [name, state, size]
          properties:
            name: { type: string, description: its name }
            state: { $ref: "#/components/schemas/State" }
            size: { type: [integer, "null"] }
            ratio: { type: number }
            tags: { type: array, items: { type: string } }
            extra: { type: object, additionalProperties: { type: [number, "null"] } }
            free: { type: object }
            any: { description: any JSON value }
            either:
              oneOf:
                - { $ref: "#/components/schemas/State" }
                - { type: "null" }
            inner:
              type: array
              items:
                type: object
                required: [x]
                properties:
                  x: { type: boolean }
    """)
    assert 'State: TypeAlias = Literal["low", "off"]' in text
    thing = text.split("class Thing(TypedDict):")[1]
    for line in (
        '"""A thing."""',
        "# its name\n    name: str",
        "state: State",
        "size: int | None",
        "ratio: NotRequired[float]",
        "tags: NotRequired[list[str]]",
        "extra: NotRequired[dict[str, float | None]]",
        "free: NotRequired[dict[str, Any]]",
        "any: NotRequired[Any]",
        "either: NotRequired[State | None]",
        "inner: NotRequired[list[ThingInnerItem]]",
    ):
        assert line in thing, line
    # a nested object gets a name, defined before its user; State before Thing too
    assert text.index("class ThingInnerItem(TypedDict):") < text.index("class Thing(TypedDict):")
    assert text.index("State: TypeAlias") < text.index("class Thing(TypedDict):")
    assert "# 2 schemas; not expressible here (typed Any): 0\n" in text
    _compiles(text)


def test_a_key_that_is_no_identifier_uses_the_functional_syntax(gen: ModuleType) -> None:
    text = _render(gen, """
        Counts:
          type: object
          required: [pass]
          properties:
            pass: { type: integer }
            not-a-name: { type: string }
    """)
    assert 'Counts = TypedDict(\n    "Counts",\n    {\n        "pass": "int",\n' in text
    assert '"not-a-name": "NotRequired[str]",' in text
    _compiles(text)  # the quoted types are for type checkers: NotRequired is not imported


def test_what_cannot_be_expressed_is_any_with_a_comment_and_counted(gen: ModuleType) -> None:
    text = _render(gen, """
        Mixed:
          type: object
          properties:
            a: { type: string }
          additionalProperties: { type: integer }
        Combined:
          type: object
          required: [b]
          properties:
            b:
              allOf:
                - { type: string }
    """)
    assert "# 2 schemas; not expressible here (typed Any): 2\n" in text
    assert "#   Mixed: properties and additional properties together\n" in text
    assert "#   Combined.b: `allOf`\n" in text
    assert "# Mixed: properties and additional properties together, not expressible here\n" in text
    assert "Mixed: TypeAlias = Any\n" in text
    assert "    b: Any\n" in text
    _compiles(text)


def test_a_missing_reference_is_a_clear_error(gen: ModuleType) -> None:
    with pytest.raises(SystemExit, match=r"Thing\.other refers to a missing schema Other"):
        _render(gen, """
            Thing:
              type: object
              properties:
                other: { $ref: "#/components/schemas/Other" }
        """)


def _compiles(text: str) -> Any:
    """The generated text imports and runs (the TypedDicts are built at import)."""
    module = ModuleType("generated_api_types")
    exec(compile(text, "generated_api_types.py", "exec"), module.__dict__)  # noqa: S102
    sys.modules.pop("generated_api_types", None)
    return module


def _answers() -> list[tuple[Any, str]]:
    """The functions whose result is an answer of the REST API (what the handlers reply, or
    the part of it a lower layer builds), with the schema of each."""
    from nbops.hackathon.score import score_folder
    from nbops.lint.diagnostic import Diagnostic, Edit, Fix
    from nbops.lint.fix import AppliedFix
    from nbops.lint.report import summary
    from nbops.lint.rule import Rule
    from nbops.modularize.api import plan_to_dict
    from nbops.review.checks import GateReport
    from nbops.review.gate import CheckResult
    from nbops.review.policy import Policy
    from nbops.review.submit import SubmitResult
    from nbops.run.params import _spec_json
    from nbops.run.tracking import RunRecord, mlflow_status
    from nbops.server.hackathon import ScoreJob, Scoring
    from nbops.server.handlers import public_history
    from nbops.server.pool import WorkerPool
    from nbops.server.runs import RunJob, Runs, tracking_status

    return [
        (Diagnostic.to_json, "Diagnostic"), (Edit.to_json, "Edit"), (Fix.to_json, "Fix"),
        (AppliedFix.to_json, "AppliedFix"), (summary, "Summary"), (Rule.describe, "Rule"),
        (WorkerPool.lint, "LintResult"), (WorkerPool.fix, "FixResult"),
        (WorkerPool.modularize, "ModularizePlan"), (plan_to_dict, "ModularizePlan"),
        (_spec_json, "Parameter"), (Runs.parameters, "Parameters"),
        (mlflow_status, "TrackingStatus"), (tracking_status, "TrackingStatus"),
        (RunJob.to_json, "Job"), (Runs.start, "Job"), (Runs.job, "Job"), (Runs.cancel, "Job"),
        (RunRecord.to_json, "RunRecord"), (Runs.history, "RunHistory"),
        (public_history, "RunHistory"), (CheckResult.to_json, "CheckResult"),
        (Policy.to_json, "Policy"), (GateReport.to_json, "GateReport"),
        (SubmitResult.to_json, "SubmitResult"), (score_folder, "Scorecard"),
        (ScoreJob.to_json, "HackathonJob"), (Scoring.start, "HackathonJob"),
        (Scoring.job, "HackathonJob"), (Scoring.cancel, "HackathonJob"),
        (Scoring.info, "HackathonInfo"),
    ]  # fmt: skip


def test_the_answers_are_typed_with_the_schema() -> None:
    """Each returns its schema's TypedDict (so mypy --strict checks the dicts built by hand
    against the schema), not ``dict[str, Any]``."""
    import typing

    wrong = []
    for function, schema in _answers():
        hint = typing.get_type_hints(function).get("return")
        if hint is not getattr(api_types, schema):
            wrong.append(f"{function.__qualname__} -> {hint} (want api_types.{schema})")
    assert not wrong, "\n".join(wrong)


def test_a_description_cut_at_a_comma_is_refused(gen: ModuleType) -> None:
    """YAML reads ``{ description: a, b }`` as a description "a" and a key "b": the schema's
    text would be cut silently (docs/rest-api.yaml had 12 such descriptions)."""
    with pytest.raises(SystemExit, match=r"Thing\.path has a key 'root-relative' without a value"):
        _render(gen, """
            Thing:
              type: object
              properties:
                path: { type: string, description: the notebook, root-relative }
        """)
    quoted = _render(gen, """
        Thing:
          type: object
          properties:
            path: { type: string, description: "the notebook, root-relative" }
    """)
    assert "    # the notebook, root-relative\n    path: NotRequired[str]\n" in quoted
