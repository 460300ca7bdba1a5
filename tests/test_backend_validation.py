"""What the config flow and set-up learn from checking a backend: each way a local model server
or a Wyoming TTS server can answer badly becomes a clear reason, against real loopback servers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
import contextlib

from aiohttp import web
from homeassistant.core import HomeAssistant
import pytest
from wyoming.event import Event
from wyoming.info import Describe, Info
from wyoming.server import AsyncEventHandler, AsyncServer

from custom_components.blip.validation import (
    BackendError,
    async_create_claude_client,
    async_list_local_models,
    async_validate_claude,
    async_validate_voice,
)
from tests.llm_servers import VALID_KEY, start_fake_server
from tests.wyoming_fixtures import tts_info

type Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@contextlib.asynccontextmanager
async def _models_server(handler: Handler) -> AsyncIterator[str]:
    """Answers the model list at each API's path (Anthropic's and OpenAI's, Ollama's)."""
    app = web.Application()
    app.router.add_get("/v1/models", handler)
    app.router.add_get("/api/tags", handler)
    async with start_fake_server(app) as base_url:
        yield base_url


def _answering(status: int = 200, text: str | None = None, data: object = None) -> Handler:
    async def answer(_: web.Request) -> web.Response:
        if text is not None:
            return web.Response(text=text, status=status)
        return web.json_response(data, status=status)

    return answer


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (_answering(401, data={"error": "no"}), "invalid_auth"),
        (_answering(403, data={"error": "no"}), "invalid_auth"),
        (_answering(502, data={"error": "no"}), "cannot_connect"),
        (_answering(text="<html>not json</html>"), "unknown"),
        (_answering(data={"data": "nope"}), "unknown"),
    ],
    ids=["401", "403", "502", "not-json", "odd-list"],
)
async def test_local_model_server_answers_become_reasons(
    hass: HomeAssistant, answer: Handler, reason: str
) -> None:
    async with _models_server(answer) as base_url:
        with pytest.raises(BackendError) as raised:
            await async_list_local_models(hass, base_url + "/v1", "openai")
    assert raised.value.reason == reason


async def test_ollama_model_list_is_read(hass: HomeAssistant) -> None:
    async def tags(_: web.Request) -> web.Response:
        return web.json_response({"models": [{"name": "blip-edu:latest"}]})

    async with _models_server(tags) as base_url:
        assert await async_list_local_models(hass, base_url, "ollama") == ["blip-edu:latest"]


class _Describer(AsyncEventHandler):
    """Answers Describe with the given Info, or hangs up when there is none."""

    info: Info | None = None

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type) and self.info is not None:
            await self.write_event(self.info.event())
            return True
        return False


@contextlib.asynccontextmanager
async def _wyoming_server(info: Info | None, port: int) -> AsyncIterator[None]:
    server = AsyncServer.from_uri(f"tcp://127.0.0.1:{port}")
    handler = type("Describer", (_Describer,), {"info": info})
    task = asyncio.create_task(server.run(handler))
    for _ in range(200):  # until it listens (bounded)
        with contextlib.suppress(OSError):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.close()
            await writer.wait_closed()
            break
        await asyncio.sleep(0.01)
    try:
        yield
    finally:
        await server.stop()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def _tts_info(installed: bool) -> Info:
    return tts_info(program_installed=installed, voice_installed=installed)


async def test_a_tts_server_is_accepted(unused_tcp_port: int) -> None:
    async with _wyoming_server(_tts_info(installed=True), unused_tcp_port):
        info = await async_validate_voice("127.0.0.1", unused_tcp_port)
    assert info.tts[0].name == "blip-piper"


@pytest.mark.parametrize(
    ("info", "reason"),
    [
        (Info(), "voice_not_tts"),  # e.g. a speech-to-text server
        (_tts_info(installed=False), "voice_not_tts"),
        (None, "voice_cannot_connect"),  # hangs up without describing itself
    ],
    ids=["no-tts", "not-installed", "hangs-up"],
)
async def test_wyoming_servers_that_cannot_speak_are_refused(
    unused_tcp_port: int, info: Info | None, reason: str
) -> None:
    async with _wyoming_server(info, unused_tcp_port):
        with pytest.raises(BackendError) as raised:
            await async_validate_voice("127.0.0.1", unused_tcp_port)
    assert raised.value.reason == reason


async def test_nothing_listening_is_cannot_connect(unused_tcp_port: int) -> None:
    with pytest.raises(BackendError) as raised:
        await async_validate_voice("127.0.0.1", unused_tcp_port)
    assert raised.value.reason == "voice_cannot_connect"


@pytest.mark.parametrize(
    "answer",
    [
        _answering(text="<html>Sign in to the hotel wifi</html>"),
        _answering(data=[1, 2]),
        _answering(text="not json at all"),
    ],
    ids=["web-page", "json-list", "not-json"],
)
async def test_a_claude_url_that_is_not_anthropic_is_unknown(
    hass: HomeAssistant, answer: Handler
) -> None:
    """A proxy or captive portal answering 200 with something else: a reason, not a crash."""
    async with _models_server(answer) as base_url:
        client = await async_create_claude_client(hass, VALID_KEY, base_url)
        try:
            with pytest.raises(BackendError) as raised:
                await async_validate_claude(client)
        finally:
            await client.close()
    assert raised.value.reason == "unknown"
    assert "did not answer like Anthropic" in str(raised.value)


async def test_a_claude_url_that_is_not_a_url_cannot_connect(hass: HomeAssistant) -> None:
    with pytest.raises(BackendError) as raised:
        await async_create_claude_client(hass, VALID_KEY, "http://[::1")
    assert raised.value.reason == "cannot_connect"
    assert "Not a valid Claude API URL" in str(raised.value)
