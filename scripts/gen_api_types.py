"""Generate src/nbops/api_types.py, the Python types of the REST API, from docs/rest-api.yaml.

    python scripts/gen_api_types.py          # writes src/nbops/api_types.py (commit it)
    python scripts/gen_api_types.py OUT      # writes OUT instead (OUT "-": standard output)

Every schema of ``components/schemas`` becomes a name in the module: an object a ``TypedDict``
(optional properties ``NotRequired``; the functional syntax when a key is no identifier, such as
``pass``), anything else a type alias. Supported: ``type`` (one or a list, ``"null"`` giving
``| None``), ``enum`` -> ``Literal``, arrays, ``$ref``, ``additionalProperties`` maps ->
``dict[str, X]``, ``oneOf``/``anyOf`` -> unions; an object nested in a property gets a name of
its own (``<Schema><Property>``, ``...Item`` for an array's items). A schema without a type is
any JSON value (``Any``). What this cannot express (an object with both properties and
additional ones, ``allOf``, ``not``...) becomes ``Any`` with a comment, counted in the header.

Written by hand rather than with datamodel-code-generator: that is a heavy dependency (pydantic,
black, isort, jinja2, genson...) for ~45 schemas that use a handful of features, and its output
(pydantic models or TypedDicts in its own style) would need post-processing to match the
project's typing of answers anyway. ``tests/test_api_types.py`` fails when the committed module
is not what this script writes from the current schema.
"""

from __future__ import annotations

import argparse
import keyword
import sys
import textwrap
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
SCHEMA = ROOT / "docs" / "rest-api.yaml"
OUTPUT = ROOT / "src" / "nbops" / "api_types.py"
PREFIX = "#/components/schemas/"
SCALARS = {"string": "str", "integer": "int", "number": "float", "boolean": "bool"}
UNSUPPORTED = ("allOf", "not", "if", "patternProperties", "prefixItems")


class Generator:
    """Turns the schemas into definitions, each after those it needs at runtime."""

    def __init__(self, schemas: dict[str, Any]) -> None:
        self.schemas = schemas
        self.blocks: list[str] = []  # the definitions, in the order they are written
        self.done: set[str] = set()
        self.visiting: set[str] = set()
        self.unsupported: list[str] = []

    def run(self) -> None:
        for name in self.schemas:
            self.define(name, self.schemas[name])

    # -- one named definition -------------------------------------------------------------
    def define(self, name: str, schema: dict[str, Any]) -> None:
        if name in self.done:
            return
        if name in self.visiting:
            raise SystemExit(f"docs/rest-api.yaml: schema {name} refers to itself; not supported")
        self.visiting.add(name)
        _no_empty_keys(schema, name)
        if _is_object(schema) and schema.get("properties"):
            block = self.typed_dict(name, schema)
        else:
            block = self.alias(name, schema)
        self.visiting.discard(name)
        self.done.add(name)
        self.blocks.append(block)

    def alias(self, name: str, schema: dict[str, Any]) -> str:
        text = self.type_of(schema, name, where=name)
        note = _wrap(_short(schema.get("description", "")), "# ")
        return "".join(f"{line}\n" for line in note) + f"{name}: TypeAlias = {text}\n"

    def typed_dict(self, name: str, schema: dict[str, Any]) -> str:
        where = name
        if schema.get("additionalProperties") not in (None, False):
            return self.cannot(name, schema, "properties and additional properties together")
        required = set(schema.get("required", []))
        fields: list[tuple[str, str, str]] = []  # (key, type, comment)
        for key, prop in schema["properties"].items():
            nested = _title(name, key)
            text = self.type_of(prop, nested, where=f"{where}.{key}")
            if key not in required:
                text = f"NotRequired[{text}]"
            fields.append((key, text, _short(prop.get("description", ""))))
        doc = _short(schema.get("description", "")) or f"The schema ``{name}``."
        if all(key.isidentifier() and not keyword.iskeyword(key) for key, _, _ in fields):
            lines = [f"class {name}(TypedDict):", *_docstring(doc), ""]
            for key, text, note in fields:
                lines += _wrap(note, "    # ") + [f"    {key}: {text}"]
            return "\n".join(lines) + "\n"
        # a key that is no identifier: the functional syntax, types quoted (evaluated lazily)
        lines = [*_wrap(doc, "# "), f"{name} = TypedDict(", f'    "{name}",', "    {"]
        for key, text, note in fields:
            lines += _wrap(note, "        # ") + [f'        "{key}": "{text}",']
        lines += ["    },", ")"]
        return "\n".join(lines) + "\n"

    # -- a type expression ----------------------------------------------------------------
    def type_of(self, schema: dict[str, Any], nested: str, *, where: str) -> str:
        if not isinstance(schema, dict):
            return self.cannot_inline(where, "not a schema object")
        _no_empty_keys(schema, where)
        if "$ref" in schema:
            ref = schema["$ref"]
            if not isinstance(ref, str) or not ref.startswith(PREFIX):
                return self.cannot_inline(where, f"$ref {ref!r} outside components/schemas")
            target = ref[len(PREFIX) :]
            if target not in self.schemas:
                raise SystemExit(f"docs/rest-api.yaml: {where} refers to a missing schema {target}")
            self.define(target, self.schemas[target])
            return target
        for word in UNSUPPORTED:
            if word in schema:
                return self.cannot_inline(where, f"`{word}`")
        for word in ("oneOf", "anyOf"):
            if word in schema:
                parts = [self.type_of(s, f"{nested}Option{i}", where=f"{where}.{word}[{i}]")
                         for i, s in enumerate(schema[word])]  # fmt: skip
                return _union(parts)
        types = schema.get("type")
        if types is None:
            return "Any"  # any JSON value
        types = [types] if isinstance(types, str) else list(types)
        nullable = "null" in types
        parts = [self.one_type(t, schema, nested, where=where) for t in types if t != "null"]
        return _union(parts + (["None"] if nullable else []))

    def one_type(self, kind: str, schema: dict[str, Any], nested: str, *, where: str) -> str:
        if "enum" in schema and kind in ("string", "integer"):
            values = [_literal(v) for v in schema["enum"] if v is not None]
            text = f"Literal[{', '.join(values)}]"
            if len(text) <= 60 or nested in self.schemas:
                return text
            # a long enumeration gets a name of its own, one value a line
            body = "".join(f"    {v},\n" for v in values)
            self.blocks.append(f"{nested}: TypeAlias = Literal[\n{body}]\n")
            self.done.add(nested)
            return nested
        if kind in SCALARS:
            return SCALARS[kind]
        if kind == "array":
            items = schema.get("items")
            if items is None:
                return "list[Any]"
            return f"list[{self.type_of(items, nested + 'Item', where=f'{where}[]')}]"
        if kind == "object":
            if schema.get("properties"):
                if nested in self.schemas or nested in self.done:
                    raise SystemExit(
                        f"docs/rest-api.yaml: {where} would be named {nested}, "
                        "which is taken: name the schema in components/schemas"
                    )
                self.define(nested, schema)
                return nested
            extra = schema.get("additionalProperties", True)
            if extra is True or extra == {}:
                return "dict[str, Any]"
            if extra is False:
                return "dict[str, Any]"  # no properties at all: an empty object
            return f"dict[str, {self.type_of(extra, nested + 'Value', where=f'{where}{{}}')}]"
        return self.cannot_inline(where, f"type {kind!r}")

    def cannot_inline(self, where: str, why: str) -> str:
        self.unsupported.append(f"{where}: {why}")
        return "Any"

    def cannot(self, name: str, schema: dict[str, Any], why: str) -> str:
        self.unsupported.append(f"{name}: {why}")
        return f"# {name}: {why}, not expressible here\n{name}: TypeAlias = Any\n"


