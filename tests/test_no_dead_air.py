"""No dead air, through Home Assistant's real Assist pipeline.

The real Blip agent answers from a loopback Claude that takes a second to its first token; Blip
voice speaks through the project's Wyoming TTS server; the TTS stream is read the way satellites
read it, in the formats real satellites ask for. The tests check behaviour, not timings (those
are in benchmarks/ttfa.py): the filler's audio is out before the model's first token, the answer
follows in the same stream, failures after the filler are still spoken, and the stream always
ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import contextlib
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.blip.phrases import FIXED_REPLIES
from custom_components.blip.voice.speakable import split_sentences
from tests import voice_fixtures
from tests.agent_helpers import AGENT_ID, blip_entry
from tests.llm_servers import FakeAnthropic
from tests.voice_fixtures import (
    SATELLITE_FORMATS,
    PipelineRecording,
    ffmpeg_decode,
    rms_level,
    run_pipeline,
    serve_tts,
    setup_blip_with_voice,
    voice_runtime,
    watch_processes,
)
from tests.wyoming_fixtures import ServerAddress
from wyoming_servers.tts.engine import TtsEngine

# Fixtures from the shared voice helpers.
blip_tts_engine = voice_fixtures.blip_tts_engine
tts_server = voice_fixtures.tts_server

BLIP_VOICE = "tts.blip_voice"
VOICE = "en_US-joe-medium"
QUESTION = "why is the sky blue"  # trivia: Claude, a slow route, so a filler comes first
THINKING_SECONDS = 1.0


@pytest.fixture
async def slow_claude(anthropic_server: FakeAnthropic) -> FakeAnthropic:
    anthropic_server.script.first_token_delay = THINKING_SECONDS
    return anthropic_server


async def _setup(hass: HomeAssistant, claude: FakeAnthropic, address: ServerAddress) -> Any:
    assert await async_setup_component(hass, "assist_pipeline", {})
    return await setup_blip_with_voice(hass, address, blip_entry(claude))


def _seconds_of(recording: PipelineRecording) -> float:
    rate = int(recording.tts_options.get("preferred_sample_rate") or 22050)
    channels = int(recording.tts_options.get("preferred_sample_channels") or 1)
    return len(ffmpeg_decode(recording.audio, recording.container, rate, channels)) / rate


def _filler_seconds(entry: Any, recording: PipelineRecording) -> float:
    """How long the filler the agent chose sounds (from Blip voice's phrase cache)."""
    cache = voice_runtime(entry).cache
    filler = recording.content_deltas[0][1]
    total = 0.0
    for sentence in split_sentences(filler):
        native = cache.native_format(VOICE)
        pcm = cache.get_now(VOICE, sentence, native) if native else None
        assert pcm is not None and native is not None, "every filler sentence is cached"
        total += native.duration(len(pcm))
    return total


@pytest.mark.parametrize("format_name", list(SATELLITE_FORMATS))
async def test_filler_audio_reaches_the_satellite_before_the_models_first_token(
    hass: HomeAssistant,
    slow_claude: FakeAnthropic,
    tts_server: ServerAddress,
    format_name: str,
) -> None:
    entry = await _setup(hass, slow_claude, tts_server)
    options = SATELLITE_FORMATS[format_name]
    with watch_processes() as processes:
        recording = await run_pipeline(
            hass,
            QUESTION,
            agent_id=AGENT_ID,
            tts_engine=BLIP_VOICE,
            tts_options=options,
            tts_voice=VOICE,
        )
    assert recording.errors == []
    assert recording.streaming_started is not None
    first_audio = recording.first_audio_at()
    first_token = recording.answer_first_token_at()
    assert first_audio is not None and first_token is not None
    assert first_audio < first_token  # the child hears Blip while the model is still thinking

    # The answer follows in the same stream, and the stream ends.
    assert recording.stream_closed
    filler = _filler_seconds(entry, recording)
    assert _seconds_of(recording) > filler + 2.0
    rate = options["preferred_sample_rate"]
    answer_starts = recording.audio_after_frames_at(int((filler + 0.3) * rate))
    assert answer_starts is not None and answer_starts > first_token

    # Only Home Assistant's own converter ran (fed Blip's CAF); Blip started no ffmpeg itself.
    [command] = processes.ffmpeg_runs()
    assert command[command.index("-f") + 1] == "caf"
    assert "-probesize" not in command


async def test_wav_alone_needs_no_conversion_program_at_all(
    hass: HomeAssistant, slow_claude: FakeAnthropic, tts_server: ServerAddress
) -> None:
    """A listener asking for WAV without sample options gets Blip voice's own bytes: no ffmpeg
    process is started anywhere, and the filler still comes before the model's first token."""
    await _setup(hass, slow_claude, tts_server)
    with watch_processes() as processes:
        recording = await run_pipeline(
            hass,
            QUESTION,
            agent_id=AGENT_ID,
            tts_engine=BLIP_VOICE,
            tts_options={"preferred_format": "wav"},
            tts_voice=VOICE,
        )
    assert processes.commands == []
    first_audio, first_token = recording.first_audio_at(), recording.answer_first_token_at()
    assert first_audio is not None and first_token is not None and first_audio < first_token
    assert recording.audio[:4] == b"RIFF" and recording.stream_closed


async def test_esphome_reads_the_proxy_url_and_hears_the_filler_first(
    hass: HomeAssistant,
    slow_claude: FakeAnthropic,
    tts_server: ServerAddress,
    hass_client_no_auth: ClientSessionGenerator,
) -> None:
    """ESPHome satellites fetch /api/tts_proxy/<token> when streaming starts: over HTTP too,
    the filler's bytes arrive before the model's first token, and the answer follows."""
    await _setup(hass, slow_claude, tts_server)
    client = await hass_client_no_auth()

    async def fetch(url: str) -> AsyncIterator[bytes]:
        response = await client.get(url)
        assert response.status == 200
        async for data in response.content.iter_any():
            yield data

    recording = await run_pipeline(
        hass,
        QUESTION,
        agent_id=AGENT_ID,
        tts_engine=BLIP_VOICE,
        tts_options=SATELLITE_FORMATS["flac-48000-stereo"],
        tts_voice=VOICE,
        fetch=fetch,
    )
    first_audio, first_token = recording.first_audio_at(), recording.answer_first_token_at()
    assert first_audio is not None and first_token is not None and first_audio < first_token
    assert recording.stream_closed and _seconds_of(recording) > 4.0


async def test_claude_failing_after_the_filler_is_still_spoken(
    hass: HomeAssistant, slow_claude: FakeAnthropic, tts_server: ServerAddress
) -> None:
    """Claude errors once the filler is out: the agent's apology is streamed after it and the
    satellite's stream ends normally."""
    slow_claude.error_event_after_chunks = 0
    entry = await _setup(hass, slow_claude, tts_server)
    recording = await run_pipeline(
        hass,
        QUESTION,
        agent_id=AGENT_ID,
        tts_engine=BLIP_VOICE,
        tts_options=SATELLITE_FORMATS["wav-22050-mono"],
        tts_voice=VOICE,
    )
    assert recording.errors == []
    assert recording.stream_closed and recording.run_ended is not None
    assert len(recording.content_deltas) >= 2  # the filler, then the apology's text
    filler = _filler_seconds(entry, recording)
    heard = ffmpeg_decode(recording.audio, "wav", 22050, 1)
    apology_audio = heard[int((filler + 0.2) * 22050) :]
    assert len(apology_audio) / 22050 > 1.0 and rms_level(apology_audio) > 0.02


async def test_voice_server_lost_after_the_filler_ends_with_blips_cached_apology(
    hass: HomeAssistant, slow_claude: FakeAnthropic, blip_tts_engine: TtsEngine
) -> None:
    """The TTS server goes away while Claude thinks: the answer cannot be synthesized, so Blip
    voice plays its apology from memory and closes the stream; nothing is left hanging."""
    server = contextlib.AsyncExitStack()
    address = await server.enter_async_context(serve_tts(blip_tts_engine))
    stopping: list[asyncio.Task[None]] = []
    try:
        entry = await _setup(hass, slow_claude, address)
        recording = await run_pipeline(
            hass,
            QUESTION,
            agent_id=AGENT_ID,
            tts_engine=BLIP_VOICE,
            tts_options=SATELLITE_FORMATS["wav-16000-mono"],
            tts_voice=VOICE,
            on_first_audio=lambda: stopping.append(asyncio.create_task(server.aclose())),
        )
    finally:
        await server.aclose()
    assert stopping  # the server was stopped as soon as the filler was heard
    stats = voice_runtime(entry).last_stats
    assert stats is not None and stats.apologized
    assert recording.stream_closed and recording.errors == []
    heard = len(ffmpeg_decode(recording.audio, "wav", 16000, 1)) / 16000
    cache = voice_runtime(entry).cache
    native = cache.native_format(VOICE)
    assert native is not None
    apology = sum(
        native.duration(len(cache.get_now(VOICE, sentence, native) or b""))
        for sentence in split_sentences(FIXED_REPLIES[1])
    )
    assert heard == pytest.approx(_filler_seconds(entry, recording) + apology, abs=0.2)


async def test_drill_answer_is_spoken_without_a_filler(
    hass: HomeAssistant, slow_claude: FakeAnthropic, tts_server: ServerAddress
) -> None:
    """The drill engine answers at once: no filler, no model, and its audio is in the stream."""
    await _setup(hass, slow_claude, tts_server)
    recording = await run_pipeline(
        hass,
        "how do you spell cat",
        agent_id=AGENT_ID,
        tts_engine=BLIP_VOICE,
        tts_options=SATELLITE_FORMATS["wav-22050-mono"],
        tts_voice=VOICE,
    )
    assert slow_claude.chat_requests == []
    assert "C, A, T" in recording.speech
    assert recording.stream_closed and _seconds_of(recording) > 1.0
