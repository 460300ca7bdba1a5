"""Blip voice's parts: PCM conversion, stream containers, output plans, the low-latency encoder,
and the sentence-by-sentence speaker against the project's real Wyoming TTS server."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
import io
import wave

from homeassistant.components import tts
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import numpy as np
import pytest

from custom_components.blip.phrases import ALL_PHRASES, FILLERS_CHEERFUL, FIXED_REPLIES
from custom_components.blip.voice.audio import (
    AudioFormatError,
    PcmConverter,
    PcmFormat,
    convert_all,
    decode_samples,
    encode_samples,
)
from custom_components.blip.voice.containers import caf_header, wav_header
from custom_components.blip.voice.output import encode, plan_output
from custom_components.blip.voice.phrase_cache import PhraseCache
from custom_components.blip.voice.speakable import SentenceSplitter, split_sentences
from custom_components.blip.voice.speaker import Speaker, SpeechStats
from custom_components.blip.voice.wyoming_client import WyomingTtsClient, WyomingTtsError
from tests import voice_fixtures
from tests.voice_fixtures import (
    ESPHOME_MEDIA_PLAYER,
    FFMPEG,
    ffmpeg_decode,
    rms_level,
    serve_tts,
    watch_processes,
)
from tests.wyoming_fixtures import ServerAddress
from wyoming_servers.tts.engine import TtsEngine

# Fixtures from the shared voice helpers.
blip_tts_engine = voice_fixtures.blip_tts_engine
tts_server = voice_fixtures.tts_server

PIPER = PcmFormat(rate=22050, width=2, channels=1)
FILLER = FILLERS_CHEERFUL[0]
APOLOGY = FIXED_REPLIES[1]


def tone(frequency: float, seconds: float, pcm: PcmFormat = PIPER, level: float = 0.5) -> bytes:
    """A sine tone as PCM bytes (every channel the same)."""
    t = np.arange(int(seconds * pcm.rate)) / pcm.rate
    samples = np.repeat((np.sin(2 * np.pi * frequency * t) * level)[:, None], pcm.channels, 1)
    return encode_samples(samples.reshape(-1), pcm.width)


def dominant_frequency(pcm: bytes, pcm_format: PcmFormat) -> float:
    samples = decode_samples(pcm, pcm_format.width).reshape(-1, pcm_format.channels)[:, 0]
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / pcm_format.rate)[np.argmax(spectrum)])


# -- PCM conversion ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        PcmFormat(16000, 2, 1),
        PcmFormat(48000, 2, 2),
        PcmFormat(44100, 3, 1),
        PcmFormat(8000, 1, 1),
        PcmFormat(22050, 4, 2),
    ],
    ids=str,
)
def test_conversion_in_random_chunks_equals_whole_clip_and_keeps_pitch_and_length(
    target: PcmFormat,
) -> None:
    """Streaming conversion is exact: chunk boundaries (even mid-frame) change nothing."""
    source = tone(440, 2.0)
    whole = convert_all(source, PIPER, target)
    converter = PcmConverter(PIPER, target)
    rng = np.random.default_rng(7)
    pieces, position = [], 0
    while position < len(source):
        size = int(rng.integers(1, 3001))
        pieces.append(converter.convert(source[position : position + size]))
        position += size
    pieces.append(converter.flush())
    assert b"".join(pieces) == whole
    assert len(whole) == 2 * target.rate * target.frame_bytes
    assert abs(dominant_frequency(whole, target) - 440) < 2
    frames = decode_samples(whole, target.width).reshape(-1, target.channels)
    assert np.allclose(frames[:, 0], frames[:, -1])  # mono copied to every channel


def test_downsampling_filters_out_what_the_lower_rate_cannot_carry() -> None:
    """A 10 kHz tone is above 16 kHz's Nyquist: resampled, it must vanish, not alias to 6 kHz."""
    target = PcmFormat(16000, 2, 1)
    audible = convert_all(tone(1000, 1.0), PIPER, target)
    too_high = convert_all(tone(10000, 1.0), PIPER, target)
    level = rms_level(np.frombuffer(audible, "<i2")[:, None])
    leak = rms_level(np.frombuffer(too_high, "<i2")[:, None])
    assert level > 0.3
    assert leak < level / 100  # attenuated by more than 40 dB


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_sample_widths_round_trip(width: int) -> None:
    samples = np.linspace(-0.9, 0.9, 1001).astype(np.float32)
    decoded = decode_samples(encode_samples(samples, width), width)
    assert np.abs(decoded - samples).max() <= 1.0 / (1 << (8 * width - 1)) + 1e-6


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"preferred_sample_rate": 100}, "sample rate"),
        ({"preferred_sample_rate": "fast"}, "whole number"),
        ({"preferred_sample_bytes": 5}, "sample width"),
        ({"preferred_sample_channels": 0}, "channels"),
        ({"preferred_format": "../../etc"}, "unknown audio format"),
    ],
)
def test_options_no_player_could_use_get_a_clear_error(
    options: dict[str, object], message: str
) -> None:
    with pytest.raises(AudioFormatError, match=message):
        plan_output(options, PIPER)


