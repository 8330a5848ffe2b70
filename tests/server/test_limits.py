"""The request body cap (``NbopsExtension.max_body_size``): 413 JSON above it, served below it."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from traitlets.config import Config

Api = Callable[..., Awaitable[Any]]  # the `api` fixture of conftest.py
LIMIT = 1024 * 1024


@pytest.fixture
def jp_server_config() -> Config:
    return Config(
        {
            "ServerApp": {"jpserver_extensions": {"nbops": True}},
            "NbopsExtension": {"max_body_size": LIMIT},
        }
    )


def _body(size: int) -> bytes:
    """A lint request for unsaved content of exactly ``size`` bytes (padding in an output)."""
    cell = {"cell_type": "code", "execution_count": 1, "id": "c1", "metadata": {},
            "outputs": [{"output_type": "stream", "name": "stdout", "text": ""}],
            "source": "print('hello')\n"}
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    request = {"path": "pad.ipynb", "content": nb}
    pad = size - len(json.dumps(request).encode())
    cell["outputs"][0]["text"] = "x" * pad
    data = json.dumps(request).encode()
    assert len(data) == size
    return data


async def test_body_at_the_limit_is_served(api: Api, jp_root_dir: Path) -> None:
    reply = await api("POST", "nbops/lint", raw=_body(LIMIT))
    assert reply.status == 200
    assert reply.body["summary"]["unreadable"] == 0


async def test_body_over_the_limit_is_413_json(api: Api, jp_root_dir: Path) -> None:
    reply = await api("POST", "nbops/lint", raw=_body(LIMIT + 1))
    assert reply.status == 413
    assert reply.body["error"] == "PayloadTooLarge"
    assert "1 MiB" in reply.body["message"]
    # the connection and the server are fine afterwards
    assert (await api("GET", "nbops/version")).status == 200


async def test_chunked_body_over_the_limit_is_413_json(api: Api, jp_root_dir: Path) -> None:
    data = _body(3 * LIMIT)

    async def producer(write: Callable[[bytes], Awaitable[None]]) -> None:
        for start in range(0, len(data), 64 * 1024):
            await write(data[start : start + 64 * 1024])

    reply = await api("POST", "nbops/fix", body_producer=producer)
    assert reply.status == 413
    assert reply.body["error"] == "PayloadTooLarge"
    small = _body(1000)

    async def small_producer(write: Callable[[bytes], Awaitable[None]]) -> None:
        await write(small[:500])
        await write(small[500:])

    ok = await api("POST", "nbops/lint", body_producer=small_producer)
    assert ok.status == 200


# --------------------------------------------------------------------------- hostile bodies

POST_ROUTES = [
    "nbops/lint",
    "nbops/fix",
    "nbops/modularize",
    "nbops/runs",
    "nbops/check",
    "nbops/submit",
    "nbops/hackathon/score",
]


def _nested(opening: bytes, closing: bytes, depth: int) -> bytes:
    return b'{"path": "x.ipynb", "content": ' + opening * depth + closing * depth + b"}"


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        (_nested(b"[", b"]", 60_000), "nested more than 200 levels"),  # RecursionError: a 500
        (_nested(b'{"a": ', b"}", 50_000), "nested more than 200 levels"),
        (_nested(b"[", b"]", 201), "nested more than 200 levels"),
        (b'{"path": "x.ipynb", "parallel": ' + b"7" * 5000 + b"}", "too many digits"),
        (b'{"path": "x.ipynb", "x": -' + b"1" * 4301 + b"}", "too many digits"),
        (b'{"path": "x.ipynb", "timeout": NaN}', "NaN is not a JSON number"),
        (b'{"path": "x.ipynb", "timeout": Infinity}', "Infinity is not a JSON number"),
        (b'{"path": "\\ud800.ipynb"}', "surrogate"),
        (b'{"path": "x.ipynb", "content": {"cells": ["\\udfff"]}}', "surrogate"),
    ],
)
async def test_hostile_bodies_are_400_on_every_post_route(
    api: Api, jp_root_dir: Path, body: bytes, fragment: str
) -> None:
    for route in POST_ROUTES:
        reply = await api("POST", route, raw=body)
        assert reply.status == 400, (route, reply.body)
        assert reply.body["error"] == "UsageError"
        assert fragment in reply.body["message"], reply.body
    assert (await api("GET", "nbops/version")).status == 200


async def test_nesting_up_to_the_body_limit_is_served(api: Api, jp_root_dir: Path) -> None:
    deep: Any = "leaf"
    for _ in range(195):  # body > content > cells > [cell] > metadata > 195 levels: 200
        deep = {"k": deep}
    cell = {"cell_type": "code", "execution_count": None, "id": "c1", "metadata": deep,
            "outputs": [], "source": "x = 1\n"}  # fmt: skip
    nb = {"cells": [cell], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    for route in ("nbops/lint", "nbops/fix", "nbops/check"):
        # past the body check; the notebook's own nesting limit (core: MAX_JSON_DEPTH) then
        # makes it an NB001 finding or a 422, as for the same file on disk
        reply = await api("POST", route, {"path": "deep.ipynb", "content": nb})
        assert reply.status in (200, 422), (route, reply.body)
        assert "request body" not in json.dumps(reply.body)


async def test_fix_never_answers_nan(api: Api, jp_root_dir: Path) -> None:
    # NaN used to be parsed, fixed and sent back: an answer no JSON parser takes
    body = _body(1000).replace(b'"metadata": {}', b'"metadata": {"x": NaN}', 1)
    reply = await api("POST", "nbops/fix", raw=body)
    assert reply.status == 400
    assert b"NaN" not in reply.raw.replace(b"NaN is not", b"")


@pytest.mark.parametrize(
    ("field", "value"),
    [("parallel", 65), ("parallel", 10**4000), ("timeout", 1e300), ("timeout", 10**7 + 1)],
    ids=["parallel-65", "parallel-4001-digits", "timeout-1e300", "timeout-10000001"],
)
async def test_out_of_range_run_numbers_are_400(
    api: Api, jp_root_dir: Path, field: str, value: Any
) -> None:
    # a notebook that exists: the values are refused before anything starts
    (jp_root_dir / "x.ipynb").write_text(json.dumps(json.loads(_body(1000))["content"]))
    body = f'{{"path": "x.ipynb", "{field}": {value}}}'.encode()
    reply = await api("POST", "nbops/runs", raw=body)
    assert reply.status == 400, reply.body
    assert f"'{field}'" in reply.body["message"]
    assert len(reply.body["message"]) < 200  # the value is not echoed whole
