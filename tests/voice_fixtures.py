"""Helpers for the Blip voice tests and the time-to-first-audio benchmark.

- ``blip_tts_engine`` / ``tts_server``: the project's own Wyoming TTS server (real piper voice,
  phrase list prepared once per session) on a free loopback port.
- ``ProcessWatch``: records every subprocess Home Assistant or Blip starts (they still run).
- ``ffmpeg_decode``: what a player would hear, decoded by ffmpeg to raw PCM.
- ``payload_offset``: where the audio starts in a WAV/FLAC/MP3/CAF byte stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
import contextlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
import struct
import subprocess
import time
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
import numpy as np
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from tests.wyoming_fixtures import ServerAddress, default_voice, running_server
from wyoming_servers.tts.__main__ import default_phrases_path, load_phrase_sentences
from wyoming_servers.tts.cache import SentenceAudioCache
from wyoming_servers.tts.engine import TtsEngine
from wyoming_servers.tts.handler import TtsEventHandler, TtsHandlerOptions

if TYPE_CHECKING:
    from custom_components.blip.tts import BlipVoiceRuntime

FFMPEG = "/usr/bin/ffmpeg"

# What real satellites ask for: a Wyoming satellite, an ESPHome one on its voice pipeline, and an
# ESPHome media player's announcement format.
WYOMING_SATELLITE = {
    "preferred_format": "wav",
    "preferred_sample_rate": 22050,
    "preferred_sample_channels": 1,
    "preferred_sample_bytes": 2,
}
ESPHOME_VOICE = {
    "preferred_format": "wav",
    "preferred_sample_rate": 16000,
    "preferred_sample_channels": 1,
    "preferred_sample_bytes": 2,
}
ESPHOME_MEDIA_PLAYER = {
    "preferred_format": "flac",
    "preferred_sample_rate": 48000,
    "preferred_sample_channels": 2,
    "preferred_sample_bytes": 2,
}
SATELLITE_FORMATS = {
    "wav-22050-mono": WYOMING_SATELLITE,
    "wav-16000-mono": ESPHOME_VOICE,
    "flac-48000-stereo": ESPHOME_MEDIA_PLAYER,
}


def make_tts_engine(cache_dir: Path) -> TtsEngine:
    """The project's TTS engine with the default voice and the packaged phrases prepared."""
    engine = TtsEngine(
        [default_voice()], cache=SentenceAudioCache(disk_dir=cache_dir), max_concurrent=2
    )
    engine.prepare_phrases(load_phrase_sentences([default_phrases_path()]))
    return engine


@pytest.fixture(scope="session")
def blip_tts_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TtsEngine]:
    """Loaded once per session: piper and the phrase audio are the slow part."""
    engine = make_tts_engine(tmp_path_factory.mktemp("voice-tts-cache"))
    yield engine
    engine.close()


@contextlib.asynccontextmanager
async def serve_tts(engine: TtsEngine) -> AsyncIterator[ServerAddress]:
    """The project's Wyoming TTS server for ``engine`` on a free loopback port."""
    async with running_server(partial(TtsEventHandler, engine, TtsHandlerOptions())) as address:
        yield address


@pytest.fixture
async def tts_server(blip_tts_engine: TtsEngine) -> AsyncIterator[ServerAddress]:
    """A fresh server per test on the shared engine."""
    async with serve_tts(blip_tts_engine) as address:
        yield address


@dataclass
class ProcessWatch:
    """Every program started through asyncio while active (the programs still run)."""

    commands: list[list[str]] = field(default_factory=list)

    def programs(self) -> list[str]:
        """Executable names, in start order."""
        return [Path(command[0]).name for command in self.commands]

    def ffmpeg_runs(self) -> list[list[str]]:
        """Every ffmpeg command line."""
        return [command for command in self.commands if Path(command[0]).name == "ffmpeg"]


@contextlib.contextmanager
def watch_processes() -> Iterator[ProcessWatch]:
    """Record ``asyncio.create_subprocess_exec`` calls (Home Assistant's and Blip's ffmpeg)."""
    watch = ProcessWatch()
    real = asyncio.create_subprocess_exec

    async def recording(program: str, *args: Any, **kwargs: Any) -> asyncio.subprocess.Process:
        watch.commands.append([str(program), *map(str, args)])
        return await real(program, *args, **kwargs)

    with patch("asyncio.create_subprocess_exec", recording):
        yield watch


