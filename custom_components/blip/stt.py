"""Blip listening: a speech-to-text entity that ends a child's turn as soon as the question is.

Why an entity of Blip's own (the way Blip voice took over TTS): Home Assistant decides the end
of a voice command by a fixed silence (0.7 s by default; 1.25 s relaxed, 0.25 s aggressive on a
satellite's *Finished speaking detection*), the same for "how do you spell cat?" as for "how do
you spell… um…". There is no public hook to tell that VAD a question is complete. What both
supported releases do allow: the pipeline awaits the STT entity's
``async_process_audio_stream``, and an entity may return its result before the audio stream
ends; the pipeline moves on to the agent at once (``assist_pipeline`` ``speech_to_text``).

So Blip listening streams the audio to Blip's Wyoming STT server, which decodes speculatively in
every pause and (asked with ``context={"blip_partials": true}``) says what each pause heard. The
pure ``brain.end_of_turn.TurnListener`` judges it: a complete question ends the turn after the
family's short silence (0.3 s by default), an incomplete one ("how do you spell", "seven
times", "um") keeps listening up to the family's patience (1.5 s by default). The judgement is
made the moment a partial arrives, not at the next chunk of audio.

- Home Assistant 2026.10+: the entity declares ``audio_processing.requires_external_vad =
  False``, so HA's own VAD does not cut the child off at 0.7 s; Blip alone decides, and a child
  who pauses 1.2 s mid-question is still heard to the end.
- Home Assistant 2026.2 (no ``audio_processing``): HA's VAD still runs and ends the turn at its
  silence if Blip has not ended it first. Complete questions still end early; for long pauses
  mid-question set the satellite's *Finished speaking detection* to *relaxed* (1.25 s).

Nothing here logs the child's words. If the STT server fails, the turn fails as with any STT
(Home Assistant then says it did not understand).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterable
import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
import time
from typing import Any, Final

from homeassistant.components import stt
from homeassistant.core import HomeAssistant
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.util import dt as dt_util
from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.error import Error

from . import BlipConfigEntry
from .brain.end_of_turn import DEFAULT_PATIENCE, PATIENCE, TurnListener
from .const import CONF_LISTEN_PATIENCE, CONF_LISTEN_PORT, CONF_VOICE_HOST, DOMAIN, LOGGER

PARALLEL_UPDATES = 0
RATE: Final = 16000
WIDTH: Final = 2
CONNECT_TIMEOUT: Final = 5.0
# After AudioStop the transcript is normally ready (the speculative decode); a fresh decode of a
# long question on a busy CPU may take a few seconds.
TRANSCRIPT_TIMEOUT: Final = 15.0
# The Wyoming protocol of Blip's STT server's partials (wyoming_servers/stt/partials.py).
PARTIALS_CONTEXT: Final = {"blip_partials": True}
PAUSE_TYPE: Final = "blip-pause"
PARTIAL_TYPE: Final = "blip-partial"
SPEAKING_TYPE: Final = "blip-speaking"


@dataclass(frozen=True, slots=True)
class ListenedTurn:
    """When the child stopped talking and when Blip decided the turn was over (wall clock)."""

    last_word: datetime
    decided: datetime
    ended_early: bool  # Blip ended it, not the end of Home Assistant's stream
    decode_seconds: float | None  # how long the server's last speculative decode took
    # When the server's last pause and its partial reached Blip (wall clock; for profiling where
    # the end of turn goes: the server's silence, its decode, Blip's judgement).
    paused: datetime | None = None
    heard: datetime | None = None


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlipConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add Blip listening when the family gave Blip's STT server (voice host + listen port)."""
    host, port = entry.data.get(CONF_VOICE_HOST), entry.data.get(CONF_LISTEN_PORT)
    if not host or not port:
        return
    async_add_entities([BlipListeningEntity(entry, host, int(port))])


