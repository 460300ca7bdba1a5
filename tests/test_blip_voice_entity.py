"""The "Blip voice" TTS entity in a real Home Assistant with the project's Wyoming TTS server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
import io
from typing import Any
import wave

from homeassistant.components import tts
from homeassistant.components.assist_satellite.const import DATA_COMPONENT as SATELLITES
from homeassistant.components.tts.const import DATA_COMPONENT, DATA_TTS_MANAGER
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.setup import async_setup_component
from homeassistant.util import dt as dt_util
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed
from wyoming.event import Event
from wyoming.info import Describe

from custom_components.blip.diagnostics import async_get_config_entry_diagnostics
from custom_components.blip.phrases import ALL_PHRASES, DRILL_PROMPTS, FILLERS_CHEERFUL, GREETINGS
from custom_components.blip.tts import BlipVoiceEntity
from custom_components.blip.voice.audio import PcmFormat
from custom_components.blip.voice.speakable import phrase_sentences, split_sentences
from tests import voice_fixtures
from tests.agent_helpers import blip_entry
from tests.voice_fixtures import (
    ESPHOME_MEDIA_PLAYER,
    WYOMING_SATELLITE,
    ffmpeg_decode,
    payload_offset,
    rms_level,
    setup_blip_with_voice,
    voice_runtime,
    watch_processes,
)
from tests.wyoming_fixtures import LOOPBACK, ServerAddress, running_server, tts_info
from wyoming_servers.serve import BlipEventHandler, WyomingServer
from wyoming_servers.tts.engine import TtsEngine
from wyoming_servers.tts.handler import TtsEventHandler, TtsHandlerOptions

# Fixtures from the shared voice helpers.
blip_tts_engine = voice_fixtures.blip_tts_engine
tts_server = voice_fixtures.tts_server

ENTITY_ID = "tts.blip_voice"
VOICE = "en_US-joe-medium"
FILLER = FILLERS_CHEERFUL[0]
ANSWER = "The sky looks blue because air scatters blue sunlight the most."


def _entity(hass: HomeAssistant) -> BlipVoiceEntity:
    entity = hass.data[DATA_COMPONENT].get_entity(ENTITY_ID)
    assert isinstance(entity, BlipVoiceEntity)
    return entity


async def _held_text(release: asyncio.Event) -> AsyncIterator[str]:
    """Like Assist: the filler first, the answer only once the model has spoken."""
    yield FILLER
    await release.wait()
    yield ANSWER


async def _listen(stream: tts.ResultStream, release: asyncio.Event) -> tuple[bytes, bytes]:
    """Read the stream like a satellite; returns (bytes before the answer existed, all bytes)."""
    early = bytearray()
    everything = bytearray()

    async def read() -> None:
        async for chunk in stream.async_stream_result():
            everything.extend(chunk)
            if not release.is_set():
                early.extend(chunk)

    reader = asyncio.create_task(read())
    await asyncio.sleep(1.0)  # the model is "thinking"
    release.set()
    await asyncio.wait_for(reader, 60)
    return bytes(early), bytes(everything)


async def test_blip_voice_lists_the_servers_voices_and_the_format_options(
    hass: HomeAssistant, tts_server: ServerAddress
) -> None:
    entry = await setup_blip_with_voice(hass, tts_server)
    entity = _entity(hass)
    assert entity.async_supports_streaming_input()
    assert {
        tts.ATTR_PREFERRED_FORMAT,
        tts.ATTR_PREFERRED_SAMPLE_RATE,
        tts.ATTR_PREFERRED_SAMPLE_CHANNELS,
        tts.ATTR_PREFERRED_SAMPLE_BYTES,
        tts.ATTR_VOICE,
    } <= set(entity.supported_options or [])
    assert entity.default_language == "en_US"
    [voice] = entity.async_get_supported_voices("en_US") or []
    assert voice.voice_id == VOICE
    # Every fixed sentence is in memory after start-up, already in the common satellite formats.
    runtime = voice_runtime(entry)
    assert len(runtime.cache) == len(phrase_sentences(ALL_PHRASES))
    for options in (WYOMING_SATELLITE, ESPHOME_MEDIA_PLAYER):
        target = PcmFormat(
            options["preferred_sample_rate"],
            options["preferred_sample_bytes"],
            options["preferred_sample_channels"],
        )
        assert runtime.cache.get_now(VOICE, split_sentences(FILLER)[0], target)


async def test_diagnostics_show_blip_voice_health_without_words(
    hass: HomeAssistant, tts_server: ServerAddress
) -> None:
    """Diagnostics report the voice server and cache sizes, and no sentence Blip spoke."""
    entry = await setup_blip_with_voice(hass, tts_server)
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    voice = diagnostics["voice"]
    assert voice["voices"] == [VOICE]
    assert voice["phrase_cache_sentences"] == len(phrase_sentences(ALL_PHRASES))
    assert not any(sentence in repr(diagnostics) for sentence in phrase_sentences(ALL_PHRASES))


async def test_without_a_voice_server_there_is_no_blip_voice(hass: HomeAssistant) -> None:
    entry = blip_entry()
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get(ENTITY_ID) is None


async def test_unreachable_server_is_retried_and_blip_voice_appears_when_it_answers(
    hass: HomeAssistant, blip_tts_engine: TtsEngine, unused_tcp_port: int
) -> None:
    """The agent works meanwhile; the voice platform alone retries until its server is up."""
    address = ServerAddress(LOOPBACK, unused_tcp_port)
    entry = await setup_blip_with_voice(hass, address, wait_for_warm_up=False)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("conversation.blip_for_ada") is not None
    assert hass.states.get(ENTITY_ID) is None

    server = WyomingServer(
        address.uri, lambda *args: TtsEventHandler(blip_tts_engine, TtsHandlerOptions(), *args)
    )
    await server.start()
    try:
        async_fire_time_changed(hass, dt_util.utcnow() + timedelta(minutes=2))
        await hass.async_block_till_done()
        assert hass.states.get(ENTITY_ID) is not None
        await asyncio.wait_for(voice_runtime(entry).warmed_up.wait(), 60)
    finally:
        await hass.config_entries.async_unload(entry.entry_id)
        # Let a connection Blip voice opened just before the unload be accepted before the
        # server closes: asyncio fails on accepting into a closed server (an error HA logs).
        await hass.async_block_till_done()
        await server.stop()


class _NoVoiceInstalled(BlipEventHandler):
    """A Wyoming TTS server whose program is installed but none of its voices (yet)."""

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(tts_info(voice_installed=False, voice=VOICE).event())
        return True


async def test_a_server_with_no_installed_voice_gives_no_blip_voice(
    hass: HomeAssistant, caplog: pytest.LogCaptureFixture
) -> None:
    """Blip voice cannot speak with no voice: its platform waits (retried), the agent works."""
    async with running_server(_NoVoiceInstalled) as address:
        entry = await setup_blip_with_voice(hass, address, wait_for_warm_up=False)
        assert entry.state is ConfigEntryState.LOADED
        assert hass.states.get("conversation.blip_for_ada") is not None
        assert hass.states.get(ENTITY_ID) is None
        assert entry.runtime_data.voice is None
        assert "Blip voice's TTS server has no installed voice" in caplog.text
        assert await hass.config_entries.async_unload(entry.entry_id)


async def test_format_only_wav_is_written_by_blip_voice_with_no_ffmpeg_and_starts_at_once(
    hass: HomeAssistant, tts_server: ServerAddress
) -> None:
    """A player asking for WAV alone gets Blip's own streaming WAV: the filler's audio is out
    before the answer's text exists, and no conversion program runs anywhere."""
    await setup_blip_with_voice(hass, tts_server)
    release = asyncio.Event()
    with watch_processes() as processes:
        stream = tts.async_create_stream(
            hass, ENTITY_ID, "en_US", {tts.ATTR_PREFERRED_FORMAT: "wav", tts.ATTR_VOICE: VOICE}
        )
        stream.async_set_message_stream(_held_text(release))
        early, everything = await _listen(stream, release)
    assert processes.ffmpeg_runs() == []
    with wave.open(io.BytesIO(everything), "rb") as reader:
        assert (reader.getframerate(), reader.getnchannels(), reader.getsampwidth()) == (
            22050,
            1,
            2,
        )
    filler_seconds = (len(early) - 44) / (22050 * 2)
    assert filler_seconds > 2.0  # the whole filler, before the answer existed
    total_seconds = (len(everything) - 44) / (22050 * 2)
    assert total_seconds > filler_seconds + 2.0  # the answer followed in the same stream


