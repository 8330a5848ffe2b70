"""``nbops init``: set a repository up for the review flow.

It writes the policy (``[tool.nbops.submit]`` appended to ``pyproject.toml``), a GitHub
Actions workflow and a GitLab CI job running ``nbops check`` and the generated tests on every
pull request, a pre-commit configuration using nbops' hooks, pull request templates, and the
``.gitignore`` lines for what nbops keeps locally. The whole plan is made (and every input
read) before anything is written; each file is written atomically.

Files nbops writes whole are never overwritten without ``force``. Files that belong to the user
(an existing ``pyproject.toml``, ``.gitlab-ci.yml``, ``.pre-commit-config.yaml`` or
``.gitignore``) are only ever appended to, textually, with the rest kept byte for byte, and
never rewritten, even with ``force``.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from nbops._version import version
from nbops.core.notebook import write_bytes_atomic
from nbops.errors import (
    ConfigError,
    ConflictError,
    NbopsError,
    NotFoundError,
    UsageError,
    WriteError,
)

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib  # type: ignore[import-not-found,unused-ignore]

__all__ = [
    "FORGE_CHOICES",
    "NBOPS_REPOSITORY",
    "InitFile",
    "InitOptions",
    "InitResult",
    "Pins",
    "init_repository",
    "pins",
]

NBOPS_REPOSITORY = "https://github.com/nbops/nbops"  # where pre-commit fetches nbops' hooks
FORGE_CHOICES = ("github", "gitlab", "both")
GITLAB_INCLUDE = "ci/nbops.gitlab-ci.yml"
_MARKER = "Written by nbops init"  # the first lines of every file init writes whole
_PLACEHOLDER = re.compile(r"\{@([a-z_]+)@\}")

Action = Literal["create", "overwrite", "update", "skip", "unchanged"]


@dataclass(frozen=True)
class InitOptions:
    """``force``: overwrite files nbops writes whole; ``forge``: github | gitlab | both
    (None: from the ``origin`` remote, both when it is no known forge)."""

    force: bool = False
    dry_run: bool = False
    forge: str | None = None
    requirement: str | None = None  # how CI installs nbops (default: from the installed version)
    hooks_repo: str | None = None  # where pre-commit fetches the hooks (default: NBOPS_REPOSITORY)
    hooks_rev: str | None = None  # the tag or commit of hooks_repo (default: from the version)


@dataclass
class InitFile:
    """One file of the plan. ``text`` is what is (or would be) written: the whole file, or for
    ``update`` the part appended or inserted."""

    path: str  # relative to the repository, POSIX
    action: Action
    note: str = ""
    text: str = ""
    _data: bytes | None = field(default=None, repr=False)  # the full new content
    _expected: bytes | None = field(default=None, repr=False)  # content read when planning

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "action": self.action, "note": self.note, "text": self.text}


@dataclass
class InitResult:
    root: Path
    forges: tuple[str, ...]
    forge_reason: str
    files: list[InitFile]
    next_steps: list[str]
    dry_run: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "root": str(self.root),
            "forges": list(self.forges),
            "forge_reason": self.forge_reason,
            "dry_run": self.dry_run,
            "files": [f.to_json() for f in self.files],
            "next_steps": list(self.next_steps),
        }


# --------------------------------------------------------------------------- templates


def template(name: str, **values: str) -> str:
    """A template of ``nbops/review/templates`` with its ``{@key@}`` placeholders filled; a line
    holding an empty value is left out."""
    text = (resources.files("nbops.review") / "templates" / name).read_text(encoding="utf-8")
    lines = []
    for line in text.splitlines(keepends=True):
        keys = _PLACEHOLDER.findall(line)
        if any(key not in values for key in keys):
            raise KeyError(f"template {name}: no value for {keys}")
        if keys and not any(values[key] for key in keys):
            continue
        lines.append(_PLACEHOLDER.sub(lambda m: values[m.group(1)], line))
    return "".join(lines)


def _python() -> str:
    return f"{sys.version_info.major}.{sys.version_info.minor}"


# --------------------------------------------------------------------------- which nbops


@dataclass(frozen=True)
class Pins:
    """The nbops a generated file installs: ``requirement`` for pip (CI), ``repo`` and ``rev``
    for pre-commit, and ``note`` (a comment put above them, or "")."""

    requirement: str
    repo: str
    rev: str
    note: str = ""


_RELEASE = re.compile(r"^\d+(\.\d+)*$")
_COMMIT = re.compile(r"\+g([0-9a-f]{7,40})\b")  # hatch-vcs: 0.2.1.dev3+g1a2b3c4[.d20260101]
_REQUIREMENT = re.compile(r"^nbops(\[[\w,\s-]*\])?\s*([=<>!~;@ ]|$)", re.IGNORECASE)


def _git_url(requirement: str) -> tuple[str, str] | None:
    """The repository and ref of ``nbops @ git+URL[@REF]`` (ref ``HEAD`` when none)."""
    if "git+" not in requirement:
        return None
    url = re.split(r"[\s#;]", requirement.split("git+", 1)[1], maxsplit=1)[0]
    head, _, last = url.rpartition("/")
    if "@" in last:  # the ref follows the last path segment's @ (user@host comes before a /)
        name, _, ref = last.partition("@")
        return f"{head}/{name}", ref
    return url, "HEAD"


def with_run_extra(requirement: str) -> str:
    """``requirement`` with nbops' ``run`` extra (what ``nbops release`` needs) added."""
    match = _REQUIREMENT.match(requirement)
    if match is None:
        return requirement
    extras = [e.strip() for e in (match.group(1) or "[]")[1:-1].split(",") if e.strip()]
    if "run" not in extras:
        extras.append("run")
    return f"nbops[{','.join(extras)}]" + requirement[match.end(1) if match.group(1) else 5:]


