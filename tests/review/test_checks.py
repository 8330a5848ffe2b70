"""The review gate: each check on small notebooks (snippet -> expected status), the policy,
the examples and ``nbops check`` on the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from nbops.config import Config, load_config
from nbops.core.snippets import notebook_from_snippet
from nbops.errors import ConfigError
from nbops.review.checks import check_notebook
from nbops.review.policy import CHECK_IDS, DEFAULT_LEVELS, load_policy

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

GOOD = '''
# %% [markdown]
# Demand forecast

Forecast the weekly demand of each store from two years of sales, so the planning team can
order stock a month ahead with fewer shortages.

## Parameters

`WEEKS` is how far ahead the forecast goes.
# %% tags=parameters
WEEKS = 4
ALPHA = 0.3  # smoothing factor
# %% [markdown]
## Data

Weekly sales per store.
# %%
import json

values = json.loads("[1, 2, 3]")
# %% [markdown]
## Evaluation

Mean absolute error on the last quarter.
# %%
error = sum(values) / len(values) * ALPHA * WEEKS
print(error)
# %% [markdown]
## Limitations

Two years of history only.

## Owner

Planning analytics.
'''


def write(tmp_path: Path, snippet: str, name: str = "nb.ipynb", pyproject: str = "") -> Path:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "demo"\ndependencies = []\n' + pyproject)
    path = tmp_path / name
    path.write_text(notebook_from_snippet(snippet).dumps())
    return path


def statuses(path: Path) -> dict[str, str]:
    report = check_notebook(path, config=load_config(path.parent))
    return {c.id: c.status for c in report.checks}


def test_a_documented_clean_notebook_passes_every_check(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD)
    report = check_notebook(path, config=load_config(tmp_path))
    assert {c.id: c.status for c in report.checks} == {
        **{k: "pass" for k, v in DEFAULT_LEVELS.items() if v != "off"}
    }, [c.to_json() for c in report.checks if c.status != "pass"]
    assert report.passed


@pytest.mark.parametrize(
    ("change", "check", "message"),
    [
        (lambda s: s.replace("# Demand forecast", "Demand forecast"), "title", "H1"),
        (lambda s: s.replace("Forecast the weekly demand of each store from two years of sales, so the planning team can\norder stock a month ahead with fewer shortages.", "Forecast."), "summary", "words"),
        (lambda s: s.replace("## Limitations", "## Caveats"), "sections", "Limitations"),
        (lambda s: s.replace("## Evaluation", "## Results"), "sections", "Evaluation or Metrics"),
        (lambda s: s.replace("ALPHA = 0.3  # smoothing factor", "ALPHA = 0.3"), "parameters-documented", "ALPHA"),
        (lambda s: s.replace("print(error)", "print(undefined_name)"), "lint", "finding"),
        (lambda s: s.replace("values = json.loads", "values=json.loads"), "formatted", "not formatted"),
        (lambda s: s.replace("WEEKS = 4", 'WEEKS = 4\nTOKEN = "ghp_' + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8" + '"  # token'), "secrets", "secret"),
        (lambda s: s.replace('json.loads("[1, 2, 3]")', 'json.load(open("/home/ana/sales.json"))'), "absolute-paths", "absolute"),
        (lambda s: s.replace("# %% tags=parameters", "# %%"), "parameters-cell", "no parameters cell"),
        (lambda s: s.replace("import json", "import json\n\nimport numpy"), "dependencies", "numpy"),
    ],
    ids=["title", "summary", "sections", "sections-alternatives", "parameter-help", "lint",
         "formatted", "secrets", "absolute-paths", "parameters-cell", "dependencies"],
)
def test_each_check_fails_on_its_problem_only(tmp_path: Path, change: object, check: str, message: str) -> None:
    path = write(tmp_path, change(GOOD))  # type: ignore[operator]
    report = check_notebook(path, config=load_config(tmp_path))
    failed = {c.id: c for c in report.checks if c.status == "fail"}
    assert check in failed, [c.to_json() for c in report.checks]
    assert message in failed[check].message + " ".join(failed[check].details)
    assert failed[check].fix  # every failure says how to fix it
    assert not report.passed
    # the secret also shows up nowhere else, and the rest of the notebook still passes
    others = set(failed) - {check, "parameters-documented", "lint"}
    assert not others, others


def test_a_declared_dependency_passes_and_a_requirements_file_counts(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("import json", "import json\n\nimport numpy"))
    assert statuses(path)["dependencies"] == "fail"
    (tmp_path / "requirements.txt").write_text("numpy>=1.26  # arrays\n")
    assert statuses(path)["dependencies"] == "pass"


def test_a_local_module_is_not_a_dependency(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("import json", "import json\n\nimport helpers"))
    (tmp_path / "helpers.py").write_text("X = 1\n")
    assert statuses(path)["dependencies"] == "pass"


def test_outputs_over_the_limit_fail_only_when_not_stripped(tmp_path: Path) -> None:
    big = GOOD.replace("# %%\nerror =", '# %% exec=1 output="' + "x" * 3000 + '"\nerror =')
    path = write(tmp_path, big, pyproject="[tool.nbops.submit]\nmax-output-bytes = 1000\n")
    assert statuses(path)["outputs"] == "pass"  # stripped from the submitted copy by default
    path = write(tmp_path, big, pyproject="[tool.nbops.submit]\nmax-output-bytes = 1000\nstrip-outputs = false\n")
    assert statuses(path)["outputs"] == "fail"


def test_policy_levels_sections_and_severity(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        GOOD.replace("## Limitations", "## Caveats"),
        pyproject='[tool.nbops.submit]\nsections = ["Data", "Caveats"]\n'
        '[tool.nbops.submit.checks]\nformatted = "off"\nsummary = "optional"\n',
    )
    report = check_notebook(path, config=load_config(tmp_path))
    ids = [c.id for c in report.checks]
    assert "formatted" not in ids and "sections" in ids and report.passed
    assert next(c for c in report.checks if c.id == "summary").level == "optional"


def test_an_optional_failure_does_not_block(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("## Owner", "## Contact"),
                 pyproject='[tool.nbops.submit.checks]\nsections = "optional"\n')
    report = check_notebook(path, config=load_config(tmp_path))
    sections = next(c for c in report.checks if c.id == "sections")
    assert sections.status == "fail" and not sections.blocking and report.passed


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("colour = 1", "unknown key"),
        ('[tool.nbops.submit.checks]\nspelling = "required"', "unknown check"),
        ('[tool.nbops.submit.checks]\ntitle = "maybe"', "required, optional, off"),
        ('fail-on = "fatal"', "fail-on"),
        ("sections = [1]", "sections"),
        ("summary-min-words = -1", "summary-min-words"),
    ],
)
def test_a_bad_policy_is_a_config_error(tmp_path: Path, table: str, message: str) -> None:
    prefix = "" if table.startswith("[") else "[tool.nbops.submit]\n"
    (tmp_path / "pyproject.toml").write_text(prefix + table + "\n")
    with pytest.raises(ConfigError, match=message):
        load_policy(load_config(tmp_path))


def test_every_check_has_a_default_level_and_the_defaults_are_sensible() -> None:
    policy = load_policy(Config())
    assert tuple(policy.levels) == CHECK_IDS
    assert policy.level("library") == "off" and policy.level("secrets") == "required"
    assert policy.sections[-1] == "Owner" and policy.fail_on == "warning"


def test_the_examples_wine_passes_and_churn_is_blocked_with_a_useful_checklist() -> None:
    wine = check_notebook(EXAMPLES / "wine_classifier.ipynb")
    assert wine.passed, [c.to_json() for c in wine.checks if c.status == "fail"]
    churn = check_notebook(EXAMPLES / "churn_classifier.ipynb")
    failing = {c.id for c in churn.checks if c.blocking}
    assert {"secrets", "absolute-paths", "parameters-cell", "sections"} <= failing
    secrets = next(c for c in churn.checks if c.id == "secrets")
    assert secrets.cell_index == 4 and "sk_l" in " ".join(secrets.details)
    assert "sk_live" not in json.dumps(churn.to_json())  # the secret itself is never repeated


def nbops(*args: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "nbops", *args], cwd=cwd, capture_output=True, check=False,
                          text=True, timeout=300)


def test_the_cli_exit_codes_and_formats() -> None:
    ok = nbops("check", "examples/wine_classifier.ipynb")
    assert ok.returncode == 0 and "PASSED" in ok.stdout, ok.stderr
    blocked = nbops("check", "examples/churn_classifier.ipynb", "--format", "json")
    assert blocked.returncode == 1
    doc = json.loads(blocked.stdout)
    assert doc["passed"] is False and doc["summary"]["blocking"] >= 4
    assert {"id", "category", "title", "level", "status", "blocking", "message", "fix", "cell",
            "cell_index", "fix_code", "details"} == set(doc["checks"][0])
    md = nbops("check", "examples/churn_classifier.ipynb", "--format", "markdown")
    assert md.returncode == 1 and md.stdout.startswith("### Review gate: blocked")
    assert "| ❌ | No secrets in code or outputs |" in md.stdout
    skipped = nbops("check", "examples/churn_classifier.ipynb", "--skip", "secrets", "--format", "json")
    assert "secrets" not in {c["id"] for c in json.loads(skipped.stdout)["checks"]}


@pytest.mark.parametrize("marker", ["metadata", "legacy-cell"])
def test_a_folder_skips_the_executed_copies_nbops_run_wrote(marker: str, tmp_path: Path) -> None:
    wine = json.loads((EXAMPLES / "wine_classifier.ipynb").read_text(encoding="utf-8"))
    (tmp_path / "wine_classifier.ipynb").write_text(json.dumps(wine), encoding="utf-8")
    copy = json.loads(json.dumps(wine))
    if marker == "metadata":  # what nbops run writes now
        copy["metadata"]["nbops"] = {"executed_from": "wine_classifier.ipynb"}
    else:  # the tagged first cell of executed copies written before
        copy["cells"].insert(0, {"cell_type": "code", "execution_count": None, "id": "nbopsrun",
                                 "metadata": {"tags": ["nbops-run"]}, "outputs": [],
                                 "source": "import os"})
    (tmp_path / "nbops-runs").mkdir()
    (tmp_path / "nbops-runs" / "20261122-wine.ipynb").write_text(json.dumps(copy), encoding="utf-8")
    proc = nbops("check", str(tmp_path), "--format", "json")
    doc = json.loads(proc.stdout)
    assert doc["summary"]["notebooks"] == 1 and doc["summary"]["skipped"] == 1, doc["summary"]
    (skipped,) = doc["skipped"]
    assert skipped["notebook"].endswith("20261122-wine.ipynb")
    assert "an executed copy written by nbops run" in skipped["reason"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["check", "missing.ipynb"], "no such notebook"),
        (["check", "examples/wine_classifier.ipynb", "--require", "nope"], "unknown check"),
        (["check", "tests/notebooks/bad/broken_json.ipynb"], "broken_json.ipynb"),
    ],
)
def test_bad_input_is_a_clear_error(args: list[str], message: str) -> None:
    proc = nbops(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert message in proc.stderr and "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "title",
    [
        '<h1 align="center">Demand forecast</h1>',
        "<H1>\n  <b>Demand</b> forecast &amp; plan\n</H1>",
        "Demand forecast\n===============",
    ],
    ids=["html", "html-multiline-nested", "setext"],
)
def test_title_check_accepts_html_and_setext_h1(tmp_path: Path, title: str) -> None:
    path = write(tmp_path, GOOD.replace("# Demand forecast", title, 1))
    assert statuses(path)["title"] == "pass"


def test_title_check_says_what_to_write_for_a_bold_title(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("# Demand forecast", "**Demand forecast**", 1))
    report = check_notebook(path, config=load_config(tmp_path))
    (title,) = [c for c in report.checks if c.id == "title"]
    assert title.status == "fail"
    assert title.message == "cell 1: the first line `**Demand forecast**` is bold text, not a heading"
    assert title.fix == (
        "make it a heading: replace `**Demand forecast**` with `# Demand forecast` "
        "(or `<h1>Demand forecast</h1>`)"
    )
    assert title.cell_index == 0


def test_title_check_names_the_heading_that_is_not_an_h1(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace("# Demand forecast", "<h2>Demand forecast</h2>", 1))
    report = check_notebook(path, config=load_config(tmp_path))
    (title,) = [c for c in report.checks if c.id == "title"]
    assert title.status == "fail" and "is an H2, not an H1" in title.message
    assert title.fix == "make it an H1: `# Demand forecast`"


@pytest.mark.parametrize(
    "title",
    [
        "<h1>\nDemand forecast of every store and region in the\nwhole company for the central planning team\n</h1>",
        "Demand forecast of every store and region in the\nwhole company for the central planning team\n===",
    ],
    ids=["html-over-lines", "setext"],
)
def test_the_summary_does_not_count_a_titles_words_as_prose(tmp_path: Path, title: str) -> None:
    # 16 words of title and 5 of prose: the summary needs 20 words of prose
    short = GOOD.replace("# Demand forecast", title).replace(
        "Forecast the weekly demand of each store from two years of sales, so the planning team can\n"
        "order stock a month ahead with fewer shortages.",
        "Forecast demand per store.",
    )
    assert statuses(write(tmp_path, short))["summary"] == "fail"
    assert statuses(write(tmp_path, GOOD.replace("# Demand forecast", title)))["summary"] == "pass"
