"""Helpers for tests of Wyoming servers: real servers on free loopback ports, real clients.

- ``async with running_server(handler_factory) as address:`` serves a handler factory through
  the servers' serve path (``wyoming_servers.serve``) in the test's own event loop (fast: models loaded once by the caller can be shared).
- ``with server_process("wyoming_servers.tts", "--voice", ...) as process:`` starts the real
  command line in a subprocess and waits until it answers ``Describe``; usable from fixtures of
  any scope because it needs no event loop.
- ``synthesize``, ``synthesize_streaming``, ``detect_wake_word``, ``describe`` and ``send_raw``
  talk to a server the way Home Assistant and satellites do, or deliberately badly.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator, Sequence
import contextlib
from dataclasses import dataclass, field
import functools
import json
import os
from pathlib import Path
import socket
import subprocess
import sys
import time
from typing import TYPE_CHECKING

import pytest
import pytest_socket
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.event import Event
from wyoming.info import Attribution, Describe, Info, TtsProgram, TtsVoice
from wyoming.tts import (
    Synthesize,
    SynthesizeChunk,
    SynthesizeStart,
    SynthesizeStop,
    SynthesizeStopped,
    SynthesizeVoice,
)
from wyoming.wake import Detect

from wyoming_servers.audio import PcmAudio
from wyoming_servers.serve import HandlerFactory, ServeLimits, WyomingServer

if TYPE_CHECKING:
    from wyoming_servers.tts.voices import LoadedVoice

LOOPBACK = "127.0.0.1"
REPO_ROOT = Path(__file__).resolve().parent.parent
EVENT_TIMEOUT = 30.0


@dataclass(frozen=True, slots=True)
class ServerAddress:
    host: str
    port: int

    @property
    def uri(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def client(self) -> AsyncTcpClient:
        return AsyncTcpClient(self.host, self.port, read_timeout=EVENT_TIMEOUT)


def figures_from_a_fresh_interpreter(script: str) -> dict:
    """Run ``script`` in a new Python process (its own heap and stack, as a server has) and
    return the JSON object it prints on its last line."""
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=REPO_ROOT,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(result.stdout.splitlines()[-1])


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


@contextlib.asynccontextmanager
async def running_server(
    handler_factory: HandlerFactory, limits: ServeLimits | None = None
) -> AsyncIterator[ServerAddress]:
    """Serve `handler_factory` through the servers' own serve path on a free loopback port.

    Functional tests open up to 50 connections at once from loopback; the default limits are
    tested on their own (tests/test_wyoming_limits.py).
    """
    limits = limits or ServeLimits(max_connections=100, max_connections_per_client=100)
    server = WyomingServer(f"tcp://{LOOPBACK}:0", handler_factory, limits)
    await server.start()
    try:
        yield ServerAddress(LOOPBACK, server.port)
    finally:
        await server.stop()


@dataclass
class ServerProcess:
    """A server started from its command line."""

    address: ServerAddress
    process: subprocess.Popen[str]
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")


@contextlib.contextmanager
def server_process(
    module: str,
    *args: str,
    log_path: Path,
    env: dict[str, str] | None = None,
    startup_timeout: float = 120.0,
    python: str = sys.executable,
) -> Iterator[ServerProcess]:
    """Run ``python -m module --uri tcp://127.0.0.1:PORT *args`` until the block ends."""
    address = ServerAddress(LOOPBACK, free_port())
    with log_path.open("w", encoding="utf-8") as log_file:
        process = subprocess.Popen(
            [python, "-m", module, "--uri", address.uri, *args],
            cwd=REPO_ROOT,
            env={**os.environ, **(env or {})},
            stdout=log_file,
            stderr=subprocess.STDOUT,
            text=True,
        )
    running = ServerProcess(address, process, log_path)
    try:
        _wait_until_describes(running, startup_timeout)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until_describes(running: ServerProcess, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if running.process.poll() is not None:
            raise RuntimeError(f"server exited with {running.process.returncode}:\n{running.log()}")
        try:
            with socket.create_connection(
                (running.address.host, running.address.port), timeout=1
            ) as sock:
                sock.sendall(b'{"type": "describe"}\n')
                sock.settimeout(5)
                if sock.recv(1024):
                    return
        except OSError:
            time.sleep(0.1)
    raise TimeoutError(f"server did not answer within {timeout} s:\n{running.log()}")


# -- clients ---------------------------------------------------------------------------------


async def describe(address: ServerAddress) -> Info:
    async with address.client() as client:
        await client.write_event(Describe().event())
        while (event := await client.read_event()) is not None:
            if Info.is_type(event.type):
                return Info.from_event(event)
    raise ConnectionError("server closed the connection before sending info")


@dataclass
class SpokenReply:
    """Everything a TTS server sent back for one request."""

    events: list[Event] = field(default_factory=list)
    first_audio_seconds: float | None = None

    @property
    def types(self) -> list[str]:
        """Event types in order, with runs of audio-chunk collapsed to one entry."""
        collapsed: list[str] = []
        for event in self.events:
            if not (event.type == "audio-chunk" and collapsed and collapsed[-1] == "audio-chunk"):
                collapsed.append(event.type)
        return collapsed

    @property
    def audio(self) -> PcmAudio:
        chunks = [AudioChunk.from_event(e) for e in self.events if AudioChunk.is_type(e.type)]
        if not chunks:
            return PcmAudio(pcm=b"", rate=0, width=2, channels=1)
        first = chunks[0]
        return PcmAudio(
            pcm=b"".join(chunk.audio for chunk in chunks),
            rate=first.rate,
            width=first.width,
            channels=first.channels,
        )

    def errors(self) -> list[dict]:
        return [event.data for event in self.events if event.type == "error"]


async def _collect(
    client: AsyncTcpClient, reply: SpokenReply, started: float, until: str
) -> SpokenReply:
    while (event := await client.read_event()) is not None:
        reply.events.append(event)
        if AudioChunk.is_type(event.type) and reply.first_audio_seconds is None:
            reply.first_audio_seconds = time.monotonic() - started
        # After an error the server closes the connection; keep reading until it does.
        if event.type == until:
            break
    return reply


async def synthesize(
    address: ServerAddress,
    text: str,
    *,
    voice: SynthesizeVoice | None = None,
    text_format: str | None = None,
) -> SpokenReply:
    """One Synthesize request, read until AudioStop (or the connection closes)."""
    async with address.client() as client:
        started = time.monotonic()
        await client.write_event(
            Synthesize(text=text, voice=voice, text_format=text_format).event()
        )
        return await _collect(client, SpokenReply(), started, AudioStop().event().type)


async def synthesize_streaming(
    address: ServerAddress,
    pieces: Sequence[str],
    *,
    voice: SynthesizeVoice | None = None,
    send_compat_synthesize: bool = True,
) -> SpokenReply:
    """The streaming sequence Home Assistant sends, read until SynthesizeStopped."""
    async with address.client() as client:
        started = time.monotonic()
        await client.write_event(SynthesizeStart(voice=voice).event())
        for piece in pieces:
            await client.write_event(SynthesizeChunk(text=piece).event())
        if send_compat_synthesize:
            await client.write_event(Synthesize(text="".join(pieces), voice=voice).event())
        await client.write_event(SynthesizeStop().event())
        return await _collect(client, SpokenReply(), started, SynthesizeStopped().event().type)


async def detect_wake_word(
    address: ServerAddress,
    audio: PcmAudio,
    *,
    names: list[str] | None = None,
    chunk_seconds: float = 0.05,
) -> list[Event]:
    """Stream audio after Detect/AudioStart; return events up to Detection or NotDetected."""
    async with address.client() as client:
        await client.write_event(Detect(names=names).event())
        await client.write_event(
            AudioStart(rate=audio.rate, width=audio.width, channels=audio.channels).event()
        )
        frame_bytes = audio.width * audio.channels
        step = max(1, int(audio.rate * chunk_seconds)) * frame_bytes
        timestamp_ms = 0
        for offset in range(0, len(audio.pcm), step):
            piece = audio.pcm[offset : offset + step]
            await client.write_event(
                AudioChunk(
                    rate=audio.rate,
                    width=audio.width,
                    channels=audio.channels,
                    audio=piece,
                    timestamp=timestamp_ms,
                ).event()
            )
            timestamp_ms += len(piece) // frame_bytes * 1000 // audio.rate
        await client.write_event(AudioStop().event())
        events: list[Event] = []
        while (event := await client.read_event()) is not None:
            events.append(event)
            if event.type in ("detection", "not-detected"):
                break
        return events


async def send_raw(
    address: ServerAddress, data: bytes, *, read_timeout: float = 10.0, half_close: bool = True
) -> bytes:
    """Write raw bytes, optionally half-close, and read until the server closes or goes quiet."""
    reader, writer = await asyncio.open_connection(address.host, address.port)
    try:
        writer.write(data)
        await writer.drain()
        if half_close and writer.can_write_eof():
            writer.write_eof()
        received = bytearray()
        with contextlib.suppress(TimeoutError, ConnectionError):
            while chunk := await asyncio.wait_for(reader.read(65536), read_timeout):
                received.extend(chunk)
        return bytes(received)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()


def event_line(event_type: str, **header: object) -> bytes:
    """A raw Wyoming header line, for writing deliberately broken events."""
    return (json.dumps({"type": event_type, **header}) + "\n").encode()


def parse_events(raw: bytes) -> list[Event]:
    """Decode a byte stream of Wyoming events (as a server wrote them)."""
    events: list[Event] = []
    position = 0
    while (newline := raw.find(b"\n", position)) != -1:
        header = json.loads(raw[position:newline])
        position = newline + 1
        data = header.get("data") or {}
        if length := header.get("data_length"):
            data.update(json.loads(raw[position : position + length]))
            position += length
        payload = None
        if length := header.get("payload_length"):
            payload = raw[position : position + length]
            position += length
        events.append(Event(type=header["type"], data=data, payload=payload))
    return events


# -- speech for tests --------------------------------------------------------------------------


@functools.cache
def default_voice() -> LoadedVoice:
    """The default piper voice, loaded once per test session."""
    from wyoming_servers.tts.voices import DEFAULT_VOICE, find_voice, load_voice

    return load_voice(find_voice(DEFAULT_VOICE, []))


def speak(text: str, *, repeatable: bool = True) -> PcmAudio:
    """Real piper speech for a text (22050 Hz mono 16-bit), for feeding wake word and STT servers.

    `repeatable` turns off piper's generator noise so every run hears the same audio.
    """
    from piper import SynthesisConfig

    voice = default_voice()
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0) if repeatable else None
    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.piper.synthesize(text, config))
    return PcmAudio(pcm=pcm, rate=voice.sample_rate, width=2, channels=1)


