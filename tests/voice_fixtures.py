"""Helpers for the Blip voice tests and the time-to-first-audio benchmark.

- ``blip_tts_engine`` / ``tts_server``: the project's own Wyoming TTS server (real piper voice,
  phrase list prepared once per session) on a free loopback port.
- ``ProcessWatch``: records every subprocess Home Assistant or Blip starts (they still run).
- ``ffmpeg_decode``: what a player would hear, decoded by ffmpeg to raw PCM.
- ``payload_offset``: where the audio starts in a WAV/FLAC/MP3/CAF byte stream.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
import contextlib
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
import struct
import subprocess
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
    from custom_components.blip.tts import RUNTIME_KEY

    return entry.runtime_data.extras[RUNTIME_KEY]
