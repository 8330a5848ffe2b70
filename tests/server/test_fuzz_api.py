"""Property-based fuzzing of the REST API (Hypothesis) against a real Jupyter server.

Every route of :data:`nbops.server.routes.ROUTES` gets hostile requests with every method:
paths (long, thousands of segments, ``..``, absolute, symlink loops, a folder named
``x.ipynb``, NUL, odd Unicode, lone surrogates, bad percent-encodings, non-strings), bodies
(deep nesting, 5,000-digit integers, NaN, wrong types, not JSON, invalid UTF-8, huge strings),
numbers (``parallel``, ``timeout``, ``limit``) and path arguments (``{code}``, ``{id}``).
Each answer must be:

- a status documented for that route and method in docs/rest-api.yaml (405 for a method the
  route does not have, 404 for no route), never a 500; the body strict JSON (no NaN) of the
  documented schema;
- free of the server's absolute paths (the root and every folder above it, the home folder,
  the temporary folder's pytest tree, Python's prefix, the checkout) and of its token;

and the server must still answer afterwards. Requests that could start real work (runs,
submits, scoring, modularize writes) only ever name notebooks that cannot be run, submitted
or modularized (missing, unreadable, a folder, a loop, outside the root), so each answer
comes fast.

Profiles (``NBOPS_FUZZ``, shared with tests/fuzz): ``ci``, the default, is bounded (the
module takes well under a minute in ``.ci/run``), derandomized and without an example
database, so every run sends the same requests; ``large`` sends 10 times as many fresh ones
and is meant to be run by hand::

    NBOPS_FUZZ=large .venv/bin/python -m pytest -p no:cacheprovider -n 0 tests/server/test_fuzz_api.py

A failure prints the smallest request Hypothesis found (method, URL, body).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import os
import re
import secrets
import shutil
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import yaml
from hypothesis import HealthCheck, assume, given, note, settings
from hypothesis import strategies as st
from traitlets.config import Config

from nbops.core.snippets import notebook_from_snippet
from nbops.server.routes import ROUTES

ROOT = Path(__file__).resolve().parents[2]
SPEC = yaml.safe_load((ROOT / "docs" / "rest-api.yaml").read_text(encoding="utf-8"))
EXAMPLE = ROOT / "examples" / "churn_classifier.ipynb"
BROKEN = ROOT / "tests" / "notebooks" / "bad" / "broken_json.ipynb"
MAX_URL = 60_000  # tornado's default max_header_size is 64 KiB: the request line fits in it
TOKEN = secrets.token_hex(24)  # long, so finding it in an answer is never a coincidence

PROFILE = os.environ.get("NBOPS_FUZZ", "ci")
if PROFILE not in ("ci", "large"):
    raise ValueError(f"NBOPS_FUZZ={PROFILE!r}: use 'ci' (the default) or 'large'")
_COMMON: dict[str, Any] = {
    "deadline": None,  # an answer's time depends on the machine's load, not on the input
    "database": None,
    "suppress_health_check": list(HealthCheck),  # large inputs are the point
}
settings.register_profile("nbops-api-ci", derandomize=True, max_examples=10, **_COMMON)
settings.register_profile(
    "nbops-api-large", derandomize=False, max_examples=100, print_blob=True, **_COMMON
)


def fuzz_settings(examples: int) -> settings:
    """The profile's settings with ``examples`` per 10 of its ``max_examples``."""
    base = settings.get_profile(f"nbops-api-{PROFILE}")
    return settings(base, max_examples=max(1, examples * base.max_examples // 10))


# ------------------------------------------------------------------------------ the server


@pytest.fixture
def jp_server_config() -> Config:
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"nbops": True}},
            "IdentityProvider": {"token": TOKEN},
        }
    )


@pytest.fixture
def hostile_root(jp_root_dir: Path, tmp_path: Path) -> Path:
    """The server's root: a readable notebook (only linted, fixed, checked, read) and every
    kind of notebook that cannot be worked on."""
    root = Path(jp_root_dir)
    shutil.copy(EXAMPLE, root / "ok.ipynb")
    shutil.copy(BROKEN, root / "broken.ipynb")
    (root / "text.ipynb").write_bytes(b"\xff\xfe not a notebook \x00")
    (root / "empty.ipynb").write_bytes(b"")
    # readable, but with what Python's json takes and JSON has not: NaN, a lone surrogate
    (root / "odd.ipynb").write_text(ODD_NOTEBOOK, encoding="utf-8")
    (root / "dir.ipynb").mkdir()
    (root / "sub").mkdir()
    (root / "loop.ipynb").symlink_to("loop.ipynb")
    (root / "sub" / "a.ipynb").symlink_to("../sub/b.ipynb")
    (root / "sub" / "b.ipynb").symlink_to("a.ipynb")
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(EXAMPLE, outside / "secret.ipynb")
    (root / "escape.ipynb").symlink_to(outside / "secret.ipynb")
    (root / "escape").symlink_to(outside)
    return root


