"""Streaming clients for Blip's two model backends: the local blip-edu server and Claude.

Both expose ``stream(system, messages, max_tokens)``, an async iterator of text chunks, and
raise ``BackendFailure`` (with a ``kind`` the turn logic and health tracking act on) for every
way a backend can fail: unreachable, rejected key, rate limit, overload, server error, a broken
stream, a refusal. Deadlines for the first token and for stalls are applied by the caller, the
same way for both backends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from enum import StrEnum
import json
from typing import Any, Literal, TypedDict

import aiohttp
import anthropic
import httpx

from ..const import LOCAL_API_OLLAMA

# Longest line accepted from the local model's stream: one token's delta is a few hundred bytes.
MAX_STREAM_LINE_BYTES = 128 * 1024


class FailureKind(StrEnum):
    """How a backend failed."""

    UNREACHABLE = "unreachable"  # connection refused, DNS, reset
    TIMEOUT = "timeout"  # no first token in time
    STALLED = "stalled"  # the stream stopped mid-answer
    AUTH = "auth"  # the key or server rejected Blip's credentials
    RATE_LIMITED = "rate_limited"
    OVERLOADED = "overloaded"
    SERVER_ERROR = "server_error"
    BAD_REQUEST = "bad_request"
    MALFORMED = "malformed"  # the stream could not be parsed
    REFUSED = "refused"  # Claude declined to answer
    BAD_OUTPUT = "bad_output"  # the answer failed the spoken-output check
    EMPTY = "empty"  # the stream ended without any text


# Failures that say the backend is down or unusable (counted toward a repairs issue), as
# opposed to one bad answer.
OUTAGE_KINDS = frozenset(
    {
        FailureKind.UNREACHABLE,
        FailureKind.TIMEOUT,
        FailureKind.STALLED,
        FailureKind.AUTH,
        FailureKind.OVERLOADED,
        FailureKind.SERVER_ERROR,
        FailureKind.MALFORMED,
    }
)


class BackendFailure(Exception):
    """A backend could not (fully) answer a turn."""

    def __init__(self, backend: str, kind: FailureKind, detail: str = "") -> None:
        """Say which backend failed and how; ``detail`` is for the log and never has child text."""
        super().__init__(f"{backend}: {kind.value}{': ' + detail if detail else ''}")
        self.backend = backend
        self.kind = kind


class ChatMessage(TypedDict):
    """One message of model history, in the shape both APIs take."""

    role: Literal["user", "assistant"]
    content: str


def _status_kind(status: int) -> FailureKind:
    if status in (401, 403):
        return FailureKind.AUTH
    if status == 429:
        return FailureKind.RATE_LIMITED
    if status in (503, 529):
        return FailureKind.OVERLOADED
    if status >= 500:
        return FailureKind.SERVER_ERROR
    return FailureKind.BAD_REQUEST


class LocalModelClient:
    """The blip-edu server over Home Assistant's shared aiohttp session.

    OpenAI-compatible servers (vLLM, llama.cpp, LM Studio) stream ``/chat/completions`` as SSE;
    Ollama streams ``/api/chat`` as newline-delimited JSON.
    """

    name = "local"

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        api: str,
        model: str,
        *,
        connect_timeout: float,
        read_timeout: float,
    ) -> None:
        """``base_url`` is already normalised (``…/v1`` for OpenAI, the root for Ollama)."""
        self._session = session
        self._base_url = base_url.rstrip("/")
        self._ollama = api == LOCAL_API_OLLAMA
        self._model = model
        # The caller enforces the first-token and stall deadlines; these are a backstop.
        self._timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=read_timeout
        )

    async def stream(
        self, system: str, messages: Sequence[ChatMessage], max_tokens: int
    ) -> AsyncIterator[str]:
        """Stream the answer's text."""
        all_messages = [{"role": "system", "content": system}, *messages]
        if self._ollama:
            url = f"{self._base_url}/api/chat"
            body: dict[str, Any] = {
                "model": self._model,
                "messages": all_messages,
                "stream": True,
                "options": {"num_predict": max_tokens},
            }
        else:
            url = f"{self._base_url}/chat/completions"
            body = {
                "model": self._model,
                "messages": all_messages,
                "stream": True,
                "max_tokens": max_tokens,
            }
        try:
            async with self._session.post(url, json=body, timeout=self._timeout) as response:
                if response.status != 200:
                    raise BackendFailure(
                        self.name, _status_kind(response.status), f"HTTP {response.status}"
                    )
                lines = self._ndjson(response) if self._ollama else self._sse(response)
                async for text in lines:
                    yield text
        except BackendFailure:
            raise
        except TimeoutError as err:
            raise BackendFailure(self.name, FailureKind.TIMEOUT, "socket timeout") from err
        except aiohttp.ClientError as err:
            raise BackendFailure(self.name, FailureKind.UNREACHABLE, type(err).__name__) from err

    async def _lines(self, response: aiohttp.ClientResponse) -> AsyncIterator[bytes]:
        """The body's lines, each at most MAX_STREAM_LINE_BYTES.

        Read here rather than with aiohttp's line iterator, whose limit depends on the aiohttp
        version (128 KiB or 512 KiB) and which raises a bare ValueError or LineTooLong past it;
        a stream with such a line is broken, and Claude should answer instead.
        """
        buffer = bytearray()
        async for data in response.content.iter_any():
            buffer += data
            start = 0
            while (newline := buffer.find(b"\n", start)) != -1:
                if newline - start > MAX_STREAM_LINE_BYTES:
                    break
                yield bytes(buffer[start : newline + 1])
                start = newline + 1
            del buffer[:start]
            if len(buffer) > MAX_STREAM_LINE_BYTES:
                raise BackendFailure(self.name, FailureKind.MALFORMED, "stream line too long")
        if buffer:
            yield bytes(buffer)

    async def _sse(self, response: aiohttp.ClientResponse) -> AsyncIterator[str]:
        async for raw in self._lines(response):
            line = raw.decode("utf-8", "replace").strip()
            if not line.startswith("data:"):
                continue  # blank separators, "event:" lines, ": keep-alive" comments
            data = line[5:].strip()
            if data == "[DONE]":
                return
            try:
                chunk = json.loads(data)
                if "error" in chunk:
                    raise BackendFailure(self.name, FailureKind.SERVER_ERROR, "error in stream")
                choices = chunk.get("choices") or []
                text = (choices[0].get("delta") or {}).get("content") if choices else None
            except (ValueError, AttributeError, TypeError, IndexError) as err:
                raise BackendFailure(self.name, FailureKind.MALFORMED, "bad SSE chunk") from err
            if text:
                yield str(text)

    async def _ndjson(self, response: aiohttp.ClientResponse) -> AsyncIterator[str]:
        async for raw in self._lines(response):
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                chunk = json.loads(line)
                if "error" in chunk:
                    raise BackendFailure(self.name, FailureKind.SERVER_ERROR, "error in stream")
                text = (chunk.get("message") or {}).get("content")
                done = bool(chunk.get("done"))
            except (ValueError, AttributeError, TypeError) as err:
                raise BackendFailure(self.name, FailureKind.MALFORMED, "bad NDJSON line") from err
            if text:
                yield str(text)
            if done:
                return


