"""The ipywidgets panel: findings in the widget tree, escaping, "Fix all safe" on disk, visible
errors, how the notebook is found, and the whole thing inside real kernels (nbclient, and a
real jupyter_server when it is installed)."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from nbops.config import load_config
from nbops.errors import ToolError, UsageError
from nbops.lint.diagnostic import Diagnostic
from nbops.lint.engine import Linter
from nbops.widgets import Panel, panel
from nbops.widgets.locate import find_notebook, kernel_id_from_connection_file
from nbops.widgets.panel import render_findings, summary_text

ROOT = Path(__file__).resolve().parents[2]
CHURN = ROOT / "examples" / "churn_classifier.ipynb"
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
LANGUAGE_INFO = {"name": "python", "version": "3.11"}
KERNELSPEC = {"name": "python3", "display_name": "Python 3", "language": "python"}


# -- helpers ------------------------------------------------------------------------------
def html_values(widget: Any) -> list[str]:
    """Every HTML widget's value in a widget tree, depth first."""
    out: list[str] = []
    if type(widget).__name__ == "HTML":
        out.append(widget.value)
    for child in getattr(widget, "children", ()):
        out.extend(html_values(child))
    return out


def all_html(p: Panel) -> str:
    return "\n".join(html_values(p.widget))


def write_notebook(path: Path, *cells: Any) -> Path:
    nb = new_notebook(cells=list(cells))
    nb.metadata["kernelspec"] = KERNELSPEC
    nb.metadata["language_info"] = LANGUAGE_INFO
    nbformat.write(nb, path)
    return path


def clean_notebook(path: Path) -> Path:
    return write_notebook(
        path,
        new_markdown_cell("# Clean\n\nA tiny analysis."),
        new_code_cell("total = sum([1, 2, 3])\nprint(total)\n"),
        new_markdown_cell("## Result\n\nThe total is printed above."),
    )


def lint(path: Path) -> list[Diagnostic]:
    return Linter(load_config(path.parent), cache=False).lint_file(path).diagnostics


def fixable(diags: list[Diagnostic]) -> int:
    return sum(1 for d in diags if d.fix is not None and d.fix.applicability == "safe")


@pytest.fixture(autouse=True)
def _close_widgets() -> Iterator[None]:
    """Close every widget a test made: left open, their comms fail noisily at exit."""
    yield
    from ipywidgets import Widget

    Widget.close_all()


@pytest.fixture
def churn(tmp_path: Path) -> Path:
    target = tmp_path / "churn_classifier.ipynb"
    shutil.copy(CHURN, target)
    return target


# -- the widget tree ----------------------------------------------------------------------
def test_panel_shows_the_findings_grouped_by_cell(churn: Path) -> None:
    p = panel(churn)
    expected = lint(churn)
    text = all_html(p)
    assert "NB205" in text and "cell 11" in text
    # NB205 sits under the cell 11 heading, before the next cell's heading
    section = text[text.index(">cell 11 ") : text.index(">cell 12 ")]
    assert "NB205" in section and "fix_columns" in section
    # one row per finding, plus one heading per cell (or the notebook)
    table = p.lint.findings_html.value
    groups = {d.cell_index for d in expected}
    assert table.count("<tr>") == len(expected) + len(groups)
    for d in expected:
        assert d.code in table
    assert p.lint.summary == summary_text(expected)
    assert p.summary.startswith(f"{churn}: {len(expected)} findings in ")
    assert "5 errors" in p.summary
    assert churn.name in p.header_html.value and "found via argument" in p.header_html.value
    assert p.lint.fix_button.disabled is False


def test_every_finding_links_to_its_rule_docs(churn: Path) -> None:
    p = panel(churn)
    table = p.lint.findings_html.value
    with_url = [d for d in p.lint.diagnostics if d.url]
    assert with_url
    for d in with_url:
        assert f'href="{d.url}"' in table
    assert 'target="_blank"' in table


def test_severity_colours_use_theme_variables_with_fallbacks(churn: Path) -> None:
    table = panel(churn).lint.findings_html.value
    assert "var(--jp-error-color1, var(--vscode-editorError-foreground, #d32f2f))" in table
    assert "var(--jp-warn-color1," in table and "var(--jp-info-color1," in table


