"""Loopback HTTP servers that speak the real wire formats of Blip's LLM backends.

They stand in for Anthropic's API and for the blip-edu server (OpenAI-compatible or Ollama) in
tests and benchmarks. Behaviour is set per test through plain attributes (which key is valid,
what status to answer, how fast and how the answer streams) so a test reads as what the server
does. Every chat request is recorded (``chat_requests``) so a test can assert which backend got
a turn and what system prompt and history it saw.

Wire formats:
- Anthropic Messages streaming: SSE events ``message_start``, ``content_block_start``,
  ``content_block_delta`` (``text_delta``), ``content_block_stop``, ``message_delta``,
  ``message_stop``, and ``error`` events mid-stream.
- OpenAI-compatible ``/v1/chat/completions`` with ``stream: true``: SSE ``data:`` lines of
  ``chat.completion.chunk`` objects, ending with ``data: [DONE]``.
- Ollama ``/api/chat``: newline-delimited JSON, the last object with ``"done": true``.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
import contextlib
from dataclasses import dataclass, field
import json
import time
from typing import Any

from aiohttp import web

from custom_components.blip.agent.second_opinion import is_second_opinion_request

VALID_KEY = "sk-ant-valid-test-key"
DEFAULT_CLAUDE_REPLY = "Claude says hello. The sky is blue because air scatters blue light."
DEFAULT_LOCAL_REPLY = "Blip-edu says hello. Three plus four is seven."
NO_DISTRESS_VERDICT = '{"distress": false, "category": "none", "confidence": 0.95}'
# A stall ends when the client goes away or after this long, so a test never hangs on teardown.
MAX_STALL_SECONDS = 30.0


@contextlib.asynccontextmanager
async def start_fake_server(app: web.Application) -> AsyncIterator[str]:
    """Serve ``app`` on a free 127.0.0.1 port; yield its base URL."""
    # Requests still being answered when the test ends (a slow or stalled stream the client gave
    # up on): aiohttp 3.14 leaves their tasks pending past the shutdown grace, and the newer test
    # plugin fails a test that leaves tasks behind, so they are cancelled and awaited here.
    in_flight: set[asyncio.Task[Any]] = set()

    @web.middleware
    async def track(request: web.Request, handler: Any) -> web.StreamResponse:
        task = asyncio.current_task()
        assert task is not None
        in_flight.add(task)
        try:
            return await handler(request)
        finally:
            in_flight.discard(task)

    app.middlewares.append(track)
    # A short shutdown grace: a stalled stream must not hold a test's teardown for a minute.
    runner = web.AppRunner(app, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        for task in list(in_flight):
            task.cancel()
        await asyncio.gather(*in_flight, return_exceptions=True)
        await runner.cleanup()


type ReplySource = str | Callable[[dict[str, Any]], str]


@dataclass
class StreamScript:
    """How a fake answers a chat request: what it says, how fast, and how it goes wrong."""

    reply: ReplySource = ""
    chunk_chars: int = 12  # characters per streamed text chunk
    first_token_delay: float = 0.0  # seconds before the first text chunk
    chunk_delay: float = 0.0  # seconds between text chunks
    stall_after_chunks: int | None = None  # send this many chunks, then go silent
    malformed_after_chunks: int | None = None  # send this many chunks, then a broken one
    status: int | None = None  # answer the chat request with this HTTP error status
    gate: asyncio.Event | None = None  # hold the first text chunk until the test sets this

    def text_for(self, body: dict[str, Any]) -> str:
        """The reply text for one request."""
        return self.reply(body) if callable(self.reply) else self.reply

    def chunks(self, text: str) -> list[str]:
        """Split a reply into the pieces that are streamed."""
        size = max(1, self.chunk_chars)
        return [text[i : i + size] for i in range(0, len(text), size)]


async def _stall(request: web.Request) -> None:
    """Say nothing more until the client hangs up (or a generous cap passes)."""
    deadline = time.monotonic() + MAX_STALL_SECONDS
    while time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.02)


async def _opened(gate: asyncio.Event, request: web.Request) -> bool:
    """Wait for the test to open the gate; False if the client hangs up (or a cap passes)."""
    deadline = time.monotonic() + MAX_STALL_SECONDS
    while not gate.is_set() and time.monotonic() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return False
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(0.02):
                await gate.wait()
    return gate.is_set()


async def _write(response: web.StreamResponse, data: str) -> bool:
    """Write to the stream; False once the client has gone."""
    try:
        await response.write(data.encode())
    except (ConnectionResetError, RuntimeError):
        return False
    return True


async def _play(
    script: StreamScript,
    request: web.Request,
    response: web.StreamResponse,
    body: dict[str, Any],
    encode: Callable[[str], str],
    malformed: str,
    error_after: int | None = None,
    error: str = "",
) -> bool:
    """Stream the script's reply, one encoded text chunk at a time, going wrong as it says.

    Returns False when the stream stopped early (stall, error event, broken chunk, client gone);
    the caller then sends no closing events.
    """
    await asyncio.sleep(script.first_token_delay)
    if script.gate is not None and not await _opened(script.gate, request):
        return False
    for number, text in enumerate(script.chunks(script.text_for(body))):
        if number == script.stall_after_chunks:
            await _stall(request)
            return False
        if number == error_after:
            await _write(response, error)
            return False
        if number == script.malformed_after_chunks:
            await _write(response, malformed)
            return False
        if number and script.chunk_delay:
            await asyncio.sleep(script.chunk_delay)
        if not await _write(response, encode(text)):
            return False
    return True


@dataclass
class FakeAnthropic:
    """Anthropic's API: key check, models list, streaming Messages.

    Blip's second-opinion classifications (known by their rubric) are recorded in
    ``opinion_requests`` and answered from ``opinion_script``, apart from the child's answers
    (``chat_requests``, ``script``), so a test counts and shapes each kind on its own.
    """

    valid_key: str = VALID_KEY
    models: list[str] = field(default_factory=lambda: ["claude-haiku-4-5-20251001"])
    status_override: int | None = None  # answer every request with this status
    base_url: str = ""
    requests: list[str] = field(default_factory=list)
    script: StreamScript = field(default_factory=lambda: StreamScript(reply=DEFAULT_CLAUDE_REPLY))
    stop_reason: str = "end_turn"  # "refusal" makes Claude decline after its text
    error_event_after_chunks: int | None = None  # an SSE ``error`` event (overloaded) mid-stream
    chat_requests: list[dict[str, Any]] = field(default_factory=list)
    opinion_script: StreamScript = field(
        default_factory=lambda: StreamScript(reply=NO_DISTRESS_VERDICT)
    )
    opinion_requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/v1/models", self._models)
        app.router.add_post("/v1/messages", self._messages)
        return app

    def _error(self, status: int, kind: str, message: str) -> web.Response:
        return web.json_response(
            {"type": "error", "error": {"type": kind, "message": message}}, status=status
        )

    def _status_error(self, status: int) -> web.Response:
        kinds = {
            401: "authentication_error",
            429: "rate_limit_error",
            500: "api_error",
            529: "overloaded_error",
        }
        return self._error(status, kinds.get(status, "api_error"), "fail")

    def _check(self, request: web.Request) -> web.Response | None:
        self.requests.append(request.path)
        if self.status_override is not None:
            return self._status_error(self.status_override)
        if request.headers.get("x-api-key") != self.valid_key:
            return self._error(401, "authentication_error", "invalid x-api-key")
        return None

    async def _models(self, request: web.Request) -> web.Response:
        if (error := self._check(request)) is not None:
            return error
        data = [
            {"type": "model", "id": m, "display_name": m, "created_at": "2025-10-01T00:00:00Z"}
            for m in self.models
        ]
        return web.json_response(
            {"data": data, "has_more": False, "first_id": data[0]["id"], "last_id": data[-1]["id"]}
        )

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        opinion = is_second_opinion_request(body)
        (self.opinion_requests if opinion else self.chat_requests).append(body)
        script = self.opinion_script if opinion else self.script
        if (error := self._check(request)) is not None:
            return error
        if script.status is not None:
            return self._status_error(script.status)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        def event(kind: str, data: dict[str, Any]) -> str:
            return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n"

        model = body.get("model", "claude")
        start = {
            "message": {
                "id": "msg_fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 10, "output_tokens": 1},
            }
        }
        await _write(response, event("message_start", start))
        await _write(
            response,
            event(
                "content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}}
            ),
        )
        await _write(response, event("ping", {}))
        overloaded = {"error": {"type": "overloaded_error", "message": "Overloaded"}}
        if not await _play(
            script,
            request,
            response,
            body,
            lambda text: event(
                "content_block_delta",
                {"index": 0, "delta": {"type": "text_delta", "text": text}},
            ),
            malformed="event: content_block_delta\ndata: {not json\n\n",
            error_after=None if opinion else self.error_event_after_chunks,
            error=event("error", overloaded),
        ):
            return response
        await _write(response, event("content_block_stop", {"index": 0}))
        stop = {
            "delta": {
                "stop_reason": "end_turn" if opinion else self.stop_reason,
                "stop_sequence": None,
            },
            "usage": {"output_tokens": 15},
        }
        await _write(response, event("message_delta", stop))
        await _write(response, event("message_stop", {}))
        return response


@dataclass
class FakeLocalModel:
    """The blip-edu server: OpenAI-compatible (``/v1/...``) or Ollama (``/api/...``)."""

    api: str = "openai"
    models: list[str] = field(default_factory=lambda: ["blip-edu"])
    status_override: int | None = None
    base_url: str = ""
    requests: list[str] = field(default_factory=list)
    script: StreamScript = field(default_factory=lambda: StreamScript(reply=DEFAULT_LOCAL_REPLY))
    chat_requests: list[dict[str, Any]] = field(default_factory=list)

    def app(self) -> web.Application:
        app = web.Application()
        if self.api == "ollama":
            app.router.add_get("/api/tags", self._ollama_tags)
            app.router.add_post("/api/chat", self._ollama_chat)
        else:
            app.router.add_get("/v1/models", self._openai_models)
            app.router.add_post("/v1/chat/completions", self._openai_chat)
        return app

    async def _openai_models(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if self.status_override is not None:
            return web.json_response({"error": {"message": "fail"}}, status=self.status_override)
        return web.json_response(
            {
                "object": "list",
                "data": [{"id": m, "object": "model", "owned_by": "blip"} for m in self.models],
            }
        )

    async def _ollama_tags(self, request: web.Request) -> web.Response:
        self.requests.append(request.path)
        if self.status_override is not None:
            return web.json_response({"error": "fail"}, status=self.status_override)
        return web.json_response(
            {"models": [{"name": f"{m}:latest", "model": f"{m}:latest"} for m in self.models]}
        )

    async def _begin_chat(self, request: web.Request) -> tuple[dict[str, Any], int | None]:
        self.requests.append(request.path)
        body = await request.json()
        self.chat_requests.append(body)
        return body, self.status_override or self.script.status

    async def _openai_chat(self, request: web.Request) -> web.StreamResponse:
        body, status = await self._begin_chat(request)
        if status is not None:
            return web.json_response({"error": {"message": "fail"}}, status=status)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)

        def chunk(delta: dict[str, Any], finish: str | None = None) -> str:
            data = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": body.get("model", ""),
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            }
            return f"data: {json.dumps(data)}\n\n"

        await _write(response, chunk({"role": "assistant", "content": ""}))
        if not await _play(
            self.script,
            request,
            response,
            body,
            lambda text: chunk({"content": text}),
            malformed='data: {"choices": [{"delta": \n\n',
        ):
            return response
        await _write(response, chunk({}, finish="stop"))
        await _write(response, "data: [DONE]\n\n")
        return response

    async def _ollama_chat(self, request: web.Request) -> web.StreamResponse:
        body, status = await self._begin_chat(request)
        if status is not None:
            return web.json_response({"error": "fail"}, status=status)
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)

        def line(content: str, done: bool = False) -> str:
            data: dict[str, Any] = {
                "model": body.get("model", ""),
                "created_at": "2025-10-01T00:00:00Z",
                "message": {"role": "assistant", "content": content},
                "done": done,
            }
            if done:
                data["done_reason"] = "stop"
            return json.dumps(data) + "\n"

        if not await _play(
            self.script,
            request,
            response,
            body,
            line,
            malformed='{"message": {"content": \n',
        ):
            return response
        await _write(response, line("", done=True))
        return response
