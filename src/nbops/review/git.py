"""git for ``nbops submit``: argument lists only, no prompts, failures in plain words.

Every call is ``git -C <dir> ...`` with ``GIT_TERMINAL_PROMPT=0`` (a push that needs a
password fails at once instead of hanging a server thread), and a failing push is told apart
as rejected (the remote has commits we do not), declined (a hook), authentication, or network,
so the user knows what to do. A remote that is a folder here is diagnosed by what happened to
it: gone, not a repository, or not writable (named relative to the repository, never by an
absolute path). Nothing here ever passes ``--force``.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
from collections.abc import Iterator, Sequence
from pathlib import Path

from nbops.errors import ConflictError, NbopsError, ToolError, UsageError

__all__ = ["Git", "PushError", "git_lock"]

_TIMEOUT_S = 120.0


class PushError(ToolError):
    """``git push`` failed; ``reason`` is rejected | auth | network | other."""

    def __init__(self, message: str, *, reason: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason


def _redact(text: str) -> str:
    """URLs with credentials (https://user:token@host) lose the credentials."""
    return re.sub(r"(\w+://)[^/@\s]+@", r"\1***@", text)


class Git:
    """One repository (or worktree) driven through the ``git`` command line."""

    def __init__(self, cwd: Path) -> None:
        self.cwd = cwd

    def run(self, args: Sequence[str], *, check: bool = True, timeout: float = _TIMEOUT_S,
            input: str | None = None) -> subprocess.CompletedProcess[str]:
        # the Jupyter server's token is not git's business (a hook could read it)
        env = {k: v for k, v in os.environ.items() if k not in ("JUPYTER_TOKEN", "JPY_API_TOKEN")}
        env.update({"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "", "SSH_ASKPASS": "",
                    "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"})
        env.setdefault("GIT_SSH_COMMAND", "ssh -o BatchMode=yes")
        try:
            proc = subprocess.run(
                ["git", "-C", str(self.cwd), *args], capture_output=True, text=True, env=env,
                timeout=timeout, check=False, input=input,
            )
        except FileNotFoundError:
            raise ToolError("git is not installed", hint="install git and try again") from None
        except subprocess.TimeoutExpired:
            raise ToolError(f"git {args[0]} ran over {timeout:.0f} s",
                            hint="check the network and the remote, then try again") from None
        if check and proc.returncode != 0:
            detail = _redact((proc.stderr or proc.stdout).strip().splitlines()[-1:][0]
                             if (proc.stderr or proc.stdout).strip() else "")
            verb = next((a for i, a in enumerate(args)
                         if not a.startswith("-") and (i == 0 or args[i - 1] != "-c")), "")
            raise ToolError(f"git {verb} failed: {detail}".rstrip(": "))
        return proc

    def out(self, *args: str) -> str:
        return self.run(args).stdout.strip()

    def maybe(self, *args: str) -> str | None:
        proc = self.run(args, check=False)
        return proc.stdout.strip() if proc.returncode == 0 else None

    # ----------------------------------------------------------------- queries

    def toplevel(self) -> Path:
        found = self.maybe("rev-parse", "--show-toplevel")
        if not found:
            raise UsageError(f"{self.cwd} is not in a git repository",
                             hint="nbops submit works in a git repository: git init, commit, add a remote")
        return Path(found)

    def common_dir(self) -> Path:
        path = Path(self.out("rev-parse", "--git-common-dir"))
        return path if path.is_absolute() else (self.cwd / path).resolve()

    def remote_url(self, remote: str) -> str:
        """The remote's URL as configured (``insteadOf`` rewrites not applied: the forge is
        recognised by the URL the user gave)."""
        url = self.maybe("config", "--get", f"remote.{remote}.url")
        if not url:
            known = self.maybe("remote") or ""
            raise UsageError(
                f"no git remote named {remote!r}" + (f" (remotes: {', '.join(known.split())})" if known else ""),
                hint=f"add it: git remote add {remote} URL, or pass --remote NAME",
            )
        return url

    def identity(self) -> tuple[str, str]:
        name, email = self.maybe("config", "user.name"), self.maybe("config", "user.email")
        if not name or not email:
            raise UsageError("git does not know who you are (user.name / user.email)",
                             hint='git config --global user.name "Your Name" && '
                                  'git config --global user.email you@example.com')
        return name, email

    def rev(self, ref: str) -> str | None:
        return self.maybe("rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")

    def fetch_branch(self, remote: str, branch: str) -> str | None:
        """Fetch ``remote``'s ``branch`` into its remote-tracking ref; its commit, or None
        when the remote has no such branch. Network and auth failures raise."""
        proc = self.run(["fetch", "--no-tags", "--quiet", remote,
                         f"+refs/heads/{branch}:refs/remotes/{remote}/{branch}"], check=False)
        if proc.returncode == 0:
            return self.rev(f"refs/remotes/{remote}/{branch}")
        text = proc.stderr
        if "couldn't find remote ref" in text or "could not find remote ref" in text.lower():
            return None
        raise _push_error(text, "fetch", remote, local=self._local_remote(remote))

    # ----------------------------------------------------------------- changes

    @contextlib.contextmanager
    def worktree(self, folder: Path, start: str) -> Iterator[Git]:
        """A detached worktree at ``start`` in ``folder``, removed afterwards whatever happens."""
        self.run(["worktree", "add", "--detach", "--quiet", str(folder), start])
        try:
            yield Git(folder)
        finally:
            self.run(["worktree", "remove", "--force", str(folder)], check=False)
            self.run(["worktree", "prune"], check=False)

    def update_branch(self, branch: str, new: str, old: str | None) -> None:
        """Point ``refs/heads/branch`` at ``new`` only if it still is ``old`` (None: absent)."""
        proc = self.run(["update-ref", f"refs/heads/{branch}", new, old or "0" * 40], check=False)
        if proc.returncode != 0:
            raise ConflictError(
                f"branch {branch} changed while nbops was building the submission",
                hint="another submit ran at the same time: run nbops submit again",
            )

    def push(self, remote: str, branch: str) -> None:
        """Push ``branch`` to ``remote`` as a fast-forward (never forced)."""
        proc = self.run(["push", "--porcelain", remote, f"refs/heads/{branch}:refs/heads/{branch}"],
                        check=False)
        if proc.returncode != 0:
            raise _push_error(proc.stderr + proc.stdout, "push", remote, branch,
                              local=self._local_remote(remote, push=True))

    def _local_remote(self, remote: str, *, push: bool = False) -> _LocalRemote | None:
        """Where ``remote`` is when it is a folder on this machine (a path or ``file://``
        URL, ``insteadOf`` applied), to say what is wrong with it; None for network URLs."""
        url = self.maybe("remote", "get-url", *(["--push"] if push else []), remote)
        if not url:
            return None
        if url.startswith("file://"):
            url = url.removeprefix("file://")
        elif "://" in url or re.match(r"[^/\\]+:", url):  # https://, ssh://, host:path (scp)
            return None
        folder = Path(url).expanduser()
        if not folder.is_absolute():
            folder = self.cwd / folder
        top = self.maybe("rev-parse", "--show-toplevel")
        try:
            shown = os.path.relpath(folder, top or self.cwd)
        except ValueError:  # another drive (Windows)
            shown = url
        return _LocalRemote(folder, shown)


class _LocalRemote:
    """A remote that is a folder here: its path, and how to show it (relative to the
    repository, never an absolute path of the machine)."""

    def __init__(self, folder: Path, shown: str) -> None:
        self.folder = folder
        self.shown = shown


# what git says when the remote's folder is there but not writable for this user
_UNWRITABLE = ("insufficient permission", "unable to create temporary object", "permission denied",
               "read-only file system", "failed to write object")


def _push_error(text: str, verb: str, remote: str, branch: str | None = None, *,
                local: _LocalRemote | None = None) -> NbopsError:
    low = text.lower()
    where = f"{remote} ({branch})" if branch else remote
    last = _redact(next((x for x in reversed(text.strip().splitlines()) if x.strip()), "no output"))
    if local is not None and "does not appear to be a git repository" in low:
        if not local.folder.exists():
            return PushError(
                f"git {verb} to {remote}: the remote's folder {local.shown} does not exist",
                reason="network",
                hint=f"check the URL (git remote -v; git remote set-url {remote} PATH) or "
                     f"recreate it (git init --bare {local.shown}); the local branch is kept "
                     "for a retry",
            )
        return PushError(
            f"git {verb} to {remote}: the remote's folder {local.shown} is not a git repository",
            reason="network",
            hint=f"check the URL (git remote -v) or make it one (git init --bare "
                 f"{local.shown}); the local branch is kept for a retry",
        )
    if local is not None and any(k in low for k in _UNWRITABLE):
        why = next((x.removeprefix("error:").strip() for x in text.splitlines()
                    if any(k in x.lower() for k in _UNWRITABLE)), last)
        return PushError(
            f"git {verb} to {where}: permission denied writing to the remote's folder "
            f"{local.shown} ({_redact(why)})",
            reason="other",
            hint=f"you cannot write to {local.shown}: ask its owner for write access (its "
                 "objects and refs folders), or push to a remote you can write to; the local "
                 "branch is kept for a retry",
        )
    if "unpacker error" in low or "unpack failed" in low:  # the remote could not store objects
        why = next((x.removeprefix("error:").strip() for x in text.splitlines()
                    if "unpack failed" in x.lower()), last)
        return PushError(
            f"git {verb} to {where}: the remote could not store the pushed commits "
            f"({_redact(why)})",
            reason="other",
            hint="the remote's repository is not writable for your account (permissions) or "
                 "its disk is full: ask its administrator; the local branch is kept for a retry",
        )
    if "[remote rejected]" in low or "hook declined" in low:
        said = [x.removeprefix("remote:").strip() for x in text.splitlines() if x.startswith("remote:")]
        reason = "; ".join(x for x in said if x) or last
        return PushError(
            f"the remote refused {branch or 'the push'}: {_redact(reason)}",
            reason="declined",
            hint="the remote's rules (a hook, a protected branch) refused it: fix what it says, "
                 "then submit again; your local branch is kept",
        )
    if any(k in low for k in ("[rejected]", "non-fast-forward", "fetch first")):
        return PushError(
            f"the remote rejected the push of {branch}: it has commits this branch does not",
            reason="rejected",
            hint="someone else pushed to the review branch: fetch it, look, and submit again "
                 "(nbops never force-pushes); your local branch is kept",
        )
    if any(k in low for k in ("authentication failed", "permission denied", "could not read username",
                              "403", "401", "access denied", "not authorized", "invalid username or password")):
        return PushError(f"git {verb} to {where}: authentication failed ({last})", reason="auth",
                         hint="check your credentials for this remote (git credential helper, SSH key "
                              "or token); the local branch is kept for a retry")
    if any(k in low for k in ("could not resolve host", "connection refused", "timed out",
                              "network is unreachable", "unable to access", "connection reset",
                              "does not appear to be a git repository", "could not read from remote")):
        return PushError(f"git {verb} to {where}: cannot reach the remote ({last})", reason="network",
                         hint="check the network and the remote URL (git remote -v); the local "
                              "branch is kept for a retry")
    return PushError(f"git {verb} to {where} failed: {last}", reason="other",
                     hint="the local branch is kept; fix the cause and run nbops submit again")


@contextlib.contextmanager
def git_lock(common_dir: Path, timeout: float = 120.0) -> Iterator[None]:
    """One submit at a time per repository (an exclusive lock file in the git directory)."""
    import fcntl
    import time

    path = common_dir / "nbops-submit.lock"
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise ConflictError("another nbops submit is running in this repository",
                                        hint="wait for it to finish, then try again") from None
                time.sleep(0.1)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