class BlipListeningEntity(stt.SpeechToTextEntity):
    """Speech to text that knows when a child's question is complete."""

    _attr_has_entity_name = True
    _attr_translation_key = "listening"

    def __init__(self, entry: BlipConfigEntry, host: str, port: int) -> None:
        """Listen through Blip's Wyoming STT server at ``host``:``port``."""
        self._entry = entry
        self._host, self._port = host, port
        self._attr_unique_id = f"{entry.entry_id}-listening"
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, f"{entry.entry_id}-voice")},
            name="Blip voice",
            manufacturer="Blip",
            entry_type=DeviceEntryType.SERVICE,
        )
        self.last_turn: ListenedTurn | None = None

    @property
    def supported_languages(self) -> list[str]:
        """English (Blip's drills and prompts are English)."""
        return ["en", "en-US", "en-GB"]

    @property
    def supported_formats(self) -> list[stt.AudioFormats]:
        return [stt.AudioFormats.WAV]

    @property
    def supported_codecs(self) -> list[stt.AudioCodecs]:
        return [stt.AudioCodecs.PCM]

    @property
    def supported_bit_rates(self) -> list[stt.AudioBitRates]:
        return [stt.AudioBitRates.BITRATE_16]

    @property
    def supported_sample_rates(self) -> list[stt.AudioSampleRates]:
        return [stt.AudioSampleRates.SAMPLERATE_16000]

    @property
    def supported_channels(self) -> list[stt.AudioChannels]:
        return [stt.AudioChannels.CHANNEL_MONO]

    @property
    def audio_processing(self) -> Any:
        """Home Assistant 2026.10+: Blip detects the end of speech itself (see the module)."""
        processing = getattr(stt, "SpeechAudioProcessing", None)
        if processing is None:  # 2026.2 has no such setting; its VAD always runs
            return None
        return processing(
            requires_external_vad=False,
            prefers_auto_gain_enabled=True,
            prefers_noise_reduction_enabled=True,
        )

    def _listener(self) -> TurnListener:
        name = self._entry.options.get(CONF_LISTEN_PATIENCE, DEFAULT_PATIENCE)
        return TurnListener(PATIENCE.get(name, PATIENCE[DEFAULT_PATIENCE]))

    async def async_process_audio_stream(
        self, metadata: stt.SpeechMetadata, stream: AsyncIterable[bytes]
    ) -> stt.SpeechResult:
        """Stream to the server until the child's question is complete; return its transcript."""
        listener = self._listener()
        self.last_turn = None
        try:
            async with asyncio.timeout(CONNECT_TIMEOUT):
                client = AsyncTcpClient(self._host, self._port)
                await client.connect()
        except (OSError, TimeoutError) as err:
            LOGGER.warning("Blip listening cannot reach its STT server: %s", err)
            return stt.SpeechResult(None, stt.SpeechResultState.ERROR)
        transcript: asyncio.Future[str] = asyncio.get_running_loop().create_future()
        clock = _AudioClock()
        heard = asyncio.Event()
        reader = asyncio.create_task(
            _read_events(client, listener, clock, transcript, heard), name="blip-listening-reader"
        )
        try:
            await client.write_event(
                Transcribe(language="en", context=dict(PARTIALS_CONTEXT)).event()
            )
            await client.write_event(AudioStart(rate=RATE, width=WIDTH, channels=1).event())
            ended_early = await _stream_audio(client, stream, listener, clock, heard)
            decided = dt_util.utcnow()
            await client.write_event(AudioStop().event())
            async with asyncio.timeout(TRANSCRIPT_TIMEOUT):
                text = await asyncio.shield(transcript)
        except (OSError, TimeoutError, ConnectionError) as err:
            LOGGER.warning("Blip listening lost its STT server: %s", err)
            return stt.SpeechResult(None, stt.SpeechResultState.ERROR)
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await reader
            with contextlib.suppress(Exception):
                await client.disconnect()
        self._record(clock, listener, decided, ended_early)
        return stt.SpeechResult(text, stt.SpeechResultState.SUCCESS)

    def _record(
        self, clock: _AudioClock, listener: TurnListener, decided: datetime, ended_early: bool
    ) -> None:
        """Tell Blip's timing sensors when the child stopped talking (for honest figures)."""
        if listener.last_word is None:
            return
        last_word = clock.wall_time(listener.last_word)
        self.last_turn = ListenedTurn(
            last_word, decided, ended_early, clock.decode_seconds, clock.paused, clock.heard
        )
        timer = self._entry.runtime_data.stage_timer
        if timer is not None and self.entity_id:
            timer.turn_listened(self.entity_id, self.last_turn)