def rms(audio: PcmAudio) -> float:
    """Root mean square level in [0, 1]: distinguishes speech from silence."""
    from wyoming_servers.audio import decode_samples

    samples = decode_samples(audio.pcm, audio.width)
    return float((samples**2).mean() ** 0.5) if len(samples) else 0.0


def tts_info(
    *, program_installed: bool = True, voice_installed: bool = True, voice: str = "en_US-test"
) -> Info:
    """A Wyoming TTS server's description: one program with one English voice."""
    attribution = Attribution(name="test", url="http://127.0.0.1/")
    tts_voice = TtsVoice(
        name=voice,
        description="test",
        attribution=attribution,
        installed=voice_installed,
        version=None,
        languages=["en_US"],
    )
    program = TtsProgram(
        name="blip-piper",
        description="test",
        attribution=attribution,
        installed=program_installed,
        version=None,
        voices=[tts_voice],
    )
    return Info(tts=[program])


@pytest.fixture(scope="module")
def stt_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The project's Wyoming STT server (whisper) from its command line, for a test module."""
    pytest_socket.enable_socket()
    logs = tmp_path_factory.mktemp("stt")
    with server_process(
        "wyoming_servers.stt",
        "--cpu-threads",
        "2",
        log_path=logs / "stt.log",
        env={"HF_HUB_OFFLINE": "1"},
    ) as server:
        yield server
