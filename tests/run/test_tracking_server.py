"""The tracking server's checks and command line, without starting it (tests/cli starts it)."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from nbops.errors import UsageError
from nbops.run import tracking_server as ts


def test_the_default_store_is_the_projects_even_when_the_env_names_a_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    own = f"sqlite:///{(tmp_path.resolve() / '.nbops' / 'mlflow.db').as_posix()}"
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    assert ts.server_store_uri(tmp_path, None) == own
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "http://127.0.0.1:5000")  # a client setting
    assert ts.server_store_uri(tmp_path, None) == own
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "postgresql://db/mlflow")
    assert ts.server_store_uri(tmp_path, None) == "postgresql://db/mlflow"
    monkeypatch.chdir(tmp_path)
    assert ts.server_store_uri(tmp_path, "runs.db") == (
        f"sqlite:///{(tmp_path.resolve() / 'runs.db').as_posix()}")
    with pytest.raises(UsageError, match="is a tracking server, not a store"):
        ts.server_store_uri(tmp_path, "https://mlflow.team")


def test_artifacts_go_to_the_projects_folder_a_given_folder_or_a_uri(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert ts.artifacts_destination(tmp_path, None) == (
        tmp_path.resolve() / ".nbops" / "mlartifacts").as_uri()
    assert ts.artifacts_destination(tmp_path, "art") == (tmp_path.resolve() / "art").as_uri()
    assert ts.artifacts_destination(tmp_path, "s3://bucket/mlflow") == "s3://bucket/mlflow"
    (tmp_path / "taken").write_text("")
    with pytest.raises(UsageError, match="is a file, not a folder") as caught:
        ts.artifacts_destination(tmp_path, "taken")
    assert caught.value.path == "taken"  # relative, as typed


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "127.0.0.2"])
def test_loopback_binds_get_no_warning(host: str) -> None:
    assert ts.is_loopback(host) and ts.security_warning(host) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "10.0.0.5", "mlflow.team.example"])
def test_binding_beyond_loopback_warns_that_there_is_no_auth(host: str) -> None:
    warning = ts.security_warning(host)
    assert warning is not None and host in warning
    assert "no authentication" in warning and "proxy or VPN" in warning


def test_clients_are_told_the_machines_name_for_a_wildcard_bind() -> None:
    assert ts.client_uri("127.0.0.1", 5000) == "http://127.0.0.1:5000"
    assert ts.client_uri("0.0.0.0", 5001) == f"http://{socket.getfqdn()}:5001"
    assert ts.client_uri("::1", 5002) == "http://[::1]:5002"


def test_a_taken_port_is_refused_before_mlflow_starts() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(UsageError, match=f"cannot listen on 127.0.0.1:{port}") as caught:
            ts.check_port("127.0.0.1", port)
        assert "--port" in (caught.value.hint or "")
    ts.check_port("127.0.0.1", port)  # free again
    with pytest.raises(UsageError, match="is not a port"):
        ts.check_port("127.0.0.1", 70000)


def test_the_command_serves_artifacts_from_the_destination() -> None:
    argv = ts.server_command("sqlite:////p/.nbops/mlflow.db", "file:///p/art", "127.0.0.1", 5005)
    assert argv[:4] == [sys.executable, "-m", "mlflow", "server"]
    assert argv[argv.index("--backend-store-uri") + 1] == "sqlite:////p/.nbops/mlflow.db"
    assert "--serve-artifacts" in argv
    assert argv[argv.index("--artifacts-destination") + 1] == "file:///p/art"
    assert argv[argv.index("--default-artifact-root") + 1] == "mlflow-artifacts:/"
    assert argv[-4:] == ["--host", "127.0.0.1", "--port", "5005"]


def test_an_unreadable_store_is_an_error_naming_it_relatively(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("mlflow")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "folder.db").mkdir()
    with pytest.raises(UsageError, match=r"tracking store folder\.db is a folder"):
        ts.open_store(ts.server_store_uri(tmp_path, "folder.db"))
    (tmp_path / "junk.db").write_text("not a database\n" * 100)
    with pytest.raises(UsageError) as caught:
        ts.open_store(ts.server_store_uri(tmp_path, "junk.db"))
    assert caught.value.message.startswith("cannot open the tracking store junk.db: ")
    assert "not a database" in caught.value.message
    assert str(tmp_path) not in str(caught.value)
