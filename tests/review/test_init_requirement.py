"""Which nbops ``nbops init`` pins: the installed version's requirement and hooks ``rev``
(a release, a development build, not installed), ``--requirement`` for a team's own index or a
git URL, ``--hooks-repo`` / ``--hooks-rev``, and bad values as clear errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from nbops._version import UNKNOWN_VERSION, __version__
from nbops.errors import UsageError
from nbops.review.init import NBOPS_REPOSITORY, InitOptions, Pins, pins, plan


def written(tmp_path: Path, **options: str) -> dict[str, str]:
    """The files nbops init would write (dry run), by path."""
    result = plan(tmp_path, InitOptions(dry_run=True, forge="both", **options))  # type: ignore[arg-type]
    return {f.path: f.text for f in result.files}


def test_a_release_pins_its_version_and_tag() -> None:
    assert pins("1.2.0") == Pins("nbops==1.2.0", NBOPS_REPOSITORY, "v1.2.0")


@pytest.mark.parametrize("version, commit", [
    ("0.2.1.dev3+g1a2b3c4", "1a2b3c4"),
    ("0.1.dev12+g0123456789ab.d20261207", "0123456789ab"),
])
def test_a_development_build_pins_its_commit(version: str, commit: str) -> None:
    pin = pins(version)
    assert pin.requirement == f"nbops @ git+{NBOPS_REPOSITORY}@{commit}"
    assert (pin.repo, pin.rev) == (NBOPS_REPOSITORY, commit)
    assert "development build" in pin.note and version in pin.note


@pytest.mark.parametrize("version", [UNKNOWN_VERSION, "0.1.0.dev0"])
def test_a_version_without_a_commit_installs_main_and_says_so(version: str) -> None:
    pin = pins(version)
    assert pin.requirement == f"nbops @ git+{NBOPS_REPOSITORY}@main" and pin.rev == "main"
    assert "not a release" in pin.note


def test_a_requirement_for_an_own_index_keeps_the_hooks_of_the_version() -> None:
    assert pins("1.2.0", "nbops==1.2.0") == Pins("nbops==1.2.0", NBOPS_REPOSITORY, "v1.2.0")
    pin = pins("1.2.0", "nbops[run]>=1.2,<2", hooks_repo="https://git.corp/ml/nbops", hooks_rev="v1.2.0")
    assert pin == Pins("nbops[run]>=1.2,<2", "https://git.corp/ml/nbops", "v1.2.0")


@pytest.mark.parametrize("requirement, repo, rev", [
    ("nbops @ git+https://git.corp/ml/nbops@v1.2.0", "https://git.corp/ml/nbops", "v1.2.0"),
    ("nbops @ git+ssh://git@git.corp/ml/nbops.git@abc1234", "ssh://git@git.corp/ml/nbops.git", "abc1234"),
    ("nbops @ git+https://git.corp/ml/nbops", "https://git.corp/ml/nbops", "HEAD"),
])
def test_a_git_requirement_is_also_where_the_hooks_come_from(requirement: str, repo: str, rev: str) -> None:
    assert pins("0.3.0.dev1+gabcdef0", requirement) == Pins(requirement, repo, rev)


@pytest.mark.parametrize("requirement", ["black==24.1", "nbopsx==1", 'nbops==1" ; rm -rf /', "nbops==$V", ""])
def test_a_bad_requirement_is_a_usage_error_naming_the_option(requirement: str) -> None:
    with pytest.raises(UsageError, match="--requirement"):
        pins("1.2.0", requirement)


def test_bad_hooks_options_are_usage_errors() -> None:
    with pytest.raises(UsageError, match="--hooks-rev"):
        pins("1.2.0", hooks_rev="v1 2")
    with pytest.raises(UsageError, match="--hooks-repo"):
        pins("1.2.0", hooks_repo="")


def test_init_writes_the_installed_version(tmp_path: Path) -> None:
    pin = pins(__version__)
    files = written(tmp_path)
    for path in (".github/workflows/nbops.yml", ".gitlab-ci.yml"):
        assert f'python -m pip install "{pin.requirement}" pytest' in files[path], path
        assert yaml.safe_load(files[path])
    hooks = yaml.safe_load(files[".pre-commit-config.yaml"])["repos"][0]
    assert (hooks["repo"], hooks["rev"]) == (pin.repo, pin.rev)


def test_init_writes_the_requirement_asked_for(tmp_path: Path) -> None:
    spec = "nbops @ git+https://git.corp/ml/nbops@v2.0.0"
    files = written(tmp_path, requirement=spec)
    workflow = yaml.safe_load(files[".github/workflows/nbops.yml"])
    install = next(s for s in workflow["jobs"]["check"]["steps"] if s.get("name", "").startswith("Install"))
    assert f'"{spec}"' in install["run"] and "development build" not in install["run"]
    gitlab = yaml.safe_load(files[".gitlab-ci.yml"])
    assert f'python -m pip install "{spec}" pytest' in gitlab["nbops"]["before_script"]
    hooks = yaml.safe_load(files[".pre-commit-config.yaml"])["repos"][0]
    assert (hooks["repo"], hooks["rev"]) == ("https://git.corp/ml/nbops", "v2.0.0")


def test_a_development_build_writes_a_comment_above_what_it_pins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The note (only for a version that is not a release) is a YAML comment: the files stay valid."""
    from nbops.review import init

    monkeypatch.setattr(init, "version", lambda: "0.2.1.dev3+g1a2b3c4")
    files = written(tmp_path)
    for path in (".github/workflows/nbops.yml", ".gitlab-ci.yml", ".pre-commit-config.yaml"):
        assert "# nbops 0.2.1.dev3+g1a2b3c4 is a development build" in files[path], path
        assert yaml.safe_load(files[path])
    assert "rev: 1a2b3c4" in files[".pre-commit-config.yaml"]


def test_the_cli_takes_the_options_and_refuses_a_bad_requirement(tmp_path: Path) -> None:
    def init(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "nbops", "init", "--dry-run", "--forge", "github", *args],
                              cwd=tmp_path, capture_output=True, text=True, check=False, timeout=120)

    done = init("--requirement", "nbops==9.9.9", "--hooks-rev", "v9.9.9")
    assert done.returncode == 0, done.stderr
    assert 'pip install "nbops==9.9.9" pytest' in done.stdout and "rev: v9.9.9" in done.stdout
    bad = init("--requirement", "black")
    assert bad.returncode == 2 and "--requirement" in bad.stderr and "Traceback" not in bad.stderr
    assert not any(tmp_path.iterdir())