def pins(version: str, requirement: str | None = None, hooks_repo: str | None = None,
         hooks_rev: str | None = None) -> Pins:
    """What the CI files and the pre-commit configuration pin, for nbops ``version`` (the
    installed one): ``nbops==1.2.0`` and ``rev: v1.2.0`` for a release; a development build
    (1.2.1.dev3+g1a2b3c4) is pinned to its commit in nbops' repository, since no index has it.
    ``requirement`` (a pip requirement naming nbops, e.g. ``nbops==1.2.0`` from a team's own
    index, or ``nbops @ git+https://host/org/nbops@v1.2.0``) replaces the pip line; a git URL
    there is also where pre-commit fetches the hooks, at its ref, unless ``hooks_repo`` /
    ``hooks_rev`` say otherwise."""
    if requirement is not None:
        requirement = requirement.strip()
        if not _REQUIREMENT.match(requirement) or re.search(r"[\"'`$\\\n\r]", requirement):
            raise UsageError(
                f"--requirement {requirement!r} is not a pip requirement for nbops",
                hint="e.g. --requirement 'nbops==1.2.0' or "
                     "--requirement 'nbops @ git+https://host/org/nbops@v1.2.0' (no quotes or $ in it)",
            )
    for option, value in (("--hooks-repo", hooks_repo), ("--hooks-rev", hooks_rev)):
        if value is not None and (not value.strip() or re.search(r"[\s\"'`$\\]", value)):
            raise UsageError(f"{option} {value!r}: one URL or git ref, without spaces or quotes")
    note = ""
    commit = _COMMIT.search(version)
    if _RELEASE.match(version):
        spec, repo, rev = f"nbops=={version}", NBOPS_REPOSITORY, f"v{version}"
    elif commit:
        spec = f"nbops @ git+{NBOPS_REPOSITORY}@{commit.group(1)}"
        repo, rev = NBOPS_REPOSITORY, commit.group(1)
        note = (f"nbops {version} is a development build (no release tag): pinned to its commit; "
                "after a release, pin nbops==VERSION and rev: vVERSION")
    else:
        spec, repo, rev = f"nbops @ git+{NBOPS_REPOSITORY}@main", NBOPS_REPOSITORY, "main"
        note = (f"nbops {version} is not a release: this installs nbops' main branch; "
                "pin a release (nbops==VERSION, rev: vVERSION) when there is one")
    if requirement is not None:
        spec, note = requirement, ""
        git_url = _git_url(requirement)
        if git_url:
            repo, rev = git_url
        elif hooks_repo is None and repo == NBOPS_REPOSITORY and not _RELEASE.match(version):
            note = f"the hooks come from {repo} at {rev} (--hooks-repo, --hooks-rev choose them)"
    return Pins(spec, hooks_repo or repo, hooks_rev or rev, note)