# -- what goes out for which request ------------------------------------------------------------


def test_plans_for_satellites_and_players() -> None:
    """Satellite requests (which HA converts anyway) get CAF in the exact PCM asked for; a format
    alone gets that format, WAV written by Blip itself, others by Blip's own ffmpeg."""
    satellite = plan_output(ESPHOME_MEDIA_PLAYER, PIPER)
    assert (satellite.extension, satellite.container) == ("caf", "flac")
    assert satellite.pcm == PcmFormat(48000, 2, 2)
    assert not satellite.runs_own_ffmpeg

    wav_only = plan_output({"preferred_format": "wav"}, PIPER)
    assert (wav_only.extension, wav_only.pcm) == ("wav", PIPER)
    assert not wav_only.runs_own_ffmpeg and not wav_only.home_assistant_converts

    default = plan_output({}, PIPER)  # Home Assistant's default is MP3
    assert default.extension == "mp3" and default.runs_own_ffmpeg


def test_streaming_wav_header_is_read_by_python_wave_and_ffmpeg() -> None:
    pcm_format = PcmFormat(16000, 2, 1)
    pcm = tone(440, 0.5, pcm_format)
    data = wav_header(pcm_format) + pcm
    with wave.open(io.BytesIO(data), "rb") as reader:  # what HA's Wyoming satellite code uses
        assert (reader.getframerate(), reader.getsampwidth(), reader.getnchannels()) == (
            16000,
            2,
            1,
        )
        assert reader.readframes(reader.getnframes()) == pcm
    decoded = ffmpeg_decode(data, "wav", 16000, 1)
    assert decoded.tobytes() == pcm


async def _feed_then_hold(
    first: bytes, release: asyncio.Event, rest: bytes
) -> AsyncIterator[bytes]:
    yield first
    await release.wait()
    yield rest


async def _bytes_before_release(hass: HomeAssistant, extension: str, first: bytes) -> int:
    """Feed Home Assistant's own TTS conversion, hold the input open; count early output."""
    release = asyncio.Event()
    converted = tts._async_convert_audio(
        hass,
        extension,
        _feed_then_hold(first, release, b""),
        to_extension="wav",
        to_sample_rate=22050,
        to_sample_channels=1,
        to_sample_bytes=2,
    )
    received = 0

    async def read() -> None:
        nonlocal received
        async for chunk in converted:
            received += len(chunk)

    reader = asyncio.create_task(read())
    await asyncio.sleep(1.5)
    early = received
    release.set()
    await reader
    return early


async def test_home_assistants_converter_starts_on_caf_but_holds_wav(hass: HomeAssistant) -> None:
    """Why CAF: HA 2026.2's ffmpeg (default probing) releases CAF audio at once, while the same
    half second of audio as WAV stays inside it until the input ends."""
    assert await async_setup_component(hass, "ffmpeg", {})
    audio = tone(440, 0.5)
    assert await _bytes_before_release(hass, "caf", caf_header(PIPER) + audio) > len(audio) // 2
    assert await _bytes_before_release(hass, "wav", wav_header(PIPER) + audio) == 0


