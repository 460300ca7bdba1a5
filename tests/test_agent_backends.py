"""The local model client against loopback servers that answer in ways the fakes do not: an
error object in the middle of a stream, a refused request, a last line with no newline."""

from __future__ import annotations

from collections.abc import AsyncIterator
import contextlib

import aiohttp
from aiohttp import web
import pytest

from custom_components.blip.agent.backends import BackendFailure, FailureKind, LocalModelClient
from tests.llm_servers import start_fake_server


@contextlib.asynccontextmanager
async def _client(
    body: bytes, *, status: int = 200, ollama: bool
) -> AsyncIterator[LocalModelClient]:
    """A client of a server that answers every chat request with ``body``."""

    async def answer(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(status=status)
        await response.prepare(request)
        await response.write(body)
        await response.write_eof()
        return response

    app = web.Application()
    app.router.add_post("/api/chat" if ollama else "/v1/chat/completions", answer)
    async with start_fake_server(app) as base_url, aiohttp.ClientSession() as session:
        yield LocalModelClient(
            session,
            base_url if ollama else base_url + "/v1",
            "ollama" if ollama else "openai",
            "blip-edu",
            connect_timeout=2,
            read_timeout=5,
        )


async def _said(client: LocalModelClient) -> str:
    return "".join([text async for text in client.stream("system", [], 50)])


@pytest.mark.parametrize(
    ("body", "ollama"),
    [
        (
            b'data: {"choices": [{"delta": {"content": "Three plus"}}]}\n\n'
            b'data: {"error": {"message": "CUDA out of memory"}}\n\n',
            False,
        ),
        (
            b'{"message": {"content": "Three plus"}, "done": false}\n'
            b'{"error": "model runner has unexpectedly stopped"}\n',
            True,
        ),
    ],
    ids=["openai", "ollama"],
)
async def test_an_error_in_the_stream_is_a_server_error(body: bytes, ollama: bool) -> None:
    """A model server that breaks mid-answer says so in the stream, not in the status."""
    async with _client(body, ollama=ollama) as client:
        with pytest.raises(BackendFailure) as raised:
            await _said(client)
    assert raised.value.kind is FailureKind.SERVER_ERROR
    assert "error in stream" in str(raised.value)


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (400, FailureKind.BAD_REQUEST),  # e.g. a model name the server does not know
        (404, FailureKind.BAD_REQUEST),
        (429, FailureKind.RATE_LIMITED),
        (503, FailureKind.OVERLOADED),
    ],
)
async def test_a_refused_request_says_how(status: int, kind: FailureKind) -> None:
    async with _client(b'{"error": "no"}', status=status, ollama=False) as client:
        with pytest.raises(BackendFailure) as raised:
            await _said(client)
    assert raised.value.kind is kind
    assert f"HTTP {status}" in str(raised.value)


async def test_an_ollama_answer_without_a_final_newline_is_spoken_whole() -> None:
    body = (
        b'{"message": {"content": "Three plus four"}, "done": false}\n'
        b"\n"  # a blank line between objects is skipped
        b'{"message": {"content": " is seven."}, "done": true}'
    )
    async with _client(body, ollama=True) as client:
        assert await _said(client) == "Three plus four is seven."