# --------------------------------------------------------------------------- the repository


def _git(root: Path, *args: str) -> str | None:
    from nbops.review.git import Git

    try:
        return Git(root).maybe(*args)
    except NbopsError:  # git missing or stuck: init works without it
        return None


def _repository_root(directory: Path) -> Path:
    if not directory.exists():
        raise NotFoundError("no such directory", path=directory, hint="create it or pass another DIR")
    if not directory.is_dir():
        raise UsageError("not a directory", path=directory, hint="pass the repository's folder")
    root = directory.resolve()
    top = _git(root, "rev-parse", "--show-toplevel")
    if top and Path(top).resolve() != root:
        raise UsageError(
            f"{root} is inside the git repository {top}: CI files live at a repository's top level",
            hint=f"run nbops init {top}",
        )
    return root


def _forges(root: Path, chosen: str | None) -> tuple[tuple[str, ...], str]:
    if chosen:
        if chosen not in FORGE_CHOICES:
            raise UsageError(f"unknown forge {chosen!r}", hint="github, gitlab or both")
        return (("github", "gitlab") if chosen == "both" else (chosen,)), "--forge"
    url = _git(root, "config", "--get", "remote.origin.url")
    if url:
        from nbops.review.forges import FORGES, parse_remote

        try:
            found = FORGES.detect(parse_remote(url))
        except UsageError:
            found = None
        if found is not None and found.name in ("github", "gitlab"):
            return (found.name,), f"the origin remote is on {found.title}"
    return ("github", "gitlab"), "no GitHub or GitLab origin remote: both"


def _base_branch(root: Path) -> str:
    head = _git(root, "symbolic-ref", "--quiet", "--short", "refs/remotes/origin/HEAD")
    if head and "/" in head:
        return head.split("/", 1)[1]
    for name in ("main", "master"):
        if _git(root, "rev-parse", "--verify", "--quiet", f"refs/heads/{name}"):
            return name
    return "main"


