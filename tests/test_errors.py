"""relative_text (nbops.errors): the one way the fronts write paths in messages relative to a
folder (the CLI's working directory, the server's root), and the CLI's and the server's use."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nbops.errors import NbopsError, relative_text

NAME = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,7}", fullmatch=True)
FOLDER = st.lists(NAME, min_size=1, max_size=4).map(lambda parts: "/" + "/".join(parts))
SUB = st.lists(NAME, min_size=1, max_size=4).map("/".join)
AROUND = st.sampled_from([("", ""), ("see ", ": line 2"), ("'", "'"), ("(", ")"), ("a=", ", b")])


@given(FOLDER, SUB, AROUND)
def test_a_path_under_the_folder_comes_out_relative(
    folder: str, sub: str, around: tuple[str, str]
) -> None:
    before, after = around
    out = relative_text(folder, f"{before}{folder}/{sub}{after}")
    assert out == f"{before}{sub}{after}"
    assert not out[len(before):].startswith("/")  # never an absolute path out
    assert relative_text(Path(folder), f"{folder}/{sub}") == sub
    assert relative_text(folder + "/", f"{folder}/{sub}") == sub  # a trailing slash on the folder


@given(FOLDER, AROUND)
def test_the_folder_itself_is_dot(folder: str, around: tuple[str, str]) -> None:
    before, after = around
    assert relative_text(folder, f"{before}{folder}{after}") == f"{before}.{after}"


@given(FOLDER, FOLDER, SUB)
def test_a_path_outside_the_folder_stays_as_it_was(folder: str, other: str, sub: str) -> None:
    outside = [
        f"{other}/{sub}",  # elsewhere
        f"{folder}2/{sub}",  # a sibling whose name starts with the folder's
        f"{folder}-old/{sub}",
        f"{folder}.txt",
        f"x{folder}/{sub}",  # a relative path that contains the folder's letters
        "POST /nbops/runs, https://github.com/a/b, 1/2, and/or",
    ]
    for text in outside:
        if text.startswith(folder + "/") or text == folder:
            continue  # `other` happened to be under `folder`
        assert relative_text(folder, text) == text


def test_the_file_system_root_leaves_the_text_alone() -> None:
    # the CLI did nothing when run from "/", and a server rooted at "/" has only absolute paths
    assert relative_text("/", "cannot read /etc/x.toml") == "cannot read /etc/x.toml"
    assert relative_text(Path("/"), "/") == "/"


def test_the_cli_writes_the_error_s_paths_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from nbops.cli.main import _cwd_relative

    monkeypatch.chdir(tmp_path)
    cwd = os.getcwd()
    exc = NbopsError(f"cannot write {cwd} nor {cwd}2/x.ipynb", path=f"{cwd}/sub/a.ipynb",
                     hint=f"free space in {cwd}/sub")
    _cwd_relative(exc)
    assert exc.message == f"cannot write . nor {cwd}2/x.ipynb"
    assert exc.path == "sub/a.ipynb" and exc.hint == "free space in sub"


def test_the_server_writes_paths_relative_to_its_root() -> None:
    from nbops.server.pool import public_text
    from nbops.server.pool import relative_text as server_relative

    root = Path("/tmp/nbops-test/root_dir")
    assert server_relative is relative_text  # one helper
    assert relative_text(root, f"cannot write {root}/a.ipynb") == "cannot write a.ipynb"
    assert relative_text(root, f"see {root}2/x.ipynb") == f"see {root}2/x.ipynb"
    assert public_text(root, f"see {root}2/x.ipynb") == "see x.ipynb (outside the server root)"