@pytest.mark.parametrize(
    ("options", "container"),
    [(WYOMING_SATELLITE, "wav"), (ESPHOME_MEDIA_PLAYER, "flac")],
    ids=["wyoming-satellite", "esphome-media-player"],
)
async def test_satellite_formats_flow_through_home_assistants_converter_without_waiting(
    hass: HomeAssistant, tts_server: ServerAddress, options: dict[str, Any], container: str
) -> None:
    """Home Assistant 2026.2 converts every satellite request with its ffmpeg; Blip voice feeds it
    CAF in the exact PCM asked for, so the filler is playable before the answer exists."""
    await setup_blip_with_voice(hass, tts_server)
    release = asyncio.Event()
    with watch_processes() as processes:
        stream = tts.async_create_stream(hass, ENTITY_ID, "en_US", {**options, "voice": VOICE})
        stream.async_set_message_stream(_held_text(release))
        early, everything = await _listen(stream, release)
    [command] = processes.ffmpeg_runs()
    assert command[command.index("-f") + 1] == "caf"  # Home Assistant's ffmpeg reads Blip's CAF
    rate, channels = options["preferred_sample_rate"], options["preferred_sample_channels"]
    assert (offset := payload_offset(early, container)) is not None
    assert len(early) > offset + 1000
    heard = ffmpeg_decode(everything, container, rate, channels)
    early_heard = ffmpeg_decode(early, container, rate, channels)
    assert len(early_heard) / rate > 1.5  # most of the filler played while the model thought
    assert len(heard) / rate > len(early_heard) / rate + 2.0
    assert rms_level(heard) > 0.02