def _read(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise WriteError(f"cannot read: {exc.strerror or exc}", path=path) from None


def _decode(data: bytes, path: Path) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text: nbops init leaves it alone", path=path) from None


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _appendix(text: str, addition: str) -> str:
    """``addition`` to put after ``text``: a blank line before it, in the file's line endings."""
    nl = _newline(text)
    lead = "" if not text else (nl if text.endswith("\n") else nl + nl)
    if text.endswith(("\n\n", "\r\n\r\n")):
        lead = ""
    return lead + addition.replace("\n", nl)


def _ours(text: str) -> bool:
    return _MARKER in "\n".join(text.splitlines()[:3])


# --------------------------------------------------------------------------- the plan


def _whole(root: Path, rel: str, content: str, force: bool, what: str) -> InitFile:
    """A file nbops writes whole: create it; an existing one is kept unless ``force``."""
    path = root / rel
    old = _read(path)
    data = content.encode("utf-8")
    if old is None:
        return InitFile(rel, "create", what, content, data)
    if old == data:
        return InitFile(rel, "unchanged", "already up to date")
    if force:
        return InitFile(rel, "overwrite", what, content, data, old)
    return InitFile(rel, "skip", "exists: left as it is (--force overwrites it)")


def _pyproject(root: Path, base: str) -> InitFile:
    path = root / "pyproject.toml"
    table = template("pyproject-submit.toml.tmpl", base=json.dumps(base).ljust(21) + " ")
    old = _read(path)
    if old is None:
        return InitFile("pyproject.toml", "create", "the review policy, [tool.nbops.submit]", table,
                        table.encode("utf-8"))
    text = _decode(old, path)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"invalid TOML: {exc}", path=path,
                          hint="fix it, then run nbops init again") from None
    tool = data.get("tool")
    nbops_table = tool.get("nbops") if isinstance(tool, dict) else None
    if isinstance(nbops_table, dict) and "submit" in nbops_table:
        return InitFile("pyproject.toml", "skip", "[tool.nbops.submit] is already there: left as it is")
    addition = _appendix(text, table)
    try:
        merged = tomllib.loads(text + addition)
        ok = "submit" in merged["tool"]["nbops"]
    except (tomllib.TOMLDecodeError, KeyError, TypeError):
        ok = False
    if not ok:
        raise ConfigError(
            "appending [tool.nbops.submit] would not give valid TOML (is tool.nbops an inline table?)",
            path=path, hint="add the table by hand: see docs/review.md",
        )
    return InitFile("pyproject.toml", "update", "appended [tool.nbops.submit]; the rest is unchanged",
                    addition, old + addition.encode("utf-8"), old)


def _gitlab(root: Path, job: str, force: bool, steps: list[str]) -> list[InitFile]:
    path = root / ".gitlab-ci.yml"
    old = _read(path)
    if old is None or _ours(_decode(old, path)):
        return [_whole(root, ".gitlab-ci.yml", job, force, "GitLab CI: nbops check and the tests on merge requests")]
    text = _decode(old, path)
    files = [_whole(root, GITLAB_INCLUDE, job, force, "the GitLab CI job, included from .gitlab-ci.yml")]
    if re.search(r"^stages\s*:", text, re.MULTILINE) and not re.search(r"^\s*-\s*['\"]?test['\"]?\s*$", text, re.MULTILINE):
        steps.append(f"your .gitlab-ci.yml lists its own stages: set `stage:` in {GITLAB_INCLUDE} to one of them")
    if GITLAB_INCLUDE in text:
        files.append(InitFile(".gitlab-ci.yml", "unchanged", f"already includes {GITLAB_INCLUDE}"))
    elif re.search(r"^include\s*:", text, re.MULTILINE):
        files.append(InitFile(".gitlab-ci.yml", "skip", "has its own include: list, left as it is"))
        steps.append(f"add `- local: {GITLAB_INCLUDE}` to the include: list of .gitlab-ci.yml")
    else:
        addition = _appendix(text, f"# the nbops job (added by nbops init)\ninclude:\n  - local: {GITLAB_INCLUDE}\n")
        files.append(InitFile(".gitlab-ci.yml", "update", f"includes {GITLAB_INCLUDE}; the rest is unchanged",
                              addition, old + addition.encode("utf-8"), old))
    return files


def _yaml_ok(text: str, check: Any) -> bool:
    """Whether ``text`` parses as YAML and ``check(data)`` holds (True when PyYAML is missing:
    the insertion is then trusted to the textual rules)."""
    import importlib

    try:
        yaml = importlib.import_module("yaml")
    except ImportError:  # pragma: no cover - PyYAML comes with papermill
        return True
    try:
        return bool(check(yaml.safe_load(text)))
    except Exception:  # noqa: BLE001 - any parse error: not ok
        return False


def _has_nbops_hooks(data: Any) -> bool:
    repos = data.get("repos") if isinstance(data, dict) else None
    return isinstance(repos, list) and any(
        isinstance(r, dict) and any(isinstance(h, dict) and h.get("id") == "nbops-lint" for h in r.get("hooks", []))
        for r in repos
    )


