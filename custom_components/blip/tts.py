"""Blip voice: a streaming TTS entity that starts speaking the moment the agent does.

It speaks the Wyoming protocol to the configured TTS server (Blip's own or any other), holds
Blip's fixed sentences in memory per voice and output format, and produces the format each
satellite asks for as a stream, so a filler reaches a kid's satellite in a few milliseconds
instead of after five seconds of Home Assistant's format conversion. See docs/voice.md.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Mapping
import contextlib
from dataclasses import dataclass, field
from typing import Any, ClassVar, Final

from homeassistant.components import tts
from homeassistant.const import EVENT_HOMEASSISTANT_STOP
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError, PlatformNotReady
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import BlipConfigEntry
from .const import CONF_VOICE_HOST, CONF_VOICE_PORT, DEFAULT_VOICE_PORT, DOMAIN, LOGGER
from .phrases import ALL_PHRASES, FIXED_REPLIES
from .voice.audio import AudioFormatError, PcmFormat
from .voice.output import OutputPlan, encode, plan_output
from .voice.phrase_cache import PhraseCache
from .voice.prewarm import SIGNAL_PREWARM_READY, Prewarmer
from .voice.speaker import Speaker, SpeechStats
from .voice.wyoming_client import TtsServerInfo, WyomingTtsClient, WyomingTtsError

# Several satellites may speak at once: each stream has its own connection to the TTS server.
PARALLEL_UPDATES = 0
ATTR_SPEAKER: Final = "speaker"

# Spoken when the TTS server fails after a filler started: "say that again" keeps the child in
# the conversation instead of in silence.
APOLOGY: Final = FIXED_REPLIES[1]

# Formats real satellites ask for: Wyoming satellites, ESPHome voice PE's announcement pipeline
# and older ESPHome / VoIP. The family's own satellites' formats are added at start-up.
COMMON_SATELLITE_FORMATS: Final = (
    {
        tts.ATTR_PREFERRED_FORMAT: "wav",
        tts.ATTR_PREFERRED_SAMPLE_RATE: 22050,
        tts.ATTR_PREFERRED_SAMPLE_CHANNELS: 1,
        tts.ATTR_PREFERRED_SAMPLE_BYTES: 2,
    },
    {
        tts.ATTR_PREFERRED_FORMAT: "wav",
        tts.ATTR_PREFERRED_SAMPLE_RATE: 16000,
        tts.ATTR_PREFERRED_SAMPLE_CHANNELS: 1,
        tts.ATTR_PREFERRED_SAMPLE_BYTES: 2,
    },
    {
        tts.ATTR_PREFERRED_FORMAT: "flac",
        tts.ATTR_PREFERRED_SAMPLE_RATE: 48000,
        tts.ATTR_PREFERRED_SAMPLE_CHANNELS: 2,
        tts.ATTR_PREFERRED_SAMPLE_BYTES: 2,
    },
)
# Until the first synthesis tells otherwise: what piper's medium voices produce.
ASSUMED_NATIVE_FORMAT: Final = PcmFormat(rate=22050, width=2, channels=1)


AUDIO_OPTIONS: Final = (
    tts.ATTR_PREFERRED_FORMAT,
    tts.ATTR_PREFERRED_SAMPLE_RATE,
    tts.ATTR_PREFERRED_SAMPLE_CHANNELS,
    tts.ATTR_PREFERRED_SAMPLE_BYTES,
)


def satellite_tts_options(hass: HomeAssistant) -> list[dict[str, Any]]:
    """The audio options of every Assist satellite, or [] where they cannot be listed.

    Home Assistant has no public call that lists satellites with their ``tts_options``; its
    assist_satellite component keeps them under the typed key ``DATA_COMPONENT`` (the same on
    2026.2 and 2026.10). This is the one place that reads it. If a release moves it, this returns
    [] and Blip voice falls back to the formats requests came with (``learn_format``).
    """
    try:
        from homeassistant.components.assist_satellite.const import DATA_COMPONENT
    except ImportError:
        return []
    try:
        component = hass.data.get(DATA_COMPONENT)
        entities = list(getattr(component, "entities", ()))
    except Exception:  # a changed internal must never stop Blip voice
        return []
    found: list[dict[str, Any]] = []
    for satellite in entities:
        options = getattr(satellite, "tts_options", None)
        if isinstance(options, Mapping):
            audio = {key: options[key] for key in AUDIO_OPTIONS if options.get(key) is not None}
            if audio and audio not in found:
                found.append(audio)
    return found


@dataclass
class BlipVoiceRuntime:
    """Blip voice's shared state, reachable from the entry for diagnostics and tests."""

    client: WyomingTtsClient
    cache: PhraseCache
    server: TtsServerInfo
    streams: int = 0
    last_stats: SpeechStats | None = None
    warmed_up: asyncio.Event = field(default_factory=asyncio.Event)
    # Audio options requests actually came with: the fallback when satellites cannot be listed.
    learned_formats: list[dict[str, Any]] = field(default_factory=list)
    # Synthesizes predictable sentences ahead (drill answers), once the entity is added.
    prewarmer: Prewarmer | None = None

    def learn_format(self, options: Mapping[str, Any]) -> None:
        """Remember a request's audio options (format and sample options only)."""
        audio = {key: options[key] for key in AUDIO_OPTIONS if options.get(key) is not None}
        if audio and audio not in self.learned_formats and len(self.learned_formats) < 16:
            self.learned_formats.append(audio)

    def as_diagnostics(self) -> dict[str, Any]:
        """Health of Blip voice for diagnostics: counts only, never the words spoken."""
        last = self.last_stats
        return {
            "server": self.server.name,
            "voices": [voice.name for voice in self.server.voices],
            "server_streams_text": self.server.supports_streaming,
            "phrase_cache_sentences": len(self.cache),
            "warmed_up": self.warmed_up.is_set(),
            "streams": self.streams,
            "last_stream": None
            if last is None
            else {
                "sentences": last.sentences,
                "from_cache": last.from_cache,
                "synthesized": last.synthesized,
                "apologized": last.apologized,
                "error": last.error,
            },
        }


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlipConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add Blip voice when the family gave a Wyoming TTS server."""
    if not (host := entry.data.get(CONF_VOICE_HOST)):
        return
    client = WyomingTtsClient(host, int(entry.data.get(CONF_VOICE_PORT, DEFAULT_VOICE_PORT)))
    try:
        server = await client.describe()
    except WyomingTtsError as err:
        raise PlatformNotReady(f"Blip voice cannot reach its TTS server: {err}") from err
    if not server.voices:
        raise PlatformNotReady("Blip voice's TTS server has no installed voice")
    runtime = BlipVoiceRuntime(client=client, cache=PhraseCache(), server=server)
    entry.runtime_data.voice = runtime
    entry.async_on_unload(client.close)
    async_add_entities([BlipVoiceEntity(entry, runtime)])


class BlipVoiceEntity(tts.TextToSpeechEntity):
    """The "Blip voice" TTS engine: streaming input, exact output formats, no dead air."""

    # Named (Home Assistant's TTS refuses an engine without a name): the "Blip voice" device's
    # "Speech" engine, translated (strings.json entity.tts.speech).
    _attr_has_entity_name = True
    _attr_translation_key = "speech"
    # The four preferred_* options reach the engine only if listed: Blip voice needs them to
    # produce the satellite's format itself.
    _attr_supported_options: ClassVar[list[str]] = [
        tts.ATTR_VOICE,
        ATTR_SPEAKER,
        tts.ATTR_PREFERRED_FORMAT,
        tts.ATTR_PREFERRED_SAMPLE_RATE,
        tts.ATTR_PREFERRED_SAMPLE_CHANNELS,
        tts.ATTR_PREFERRED_SAMPLE_BYTES,
    ]

    def __init__(self, entry: BlipConfigEntry, runtime: BlipVoiceRuntime) -> None:
        """Describe the server's voices; the first installed voice is the default."""
        self.entry = entry
        self.runtime = runtime
        server = runtime.server
        self._default_voice = server.voices[0].name
        self._attr_unique_id = f"{entry.entry_id}-voice"
        # Suggested, not forced (the registry keeps a family's own choice): the id the docs,
        # pipelines and dashboards name since before the device was "Blip voice" and the engine
        # "Speech" (Blip has a single entry, so it cannot clash).
        self.entity_id = f"{tts.DOMAIN}.blip_voice"
        self._attr_supported_languages = server.languages or ["en"]
        self._attr_default_language = (
            server.voices[0].languages[0]
            if server.voices[0].languages
            else self._attr_supported_languages[0]
        )
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry.entry_id}-voice")},
            # Not Home Assistant's own Wyoming entry: Blip's streaming voice, which speaks to a
            # Wyoming TTS server (the family's piper) for what it has not cached.
            name="Blip voice",
            manufacturer="Blip",
            model=f"Blip voice ({server.name} via Wyoming)",
            entry_type=DeviceEntryType.SERVICE,
        )
        self._voice_names = {voice.name for voice in server.voices}
        self._unknown_voices_logged: set[str] = set()
        self._voices: dict[str, list[tts.Voice]] = {}
        for voice in server.voices:
            for language in voice.languages:
                self._voices.setdefault(language, []).append(
                    tts.Voice(voice_id=voice.name, name=voice.description)
                )
        self._speaker = Speaker(
            runtime.client, runtime.cache, apology=APOLOGY, streaming=server.supports_streaming
        )
        self._native_format = ASSUMED_NATIVE_FORMAT

    @callback
    def async_get_supported_voices(self, language: str) -> list[tts.Voice] | None:
        """Voices of the server that speak ``language``."""
        return self._voices.get(language)

    async def async_added_to_hass(self) -> None:
        """Fill the phrase cache in the background: set-up never waits for synthesis."""
        await super().async_added_to_hass()
        self.entry.async_create_background_task(
            self.hass, self._async_warm_up(), "blip voice warm-up"
        )
        runtime = self.runtime
        runtime.prewarmer = Prewarmer(
            runtime.client,
            runtime.cache,
            voices=self._voices_in_use,
            # Only formats really in use: each converted copy costs memory per sentence.
            formats=lambda voice: self._pcm_targets(voice, common=False),
            ready=runtime.warmed_up,
        )
        prewarmer = runtime.prewarmer
        prewarmer.start()

        @callback
        def stop(_: Event | None = None) -> None:
            prewarmer.stop()

        self.entry.async_on_unload(stop)
        self.entry.async_on_unload(self.hass.bus.async_listen(EVENT_HOMEASSISTANT_STOP, stop))
        async_dispatcher_send(self.hass, SIGNAL_PREWARM_READY.format(self.entry.entry_id))

    async def async_stream_tts_audio(self, request: tts.TTSAudioRequest) -> tts.TTSAudioResponse:
        """Speak a text stream in exactly the bytes the listener needs, starting at once."""
        try:
            plan = plan_output(request.options, self._native_format)
        except AudioFormatError as err:
            raise HomeAssistantError(f"Blip voice cannot produce that audio: {err}") from err
        self.runtime.learn_format(request.options)
        voice = self._known_voice(request.options.get(tts.ATTR_VOICE))
        stats = SpeechStats()
        self.runtime.streams += 1
        self.runtime.last_stats = stats
        pcm = self._speaker.speak(
            request.message_gen, plan.pcm, voice, request.options.get(ATTR_SPEAKER), stats
        )
        return tts.TTSAudioResponse(plan.extension, self._encoded(plan, pcm))

    def _known_voice(self, requested: str | None) -> str:
        """The requested voice if the server has it; otherwise the default voice.

        A pipeline left pointing at a voice the server no longer has must not turn Blip mute.
        """
        if requested is None or requested in self._voice_names:
            return requested or self._default_voice
        if requested not in self._unknown_voices_logged:
            self._unknown_voices_logged.add(requested)
            LOGGER.warning(
                "Blip voice's TTS server has no voice %s; speaking with %s instead",
                requested,
                self._default_voice,
            )
        return self._default_voice

    async def _encoded(self, plan: OutputPlan, pcm: AsyncGenerator[bytes]) -> AsyncGenerator[bytes]:
        audio = self._first_audio_reported(pcm)
        prewarmer = self.runtime.prewarmer
        try:
            # Live speech first: nothing is synthesized ahead while a stream speaks.
            with prewarmer.speaking() if prewarmer else contextlib.nullcontext():
                async for data in encode(plan, audio, self._ffmpeg_binary()):
                    yield data
        finally:
            await audio.aclose()
            await pcm.aclose()

    async def _first_audio_reported(self, pcm: AsyncGenerator[bytes]) -> AsyncGenerator[bytes]:
        """Pass the PCM on; tell Blip's stage timings when the stream's first audio goes out."""
        reported = False
        async for chunk in pcm:
            if chunk and not reported:
                reported = True
                self._report_first_audio()
            yield chunk

    def _report_first_audio(self) -> None:
        timer = self.entry.runtime_data.stage_timer
        if timer is None or self.entity_id is None:
            return
        try:
            timer.tts_first_audio(self.entity_id)
        except Exception:
            # Timing is bookkeeping: the child still hears the reply.
            LOGGER.exception("Blip voice could not record when its first audio went out")

    def _ffmpeg_binary(self) -> str:
        try:
            from homeassistant.components.ffmpeg import get_ffmpeg_manager

            return get_ffmpeg_manager(self.hass).binary
        except ValueError:
            return "ffmpeg"

    # -- start-up -------------------------------------------------------------------------------

    async def _async_warm_up(self) -> None:
        """Phrase cache for the voices in use, converted to every satellite format.

        The one phrase cache of Blip voice (docs/voice.md, "Which layer caches a phrase"): Home
        Assistant's own TTS cache is not pre-filled, because it only serves whole replies of 60
        characters or fewer that match a phrase exactly, which Blip's turns practically never are.
        """
        runtime = self.runtime
        try:
            for voice in self._voices_in_use():
                report = await runtime.cache.async_warm(runtime.client, ALL_PHRASES, voice)
                LOGGER.debug(
                    "Blip voice %s: %d phrase sentences (%d synthesized, %d failed)",
                    voice,
                    report.sentences,
                    report.synthesized,
                    len(report.failed),
                )
                if native := runtime.cache.native_format(voice):
                    self._native_format = native
                for target in self._pcm_targets(voice):
                    await runtime.cache.async_prepare_format(voice, target)
        finally:
            runtime.warmed_up.set()

    def _voices_in_use(self) -> list[str]:
        voices = {self._default_voice: None}
        for _, voice in self._pipelines_using_me():
            if voice:
                voices.setdefault(voice, None)
        return list(voices)

    def _pipelines_using_me(self) -> list[tuple[str, str | None]]:
        """(language, voice) of every Assist pipeline that speaks with Blip voice."""
        if "assist_pipeline" not in self.hass.config.components:
            return []
        from homeassistant.components import assist_pipeline

        return [
            (pipeline.tts_language or self.default_language, pipeline.tts_voice)
            for pipeline in assist_pipeline.async_get_pipelines(self.hass)
            if pipeline.tts_engine == self.entity_id
        ]

    def _pcm_targets(self, _voice: str | None = None, *, common: bool = True) -> list[PcmFormat]:
        """The PCM formats Blip voice produces for the satellites' formats (``common``: also
        for the common satellite formats, not only those of this home's satellites)."""
        targets: list[PcmFormat] = []
        for options in self._satellite_formats(common=common):
            try:
                plan = plan_output(options, self._native_format)
            except AudioFormatError:
                continue
            if plan.pcm not in targets:
                targets.append(plan.pcm)
        return targets

    def _satellite_formats(self, *, common: bool = True) -> list[dict[str, Any]]:
        """The common satellite formats plus those of the family's own satellites."""
        formats: list[dict[str, Any]] = (
            [dict(options) for options in COMMON_SATELLITE_FORMATS] if common else []
        )
        for options in [*satellite_tts_options(self.hass), *self.runtime.learned_formats]:
            if options and dict(options) not in formats:
                formats.append(dict(options))
        return formats