async def test_a_whole_fixed_reply_is_spoken_from_blip_voices_phrase_cache_alone(
    hass: HomeAssistant, tts_server: ServerAddress
) -> None:
    """The one phrase cache: a short whole reply (not streamed by the pipeline) is spoken from
    Blip voice's memory with no synthesis, and nothing was generated into Home Assistant's own
    TTS cache at start-up (it would hold a second copy of the same phrases)."""
    assert await async_setup_component(hass, "assist_pipeline", {})
    entry = await setup_blip_with_voice(hass, tts_server)
    await hass.async_block_till_done(wait_background_tasks=True)
    manager = hass.data[DATA_TTS_MANAGER]
    assert manager.mem_cache == {}
    runtime = voice_runtime(entry)

    stream = tts.async_create_stream(
        hass, ENTITY_ID, "en_US", {**WYOMING_SATELLITE, tts.ATTR_VOICE: VOICE}
    )
    stream.async_set_message(DRILL_PROMPTS[4])  # "That's right!"
    audio = b"".join([chunk async for chunk in stream.async_stream_result()])
    stats = runtime.last_stats
    assert stats is not None
    assert stats.sentences == stats.from_cache == 1
    assert stats.synthesized == 0
    heard = ffmpeg_decode(audio, "wav", 22050, 1)
    assert len(heard) / 22050 > 0.4 and rms_level(heard) > 0.02


@dataclass
class _Satellite:
    tts_options: dict[str, Any]


@dataclass
class _SatelliteComponent:
    """What assist_satellite keeps under its typed key (see satellite_tts_options)."""

    entities: list[_Satellite]


async def test_the_familys_own_satellite_format_is_ready_at_once(
    hass: HomeAssistant, tts_server: ServerAddress
) -> None:
    """A satellite asking for a format no common one uses (24 kHz) finds the phrase cache
    already converted for it after the warm-up; a format nobody could produce is skipped."""
    own = {
        tts.ATTR_PREFERRED_FORMAT: "wav",
        tts.ATTR_PREFERRED_SAMPLE_RATE: 24000,
        tts.ATTR_PREFERRED_SAMPLE_CHANNELS: 1,
        tts.ATTR_PREFERRED_SAMPLE_BYTES: 2,
    }
    impossible = {**own, tts.ATTR_PREFERRED_SAMPLE_RATE: 100}
    hass.data[SATELLITES] = _SatelliteComponent([_Satellite(impossible), _Satellite(own)])  # type: ignore[assignment]
    entry = await setup_blip_with_voice(hass, tts_server)
    runtime = voice_runtime(entry)
    sentence = phrase_sentences(ALL_PHRASES)[0]
    assert runtime.cache.get_now(VOICE, sentence, PcmFormat(rate=24000, width=2, channels=1))
    assert runtime.warmed_up.is_set()  # the impossible format did not stop the warm-up
    assert await hass.config_entries.async_unload(entry.entry_id)


async def test_options_no_satellite_could_play_fail_with_a_clear_error(
    hass: HomeAssistant, tts_server: ServerAddress
) -> None:
    await setup_blip_with_voice(hass, tts_server)
    stream = tts.async_create_stream(
        hass, ENTITY_ID, "en_US", {tts.ATTR_PREFERRED_FORMAT: "wav", "preferred_sample_rate": 100}
    )
    stream.async_set_message("Hello there.")
    with pytest.raises(HomeAssistantError, match="cannot produce that audio"):
        async for _ in stream.async_stream_result():
            pass


async def test_a_voice_the_server_no_longer_has_falls_back_to_the_default_voice(
    hass: HomeAssistant, tts_server: ServerAddress, caplog: pytest.LogCaptureFixture
) -> None:
    """A pipeline still set to a removed voice must not leave the child in silence."""
    await setup_blip_with_voice(hass, tts_server)
    stream = tts.async_create_stream(
        hass, ENTITY_ID, "en_US", {tts.ATTR_PREFERRED_FORMAT: "wav", tts.ATTR_VOICE: "en_GB-gone"}
    )
    stream.async_set_message(GREETINGS[0])
    audio = b"".join([chunk async for chunk in stream.async_stream_result()])
    heard = ffmpeg_decode(audio, "wav", 22050, 1)
    assert len(heard) / 22050 > 2.0 and rms_level(heard) > 0.02
    assert "no voice en_GB-gone" in caplog.text
