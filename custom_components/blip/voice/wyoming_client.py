"""A small Wyoming text-to-speech client: describe the server, synthesize one sentence.

Blip voice asks for one sentence per request so that it knows exactly where each sentence's
audio starts and ends (cached sentences are spliced in between); this works with any Wyoming
TTS server, streaming or not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Final

from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error
from wyoming.info import Describe, Info
from wyoming.tts import Synthesize, SynthesizeVoice

from .audio import AudioFormatError, PcmFormat

CONNECT_TIMEOUT: Final = 5.0
# Longest wait for the next event while a sentence is being synthesized.
EVENT_TIMEOUT: Final = 15.0


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

    def __init__(self, host: str, port: int) -> None:
        """Remember where the server is; nothing connects yet."""
        self.host = host
        self.port = port

    async def _connect(self) -> AsyncTcpClient:
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
            await client.disconnect()
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
            await client.disconnect()


def _pcm_format(rate: int, width: int, channels: int) -> PcmFormat:
    try:
        return PcmFormat(rate=rate, width=width, channels=channels)
    except AudioFormatError as err:
        raise WyomingTtsError(f"the TTS server sent unusable audio: {err}") from err