async def test_own_ffmpeg_encoder_streams_before_the_input_ends() -> None:
    """MP3 for a player that asked for a format alone: bytes flow while the speech continues."""
    plan = plan_output({"preferred_format": "mp3"}, PIPER)
    release = asyncio.Event()
    early: list[bytes] = []
    everything: list[bytes] = []

    async def read() -> None:
        async for data in encode(
            plan, _feed_then_hold(tone(440, 1.0), release, tone(440, 1.0)), FFMPEG
        ):
            everything.append(data)
            if not release.is_set():
                early.append(data)

    with watch_processes() as processes:
        reader = asyncio.create_task(read())
        await asyncio.sleep(1.5)
        release.set()
        await reader
    assert processes.ffmpeg_runs()[0][processes.ffmpeg_runs()[0].index("-probesize") + 1] == "32"
    assert sum(map(len, early)) > 1000
    decoded = ffmpeg_decode(b"".join(everything), "mp3", 22050, 1)
    assert 1.9 < len(decoded) / 22050 < 2.2


# -- sentences --------------------------------------------------------------------------------------


def test_sentences_are_released_as_soon_as_they_are_complete() -> None:
    splitter = SentenceSplitter()
    assert splitter.feed("Hmm, let me think about that. Ooh, that") == [
        "Hmm, let me think about that."
    ]
    assert splitter.feed("'s a really great question! ") == ["Ooh, that's a really great question!"]
    assert splitter.feed("Dr. Smith measured 3.5 metres") == []
    assert splitter.flush() == ["Dr. Smith measured 3.5 metres"]
    long_run = "word " * 100
    assert all(len(sentence) <= 400 for sentence in split_sentences(long_run * 2))


# -- the speaker against the project's Wyoming TTS server -------------------------------------------