def ffmpeg_decode(data: bytes, input_format: str, rate: int, channels: int) -> np.ndarray:
    """Decode a whole byte stream with ffmpeg to int16 frames of shape (frames, channels)."""
    result = subprocess.run(
        [
            FFMPEG,
            "-hide_banner",
            "-loglevel",
            "error",
            "-f",
            input_format,
            "-i",
            "pipe:0",
            "-f",
            "s16le",
            "-ar",
            str(rate),
            "-ac",
            str(channels),
            "pipe:1",
        ],
        input=data,
        capture_output=True,
        check=True,
    )
    return np.frombuffer(result.stdout, dtype="<i2").reshape(-1, channels)


def payload_offset(data: bytes, container: str) -> int | None:
    """Bytes before the first audio in a stream; None while the header is incomplete."""
    if container == "wav":
        position = 12
        while position + 8 <= len(data):
            chunk_id = data[position : position + 4]
            (size,) = struct.unpack("<I", data[position + 4 : position + 8])
            if chunk_id == b"data":
                return position + 8
            position += 8 + size + (size & 1)
        return None
    if container == "flac":
        position = 4
        while position + 4 <= len(data):
            last = data[position] & 0x80
            size = int.from_bytes(data[position + 1 : position + 4], "big")
            position += 4 + size
            if last:
                return position if position <= len(data) else None
        return None
    if container == "caf":
        marker = data.find(b"data")
        return marker + 16 if marker >= 0 and len(data) >= marker + 16 else None
    return 0


def rms_level(frames: np.ndarray) -> float:
    """Root mean square level in [0, 1] (speech is far above silence)."""
    if not len(frames):
        return 0.0
    samples = frames.astype(np.float64) / 32768.0
    return float(np.sqrt(np.mean(samples**2)))


async def setup_blip_with_voice(
    hass: HomeAssistant,
    address: ServerAddress,
    entry: MockConfigEntry | None = None,
    *,
    wait_for_warm_up: bool = True,
) -> MockConfigEntry:
    """Load a Blip entry (one child, Ada) whose Blip voice uses the TTS server at ``address``."""
    from custom_components.blip.const import CONF_VOICE_HOST, CONF_VOICE_PORT
    from tests.agent_helpers import blip_entry

    entry = entry or blip_entry()
    entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, CONF_VOICE_HOST: address.host, CONF_VOICE_PORT: address.port}
    )
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    if wait_for_warm_up:
        await asyncio.wait_for(voice_runtime(entry).warmed_up.wait(), 60)
    return entry


def voice_runtime(entry: MockConfigEntry) -> BlipVoiceRuntime:
    """Blip voice's shared state for an entry."""
    runtime = entry.runtime_data.voice
    assert runtime is not None
    return runtime


# -- driving Home Assistant's real Assist pipeline, read like a satellite ----------------------