ODD_NOTEBOOK = (
    '{"cells": [{"cell_type": "code", "execution_count": null, "id": "c1", '
    '"metadata": {"tags": ["parameters"], "x": NaN}, "outputs": [], '
    '"source": "alpha = 0.5\\nname = \'\\udcff\'\\n"}], '
    '"metadata": {"w": Infinity}, "nbformat": 4, "nbformat_minor": 5}'
)


@dataclass
class Answer:
    status: int
    content_type: str
    raw: bytes


class Server:
    """A blocking HTTP client of the test server, for Hypothesis running in a thread while
    the server's event loop goes on in the test's."""

    def __init__(self, port: int, base_url: str, root: Path) -> None:
        self.port = port
        self.base = base_url.rstrip("/")
        self.root = root

    def send(
        self, method: str, target: str, body: bytes | None = None, *, auth: bool = True
    ) -> Answer:
        headers = {"Content-Type": "application/json"}
        if auth:
            headers["Authorization"] = f"token {TOKEN}"
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            connection.request(method, self.base + target, body=body, headers=headers)
            response = connection.getresponse()
            return Answer(response.status, response.getheader("Content-Type", ""), response.read())
        finally:
            connection.close()


@pytest.fixture
def server(
    hostile_root: Path, jp_serverapp: Any, http_server_client: Any, jp_base_url: str
) -> Server:
    return Server(http_server_client.get_http_port(), jp_base_url, hostile_root)


# ------------------------------------------------------------------------------ the checks

_OPERATIONS = {
    (path, method.upper()): op
    for path, ops in SPEC["paths"].items()
    for method, op in ops.items()
    if isinstance(op, dict) and "responses" in op
}
_TEMPLATES = [(re.compile(r.pattern), r.path) for r in ROUTES]
_VERBS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def _server_paths(root: Path) -> set[str]:
    """Absolute paths of this machine that no answer may hold: the root and the folders
    above it (but the top-level ones: rule docs quote ``/home`` and ``/tmp`` as examples),
    the home folder, the temporary folder's pytest tree, Python's prefix and the checkout."""
    places = {p.as_posix() for p in (root, *root.parents) if len(p.parts) > 2}
    places |= {f"{Path.home().as_posix()}/", f"{tempfile.gettempdir()}/pytest-of"}
    places |= {sys.prefix, sys.base_prefix, ROOT.as_posix()}
    return {p for p in places if len(p) > 2}


def _not_json(name: str) -> None:
    raise AssertionError(f"{name} in an answer: not JSON")


def _template(url_path: str) -> str | None:
    for pattern, template in _TEMPLATES:
        if pattern.fullmatch(url_path):
            return template
    return None


def _schema_errors(schema: dict[str, Any], body: Any) -> list[str]:
    from openapi_schema_validator import OAS31Validator

    validator = OAS31Validator({**schema, "components": SPEC["components"]})
    return [e.message for e in validator.iter_errors(body)]