def _no_empty_keys(schema: dict[str, Any], where: str) -> None:
    """A key without a value is YAML's reading of an unquoted text with a comma in a flow
    mapping (``{ description: a, b }``: the text stops at "a"): refuse it, say what to do."""
    for key, value in schema.items():
        if value is None:
            raise SystemExit(
                f"docs/rest-api.yaml: {where} has a key {key!r} without a value: a text with a "
                "comma inside { ... } was cut there; put the text in double quotes"
            )


def _is_object(schema: dict[str, Any]) -> bool:
    types = schema.get("type")
    return types == "object" or (isinstance(types, list) and types == ["object"])


def _title(parent: str, key: str) -> str:
    return parent + "".join(part[:1].upper() + part[1:] for part in key.split("_"))


def _union(parts: list[str]) -> str:
    unique = list(dict.fromkeys(parts))
    return " | ".join(unique) if unique else "Any"


def _literal(value: object) -> str:
    return repr(value).replace("'", '"')


def _short(text: str) -> str:
    return " ".join(str(text).split())


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"""', '\\"\\"\\"')


def _wrap(text: str, prefix: str) -> list[str]:
    """``text`` as comment lines of at most 100 columns (none for no text)."""
    return textwrap.wrap(text, 100, initial_indent=prefix, subsequent_indent=prefix) if text else []


def _docstring(text: str) -> list[str]:
    text = _escape(text)
    if len(text) <= 90:
        return [f'    """{text}"""']
    return ['    """', *textwrap.wrap(text, 100, initial_indent="    ", subsequent_indent="    "),
            '    """']  # fmt: skip


def render(spec_text: str) -> str:
    """The module's text for the schema ``spec_text`` (docs/rest-api.yaml's contents)."""
    spec = yaml.safe_load(spec_text)
    schemas = spec.get("components", {}).get("schemas", {})
    gen = Generator(schemas)
    gen.run()
    notes = "".join(f"#   {what}\n" for what in gen.unsupported)
    header = (
        '"""The REST API\'s request and answer types, generated from docs/rest-api.yaml.\n\n'
        "Do not edit: change the schema and run ``python scripts/gen_api_types.py`` (and\n"
        "``npm run gen:types`` in labextension/ for the TypeScript types; docs/development.md).\n"
        "The bottom layer: it imports nothing from nbops, and every layer may use it.\n"
        '"""\n\n'
        f"# {len(schemas)} schemas; not expressible here (typed Any): {len(gen.unsupported)}\n"
        f"{notes}\n"
        "from __future__ import annotations\n\n"
        "from typing import TYPE_CHECKING, Any, Literal, TypeAlias, TypedDict\n\n"
        "if TYPE_CHECKING:\n"
        "    from typing_extensions import NotRequired  # typing's from Python 3.11\n\n"
        f"__all__ = {_all(sorted(gen.done))}\n"
    )
    return header + "\n\n" + "\n\n".join(gen.blocks)


def _all(names: list[str]) -> str:
    lines = ["["] + [f'    "{n}",' for n in names] + ["]"]
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        description="Generate src/nbops/api_types.py (TypedDicts) from docs/rest-api.yaml."
    )
    parser.add_argument(
        "output", nargs="?", default=str(OUTPUT), help="where to write it; - for stdout"
    )
    target = parser.parse_args(argv[1:]).output
    text = render(SCHEMA.read_text(encoding="utf-8"))
    if target == "-":
        sys.stdout.write(text)
        return 0
    Path(target).write_text(text, encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
