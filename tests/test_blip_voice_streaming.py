"""Blip voice streams: one synthesis per answer over a kept-open connection, which it reopens on
its own, against the project's real Wyoming TTS server (piper, real audio)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from wyoming.audio import AudioChunk
from wyoming.event import Event

from custom_components.blip.phrases import FILLERS_CHEERFUL, FIXED_REPLIES
from custom_components.blip.voice.audio import PcmFormat
from custom_components.blip.voice.phrase_cache import PhraseCache
from custom_components.blip.voice.speakable import split_sentences
from custom_components.blip.voice.speaker import Speaker, SpeechStats
from custom_components.blip.voice.wyoming_client import WyomingTtsClient
from tests import voice_fixtures
from tests.wyoming_fixtures import running_server
from wyoming_servers.serve import BlipEventHandler
from wyoming_servers.tts.engine import TtsEngine
from wyoming_servers.tts.handler import TtsEventHandler, TtsHandlerOptions

blip_tts_engine = voice_fixtures.blip_tts_engine

PIPER = PcmFormat(rate=22050, width=2, channels=1)
FILLER = FILLERS_CHEERFUL[0]
APOLOGY = FIXED_REPLIES[1]
ANSWER = "Dog is spelled D, O, G. It starts with the letter D. Great job asking!"


class RecordingHandler(TtsEventHandler):
    """The real server's handler; remembers the events each connection received."""

    instances: list[RecordingHandler]

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.received: list[str] = []
        self.instances.append(self)

    async def handle_event(self, event: Event) -> bool:
        self.received.append(event.type)
        return await super().handle_event(event)


def _factory(engine: TtsEngine, instances: list[RecordingHandler]) -> Any:
    def make(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> RecordingHandler:
        handler = RecordingHandler.__new__(RecordingHandler)
        handler.instances = instances
        handler.__init__(engine, TtsHandlerOptions(), reader, writer)  # type: ignore[misc]
        return handler

    return make


async def _pieces(text: str) -> AsyncIterator[str]:
    for index in range(0, len(text), 7):
        yield text[index : index + 7]


async def _speak(speaker: Speaker, text: str, stats: SpeechStats | None = None) -> bytes:
    return b"".join([pcm async for pcm in speaker.speak(_pieces(text), PIPER, None, None, stats)])


async def test_an_answer_is_one_streamed_synthesis_on_one_kept_open_connection(
    blip_tts_engine: TtsEngine,
) -> None:
    handlers: list[RecordingHandler] = []
    async with running_server(_factory(blip_tts_engine, handlers)) as address:
        client = WyomingTtsClient(address.host, address.port)
        cache = PhraseCache()
        await cache.async_warm(client, [FILLER], None)
        speaker = Speaker(client, cache, apology=APOLOGY, streaming=True)
        opened_after_warm_up = client.connections_opened
        stats = SpeechStats()
        first = await _speak(speaker, f"{FILLER} {ANSWER}", stats)
        second = await _speak(speaker, ANSWER)
        await client.close()
    # The filler came from memory; the answer was one synthesis, the second on the same socket.
    assert stats.from_cache >= 1
    assert stats.error is None
    assert client.connections_opened == opened_after_warm_up + 1
    streamed = handlers[-1].received
    assert streamed.count("synthesize-start") == 2
    assert streamed.count("synthesize-stop") == 2
    assert "synthesize" not in streamed
    # Three sentences of real speech each time (a spelled word takes a while to say).
    assert PIPER.duration(len(second)) > 4.0
    assert PIPER.duration(len(first)) > PIPER.duration(len(second))


async def test_a_connection_the_server_closed_is_replaced_without_the_child_noticing(
    blip_tts_engine: TtsEngine,
) -> None:
    handlers: list[RecordingHandler] = []
    async with running_server(_factory(blip_tts_engine, handlers)) as address:
        client = WyomingTtsClient(address.host, address.port)
        speaker = Speaker(client, PhraseCache(), apology=APOLOGY, streaming=True)
        await _speak(speaker, "Hello there.")
        # The server drops the idle connection (a restart, an idle timeout).
        handlers[-1].writer.close()
        await handlers[-1].writer.wait_closed()
        stats = SpeechStats()
        audio = await _speak(speaker, ANSWER, stats)
        await client.close()
    assert stats.error is None
    assert not stats.apologized
    assert client.connections_opened == 2
    assert PIPER.duration(len(audio)) > 4.0


class DiesMidAnswer(BlipEventHandler):
    """A streaming server that sends a little audio of the answer and then goes away."""

    async def handle_event(self, event: Event) -> bool:
        if event.type == "synthesize-chunk":
            chunk = AudioChunk(rate=22050, width=2, channels=1, audio=bytes(4410))
            await self.write_event(chunk.event())
            return False
        return True


async def test_a_server_dying_mid_answer_ends_in_the_cached_apology() -> None:
    async with running_server(DiesMidAnswer) as address:
        client = WyomingTtsClient(address.host, address.port)
        cache = PhraseCache()
        apology = split_sentences(APOLOGY)
        for sentence in apology:
            cache.add(None, sentence, PIPER, bytes(22050 * 2))
        speaker = Speaker(client, cache, apology=APOLOGY, streaming=True)
        stats = SpeechStats()
        audio = await _speak(speaker, ANSWER, stats)
        await client.close()
    assert stats.apologized
    assert stats.error is not None
    # What the server said before it went away, then every sentence of the apology.
    assert len(audio) == 4410 + 22050 * 2 * len(apology)
