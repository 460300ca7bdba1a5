"""A small Wyoming text-to-speech client: describe the server, synthesize, stream an answer.

A server that streams (``supports_synthesize_streaming``) gets one synthesis per answer:
``SynthesizeStart``, the sentences as ``SynthesizeChunk`` events as they come, ``SynthesizeStop``,
over a connection kept open between answers (a small pool, so two satellites talking at once
do not queue). A pooled connection the server has closed meanwhile (a restart, an idle timeout)
is noticed before any audio arrived and the answer is replayed on a fresh connection, so a
child never hears the difference. Other servers get one ``Synthesize`` per sentence.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from dataclasses import dataclass
from typing import Final

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe, Info
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)

from .audio import AudioFormatError, PcmFormat

CONNECT_TIMEOUT: Final = 5.0
# Longest wait for the next event while a sentence is being synthesized.
EVENT_TIMEOUT: Final = 15.0
# Idle connections kept for the next answer.
POOL_SIZE: Final = 2


class WyomingTtsError(Exception):
    """The TTS server could not be reached, failed, or sent something unusable."""


@dataclass(frozen=True, slots=True)
class ServerVoice:
    """One installed voice of the server."""

    name: str
    description: str
    languages: tuple[str, ...]
    speakers: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TtsServerInfo:
    """What the server said about itself."""

    name: str
    voices: tuple[ServerVoice, ...]
    supports_streaming: bool

    @property
    def languages(self) -> list[str]:
        """Every language some installed voice speaks, in the server's order."""
        seen: dict[str, None] = {}
        for voice in self.voices:
            for language in voice.languages:
                seen.setdefault(language, None)
        return list(seen)


def _server_info(info: Info) -> TtsServerInfo:
    programs = [program for program in info.tts if program.installed]
    if not programs:
        raise WyomingTtsError("the Wyoming server offers no text-to-speech")
    program = programs[0]
    voices = tuple(
        ServerVoice(
            name=voice.name,
            description=voice.description or voice.name,
            languages=tuple(voice.languages),
            speakers=tuple(speaker.name for speaker in voice.speakers or []),
        )
        for voice in program.voices
        if voice.installed
    )
    return TtsServerInfo(
        name=program.name,
        voices=voices,
        supports_streaming=bool(program.supports_synthesize_streaming),
    )


class WyomingTtsClient:
    """Talks to one Wyoming TTS server; every call opens its own connection."""

    def __init__(self, host: str, port: int, *, pool_size: int = POOL_SIZE) -> None:
        """Remember where the server is; nothing connects yet."""
        self.host = host
        self.port = port
        self.pool_size = pool_size
        self._idle: list[AsyncTcpClient] = []
        self.connections_opened = 0  # for diagnostics and tests: reuse shows as few opens

    def stream(self, voice: str | None = None, speaker: str | None = None) -> SynthesisStream:
        """One streamed answer (``SynthesizeStart`` is sent with the first text)."""
        return SynthesisStream(self, voice, speaker)

    def _take_idle(self) -> AsyncTcpClient | None:
        return self._idle.pop() if self._idle else None

    async def _give_back(self, client: AsyncTcpClient) -> None:
        if len(self._idle) < self.pool_size:
            self._idle.append(client)
        else:
            await _drop(client)

    async def close(self) -> None:
        """Close the idle connections (Home Assistant unloads the entry)."""
        idle, self._idle = self._idle, []
        for client in idle:
            await _drop(client)

    async def _connect(self) -> AsyncTcpClient:
        self.connections_opened += 1
        client = AsyncTcpClient(self.host, self.port)
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                await client.connect()
        except (OSError, TimeoutError) as err:
            raise WyomingTtsError(
                f"cannot reach the TTS server at {self.host}:{self.port}: {err}"
            ) from err
        return client

    async def describe(self) -> TtsServerInfo:
        """Ask the server for its voices."""
        client = await self._connect()
        try:
            async with asyncio.timeout(EVENT_TIMEOUT):
                await client.write_event(Describe().event())
                while (event := await client.read_event()) is not None:
                    if Info.is_type(event.type):
                        return _server_info(Info.from_event(event))
        except (OSError, TimeoutError, ValueError) as err:
            raise WyomingTtsError(f"the TTS server did not describe itself: {err}") from err
        finally:
            await _drop(client)
        raise WyomingTtsError("the TTS server closed the connection before describing itself")

    async def synthesize(
        self, text: str, voice: str | None = None, speaker: str | None = None
    ) -> AsyncIterator[tuple[PcmFormat, bytes]]:
        """Speak one sentence; yield ``(format, pcm)`` chunks as the server sends them."""
        client = await self._connect()
        try:
            synthesize_voice = SynthesizeVoice(name=voice, speaker=speaker) if voice else None
            await client.write_event(Synthesize(text=text, voice=synthesize_voice).event())
            pcm_format: PcmFormat | None = None
            while True:
                try:
                    async with asyncio.timeout(EVENT_TIMEOUT):
                        event = await client.read_event()
                except (OSError, TimeoutError, ValueError) as err:
                    raise WyomingTtsError(f"the TTS server stopped answering: {err}") from err
                if event is None:
                    raise WyomingTtsError("the TTS server closed the connection mid-sentence")
                if AudioStart.is_type(event.type):
                    start = AudioStart.from_event(event)
                    pcm_format = _pcm_format(start.rate, start.width, start.channels)
                elif AudioChunk.is_type(event.type):
                    chunk = AudioChunk.from_event(event)
                    if pcm_format is None:  # a server that skips AudioStart
                        pcm_format = _pcm_format(chunk.rate, chunk.width, chunk.channels)
                    if chunk.audio:
                        yield pcm_format, chunk.audio
                elif AudioStop.is_type(event.type):
                    return
                elif Error.is_type(event.type):
                    raise WyomingTtsError(f"the TTS server failed: {Error.from_event(event).text}")
        except OSError as err:
            raise WyomingTtsError(f"lost the TTS server: {err}") from err
        finally:
            await _drop(client)


