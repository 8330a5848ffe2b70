"""Fixtures for the server extension tests: a Jupyter server with nbops loaded, and a client.

pytest-jupyter's fixtures and hooks are imported here rather than listed in the root
conftest's ``pytest_plugins``: that keeps its autouse fixtures (an event loop and a ServerApp
cleanup per test) and its async-test hook confined to ``tests/server``.

Every answer the ``api`` client gets is checked against ``docs/rest-api.yaml``: status,
content type and body schema, so a handler cannot drift from the contract in any test.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import yaml
from openapi_schema_validator import OAS31Validator
from pytest_jupyter.jupyter_server import *  # noqa: F403 (fixtures and hooks, scoped to this folder)
from traitlets.config import Config

from nbops.server.routes import ROUTES

ROOT = Path(__file__).resolve().parents[2]
SPEC_FILE = ROOT / "docs" / "rest-api.yaml"
BAD = ROOT / "tests" / "notebooks" / "bad"
EXAMPLE = ROOT / "examples" / "churn_classifier.ipynb"
sys.path.insert(0, str(ROOT / "tests" / "notebooks"))


@pytest.fixture
def jp_server_config() -> Config:
    return Config({"ServerApp": {"jpserver_extensions": {"nbops": True}}})


class Contract:
    """docs/rest-api.yaml, able to check one real answer against it."""

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.checked: set[tuple[str, str, str]] = set()  # (path template, method, status)

    def schema(self, ref: dict[str, Any]) -> OAS31Validator:
        # "#/components/..." references resolve against the document the validator holds
        return OAS31Validator({**ref, "components": self.spec["components"]})

    def component(self, name: str) -> OAS31Validator:
        return self.schema({"$ref": f"#/components/schemas/{name}"})

    @staticmethod
    def template(url_path: str) -> str | None:
        for route in ROUTES:
            if re.fullmatch(route.pattern, url_path):
                return route.path
        return None

    def check(self, url_path: str, method: str, status: int, body: Any) -> None:
        template = self.template(url_path)
        operation = (self.spec["paths"].get(template) or {}).get(method.lower()) if template else None
        if operation is None or (status == 405):
            # not a documented operation (unknown path, other verb): still the Error shape
            self.component("Error").validate(body)
            assert body["status"] == status
            return
        responses = operation["responses"]
        assert str(status) in responses, f"{method} {template} answered {status}, not documented"
        response = responses[str(status)]
        if "$ref" in response:
            response = self.spec["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
        schema = response["content"]["application/json"]["schema"]
        self.schema(schema).validate(body)
        if status >= 400:
            assert body["status"] == status
        assert template is not None
        self.checked.add((template, method.upper(), str(status)))


@pytest.fixture(scope="session")
def spec() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(SPEC_FILE.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def contract(spec: dict[str, Any]) -> Contract:
    return Contract(spec)


@dataclass
class Reply:
    status: int
    body: Any
    raw: bytes


Api = Callable[..., Awaitable[Reply]]


@pytest.fixture
def api(
    jp_fetch: Any, http_server_client: Any, jp_base_url: str, contract: Contract
) -> Api:
    """``await api("POST", "nbops/lint", {...})``: never raises on an error status.

    ``raw`` sends bytes as they are; ``auth=False`` sends no token; ``headers`` adds headers;
    ``params`` is the query (``api("GET", "nbops/params", params={"path": ...})``).
    """

    async def call(
        method: str,
        path: str,
        body: Any = None,
        *,
        raw: bytes | None = None,
        auth: bool = True,
        params: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> Reply:
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        if data is None and method in ("POST", "PUT") and "body_producer" not in kwargs:
            data = b""
        options = {"method": method, "body": data, "raise_error": False, **kwargs}
        if auth:
            response = await jp_fetch(*path.split("/"), params=params, **options)
        else:
            options.setdefault("request_timeout", 20)
            query = f"?{urlencode(params)}" if params else ""
            response = await http_server_client.fetch(jp_base_url + path + query, **options)
        assert response.headers.get("Content-Type", "").startswith("application/json"), (
            response.code,
            response.body[:200],
        )
        payload = json.loads(response.body)
        contract.check("/" + path, method, response.code, payload)
        return Reply(response.code, payload, response.body)

    return call


@pytest.fixture
def root(jp_root_dir: Path) -> Path:
    """The server's root, holding a real example notebook and a broken one."""
    (jp_root_dir / "sub").mkdir()
    shutil.copy(EXAMPLE, jp_root_dir / "sub" / "churn.ipynb")
    shutil.copy(BAD / "broken_json.ipynb", jp_root_dir / "broken.ipynb")
    return Path(jp_root_dir)


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    """A folder next to the root (not inside it) with a readable notebook in it."""
    folder = tmp_path / "outside"
    folder.mkdir()
    shutil.copy(EXAMPLE, folder / "secret.ipynb")
    return folder