class ClaudeClient:
    """Claude through the anthropic SDK's async client, streaming, with prompt caching."""

    name = "claude"

    def __init__(
        self, client: anthropic.AsyncAnthropic, model: str, *, connect_timeout: float
    ) -> None:
        """The client is the entry's (created with ``max_retries=0``: Blip has its own fallbacks)."""
        self._client = client
        self._model = model
        self._timeout = httpx.Timeout(60.0, connect=connect_timeout)

    async def stream(
        self, system: str, messages: Sequence[ChatMessage], max_tokens: int
    ) -> AsyncIterator[str]:
        """Stream the answer's text; a refusal raises after whatever text came before it."""
        try:
            response = await self._client.messages.create(
                model=self._model,
                max_tokens=max_tokens,
                # The system prompt is the same for a child and activity: cache it.
                system=[{"type": "text", "text": system, "cache_control": {"type": "ephemeral"}}],
                messages=[dict(message) for message in messages],  # type: ignore[misc]
                stream=True,
                timeout=self._timeout,
            )
        except anthropic.APIError as err:
            raise self._failure(err) from err
        try:
            async for event in response:
                if event.type == "content_block_delta" and event.delta.type == "text_delta":
                    text = event.delta.text
                    if not isinstance(text, str):
                        # The SDK does not validate stream events; a non-text delta would
                        # break the turn outside this failure handling.
                        raise BackendFailure(self.name, FailureKind.MALFORMED, "non-text delta")
                    if text:
                        yield text
                elif event.type == "message_delta" and event.delta.stop_reason == "refusal":
                    raise BackendFailure(self.name, FailureKind.REFUSED, "stop_reason refusal")
        except BackendFailure:
            raise
        except anthropic.APIError as err:
            raise self._failure(err) from err
        except (ValueError, KeyError, AttributeError, TypeError) as err:
            raise BackendFailure(self.name, FailureKind.MALFORMED, type(err).__name__) from err
        except httpx.HTTPError as err:
            raise BackendFailure(self.name, FailureKind.UNREACHABLE, type(err).__name__) from err
        finally:
            await response.close()

    def _failure(self, err: anthropic.APIError) -> BackendFailure:
        if isinstance(err, anthropic.APITimeoutError):
            return BackendFailure(self.name, FailureKind.TIMEOUT, "request timed out")
        if isinstance(err, anthropic.APIConnectionError):
            return BackendFailure(self.name, FailureKind.UNREACHABLE, "connection failed")
        if isinstance(err, anthropic.APIStatusError) and err.status_code >= 400:
            return BackendFailure(
                self.name, _status_kind(err.status_code), f"HTTP {err.status_code}"
            )
        # An error event inside a 200 stream (e.g. overloaded_error) carries its type in the body.
        body = getattr(err, "body", None)
        error = body.get("error") if isinstance(body, dict) else None
        error_type = error.get("type") if isinstance(error, dict) else None
        if error_type == "overloaded_error":
            return BackendFailure(self.name, FailureKind.OVERLOADED, error_type)
        return BackendFailure(self.name, FailureKind.SERVER_ERROR, error_type or type(err).__name__)