def _response_schema(response: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in response:
        response = SPEC["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    return schema


def check(server: Server, method: str, url_path: str, answer: Answer, *, auth: bool = True) -> None:
    """The answer to ``method url_path`` is a documented, JSON, leak-free one."""
    note(f"answer: {answer.status} {answer.raw[:600]!r}")
    assert answer.status != 500, "an HTTP 500"
    if method == "POST" and url_path in _STARTS_WORK:
        assert answer.status not in (200, 202), "the fuzz suite started real work"
    assert answer.content_type.startswith("application/json"), answer.content_type
    body = json.loads(answer.raw, parse_constant=_not_json)  # NaN: no browser parses it
    template = _template(url_path)
    operation = _OPERATIONS.get((template, method)) if template else None
    if operation is None:
        # a verb the route does not have, or no route: the Error object, 405 or 404 (403
        # first without a token where Jupyter authenticates before it looks further)
        expected = {404, 405} if template is None else {405}
        assert answer.status in (expected if auth else expected | {403}), answer.status
        assert not _schema_errors({"$ref": "#/components/schemas/Error"}, body)
    else:
        documented = operation["responses"]
        assert str(answer.status) in documented, f"{answer.status} is not documented"
        errors = _schema_errors(_response_schema(documented[str(answer.status)]), body)
        assert not errors, errors[:3]
    if answer.status >= 400:
        assert body["status"] == answer.status
    text = answer.raw.decode("utf-8")
    assert TOKEN not in text, "the server's token in an answer"
    for place in _server_paths(server.root):
        assert place not in text, f"an absolute path ({place}) in an answer"


def still_up(server: Server) -> None:
    answer = server.send("GET", "/nbops/version")
    assert answer.status == 200, answer.raw[:200]


def run_fuzz(server: Server, body: Callable[[], None]) -> Any:
    """Run a Hypothesis test in a thread: the server goes on answering in the test's loop."""

    def outer() -> None:
        body()
        still_up(server)

    return asyncio.to_thread(outer)


# ------------------------------------------------------------------------------ strategies

# names every POST route refuses to work on, each for its own reason
UNWORKABLE = [
    "missing.ipynb",
    "broken.ipynb",
    "text.ipynb",
    "empty.ipynb",
    "dir.ipynb",
    "loop.ipynb",
    "sub/a.ipynb",
    "escape.ipynb",
    "escape/secret.ipynb",
    "sub/missing.ipynb",
]
HOSTILE_PATHS = [
    "",
    " ",
    ".",
    "..",
    "./",
    "../ok.ipynb",
    "sub/../../ok.ipynb",
    "/etc/passwd",
    "/tmp/x.ipynb",
    "//server/share/x.ipynb",
    "C:\\x.ipynb",
    "c:x.ipynb",
    "\\\\server\\share\\x.ipynb",
    "..\\..\\x.ipynb",
    "~/x.ipynb",
    "$HOME/x.ipynb",
    "%2e%2e/x.ipynb",
    "a\x00.ipynb",
    "x\n.ipynb",
    "\u202ex.ipynb",
    "e\u0301.ipynb",
    "\ud800.ipynb",
    "\udcff.ipynb",
    "\U0001f642" * 70 + ".ipynb",  # 280 bytes: a name too long
    "x" * 300 + ".ipynb",
    "/".join(["a"] * 3000) + "/x.ipynb",
    "a/" * 2100 + "x.ipynb",
    "/".join(["b" * 250] * 17) + ".ipynb",  # every name fits, the whole does not
    "x" * 100_000,
    "ok.ipynb/",
    "ok.ipynb/.",
    "ok.ipynb/x.ipynb",
    "missing.txt",
    "MISSING.IPYNB",
]
_SEGMENTS = st.sampled_from(
    ["a", "..", ".", "", "~", "sub", "escape", "loop.ipynb", "dir.ipynb", "é", "\x00", "\\", " "]
) | st.text(max_size=12)
generated_paths = st.tuples(
    st.lists(_SEGMENTS, max_size=6).map("/".join), st.sampled_from(["", ".ipynb", ".IPYNB", "/"])
).map("".join)


def names_the_workable_notebook(value: object) -> bool:
    """Whether the server would take ``value`` for ``ok.ipynb`` (generated text can spell it)."""
    if not isinstance(value, str):
        return False
    parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
    return parts in (["ok.ipynb"], ["odd.ipynb"])


def paths(*, readable: bool) -> st.SearchStrategy[Any]:
    """Hostile notebook paths; ``readable`` adds the one notebook that can be worked on,
    else it is never named (nothing may start a run, a submit or a scoring)."""
    readables = ["ok.ipynb", "./ok.ipynb", "ok.ipynb/", "odd.ipynb"]
    names = UNWORKABLE + (readables if readable else [])
    strategy = st.one_of(
        st.sampled_from(names),
        st.sampled_from(HOSTILE_PATHS),
        generated_paths,
        st.text(max_size=40),
        st.none() | st.booleans() | st.integers() | st.lists(st.text(max_size=5), max_size=3),
    )
    return strategy if readable else strategy.filter(lambda v: not names_the_workable_notebook(v))


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70),
    st.sampled_from([0, 1, -1, 64, 65, 1000, 1001, 10**7, 10**7 + 1, 2**63, -(2**63)]),
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, -0.0, 1e-300, 1e300, 0.5]),
    st.text(max_size=6),
    st.booleans(),
    st.none(),
)


