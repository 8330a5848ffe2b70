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