def test_user_text_is_escaped_end_to_end(tmp_path: Path) -> None:
    nb = write_notebook(
        tmp_path / "xss.ipynb",
        new_markdown_cell("# XSS"),
        new_code_cell(
            'import pandas as pd\n\ndf = pd.read_csv("/home/<script>alert(1)</script>/d.csv")\n'
        ),
        new_markdown_cell("## End"),
    )
    p = panel(nb)
    messages = [d.message for d in p.lint.diagnostics]
    assert any("<script>" in m for m in messages)  # the finding really carries the markup
    text = all_html(p)
    assert "<script>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text


def test_render_escapes_every_field_and_links_only_http() -> None:
    diag = Diagnostic(
        code="NB<b>",
        name="x",
        message='a "quoted" <img src=x onerror=alert(1)> & more',
        severity="warning",
        path="a.ipynb",
        cell_index=0,
        line=1,
        url="javascript:alert(1)",
    )
    out = render_findings([diag], {0: "x = '<i>'"})
    assert "<img" not in out and "<b>" not in out and "<i>" not in out
    assert "&lt;img src=x onerror=alert(1)&gt;" in out and "&quot;quoted&quot;" in out
    assert "javascript:" not in out  # not linked, and nowhere in an attribute
    assert "NB&lt;b&gt;" in out


def test_all_checks_passed(tmp_path: Path) -> None:
    nb = clean_notebook(tmp_path / "clean.ipynb")
    assert lint(nb) == []
    p = panel(nb)
    assert "All checks passed" in p.lint.findings_html.value
    assert p.lint.summary == "All checks passed: no findings."
    assert p.lint.fix_button.disabled is True


def test_panel_displays_as_a_widget(churn: Path) -> None:
    p = panel(churn)
    bundle = p._repr_mimebundle_()
    assert bundle[WIDGET_MIME]["model_id"] == p.widget.model_id


# -- buttons ------------------------------------------------------------------------------
def test_fix_all_safe_writes_the_fixes_with_a_backup(churn: Path) -> None:
    original = churn.read_bytes()
    p = panel(churn)
    before = fixable(p.lint.diagnostics)
    assert before > 0
    p.lint.fix_button.click()
    assert churn.read_bytes() != original
    backups = list((churn.parent / ".nbops_backup").glob("churn_classifier.*.ipynb"))
    assert len(backups) == 1 and backups[0].read_bytes() == original
    after = fixable(p.lint.diagnostics)
    assert after < before
    assert p.lint.diagnostics == lint(churn)  # the panel shows the file as it now is
    status = p.lint.status_html.value
    assert "Applied" in status and "reload the notebook" in status.lower()
    assert backups[0].name in status
    assert "what changed" in status and p.lint.last_fix
    assert all(line.split(":")[0] in status for line in p.lint.last_fix)
    nbformat.validate(nbformat.read(churn, as_version=4))
    assert p.lint.lint_button.disabled is False


def test_fix_all_with_nothing_to_fix_leaves_the_file_alone(tmp_path: Path) -> None:
    nb = clean_notebook(tmp_path / "clean.ipynb")
    data = nb.read_bytes()
    p = panel(nb)
    p.lint.fix_all()
    assert nb.read_bytes() == data
    assert not (tmp_path / ".nbops_backup").exists()
    assert "Nothing to fix" in p.lint.status_html.value


def test_lint_again_sees_the_saved_file(tmp_path: Path) -> None:
    nb = clean_notebook(tmp_path / "clean.ipynb")
    p = panel(nb)
    assert p.lint.diagnostics == []
    raw = json.loads(nb.read_text())
    raw["cells"][1]["source"] = "import json\ntotal = sum([1, 2, 3])\nprint(total)\n"
    nb.write_text(json.dumps(raw))
    p.lint.lint_button.click()
    assert "F401" in p.lint.findings_html.value
    assert p.lint.status_html.value == ""  # "Working…" is gone once done


def test_a_failing_action_shows_in_the_panel(churn: Path) -> None:
    p = panel(churn)
    churn.write_text("{not json")
    p.lint.fix_button.click()  # must not raise: the click handler reports it
    assert "error" in p.lint.status_html.value
    assert p.lint.fix_button.disabled is True and p.lint.lint_button.disabled is False