def _pre_commit(root: Path, force: bool, steps: list[str], pin: Pins) -> InitFile:
    rel = ".pre-commit-config.yaml"
    path = root / rel
    entry = template("pre-commit-entry.yaml.tmpl", repository=pin.repo, rev=pin.rev, note=pin.note)
    indented = "".join("  " + line if line.strip() else line for line in entry.splitlines(keepends=True))
    old = _read(path)
    if old is None or _ours(_decode(old, path)):
        whole = template("pre-commit-config.yaml.tmpl", entry=indented.rstrip("\n"))
        return _whole(root, rel, whole, force, "pre-commit: nbops lint on commit, nbops check on push")
    text = _decode(old, path)
    if re.search(r"nbops/nbops|id:\s*nbops-", text):
        return InitFile(rel, "skip", "already uses nbops' hooks: left as it is")
    manual = InitFile(rel, "skip", "could not add nbops' hooks safely: left as it is")
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if re.match(r"^repos\s*:\s*(#.*)?$", line.rstrip("\r\n"))), None)
    if start is None:
        steps.append(f"add this to the repos: of {rel}:\n{indented}")
        return manual
    end = next((i for i in range(start + 1, len(lines)) if re.match(r"^[^\s#-]", lines[i])), len(lines))
    item = next((re.match(r"^(\s*)-\s", lines[i]) for i in range(start + 1, end)
                 if re.match(r"^(\s*)-\s", lines[i])), None)
    indent = item.group(1) if item else "  "
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1  # insert after the block's last line, before its trailing blank lines
    nl = _newline(text)
    block = "".join(indent + line if line.strip() else line for line in entry.splitlines(keepends=True))
    block = block.replace("\n", nl)
    before = "".join(lines[:end])
    if before and not before.endswith("\n"):
        block = nl + block
    new_text = before + block + "".join(lines[end:])
    if not _yaml_ok(new_text, _has_nbops_hooks):
        steps.append(f"add this to the repos: of {rel}:\n{indented}")
        return manual
    return InitFile(rel, "update", "added nbops' hooks to repos:; the rest is unchanged", block,
                    new_text.encode("utf-8"), old)


def _gitignore(root: Path) -> InitFile:
    from nbops.run.runner import RUNS_FOLDER

    rel = ".gitignore"
    path = root / rel
    wanted = [".nbops/", ".nbops_cache/", ".nbops_backup/", f"{RUNS_FOLDER}/"]
    old = _read(path)
    text = _decode(old, path) if old is not None else ""
    present = {line.strip().strip("/") for line in text.splitlines()}
    missing = [w for w in wanted if w.strip("/") not in present]
    if not missing:
        return InitFile(rel, "unchanged", "already ignores what nbops keeps locally")
    lines = "# nbops: tracking store, caches, backups and executed notebooks (added by nbops init)\n"
    addition = _appendix(text, lines + "".join(f"{w}\n" for w in missing))
    data = (old or b"") + addition.encode("utf-8")
    if old is None:
        return InitFile(rel, "create", "what nbops keeps locally, kept out of git", addition, data)
    return InitFile(rel, "update", f"ignores {', '.join(missing)}; the rest is unchanged", addition, data, old)


def _project_install(root: Path) -> str:
    """The install line for the project itself when pyproject.toml makes it installable."""
    old = _read(root / "pyproject.toml")
    try:
        data = tomllib.loads(old.decode("utf-8")) if old is not None else {}
    except (UnicodeDecodeError, tomllib.TOMLDecodeError):
        return ""
    if "project" in data and "build-system" in data:
        return "python -m pip install -e .  # the project and its [project] dependencies"
    return ""


