"""The JupyterLab extension's TypeScript types of the modularize plan (labextension/src/tokens.ts)
follow docs/rest-api.yaml: the same fields, optional exactly where the schema does not require
them, nullable exactly where it allows null, and the same primitive types. The extension has
no TypeScript test runner; this reads the source."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ROOT / "labextension" / "src" / "tokens.ts"

_INTERFACE = re.compile(r"^export interface (\w+) \{\n(.*?)^\}", re.MULTILINE | re.DOTALL)
_FIELD = re.compile(r"^  (\w+)(\??): (.+);$", re.MULTILINE)
_PRIMITIVES = {"string": "string", "integer": "number", "number": "number", "boolean": "boolean"}


def interfaces() -> dict[str, dict[str, tuple[bool, str]]]:
    """Each exported interface of tokens.ts: field -> (optional, TS type)."""
    text = TOKENS.read_text(encoding="utf-8")
    return {
        name: {f: (opt == "?", kind.strip()) for f, opt, kind in _FIELD.findall(body)}
        for name, body in _INTERFACE.findall(text)
    }


def _plan_schemas(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    plan = spec["components"]["schemas"]["ModularizePlan"]
    props = plan["properties"]
    return {
        "IModularizePlan": plan,
        "IModularizeStep": props["steps"]["items"],
        "IModularizeParameter": props["parameters"]["items"],
        "IModularizeFunction": props["functions"]["items"],
        "IGlobalToParameter": props["globals_to_parameters"]["items"],
        "IModularizeFile": props["files"]["items"],
        "IModularizeProblem": props["problems"]["items"],
    }


def _ts_type(schema: dict[str, Any]) -> tuple[str | None, bool]:
    """The TS type a primitive (or array of primitives) schema gives, and whether it is
    nullable; None for what tokens.ts names by an alias (enums, objects)."""
    types = schema.get("type")
    if types is None:  # a $ref
        return None, False
    listed = types if isinstance(types, list) else [types]
    nullable = "null" in listed
    (kind,) = [t for t in listed if t != "null"]
    if kind == "array":
        item, _ = _ts_type(schema["items"])
        return (f"{item}[]" if item else None), nullable
    if "enum" in schema:
        return None, nullable
    return _PRIMITIVES.get(kind), nullable


@pytest.mark.parametrize(
    "interface",
    [
        "IModularizePlan",
        "IModularizeStep",
        "IModularizeParameter",
        "IModularizeFunction",
        "IGlobalToParameter",
        "IModularizeFile",
        "IModularizeProblem",
    ],
)
def test_plan_types_follow_the_schema(spec: dict[str, Any], interface: str) -> None:
    schema = _plan_schemas(spec)[interface]
    fields = interfaces()[interface]
    assert set(fields) == set(schema["properties"]), interface
    required = set(schema.get("required", []))
    for name, (optional, kind) in fields.items():
        assert optional == (name not in required), (interface, name)
        expected, nullable = _ts_type(schema["properties"][name])
        assert kind.endswith("| null") == nullable, (interface, name, kind)
        if expected is not None:
            assert kind.removesuffix(" | null") == expected, (interface, name, kind)


def test_the_reader_sees_the_fields() -> None:
    """The reader itself: a field it does not see would make the test above pass vacuously."""
    step = interfaces()["IModularizeStep"]
    assert step["cells"] == (False, "number[]") and step["returns"] == (False, "string | null")
    assert len(step) >= 12