class SynthesisStream:
    """One answer streamed to the server; ``send`` and ``audio`` may run in different tasks."""

    def __init__(self, owner: WyomingTtsClient, voice: str | None, speaker: str | None) -> None:
        """Nothing is sent until the first text."""
        self._owner = owner
        self._voice = SynthesizeVoice(name=voice, speaker=speaker) if voice else None
        self._client: AsyncTcpClient | None = None
        self._reused = False
        self._sent: list[str] = []
        self._stopped = False
        self._lock = asyncio.Lock()
        self._connected = asyncio.Event()
        self._done = False
        self._error: WyomingTtsError | None = None
        self.reconnects = 0

    async def _open(self, *, fresh: bool) -> AsyncTcpClient:
        try:
            return await self._try_open(fresh=fresh)
        except WyomingTtsError as err:
            self._error = err
            self._connected.set()  # the reader reports it
            raise

    async def _try_open(self, *, fresh: bool) -> AsyncTcpClient:
        client = None if fresh else self._owner._take_idle()
        self._reused = client is not None
        if client is None:
            client = await self._owner._connect()
        self._client = client
        try:
            await client.write_event(SynthesizeStart(voice=self._voice).event())
            for text in self._sent:
                await client.write_event(SynthesizeChunk(text=text).event())
            if self._stopped:
                await client.write_event(SynthesizeStop().event())
        except OSError as err:
            if not self._reused:
                raise WyomingTtsError(f"lost the TTS server: {err}") from err
            # A pooled connection the server closed meanwhile: try once more on a fresh one.
            await _drop(client)
            self.reconnects += 1
            return await self._try_open(fresh=True)
        self._connected.set()
        return client

    def fail(self, error: WyomingTtsError) -> None:
        """Make the reader report ``error`` (the sending side broke)."""
        self._error = error
        self._connected.set()

    async def send(self, text: str) -> None:
        """Send a piece of the answer (a whole sentence with its trailing space is best)."""
        async with self._lock:
            self._sent.append(text)
            if self._client is None:
                await self._open(fresh=False)
                return
            # A lost connection is seen by the reader, which reconnects (or reports it).
            with contextlib.suppress(OSError):
                await self._client.write_event(SynthesizeChunk(text=text).event())

    async def finish(self) -> None:
        """No more text: the server speaks what is left and ends with ``SynthesizeStopped``."""
        async with self._lock:
            self._stopped = True
            if self._client is None:
                if not self._sent:
                    self._connected.set()  # nothing to say at all
                    return
                await self._open(fresh=False)
                return
            with contextlib.suppress(OSError):
                await self._client.write_event(SynthesizeStop().event())

    async def audio(self) -> AsyncIterator[tuple[PcmFormat, bytes]]:
        """``(format, pcm)`` as the server sends it, until the answer is complete."""
        await self._connected.wait()
        if self._error is not None:
            raise self._error
        pcm_format: PcmFormat | None = None
        heard_anything = False
        while self._client is not None:
            try:
                async with asyncio.timeout(EVENT_TIMEOUT):
                    event = await self._client.read_event()
            except (OSError, TimeoutError, ValueError) as err:
                if isinstance(err, OSError) and await self._replay(heard_anything):
                    continue
                raise WyomingTtsError(f"the TTS server stopped answering: {err}") from err
            if event is None:
                if await self._replay(heard_anything):
                    continue
                raise WyomingTtsError("the TTS server closed the connection mid-answer")
            heard_anything = True
            if AudioStart.is_type(event.type):
                start = AudioStart.from_event(event)
                pcm_format = _pcm_format(start.rate, start.width, start.channels)
            elif AudioChunk.is_type(event.type):
                chunk = AudioChunk.from_event(event)
                chunk_format = _pcm_format(chunk.rate, chunk.width, chunk.channels)
                pcm_format = chunk_format
                if chunk.audio:
                    yield pcm_format, chunk.audio
            elif SynthesizeStopped.is_type(event.type):
                self._done = True
                return
            elif Error.is_type(event.type):
                raise WyomingTtsError(f"the TTS server failed: {Error.from_event(event).text}")
        return

    async def _replay(self, heard_anything: bool) -> bool:
        """Reconnect if a reused connection died before it said anything; False otherwise."""
        if heard_anything or not self._reused:
            return False
        async with self._lock:
            if self._client is not None:
                await _drop(self._client)
            self.reconnects += 1
            await self._open(fresh=True)
        return True

    async def close(self) -> None:
        """Keep the connection for the next answer if this one finished cleanly."""
        client, self._client = self._client, None
        if client is None:
            return
        if self._done:
            await self._owner._give_back(client)
        else:
            await _drop(client)


async def _drop(client: AsyncTcpClient) -> None:
    """Close a connection that may already be broken (closing one raises BrokenPipeError)."""
    with contextlib.suppress(OSError):
        await client.disconnect()


def _pcm_format(rate: int, width: int, channels: int) -> PcmFormat:
    try:
        return PcmFormat(rate=rate, width=width, channels=channels)
    except AudioFormatError as err:
        raise WyomingTtsError(f"the TTS server sent unusable audio: {err}") from err