class _AudioClock:
    """Audio seconds sent, and the wall-clock time of any earlier audio moment.

    A satellite streams in real time, so audio second ``t`` arrived ``seconds - t`` ago.
    """

    def __init__(self) -> None:
        self._samples = 0
        self._at = time.monotonic()
        self.decode_seconds: float | None = None  # the server's last speculative decode
        self.paused: datetime | None = None  # when the last pause / partial arrived
        self.heard: datetime | None = None

    def sent(self, samples: int) -> None:
        self._samples += samples
        self._at = time.monotonic()

    @property
    def seconds(self) -> float:
        return self._samples / RATE

    def wall_time(self, audio_seconds: float) -> datetime:
        behind = self.seconds - audio_seconds + (time.monotonic() - self._at)
        return dt_util.utcnow() - timedelta(seconds=max(0.0, behind))


async def _stream_audio(
    client: AsyncTcpClient,
    stream: AsyncIterable[bytes],
    listener: TurnListener,
    clock: _AudioClock,
    heard: asyncio.Event,
) -> bool:
    """Send the audio until the listener ends the turn (True) or the stream ends (False).

    The listener is asked after every chunk and, between chunks, as soon as a partial is
    ``heard``: a complete question's partial normally arrives after more silence than its
    patience, and a satellite's chunks are up to 64 ms apart, which the child would otherwise
    wait too. Silence is still counted in audio sent, never in wall-clock time.
    """
    chunks = aiter(stream)
    next_chunk: asyncio.Future[bytes | None] = asyncio.ensure_future(anext(chunks, None))
    woken: asyncio.Future[Any] = asyncio.ensure_future(heard.wait())
    try:
        while True:
            await asyncio.wait((next_chunk, woken), return_when=asyncio.FIRST_COMPLETED)
            if woken.done():
                heard.clear()
                woken = asyncio.ensure_future(heard.wait())
                if listener.should_end(clock.seconds):
                    return True
            if not next_chunk.done():
                continue
            if (chunk := next_chunk.result()) is None:
                return False
            await client.write_event(
                AudioChunk(rate=RATE, width=WIDTH, channels=1, audio=chunk).event()
            )
            clock.sent(len(chunk) // WIDTH)
            if listener.should_end(clock.seconds):
                return True
            next_chunk = asyncio.ensure_future(anext(chunks, None))
    finally:
        woken.cancel()
        if not next_chunk.done():
            # The turn is over: the chunk it was waiting for is not wanted.
            next_chunk.cancel()
            await asyncio.wait((next_chunk,), timeout=1.0)
        if next_chunk.done() and not next_chunk.cancelled():
            next_chunk.exception()  # retrieved: a stream that failed after the turn is moot


async def _read_events(
    client: AsyncTcpClient,
    listener: TurnListener,
    clock: _AudioClock,
    transcript: asyncio.Future[str],
    heard: asyncio.Event,
) -> None:
    """Partials into the listener (``heard`` is set on each); the transcript into its future."""
    try:
        while (event := await client.read_event()) is not None:
            data = event.data or {}
            end = data.get("speech_end")
            if event.type == PAUSE_TYPE and isinstance(end, (int, float)):
                listener.paused(float(end))
                clock.paused, clock.heard = dt_util.utcnow(), None
            elif event.type == PARTIAL_TYPE and isinstance(end, (int, float)):
                text, seconds = data.get("text"), data.get("decode_seconds")
                if isinstance(text, str):
                    listener.heard(text, float(end))
                    clock.heard = dt_util.utcnow()
                    heard.set()
                if isinstance(seconds, (int, float)):
                    clock.decode_seconds = float(seconds)
            elif event.type == SPEAKING_TYPE:
                listener.speech_resumed()
            elif Transcript.is_type(event.type):
                if not transcript.done():
                    transcript.set_result(Transcript.from_event(event).text or "")
                return
            elif Error.is_type(event.type):
                LOGGER.debug("Blip's STT server: %s", Error.from_event(event).text)
        if not transcript.done():
            transcript.set_exception(ConnectionError("the STT server closed the connection"))
    except (OSError, ConnectionError) as err:
        if not transcript.done():
            transcript.set_exception(ConnectionError(str(err)))