def plan(directory: Path, options: InitOptions | None = None) -> InitResult:
    """What ``nbops init`` would do in ``directory``: read everything, write nothing."""
    options = options or InitOptions()
    root = _repository_root(directory)
    forges, reason = _forges(root, options.forge)
    steps: list[str] = []
    pin = pins(version(), options.requirement, options.hooks_repo, options.hooks_rev)
    install = _project_install(root)
    files = [_pyproject(root, _base_branch(root))]
    if "github" in forges:
        workflow = template("github-workflow.yml.tmpl", python=_python(), nbops_spec=pin.requirement,
                            nbops_note=pin.note, project_install=install,
                            base=json.dumps(_base_branch(root)),
                            nbops_run_spec=with_run_extra(pin.requirement))
        files.append(_whole(root, ".github/workflows/nbops.yml", workflow, options.force,
                            "GitHub Actions: nbops check and the tests on pull requests"))
        files.append(_whole(root, ".github/pull_request_template.md",
                            template("pull-request.md.tmpl", noun="pull request"), options.force,
                            "the pull request template"))
    if "gitlab" in forges:
        job = template("gitlab-ci.yml.tmpl", python=_python(), nbops_spec=pin.requirement,
                       nbops_note=pin.note, project_install=install,
                       nbops_run_spec=with_run_extra(pin.requirement))
        files.extend(_gitlab(root, job, options.force, steps))
        files.append(_whole(root, ".gitlab/merge_request_templates/Default.md",
                            template("pull-request.md.tmpl", noun="merge request"), options.force,
                            "the merge request template"))
    files.append(_pre_commit(root, options.force, steps, pin))
    files.append(_gitignore(root))
    return InitResult(root, forges, reason, files, _next_steps(root, files, forges, steps), options.dry_run)


def _next_steps(root: Path, files: list[InitFile], forges: tuple[str, ...], extra: list[str]) -> list[str]:
    steps = list(extra)
    written = [f.path for f in files if f.action in ("create", "overwrite", "update")]
    skipped = [f.path for f in files if f.action == "skip" and "--force" in f.note]
    if skipped:
        steps.append(f"{', '.join(skipped)} existed and were kept: --force writes nbops' version")
    steps.append("review the policy in pyproject.toml ([tool.nbops.submit]): which checks are required")
    if not any((root / name).is_file() for name in ("requirements.txt", "environment.yml")):
        steps.append("list the notebooks' packages in requirements.txt: the CI job installs it "
                     "and the dependencies check reads it")
    steps.append("nbops check . shows what the CI job will report")
    if any(f.path == ".pre-commit-config.yaml" and f.action != "skip" for f in files):
        steps.append("pip install pre-commit && pre-commit install && pre-commit install --hook-type pre-push")
    if written:
        steps.append(f"commit the files: git add {' '.join(sorted(set(written)))} && "
                     "git commit -m 'Set up nbops review'")
    noun = " / ".join({"github": "pull request", "gitlab": "merge request"}[f] for f in forges)
    steps.append(f"then nbops submit NOTEBOOK opens a {noun}, and the CI job checks it")
    return steps


# --------------------------------------------------------------------------- writing


def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes_atomic(path, data)


def init_repository(directory: Path, options: InitOptions | None = None) -> InitResult:
    """Set ``directory`` (a repository's top level) up for the review flow; with
    ``options.dry_run``, only say what would be written."""
    result = plan(directory, options)
    if result.dry_run:
        return result
    for item in result.files:
        if item._data is None:
            continue
        path = result.root / item.path
        if item.action != "create" and _read(path) != item._expected:
            raise ConflictError("changed while nbops init ran: not written", path=path,
                                hint="run nbops init again")
        if item.action == "create" and path.exists():
            raise ConflictError("created while nbops init ran: not overwritten", path=path,
                                hint="run nbops init again")
        try:
            _write_atomic(path, item._data)
        except OSError as exc:
            raise WriteError(f"cannot write: {exc.strerror or exc}", path=path) from None
    return result
