"""The JupyterLab extension's TypeScript types of the REST API are generated from
docs/rest-api.yaml (labextension/src/generated/api.ts, by `npm run gen:types`), and
labextension/src/tokens.ts names them instead of writing the shapes again.

The generator runs here into a temporary file: a committed file that differs from it (a schema
change without `npm run gen:types`, or a hand edit) fails. It needs Node and the extension's
npm packages, which scripts/test.sh installs (the test is skipped only without them)."""

from __future__ import annotations

import difflib
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LABEXT = ROOT / "labextension"
GENERATED = LABEXT / "src" / "generated" / "api.ts"
TOKENS = LABEXT / "src" / "tokens.ts"
GENERATOR = LABEXT / "scripts" / "gen-types.mjs"


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory) -> str:
    """What the generator writes from the current schema."""
    out = tmp_path_factory.mktemp("types") / "api.ts"
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (scripts/test.sh needs Node.js 20 and npm)")
    if not (LABEXT / "node_modules" / "openapi-typescript").is_dir():
        pytest.skip(
            "labextension/node_modules has no openapi-typescript: run `npm install` in labextension/"
        )
    done = subprocess.run(
        [node, str(GENERATOR), str(out)],
        check=False,
        cwd=LABEXT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, f"npm run gen:types failed:\n{done.stdout}\n{done.stderr}"
    return out.read_text(encoding="utf-8")


def test_generated_types_follow_the_schema(fresh: str) -> None:
    committed = GENERATED.read_text(encoding="utf-8") if GENERATED.is_file() else ""
    if committed != fresh:
        diff = difflib.unified_diff(
            committed.splitlines(),
            fresh.splitlines(),
            "labextension/src/generated/api.ts (committed)",
            "generated from docs/rest-api.yaml",
            lineterm="",
            n=1,
        )
        shown = "\n".join(list(diff)[:60])
        pytest.fail(
            "labextension/src/generated/api.ts is not what docs/rest-api.yaml generates: run "
            f"`npm run gen:types` in labextension/ and commit the file.\n{shown}"
        )


def test_the_generator_sees_the_schema(fresh: str) -> None:
    """The check above compares something real: the generated file has the schema's types."""
    for schema in ("ModularizePlan", "Diagnostic", "Job", "HackathonJob", "GateReport"):
        assert re.search(rf"^        {schema}: \{{", fresh, re.MULTILINE), schema
    # a request field with a default may be left out; a free-form object is not `never`
    assert re.search(r"^            unsafe\?: boolean;", fresh, re.MULTILINE)
    assert "Notebook: Record<string, unknown>;" in fresh


def test_tokens_names_the_generated_types() -> None:
    """No API shape is written by hand in tokens.ts: its only interface is the settings."""
    text = TOKENS.read_text(encoding="utf-8")
    assert re.findall(r"^export interface (\w+)", text, re.MULTILINE) == ["ISettings"]
    assert "from './generated/api'" in text
    aliases = dict(re.findall(r"^export type (\w+) =\s*(.+?);?$", text, re.MULTILINE))
    for name in ("IModularizePlan", "IDiagnostic", "IJob", "IScoreJob", "IGateReport", "JobState"):
        assert "Schemas[" in aliases[name] or aliases[name].startswith("IModularizePlan["), name