@dataclass
class PipelineRecording:
    """One pipeline run from the intent stage to TTS, with its audio as a satellite got it."""

    tts_options: dict[str, Any]
    container: str
    intent_started: float | None = None
    streaming_started: float | None = None
    run_ended: float | None = None
    content_deltas: list[tuple[float, str]] = field(default_factory=list)
    chunks: list[tuple[float, bytes]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    speech: str = ""
    stream_closed: bool = False
    conversation_id: str | None = None

    @property
    def audio(self) -> bytes:
        """Everything the satellite received."""
        return b"".join(chunk for _, chunk in self.chunks)

    def ms_after_intent(self, moment: float | None) -> float | None:
        """Milliseconds from the intent stage's start to ``moment``."""
        if moment is None or self.intent_started is None:
            return None
        return round((moment - self.intent_started) * 1000, 1)

    def first_audio_at(self) -> float | None:
        """When the first bytes of audio (past the container header) arrived."""
        received = bytearray()
        for at, chunk in self.chunks:
            received.extend(chunk)
            offset = payload_offset(bytes(received), self.container)
            if offset is not None and len(received) > offset:
                return at
        return None

    def answer_first_token_at(self) -> float | None:
        """When the answer's first text reached the pipeline (the content after the filler)."""
        return self.content_deltas[1][0] if len(self.content_deltas) > 1 else None

    def frames_received(self, chunk_count: int) -> int:
        """Audio frames decodable from the first ``chunk_count`` chunks."""
        data = b"".join(chunk for _, chunk in self.chunks[:chunk_count])
        rate = int(self.tts_options.get("preferred_sample_rate") or 22050)
        channels = int(self.tts_options.get("preferred_sample_channels") or 1)
        if self.container == "wav":
            offset = payload_offset(data, "wav") or len(data)
            return max(0, len(data) - offset) // (2 * channels)
        try:
            return len(ffmpeg_decode(data, self.container, rate, channels))
        except subprocess.CalledProcessError:
            return 0

    def audio_after_frames_at(self, frames: int) -> float | None:
        """When the stream first held more than ``frames`` frames (binary search on chunks)."""
        low, high = 1, len(self.chunks)
        if not self.chunks or self.frames_received(high) <= frames:
            return None
        while low < high:
            middle = (low + high) // 2
            if self.frames_received(middle) > frames:
                high = middle
            else:
                low = middle + 1
        return self.chunks[low - 1][0]


async def run_pipeline(
    hass: HomeAssistant,
    text: str,
    *,
    agent_id: str,
    tts_engine: str,
    tts_options: dict[str, Any],
    tts_voice: str | None = None,
    conversation_id: str | None = None,
    on_first_audio: Callable[[], None] | None = None,
    fetch: Callable[[str], AsyncIterator[bytes]] | None = None,
    limit_seconds: float = 60.0,
) -> PipelineRecording:
    """Run HA's Assist pipeline from intent to TTS and read the TTS stream as satellites do.

    Reading starts on ``tts_start_streaming`` or, when the reply was not streamed, at TTS end:
    in-process like Wyoming satellites (``tts.async_get_stream(...).async_stream_result()``),
    or through ``fetch(url)`` of ``/api/tts_proxy/<token>`` like ESPHome satellites.
    """
    from homeassistant.components import assist_pipeline, tts
    from homeassistant.components.assist_pipeline.pipeline import (
        PipelineEvent,
        PipelineEventType,
        PipelineInput,
        PipelineRun,
        PipelineStage,
    )
    from homeassistant.core import Context
    from homeassistant.helpers import chat_session

    pipeline = assist_pipeline.async_get_pipeline(hass)
    await assist_pipeline.async_update_pipeline(
        hass,
        pipeline,
        conversation_engine=agent_id,
        conversation_language="en",
        language="en",
        tts_engine=tts_engine,
        tts_language="en_US",
        tts_voice=tts_voice,
        prefer_local_intents=False,
    )
    pipeline = assist_pipeline.async_get_pipeline(hass)
    recording = PipelineRecording(
        tts_options=dict(tts_options), container=str(tts_options.get("preferred_format", "mp3"))
    )
    token: str | None = None
    url: str | None = None
    reader: asyncio.Task[None] | None = None

    async def read() -> None:
        assert token is not None and url is not None
        if fetch is not None:
            chunks = fetch(url)
        else:
            stream = tts.async_get_stream(hass, token)
            assert stream is not None
            chunks = stream.async_stream_result()
        async for chunk in chunks:
            if not recording.chunks and on_first_audio is not None:
                on_first_audio()
            recording.chunks.append((time.monotonic(), chunk))
        recording.stream_closed = True

    def start_reading() -> None:
        nonlocal reader
        if reader is None and token is not None:
            reader = hass.async_create_task(read())

    def on_event(event: PipelineEvent) -> None:
        now = time.monotonic()
        nonlocal token, url
        data = event.data or {}
        if event.type is PipelineEventType.RUN_START:
            token, url = data["tts_output"]["token"], data["tts_output"]["url"]
        elif event.type is PipelineEventType.INTENT_START:
            recording.intent_started = now
        elif event.type is PipelineEventType.INTENT_PROGRESS:
            if content := (data.get("chat_log_delta") or {}).get("content"):
                recording.content_deltas.append((now, content))
            if data.get("tts_start_streaming"):
                recording.streaming_started = now
                start_reading()
        elif event.type is PipelineEventType.INTENT_END:
            speech = data["intent_output"]["response"]["speech"].get("plain", {})
            recording.speech = speech.get("speech", "")
        elif event.type is PipelineEventType.TTS_END:
            start_reading()
        elif event.type is PipelineEventType.ERROR:
            recording.errors.append(dict(data))
        elif event.type is PipelineEventType.RUN_END:
            recording.run_ended = now

    with chat_session.async_get_chat_session(hass, conversation_id) as session:
        recording.conversation_id = session.conversation_id
        pipeline_input = PipelineInput(
            intent_input=text,
            session=session,
            run=PipelineRun(
                hass,
                context=Context(),
                pipeline=pipeline,
                start_stage=PipelineStage.INTENT,
                end_stage=PipelineStage.TTS,
                event_callback=on_event,
                tts_audio_output=dict(tts_options),
            ),
        )
        await pipeline_input.validate()
        await asyncio.wait_for(pipeline_input.execute(), limit_seconds)
    if reader is not None:
        await asyncio.wait_for(reader, limit_seconds)
    return recording