# -- visible errors -----------------------------------------------------------------------
def test_missing_path_is_a_visible_error(tmp_path: Path) -> None:
    p = panel(tmp_path / "missing.ipynb")
    status = p.lint.status_html.value
    assert "missing.ipynb does not exist" in status
    assert "panel(&quot;path/to/notebook.ipynb&quot;)" in status  # the hint, escaped
    assert p.lint.findings_html.value == "" and p.lint.fix_button.disabled is True
    assert p.summary.startswith("(notebook not found): error:")


def test_unreadable_notebook_is_a_visible_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{this is not json")
    p = panel(bad)
    assert "cannot lint bad.ipynb" in p.lint.status_html.value
    assert p.lint.error and p.lint.diagnostics == []


def test_no_notebook_found_is_a_visible_error_with_the_way_out(tmp_path: Path) -> None:
    def nowhere(path: Any) -> Any:
        return find_notebook(path, user_ns={}, environ={}, connection_file=tmp_path / "x.json")

    p = Panel(locate=nowhere)
    status = p.lint.status_html.value
    assert "cannot tell which notebook this kernel runs" in status
    assert "JPY_SESSION_NAME (environment): not set" in status
    assert "panel(&quot;path/to/notebook.ipynb&quot;)" in status


def test_missing_ipywidgets_says_what_to_install(
    churn: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # makes `import ipywidgets` fail
    with pytest.raises(ToolError) as info:
        panel(churn)
    assert "nbops[widgets]" in str(info.value)


# -- which notebook -----------------------------------------------------------------------
def _nb(path: Path) -> Path:
    path.write_text("{}")
    return path


def test_jpy_session_name_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = clean_notebook(tmp_path / "from_env.ipynb")
    monkeypatch.setenv("JPY_SESSION_NAME", str(nb))
    p = panel()
    assert p.path == nb.resolve()
    assert p.located is not None and p.located.source == "JPY_SESSION_NAME (environment)"
    assert "found via JPY_SESSION_NAME" in p.header_html.value


def test_old_relative_jpy_session_name_is_found_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nb = _nb(tmp_path / "rel.ipynb")
    monkeypatch.chdir(tmp_path)
    # jupyter_server 2.0.0-2.0.6: the API path, relative to the server root
    found = find_notebook(user_ns={}, environ={"JPY_SESSION_NAME": "project/sub/rel.ipynb"})
    assert found.path == nb.resolve()


def test_vscode_global_is_read_from_the_ipython_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import IPython

    vsc = clean_notebook(tmp_path / "vscode.ipynb")
    env_nb = _nb(tmp_path / "env.ipynb")

    class Shell:
        def __init__(self) -> None:
            self.user_ns = {"__vsc_ipynb_file__": str(vsc)}

    monkeypatch.setattr(IPython, "get_ipython", lambda: Shell())
    monkeypatch.setenv("JPY_SESSION_NAME", str(env_nb))
    p = panel()  # the VS Code global wins over the (possibly inherited) environment
    assert p.path == vsc.resolve()
    assert p.located is not None and p.located.source.startswith("__vsc_ipynb_file__")


def test_discovery_order_and_stale_sources(tmp_path: Path) -> None:
    vsc, pm, conn_nb, env_nb = (_nb(tmp_path / f"{n}.ipynb") for n in ("vsc", "pm", "conn", "env"))
    conn = tmp_path / "kernel-1234-abcd.json"
    conn.write_text(json.dumps({"key": "secret", "jupyter_session": str(conn_nb)}))
    ns: dict[str, Any] = {"__vsc_ipynb_file__": str(vsc), "PAPERMILL_INPUT_PATH": str(pm)}
    env = {"JPY_SESSION_NAME": str(env_nb)}

    def source() -> str:
        return find_notebook(user_ns=ns, environ=env, connection_file=conn).path.stem

    assert source() == "vsc"
    ns["__vsc_ipynb_file__"] = str(tmp_path / "renamed-away.ipynb")  # stale: skipped
    assert source() == "pm"
    del ns["PAPERMILL_INPUT_PATH"]
    assert source() == "conn"
    conn.write_text(json.dumps({"key": "secret"}))
    assert source() == "env"
    found = find_notebook(user_ns=ns, environ=env, connection_file=conn)
    assert any("renamed-away.ipynb" in t and "does not exist" in t for t in found.tried)


def test_papermill_path_counts_only_as_a_notebook_parameter(tmp_path: Path) -> None:
    nb = _nb(tmp_path / "pm.ipynb")
    with pytest.raises(UsageError):
        find_notebook(
            user_ns={},
            environ={"PAPERMILL_INPUT_PATH": str(nb)},
            connection_file=tmp_path / "c.json",
        )
    assert find_notebook(user_ns={"PAPERMILL_INPUT_PATH": str(nb)}, environ={}).path == nb.resolve()


def test_non_notebook_sources_are_skipped(tmp_path: Path) -> None:
    script = tmp_path / "analysis.py"
    script.write_text("x = 1\n")
    with pytest.raises(UsageError) as info:
        find_notebook(
            user_ns={},
            environ={"JPY_SESSION_NAME": str(script)},
            connection_file=tmp_path / "c.json",
        )
    assert "is not an .ipynb file" in str(info.value)
    assert 'panel("path/to/notebook.ipynb")' in str(info.value)


def test_an_explicit_path_is_never_second_guessed(tmp_path: Path) -> None:
    other = _nb(tmp_path / "other.ipynb")
    with pytest.raises(UsageError):
        find_notebook(tmp_path / "missing.ipynb", environ={"JPY_SESSION_NAME": str(other)})
    with pytest.raises(UsageError, match="is a folder"):
        find_notebook(tmp_path)


def test_kernel_id_from_connection_file_name() -> None:
    assert kernel_id_from_connection_file("/run/kernel-0f1e-22aa.json") == "0f1e-22aa"
    assert kernel_id_from_connection_file("/run/jpserver-12.json") is None


# -- the running servers ------------------------------------------------------------------
class FakeServer:
    """A Jupyter-like /api/sessions on 127.0.0.1 that wants ``token`` and serves ``sessions()``."""

    def __init__(self, token: str, sessions: Callable[[], list[dict[str, Any]]]) -> None:
        self.requests: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.requests.append(self.path)
                if self.headers.get("Authorization") != f"token {token}":
                    self.send_response(403)
                    self.end_headers()
                    return
                body = json.dumps(sessions()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    def info_file(self, runtime: Path, root: Path, token: str, pid: int | None = None) -> Path:
        runtime.mkdir(parents=True, exist_ok=True)
        info = {"url": self.url, "token": token, "root_dir": str(root), "pid": pid or os.getpid()}
        path = runtime / f"jpserver-{pid or os.getpid()}.json"
        path.write_text(json.dumps(info))
        return path

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def fake_server() -> Iterator[Callable[..., FakeServer]]:
    made: list[FakeServer] = []

    def make(token: str, sessions: Callable[[], list[dict[str, Any]]]) -> FakeServer:
        made.append(FakeServer(token, sessions))
        return made[-1]

    yield make
    for server in made:
        server.close()


def _session(kernel_id: str, api_path: str) -> dict[str, Any]:
    return {
        "id": "s1",
        "path": api_path,
        "name": Path(api_path).name,
        "type": "notebook",
        "kernel": {"id": kernel_id, "name": "python3"},
    }


def test_server_sessions_find_the_notebook_by_kernel_id(
    tmp_path: Path, fake_server: Callable[..., FakeServer]
) -> None:
    root = tmp_path / "root"
    (root / "sub").mkdir(parents=True)
    nb = _nb(root / "sub" / "mine.ipynb")
    _nb(root / "theirs.ipynb")
    server = fake_server(
        "s3cret",
        lambda: [_session("other-kernel", "theirs.ipynb"), _session("k-42", "sub/mine.ipynb")],
    )
    runtime = tmp_path / "runtime"
    server.info_file(runtime, root, "s3cret")
    found = find_notebook(
        user_ns={}, environ={}, connection_file=runtime / "kernel-k-42.json", runtime_dir=runtime
    )
    assert found.path == nb.resolve() and found.source == "Jupyter server sessions"
    assert server.requests == ["/api/sessions"]


def test_server_sessions_are_also_looked_up_beside_the_connection_file(
    tmp_path: Path, fake_server: Callable[..., FakeServer]
) -> None:
    """The kernel's own runtime directory may differ from the server's (JUPYTER_RUNTIME_DIR
    not inherited): the folder of its connection file is the server's."""
    nb = _nb(tmp_path / "mine.ipynb")
    server = fake_server("tok", lambda: [_session("k-7", "mine.ipynb")])
    server_runtime = tmp_path / "server-runtime"
    server.info_file(server_runtime, tmp_path, "tok")
    found = find_notebook(
        user_ns={},
        environ={},
        connection_file=server_runtime / "kernel-k-7.json",
        runtime_dir=tmp_path / "kernel-runtime-that-does-not-exist",
    )
    assert found.path == nb.resolve()


def test_server_sessions_need_the_right_token_and_a_live_server(
    tmp_path: Path, fake_server: Callable[..., FakeServer]
) -> None:
    root = tmp_path / "root"
    root.mkdir()
    _nb(root / "mine.ipynb")
    server = fake_server("right", lambda: [_session("k-42", "mine.ipynb")])
    runtime = tmp_path / "runtime"
    server.info_file(runtime, root, "wrong")
    with pytest.raises(UsageError, match="no running server has a session for this kernel"):
        find_notebook(
            user_ns={},
            environ={},
            connection_file=runtime / "kernel-k-42.json",
            runtime_dir=runtime,
        )
    assert server.requests == ["/api/sessions"]  # asked, refused (403)
    for f in runtime.iterdir():
        f.unlink()
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    server.info_file(runtime, root, "right", pid=dead.pid)  # a server that is gone
    with pytest.raises(UsageError):
        find_notebook(
            user_ns={},
            environ={},
            connection_file=runtime / "kernel-k-42.json",
            runtime_dir=runtime,
        )
    assert server.requests == ["/api/sessions"]  # a dead server's info file is not used


# -- real kernels -------------------------------------------------------------------------
PANEL_CELL = """\
from nbops.widgets import panel
p = panel()
print("SUMMARY", p.summary)
print("SOURCE", p.located.source if p.located else None)
p"""


def _kernel_notebook(path: Path) -> Path:
    return write_notebook(
        path,
        new_markdown_cell("# Kernel test\n\nLints itself."),
        new_code_cell("import json\nimport os\n\nvalue = 1\n"),
        new_code_cell(PANEL_CELL),
        new_markdown_cell("## End"),
    )


def _run(path: Path, env: dict[str, str], km: Any = None) -> tuple[str, list[dict[str, Any]]]:
    from nbclient import NotebookClient

    from helpers import ipc_kernel_manager

    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        km=km if km is not None else ipc_kernel_manager(path.parent / "ipc"),
        kernel_name="python3",
        timeout=120,
        resources={"metadata": {"path": str(path.parent)}},
    )
    client.execute(env=env)
    outputs = nb.cells[2].outputs
    stdout = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    return stdout, outputs


def _clean_env() -> dict[str, str]:
    env = dict(os.environ)
    for name in ("JPY_SESSION_NAME", "PAPERMILL_INPUT_PATH"):
        env.pop(name, None)
    return env


@pytest.mark.slow
def test_real_kernel_finds_its_notebook_from_jpy_session_name(tmp_path: Path) -> None:
    path = _kernel_notebook(tmp_path / "selflint.ipynb")
    stdout, outputs = _run(path, {**_clean_env(), "JPY_SESSION_NAME": str(path)})
    expected = summary_text(lint(path))
    assert "F401" in {d.code for d in lint(path)}
    assert f"SUMMARY {path.resolve()}: {expected}" in stdout
    assert (
        "SOURCE jupyter_session (kernel connection file)" in stdout
        or "SOURCE JPY_SESSION_NAME (environment)" in stdout
    )
    assert any(WIDGET_MIME in o.get("data", {}) for o in outputs)


@pytest.mark.slow
def test_real_kernel_asks_the_running_server(
    tmp_path: Path, fake_server: Callable[..., FakeServer]
) -> None:
    """No variable names the notebook: the kernel reads its id from its connection file and
    finds its session on the (fake) server listed in the runtime directory."""
    root = tmp_path / "root"
    root.mkdir()
    path = _kernel_notebook(root / "asks_server.ipynb")
    runtime = tmp_path / "runtime"

    def sessions() -> list[dict[str, Any]]:
        ids = [kernel_id_from_connection_file(f) for f in runtime.glob("kernel-*.json")]
        return [_session(str(k), "asks_server.ipynb") for k in ids if k]

    server = fake_server("tok", sessions)
    server.info_file(runtime, root, "tok")
    # as a Jupyter server does: kernel-<id>.json in the runtime directory
    from jupyter_client.manager import AsyncKernelManager

    km = AsyncKernelManager(
        kernel_name="python3",
        connection_file=str(runtime / f"kernel-{uuid.uuid4()}.json"),
        transport="ipc",  # parallel test workers never race for a TCP port
        ip=str(tmp_path / "ipc-kernel"),
    )
    stdout, outputs = _run(path, {**_clean_env(), "JUPYTER_RUNTIME_DIR": str(runtime)}, km)
    assert "SOURCE Jupyter server sessions" in stdout
    assert f"SUMMARY {path.resolve()}: {summary_text(lint(path))}" in stdout
    assert server.requests  # the kernel really asked
    assert any(WIDGET_MIME in o.get("data", {}) for o in outputs)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api(url: str, token: str, method: str = "GET", body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url,
        data=data,
        method=method,
        headers={"Authorization": f"token {token}", "Content-Type": "application/json"},
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(req, timeout=30) as resp:
        return json.loads(resp.read() or b"null")


@pytest.mark.slow
def test_real_jupyter_server_session_and_rename(tmp_path: Path) -> None:
    """A real jupyter_server starts the kernel as JupyterLab would; the kernel finds its
    notebook, and after a rename (file and session, as the front end does) finds the new name
    through the server, since JPY_SESSION_NAME and the connection file are stale."""
    pytest.importorskip("jupyter_server")
    from jupyter_client import BlockingKernelClient

    root, runtime = tmp_path / "root", tmp_path / "runtime"
    root.mkdir()
    path = _kernel_notebook(root / "served.ipynb")
    port, token = _free_port(), "t0ken-for-test"
    env = {**_clean_env(), "JUPYTER_RUNTIME_DIR": str(runtime)}
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyter_server",
            "--no-browser",
            f"--port={port}",
            "--ip=127.0.0.1",
            "--allow-root",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    client = None
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _api(f"{base}/api/status", token)
                break
            except OSError:
                if time.monotonic() > deadline or server.poll() is not None:
                    pytest.fail("jupyter_server did not start")
                time.sleep(0.3)
        session = _api(
            f"{base}/api/sessions",
            token,
            "POST",
            {
                "path": "served.ipynb",
                "name": "served.ipynb",
                "type": "notebook",
                "kernel": {"name": "python3"},
            },
        )
        conn = runtime / f"kernel-{session['kernel']['id']}.json"
        client = BlockingKernelClient(connection_file=str(conn))
        client.load_connection_file()
        client.start_channels()
        client.wait_for_ready(timeout=60)

        def ask() -> str:
            out: list[str] = []
            code = (
                "from nbops.widgets.locate import find_notebook\n"
                "l = find_notebook()\nprint(l.source, '|', l.path)"
            )
            client.execute_interactive(
                code,
                timeout=60,
                output_hook=lambda m: out.append(
                    m["content"].get("text", "") if m["msg_type"] == "stream" else ""
                ),
            )
            return "".join(out).strip()

        source, found = ask().split(" | ")
        assert Path(found) == path.resolve()
        assert source in (
            "jupyter_session (kernel connection file)",
            "JPY_SESSION_NAME (environment)",
        )

        _api(f"{base}/api/contents/served.ipynb", token, "PATCH", {"path": "renamed.ipynb"})
        _api(
            f"{base}/api/sessions/{session['id']}",
            token,
            "PATCH",
            {"path": "renamed.ipynb", "name": "renamed.ipynb"},
        )
        source, found = ask().split(" | ")
        renamed = (root / "renamed.ipynb").resolve()
        assert (source, Path(found)) == ("Jupyter server sessions", renamed)
    finally:
        if client is not None:
            client.stop_channels()
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