class RecordingClient(WyomingTtsClient):
    """The real client; remembers which sentences it had to ask the server for."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.requested: list[str] = []

    async def synthesize(  # type: ignore[override]
        self, text: str, voice: str | None = None, speaker: str | None = None
    ) -> AsyncIterator[tuple[PcmFormat, bytes]]:
        self.requested.append(text)
        async for item in super().synthesize(text, voice, speaker):
            yield item


async def _pieces(*pieces: str, before_last: asyncio.Event | None = None) -> AsyncIterator[str]:
    for number, piece in enumerate(pieces):
        if before_last is not None and number == len(pieces) - 1:
            await before_last.wait()
        yield piece


async def _whole(pcm: AsyncIterator[bytes]) -> bytes:
    return b"".join([chunk async for chunk in pcm])


async def test_phrase_cache_holds_every_phrase_sentence(tts_server: ServerAddress) -> None:
    client = RecordingClient(tts_server.host, tts_server.port)
    cache = PhraseCache()
    report = await cache.async_warm(client, ALL_PHRASES, None)
    assert report.failed == []
    assert report.synthesized == report.sentences == len(client.requested) > 40
    again = await cache.async_warm(client, ALL_PHRASES, None)
    assert again.already_cached == again.sentences and again.synthesized == 0
    assert cache.native_format(None) == PIPER


async def test_cached_filler_goes_out_without_asking_the_server_and_the_answer_follows(
    tts_server: ServerAddress,
) -> None:
    client = RecordingClient(tts_server.host, tts_server.port)
    cache = PhraseCache()
    await cache.async_warm(client, [FILLER, APOLOGY], None)
    client.requested.clear()
    speaker = Speaker(client, cache, apology=APOLOGY)
    target = PcmFormat(48000, 2, 2)
    answer = "The sky looks blue because air scatters blue light the most. Isn't that neat?"
    first_chunk = asyncio.Event()
    received: list[bytes] = []
    stats = SpeechStats()

    async def listen() -> None:
        async for pcm in speaker.speak(
            _pieces(FILLER, answer, before_last=first_chunk), target, None, stats=stats
        ):
            received.append(pcm)
            first_chunk.set()

    await asyncio.wait_for(listen(), 30)
    # The filler was complete before the answer's text even existed, and came from memory.
    filler_pcm = b"".join([await cache.async_get(None, s, target) for s in split_sentences(FILLER)])
    spoken = b"".join(received)
    assert spoken.startswith(filler_pcm)
    assert client.requested == split_sentences(answer)
    assert (stats.from_cache, stats.synthesized, stats.apologized) == (2, 2, False)
    answer_audio = np.frombuffer(spoken[len(filler_pcm) :], "<i2").reshape(-1, 2)
    assert len(answer_audio) / 48000 > 2.0 and rms_level(answer_audio) > 0.02


async def test_sentences_keep_their_order_while_the_next_is_synthesized_ahead(
    tts_server: ServerAddress,
) -> None:
    client = WyomingTtsClient(tts_server.host, tts_server.port)
    sentences = ["Cats can sleep all day.", "Owls fly at night.", "Fish swim in water."]
    alone = []
    for sentence in sentences:  # the server remembers recent sentences: same audio again
        alone.append(b"".join([pcm async for _, pcm in client.synthesize(sentence)]))
    speaker = Speaker(client, PhraseCache(), apology=APOLOGY, parallel_synthesis=2)
    spoken = await _whole(speaker.speak(_pieces(" ".join(sentences)), PIPER, None))
    assert spoken == b"".join(alone)


async def test_server_lost_after_the_filler_ends_with_the_cached_apology(
    blip_tts_engine: TtsEngine,
) -> None:
    """The server goes away while the model thinks: the child still hears Blip, and nothing
    raises out of the stream."""
    cache = PhraseCache()
    async with serve_tts(blip_tts_engine) as address:
        client = WyomingTtsClient(address.host, address.port)
        await cache.async_warm(client, [FILLER, APOLOGY], None)
        speaker = Speaker(client, cache, apology=APOLOGY)
        answer_ready = asyncio.Event()
        stats = SpeechStats()
        stream = speaker.speak(
            _pieces(FILLER, "A brand new sentence nobody cached.", before_last=answer_ready),
            PIPER,
            None,
            stats=stats,
        )
        first = await anext(stream)
    answer_ready.set()  # the server is gone now
    rest = await _whole(stream)
    expected_filler = b"".join(
        [cache.get_now(None, s, PIPER) or b"" for s in split_sentences(FILLER)]
    )
    expected_apology = b"".join(
        [cache.get_now(None, s, PIPER) or b"" for s in split_sentences(APOLOGY)]
    )
    assert first + rest == expected_filler + expected_apology
    assert stats.apologized and stats.error


async def test_text_that_fails_part_way_ends_with_the_apology(tts_server: ServerAddress) -> None:
    client = WyomingTtsClient(tts_server.host, tts_server.port)
    cache = PhraseCache()
    await cache.async_warm(client, [FILLER, APOLOGY], None)

    async def failing_text() -> AsyncIterator[str]:
        yield FILLER
        raise RuntimeError("the agent broke")

    stats = SpeechStats()
    spoken = await _whole(
        Speaker(client, cache, apology=APOLOGY).speak(failing_text(), PIPER, None, stats=stats)
    )
    filler = b"".join([cache.get_now(None, s, PIPER) or b"" for s in split_sentences(FILLER)])
    apology = b"".join([cache.get_now(None, s, PIPER) or b"" for s in split_sentences(APOLOGY)])
    assert spoken == filler + apology
    assert stats.apologized


async def test_unreachable_server_is_a_clear_error(unused_tcp_port: int) -> None:
    client = WyomingTtsClient("127.0.0.1", unused_tcp_port)
    with pytest.raises(WyomingTtsError, match="cannot reach"):
        await client.describe()
    with pytest.raises(WyomingTtsError, match="cannot reach"):
        await anext(client.synthesize("Hello there."))


async def test_an_uncached_opening_sentence_starts_with_its_first_clause(
    tts_server: ServerAddress,
) -> None:
    """An answer with no filler before it starts with its first clause on its own, so the child
    hears it sooner; a spelled word is never cut (the letters are one run); later sentences are
    whole."""
    client = RecordingClient(tts_server.host, tts_server.port)
    speaker = Speaker(client, PhraseCache(), apology=APOLOGY)
    spoken = await _whole(
        speaker.speak(
            _pieces(
                "Great job today, you got it right. Dog is spelled D, O, G. It starts with the letter D."
            ),
            PIPER,
            None,
        )
    )
    assert client.requested == [
        "Great job today,",
        "you got it right.",
        "Dog is spelled D, O, G.",
        "It starts with the letter D.",
    ]
    assert PIPER.duration(len(spoken)) > 2.5