def _fields(template: str) -> list[str]:
    """The request body fields docs/rest-api.yaml documents for ``POST template``."""
    ref = _OPERATIONS[(template, "POST")]["requestBody"]["content"]["application/json"]["schema"]
    schema = SPEC["components"]["schemas"][ref["$ref"].rsplit("/", 1)[-1]]
    names: set[str] = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        if "$ref" in part:
            part = SPEC["components"]["schemas"][part["$ref"].rsplit("/", 1)[-1]]
        names.update(part.get("properties", {}))
    return sorted(names - {"path"})


POST_ROUTES = sorted(r.path for r in ROUTES if "POST" in r.methods)
# POSTs that start work (a run, a submit, a scoring, files written) never get a workable path
_WORKABLE_POSTS = {"/nbops/lint", "/nbops/fix", "/nbops/check", "/nbops/runs/validate"}
_STARTS_WORK = {"/nbops/runs", "/nbops/submit", "/nbops/hackathon/score"}


def _notebook(depth: int) -> dict[str, Any]:
    """A small notebook whose cell metadata is nested ``depth`` levels into the body."""
    deep: Any = 1
    for _ in range(max(0, depth - 5)):  # body > content > cells > [cell] > metadata
        deep = {"k": deep}
    cell = {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": deep,
            "outputs": [], "source": "x = 1\n"}  # fmt: skip
    return {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


@st.composite
def json_bodies(draw: st.DrawFn, template: str) -> bytes:
    """A JSON object for ``POST template``: its fields, with hostile values."""
    body: dict[str, Any] = {}
    if draw(st.integers(0, 9)):
        body["path"] = draw(paths(readable=template in _WORKABLE_POSTS))
    for name in _fields(template):
        if draw(st.booleans()):
            if name in ("parallel", "timeout"):
                body[name] = draw(numbers)
            elif name == "content":
                body[name] = draw(
                    st.sampled_from([_notebook(195), _notebook(201), {}]) | json_values
                )
            elif name in ("dry_run", "write"):
                body[name] = (
                    draw(st.just(True) | json_values) if name == "dry_run" else draw(json_values)
                )
            elif name == "mode":  # the Run tab's form (/nbops/runs/validate)
                body[name] = draw(st.sampled_from(["run", "sweep"]) | json_values)
            elif name == "fields":  # odd.ipynb (unreadable) names alpha (float) and name (str)
                texts = st.text(max_size=40) | st.sampled_from(["[" * 5000, "9" * 5000, "1,1"])
                keys = st.sampled_from(["alpha", "name"]) | st.text(max_size=8)
                body[name] = draw(st.dictionaries(keys, texts, max_size=3) | json_values)
            else:
                body[name] = draw(json_values | st.text(min_size=1000, max_size=3000))
    if template == "/nbops/modularize" and body.get("dry_run") is not True:
        body["dry_run"] = True  # writing needs a workable notebook, which it never gets
    if not draw(st.integers(0, 5)):
        body[draw(st.text(max_size=10))] = draw(json_values)  # an unknown field
    return json.dumps(body).encode()


def _deep(opening: bytes, closing: bytes, depth: int) -> bytes:
    return b'{"path": "missing.ipynb", "content": ' + opening * depth + closing * depth + b"}"


RAW_BODIES = [
    b"",
    b" ",
    b"null",
    b"[]",
    b'"path"',
    b"42",
    b"{",
    b'{"path": ',
    b"\xef\xbb\xbf{}",  # a BOM
    b'{"path": "\xff\xfe.ipynb"}',  # invalid UTF-8
    b'{"path": "\xed\xa0\x80.ipynb"}',  # an encoded surrogate: invalid UTF-8
    b'{"path": "\\ud800.ipynb"}',
    b'{"path": "missing.ipynb", "content": {"\\udfff": 1}}',
    b'{"path": "missing.ipynb", "parallel": NaN}',
    b'{"path": "missing.ipynb", "timeout": Infinity}',
    b'{"path": "missing.ipynb", "timeout": -Infinity}',
    b'{"path": "missing.ipynb", "timeout": 1e999}',
    b'{"path": "missing.ipynb", "parallel": ' + b"9" * 5000 + b"}",
    b'{"path": "missing.ipynb", "parallel": -' + b"9" * 4300 + b"}",
    b'{"path": "missing.ipynb", "limit": ' + b"1" * 4301 + b"}",
    b'{"path": "missing.ipynb", "timeout": 0.' + b"1" * 5000 + b"}",
    b'{"path": "missing.ipynb", "timeout": 1' + b"0" * 5000 + b".5}",
    b'{"path": "missing.ipynb", "x": ' + b"7" * 5000 + b"}",
    b'{"path": "missing.ipynb", "path": "also.ipynb"}',
    b'{"path": "' + b"x" * 1_000_000 + b'"}',
    _deep(b"[", b"]", 199),
    _deep(b"[", b"]", 300),
    _deep(b"[", b"]", 5_000),
    _deep(b"[", b"]", 60_000),
    _deep(b'{"a":', b"}", 60_000),
    _deep(b"[", b"", 60_000),  # unterminated
    b"[" * 100_000,
    b"\x00" * 64,
]
raw_bodies = st.sampled_from(RAW_BODIES) | st.binary(max_size=64)


def _query(pairs: list[tuple[str, str]]) -> str:
    """A query string; ``quote`` turns lone surrogates into bytes that are not UTF-8."""
    return "&".join(
        f"{quote(k.encode('utf-8', 'surrogatepass'), safe='')}="
        f"{quote(v.encode('utf-8', 'surrogatepass'), safe='')}"
        for k, v in pairs
    )


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


@st.composite
def queries(draw: st.DrawFn) -> str:
    pairs: list[tuple[str, str]] = []
    if draw(st.integers(0, 9)):
        pairs.append(("path", _as_text(draw(paths(readable=True)))))
    if draw(st.booleans()):
        pairs.append(
            ("limit", _as_text(draw(numbers | st.sampled_from(["²", "٣", "1" * 5000, " 5"]))))
        )
    if not draw(st.integers(0, 4)):
        pairs.append((draw(st.text(max_size=8)), draw(st.text(max_size=8))))
    raw = _query(pairs)
    if not draw(st.integers(0, 9)):
        raw += draw(st.sampled_from(["&path=%ff%fe", "&%zz=1", "&path=%", "&1700000000000", "&&"]))
    return raw


path_arguments = st.one_of(
    st.sampled_from(
        [
            "NB301",
            "absolute-path",
            "0",
            "ffffffffffff",
            "..",
            "%2e%2e",
            "%2F",
            "%ff%fe",
            "%00",
            "x" * 5000,
            "a%2Fb",
            "%E2%80%AE",
            "~",
            "%20",
        ]
    ),
    st.text(min_size=1, max_size=20).map(
        lambda s: quote(s.encode("utf-8", "surrogatepass"), safe="")
    ),
)


def _url(template: str, argument: str) -> str:
    return re.sub(r"\{\w+\}", lambda _: argument, template)


# ------------------------------------------------------------------------------ the tests


async def test_hostile_bodies_on_every_post_route(server: Server) -> None:
    @fuzz_settings(400)
    @given(
        template=st.sampled_from(POST_ROUTES),
        body=st.data(),
    )
    def one(template: str, body: st.DataObject) -> None:
        data = body.draw(json_bodies(template) | raw_bodies, label="body")
        note(f"POST {template} {data[:300]!r}")
        check(server, "POST", template, server.send("POST", template, data))

    await run_fuzz(server, one)


async def test_hostile_paths_on_every_route_that_takes_one(server: Server) -> None:
    takes_path = sorted({t for (t, m), op in _OPERATIONS.items() if _takes_path(op)})

    @fuzz_settings(400)
    @given(template=st.sampled_from(takes_path), path=st.data())
    def one(template: str, path: st.DataObject) -> None:
        if (template, "POST") in _OPERATIONS:
            value = path.draw(paths(readable=template in _WORKABLE_POSTS), label="path")
            body = (
                {"path": value, "dry_run": True}
                if template == "/nbops/modularize"
                else {"path": value}
            )
            data = json.dumps(body).encode()
            note(f"POST {template} {data[:300]!r}")
            check(server, "POST", template, server.send("POST", template, data))
        if (template, "GET") in _OPERATIONS:
            value = path.draw(paths(readable=True), label="query path")
            target = f"{template}?{_query([('path', _as_text(value))])}"
            assume(len(target) < MAX_URL)  # longer: tornado drops the connection unanswered
            note(f"GET {target[:300]}")
            check(server, "GET", template, server.send("GET", target))

    await run_fuzz(server, one)


def _takes_path(operation: dict[str, Any]) -> bool:
    query = any(p.get("name") == "path" for p in operation.get("parameters", []))
    return query or "requestBody" in operation


async def test_every_method_on_every_route(server: Server) -> None:
    templates = [r.path for r in ROUTES] + [
        "/nbops",
        "/nbops/",
        "/nbops/nosuch",
        "/nbops/rules/a/b",
    ]

    @fuzz_settings(400)
    @given(
        template=st.sampled_from(templates),
        method=st.sampled_from(_VERBS),
        argument=path_arguments,
        query=queries(),
        body=st.none() | raw_bodies | st.just(b'{"path": "missing.ipynb"}'),
        auth=st.integers(0, 9).map(bool),
    )
    def one(
        template: str, method: str, argument: str, query: str, body: bytes | None, auth: bool
    ) -> None:
        url = _url(template, argument)
        if method == "POST" and (template, "POST") in _OPERATIONS and body is not None:
            body = body if b"ok.ipynb" not in body else b"{}"
        if method in ("POST", "PUT", "PATCH") and body is None:
            body = b""
        if not auth and body:
            # refused before the body is read and the connection closed: a big one would
            # still be on its way (the client's broken pipe, not the server's doing)
            body = body[:16_384]
        target = f"{url}?{query}" if query and method == "GET" else url
        assume(len(target) < MAX_URL)
        note(f"{method} {target[:300]} auth={auth} {(body or b'')[:200]!r}")
        answer = server.send(method, target, body, auth=auth)
        if not auth:
            assert answer.status in (403, 404, 405), answer.status  # nothing without a token
        check(server, method, url, answer, auth=auth)

    await run_fuzz(server, one)


async def test_hostile_numbers(server: Server) -> None:
    @fuzz_settings(200)
    @given(
        field=st.sampled_from(["parallel", "timeout", "limit"]),
        value=numbers,
    )
    def one(field: str, value: Any) -> None:
        if field == "limit":
            target = (
                f"/nbops/runs?{_query([('path', 'missing.ipynb'), ('limit', _as_text(value))])}"
            )
            check(server, "GET", "/nbops/runs", server.send("GET", target))
            return
        data = json.dumps({"path": "missing.ipynb", field: value}).encode()
        note(f"POST /nbops/runs {data[:300]!r}")
        check(server, "POST", "/nbops/runs", server.send("POST", "/nbops/runs", data))

    await run_fuzz(server, one)


form_texts = st.one_of(
    st.text(max_size=40),
    st.sampled_from(["[" * 5000, "9" * 5000, "1,1", ",", "[]", "1e999", "nan", "Infinity", "\0"]),
    st.lists(st.sampled_from(["1", "x", "0.5", "[1]", " ", '"q"', "[", "None"]), min_size=1,
             max_size=4).map(",".join),
)  # fmt: skip


async def test_hostile_run_forms(server: Server) -> None:
    """Well-formed forms with hostile texts reach the form's checks: always a documented 200
    (ok.ipynb has no parameters cell, form.ipynb one of each kind)."""
    cell = 'alpha = 0.5\nname = "a,b"\ncols = [1]\nflag = True\nwhen = len("x")\n'
    nb = notebook_from_snippet(f"# %% tags=parameters\n{cell}# %%\nprint(alpha)\n")
    (server.root / "form.ipynb").write_text(nb.dumps(), encoding="utf-8")

    @fuzz_settings(200)
    @given(
        path=st.sampled_from(["form.ipynb", "ok.ipynb"]),
        mode=st.sampled_from(["run", "sweep"]),
        fields=st.dictionaries(st.sampled_from(["alpha", "name", "cols", "flag", "when"])
                               | st.text(max_size=8),
                               form_texts, max_size=3),
        extra=st.dictionaries(st.sampled_from(["parallel", "timeout", "kernel"]),
                              st.none() | form_texts),
    )  # fmt: skip
    def one(path: str, mode: str, fields: dict[str, str], extra: dict[str, Any]) -> None:
        data = json.dumps({"path": path, "mode": mode, "fields": fields, **extra}).encode()
        note(f"POST /nbops/runs/validate {data[:300]!r}")
        answer = server.send("POST", "/nbops/runs/validate", data)
        check(server, "POST", "/nbops/runs/validate", answer)
        assert answer.status == 200

    await run_fuzz(server, one)
