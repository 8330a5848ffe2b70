"""``nbops submit``: the gate, then a review branch built aside, pushed, and a pull request.

The user's checkout is never touched: the submission is built in a temporary ``git worktree``
started from the review branch (or the base branch the first time), committed there, and the
branch ref is moved with a compare-and-swap. A base that moved since the last submit is merged
into the review branch first (never rebased). Nothing is force-pushed; a rejected push, an
auth or network failure leaves the local branch for a retry. One submit at a time per
repository (a lock in the git directory). The branch name is stable per notebook and author
(``review/<notebook>-<7 hex>``), so submitting again adds a commit to the same branch and
updates the same pull request.

No secret leaves: every text the submit commits, pushes or sends (the title, the description,
the reviewers, the branch name, the commit message, the report that is the pull request's
body, every file) goes through the detector of lint's NB401 before anything is fetched or
written; one found raises :class:`SecretInSubmission` and nothing changes anywhere.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nbops import api_types
from nbops._version import version
from nbops.config import load_config, project_root
from nbops.core.sections import notebook_outline
from nbops.errors import NbopsError, UsageError
from nbops.review.checks import GateReport, check_notebook
from nbops.review.git import Git, PushError, git_lock
from nbops.review.policy import load_policy
from nbops.review.report import ReportInput, render_report

__all__ = [
    "GateFailed",
    "SecretInSubmission",
    "SubmitOptions",
    "SubmitResult",
    "review_branch",
    "stripped_notebook",
    "submit",
]

_BODY_LIMIT = 60_000  # GitHub rejects pull request bodies over 65,536 characters
_VOLATILE_CELL_KEYS = ("execution", "ExecuteTime", "collapsed", "scrolled", "papermill")
_VOLATILE_NB_KEYS = ("widgets", "papermill", "execution", "varInspector", "toc")


class GateFailed(NbopsError):
    """The notebook does not pass the review gate; nothing was changed anywhere."""

    def __init__(self, gate: GateReport) -> None:
        failing = [c.id for c in gate.checks if c.blocking]
        super().__init__(
            f"the review gate blocks this notebook: {', '.join(failing)}",
            path=gate.path,
            hint=f"nbops check {gate.path} lists what to fix",
        )
        self.gate = gate


class SecretInSubmission(UsageError):
    """A text the submit would commit, push or send to the forge holds a secret; nothing was
    changed anywhere. ``field`` names the text (a request field such as ``title``, or
    ``branch``, ``commit_message``, ``report``, ``file``), ``kind`` what the secret looks like
    and ``redacted`` its safe form (``'sk_l…' (32 chars)``): the secret itself is never said."""

    def __init__(self, field: str, where: str, kind: str, redacted: str, *,
                 path: str | None = None, hint: str | None = None) -> None:
        super().__init__(
            f"{where} holds a secret ({kind} {redacted}): nothing was committed, pushed or sent",
            path=path,
            hint=hint or f"take it out of {where} and submit again (a secret must never reach a "
                         "commit, a branch or a pull request: revoke it if it was shared)",
        )
        self.field = field
        self.kind = kind
        self.redacted = redacted


@dataclass
class SubmitOptions:
    title: str | None = None
    message: str | None = None
    reviewers: Sequence[str] = ()
    base: str | None = None
    remote: str | None = None
    dry_run: bool = False  # build and show the submission; no branch, no push, no pull request
    env: Mapping[str, str] | None = None  # where forge tokens are read (default os.environ)


@dataclass
class SubmitResult:
    notebook: str
    branch: str
    base: str
    remote: str
    commit: str | None
    committed: bool  # False: the branch already had exactly this content
    pushed: bool
    files: list[str]
    report_path: str
    gate: GateReport
    forge: str | None = None
    pull_request: Any = None  # nbops.review.forges PullRequest
    compare_url: str | None = None
    warnings: list[str] = field(default_factory=list)
    dry_run: bool = False
    merged_base: bool = False  # the base had moved: merged into the branch by this submit

    def to_json(self) -> api_types.SubmitResult:
        pr = self.pull_request
        return {
            "notebook": self.notebook,
            "branch": self.branch,
            "base": self.base,
            "remote": self.remote,
            "commit": self.commit,
            "committed": self.committed,
            "merged_base": self.merged_base,
            "pushed": self.pushed,
            "dry_run": self.dry_run,
            "files": list(self.files),
            "report": self.report_path,
            "forge": self.forge,
            "pull_request": None if pr is None else {
                "number": pr.number, "url": pr.url, "state": pr.state, "created": pr.created,
            },
            "compare_url": self.compare_url,
            "warnings": list(self.warnings),
            "gate": self.gate.to_json(),
        }


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-.") or "notebook"


def review_branch(repo_path: str, email: str) -> str:
    """``review/<notebook>-<7 hex>``: the same for every submit of one notebook by one author."""
    digest = hashlib.sha256(f"{repo_path}\n{email.lower()}".encode()).hexdigest()[:7]
    return f"review/{_slug(Path(repo_path).stem)}-{digest}"


def stripped_notebook(path: Path) -> str:
    """The notebook as submitted: no outputs, no execution counts, no volatile metadata.

    Written as nbformat writes notebooks (sorted keys, the file's own indent), without
    importing nbformat (~1 s of imports), so the diff a reviewer sees is code and text."""
    from nbops.core.notebook import read_notebook

    nb = read_notebook(path)
    for key in _VOLATILE_NB_KEYS:
        nb.metadata.pop(key, None)
    for cell in nb.cells:
        for key in _VOLATILE_CELL_KEYS:
            cell.metadata.pop(key, None)
        if cell.is_code:
            cell.clear_outputs()
    text = nb.dumps()
    return text if text.endswith("\n") else text + "\n"


def _library_files(
    notebook: Path, top: Path, warnings: list[str]
) -> tuple[dict[str, bytes], api_types.ModularizePlan | None]:
    """The generated module, tests and slim notebook, as they are in the working tree, and
    the plan that describes them (paths relative to ``top``; None without a module)."""
    from nbops.core.layout import library_layout
    from nbops.modularize import ModularizeOptions, modularize, plan_to_dict

    try:
        layout = library_layout(notebook)
        generated = (layout.init_path, layout.module_path, layout.tests_path, layout.slim_path)
        if not any(p.is_file() for p in generated):
            return {}, None  # no library: nothing to plan
        # the plan says which files are older than the notebook, and describes the library
        plan = modularize(notebook, ModularizeOptions(dry_run=True))
    except NbopsError as exc:
        warnings.append(f"library not included: {exc.message}")
        return {}, None
    files: dict[str, bytes] = {}
    for action in plan.files:
        if not action.path.is_file():
            continue
        try:
            rel = action.path.resolve().relative_to(top)
        except ValueError:
            warnings.append(f"{action.path} is outside the repository: not included")
            continue
        files[rel.as_posix()] = action.path.read_bytes()
        if action.action == "overwrite":
            warnings.append(f"{rel.as_posix()} is older than the notebook: run nbops modularize")
    described = plan_to_dict(plan, top) if plan.module_file.path.is_file() else None
    return files, described


def _latest_run(notebook: Path, root: Path) -> dict[str, Any] | None:
    from nbops.run.runner import default_runs_dir, read_run_index

    runs = read_run_index(default_runs_dir(root), notebook)
    finished = [r for r in runs if r.get("status") == "FINISHED"]
    chosen = finished or runs
    return chosen[-1] if chosen else None


def _explanation(run: dict[str, Any] | None, root: Path, warnings: list[str]) -> list[str]:
    """The latest tracked run's explanation section (``nbops.log_model(..., eval_data=...)``),
    as the release's model card shows it; none when the run logged none. Opens MLflow only
    when the project has a local store with that run; a store that cannot be read is a
    warning, never a failed submit."""
    from nbops.run.tracking import _sqlite_path, default_tracking_uri

    run_id = (run or {}).get("run_id")
    uri = default_tracking_uri(root)
    db = _sqlite_path(uri)
    if not run_id or (db is not None and not db.is_file()):
        return []
    try:
        from nbops.review.explanation import card_lines, read
        from nbops.run.tracking import mlflow_client

        found = read(mlflow_client(uri), str(run_id))
    except NbopsError as exc:
        warnings.append(f"the latest run's explanation is not in the report: {exc.message}")
        return []
    return card_lines(found, str(run_id)) if found else []


def _champion(model: str | None, root: Path) -> dict[str, Any] | None:
    """The champion of the registered ``model`` (opens MLflow: only when a model is named)."""
    if not model:
        return None
    from nbops.run.tracking import CHAMPION, MlflowTracker, default_tracking_uri

    tracker = MlflowTracker(default_tracking_uri(root))
    record = tracker.champion(model)
    if record is None:
        return None
    aliases = dict(tracker.client.get_registered_model(model).aliases or {})
    return {"model": model, "version": str(aliases.get(CHAMPION, "?")),
            "run_id": record.run_id, "metrics": dict(record.metrics)}


def _no_secret(field: str, where: str, text: str | None, *, path: str | None = None,
               hint: str | None = None) -> None:
    """Refuse ``text`` when the detector of NB401 finds a secret in it (see SecretInSubmission)."""
    from nbops.lint.secrets import find_secrets

    found = find_secrets(text) if text else []
    if found:
        raise SecretInSubmission(field, where, found[0].label, found[0].redacted, path=path, hint=hint)


def _no_secrets_in_options(opts: SubmitOptions) -> None:
    """The texts the user typed (the CLI's options, the REST request's fields, the forms)."""
    _no_secret("title", "the title", opts.title)
    _no_secret("message", "the description (message)", opts.message)
    for reviewer in opts.reviewers:
        _no_secret("reviewers", "a reviewer's name", reviewer)
    _no_secret("base", "the base branch name", opts.base)
    _no_secret("remote", "the remote's name", opts.remote)


def _no_secrets(files: Mapping[str, bytes]) -> None:
    """Never push a secret: scan every file of the submission (names and contents), not just
    the notebook."""
    for name, data in files.items():
        _no_secret("file", "the name of a file of the submission", name,
                   hint="rename the file and submit again")
        _no_secret("file", name, data.decode("utf-8", errors="replace"), path=name,
                   hint="remove it from the file (read it from the environment) and submit again")


def _commit_message(title: str, name: str, email: str, rel: str, gate: GateReport) -> str:
    return (f"{title}\n\nSubmitted for review by {name} <{email}> with nbops "
            f"{version()}.\n\nNotebook: {rel}\nGate: passed "
            f"({sum(c.status == 'pass' for c in gate.checks)} checks)\n")


def submit(notebook: str | Path, options: SubmitOptions | None = None) -> SubmitResult:
    """Gate, build, commit, push and open (or update) the pull request; see the module doc."""
    from nbops.run.lineage import notebook_sha256
    from nbops.run.params import read_parameters

    opts = options or SubmitOptions()
    path = Path(notebook).resolve()
    if not path.is_file():
        from nbops.errors import NotFoundError

        raise NotFoundError("no such notebook", path=notebook, hint="check the path")
    # every text that would be committed, pushed or sent is checked before anything is done
    _no_secrets_in_options(opts)
    git = Git(path.parent)
    top = git.toplevel().resolve()
    try:
        rel = path.relative_to(top).as_posix()
    except ValueError:
        raise UsageError(f"{notebook} is not inside the git repository {top}") from None
    config = load_config(path.parent)
    policy = load_policy(config)
    remote = opts.remote or policy.remote
    base = opts.base or policy.base
    gate = check_notebook(path, config=config, policy=policy)
    if not gate.passed:
        raise GateFailed(gate)
    url = git.remote_url(remote)
    name, email = git.identity()
    _no_secret("author", "your git user.name", name, hint="fix it: git config user.name")
    _no_secret("author", "your git user.email", email, hint="fix it: git config user.email")
    branch = review_branch(rel, email)
    _no_secret("branch", "the review branch name (made from the notebook's file name)", branch,
               hint="rename the notebook and submit again")
    warnings: list[str] = []
    root = project_root(path)[0]  # where nbops run keeps the project's runs

    files: dict[str, bytes] = {rel: stripped_notebook(path).encode("utf-8")}
    library_files, library = _library_files(path, top, warnings)
    for extra, content in library_files.items():
        files.setdefault(extra, content)
    report_rel = f"reviews/{Path(rel).stem}.md"
    nb = _read(path)
    title_text, _, _ = notebook_outline(nb)
    title = opts.title or f"Review: {title_text or path.stem}"
    _no_secret("title", "the title (from the notebook's H1 title)", title)
    message = _commit_message(title, name, email, rel, gate)
    _no_secret("commit_message", "the commit message", message)
    _no_secrets(files)
    params = _params(read_parameters, nb)
    latest_run = _latest_run(path, root)
    champion = _champion(policy.model, root)
    explanation = _explanation(latest_run, root, warnings)
    sha = notebook_sha256(path)

    def report_for(base_commit: str) -> str:
        """The report (the pull request's body), checked for secrets before it goes anywhere."""
        text = render_report(ReportInput(
            notebook=nb, path=rel, gate=gate, params=params, latest_run=latest_run,
            notebook_sha256=sha, champion=champion, author=f"{name} <{email}>", base=base,
            base_commit=base_commit, files=sorted([*files, report_rel]), title=title,
            message=opts.message or "", library=library, promote=config.promote,
            explanation=explanation,
        ))
        _no_secret("report", f"the review report {report_rel} (the pull request's body)", text,
                   path=report_rel,
                   hint="it is made from the notebook, its latest tracked run and the "
                        "description: take the secret out of them and submit again")
        return text

    report_for("")  # before the lock: a blocked submit leaves nothing behind

    with git_lock(git.common_dir()):
        base_commit = git.fetch_branch(remote, base)
        if base_commit is None:
            raise UsageError(f"the remote {remote!r} has no branch {base!r}",
                             hint="push the base branch first, or pass --base BRANCH")
        remote_head = git.fetch_branch(remote, branch)
        local_head = git.rev(f"refs/heads/{branch}")
        start = _start(git, local_head, remote_head, base_commit, branch)
        report = report_for(base_commit)
        files[report_rel] = report.encode("utf-8")
        identity = ["-c", f"user.name={name}", "-c", f"user.email={email}"]
        with (
            tempfile.TemporaryDirectory(prefix="nbops-submit-") as tmp,
            git.worktree(Path(tmp) / "wt", start) as wt,
        ):
            folder = Path(tmp) / "wt"
            merged = _merge_base(wt, folder, identity, base_commit, f"{remote}/{base}", files,
                                 warnings)
            _write(folder, files)
            wt.run(["add", "--", *files])
            if wt.run(["diff", "--cached", "--quiet"], check=False).returncode != 0:
                wt.run([*identity, "commit", "--quiet", "--no-verify", "-F", "-"], input=message)
            commit = wt.out("rev-parse", "HEAD")
        result = SubmitResult(
            notebook=rel, branch=branch, base=base, remote=remote, commit=commit,
            committed=commit != start, pushed=False, files=sorted(files), report_path=report_rel,
            gate=gate, warnings=warnings, dry_run=opts.dry_run, merged_base=merged,
        )
        if opts.dry_run:
            return result
        if commit != local_head:
            git.update_branch(branch, commit, local_head)
        if commit != remote_head:
            git.push(remote, branch)
            result.pushed = True
    _open_pull_request(result, url, policy, opts, title, report)
    return result


def _read(path: Path) -> Any:
    from nbops.core.notebook import read_notebook

    return read_notebook(path)


def _params(read: Any, nb: Any) -> Any:
    try:
        return read(nb) if nb.is_python else None
    except NbopsError:
        return None


def _write(folder: Path, files: Mapping[str, bytes], only: Sequence[str] | None = None) -> None:
    for name_rel in files if only is None else only:
        target = folder / name_rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(files[name_rel])


def _merge_base(wt: Git, folder: Path, identity: list[str], base_commit: str, label: str,
                files: Mapping[str, bytes], warnings: list[str]) -> bool:
    """Bring a base that moved since the last submit into the review branch (a merge commit,
    or a fast-forward when the branch was merged already), so that the pull request shows no
    conflicts and the submission is checked against today's base. Never a rebase: the branch
    is never rewritten. Conflicts only in files the submission writes anyway are resolved with
    the submission's content; any other conflict is left for the reviewers, with a warning."""
    if wt.run(["merge-base", "--is-ancestor", base_commit, "HEAD"], check=False).returncode == 0:
        return False  # the base has not moved (or the branch starts from it)
    message = f"Merge {label} into the review branch (nbops submit)"
    proc = wt.run([*identity, "merge", "--ff", "--no-verify", "--no-edit", "--quiet",
                   "-m", message, base_commit], check=False)
    if proc.returncode == 0:
        return True
    conflicted = (wt.maybe("diff", "--name-only", "--diff-filter=U") or "").splitlines()
    if conflicted and all(name in files for name in conflicted):
        _write(folder, files, conflicted)  # the submission replaces them: its content wins
        wt.run(["add", "--", *conflicted])
        wt.run([*identity, "commit", "--quiet", "--no-verify", "--no-edit"])
        return True
    wt.run(["merge", "--abort"], check=False)
    others = [name for name in conflicted if name not in files]
    said = (proc.stderr or proc.stdout).strip().splitlines()
    why = (f"it conflicts in {', '.join(others[:5])}" if others
           else said[-1] if said else "git merge failed")
    warnings.append(
        f"{label} has moved since the branch was made and could not be merged into it "
        f"({why}): the pull request will show the conflict; resolve it on the branch "
        "(git merge) and submit again"
    )
    return False


def _start(git: Git, local: str | None, remote: str | None, base: str, branch: str) -> str:
    """Where the new commit goes: after everything already on the review branch."""
    if local is None:
        return remote or base
    if remote is None or local == remote:
        return local
    if git.run(["merge-base", "--is-ancestor", remote, local], check=False).returncode == 0:
        return local  # unpushed commits from a failed push: keep them, push them now
    if git.run(["merge-base", "--is-ancestor", local, remote], check=False).returncode == 0:
        return remote  # submitted from elsewhere since: continue from there
    raise PushError(
        f"the local {branch} and the remote's have diverged",
        reason="rejected",
        hint=f"look at both (git log {branch} and the remote's), reconcile them by hand, then "
             "submit again; nbops never force-pushes",
    )


def _open_pull_request(result: SubmitResult, url: str, policy: Any, opts: SubmitOptions,
                       title: str, report: str) -> None:
    import os

    from nbops.review.forges import forge_for

    forge = forge_for(url, forge=policy.forge, api_url=policy.api_url, token_env=policy.token_env,
                      env=opts.env if opts.env is not None else os.environ)
    if forge is None:
        return
    result.forge = forge.name
    if not forge.has_token:
        result.compare_url = forge.compare_url(result.branch, result.base)
        result.warnings.append(f"no {forge.name} token: open the pull request at {result.compare_url}")
        return
    body = report if len(report) <= _BODY_LIMIT else report[:_BODY_LIMIT] + (
        f"\n\n_(cut: the whole report is {result.report_path} on the branch)_\n")
    reviewers = list(dict.fromkeys([*policy.reviewers, *opts.reviewers]))  # the policy's + these
    result.pull_request = forge.open_or_update(
        head=result.branch, base=result.base, title=title, body=body, reviewers=reviewers,
    )
    for warning in getattr(result.pull_request, "warnings", []) or []:
        result.warnings.append(str(warning))
