"""Blip's Wyoming wake word server over real TCP with the real openWakeWord models.

The speech is real too: piper says "Hey Jarvis." (and some unrelated sentences), padded with
silence the way a satellite's microphone stream would be.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
import shutil
import subprocess
import sys

import numpy as np
import pytest
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.wake import Detect

from tests.wyoming_fixtures import (
    REPO_ROOT,
    ServerAddress,
    describe,
    detect_wake_word,
    event_line,
    parse_events,
    running_server,
    send_raw,
    server_process,
    speak,
)
from wyoming_servers.audio import (
    PcmAudio,
    PcmFormat,
    StreamConverter,
    convert_pcm,
    decode_samples,
    encode_samples,
    pcm_to_wav_bytes,
    silence,
    wav_bytes_to_pcm,
)
from wyoming_servers.wake.handler import WakeEventHandler, WakeServerContext
from wyoming_servers.wake.models import (
    BUILTIN_MODELS_DIR,
    DetectionSettings,
    InvalidWakeWordModelError,
    WakeWordDetector,
    discover_models,
)

BUILTIN_NAMES = {"hey_jarvis", "alexa", "hey_mycroft", "hey_rhasspy", "okay_nabu"}


def _padded(audio: PcmAudio, before: float = 1.0, after: float = 1.0) -> PcmAudio:
    return PcmAudio(
        pcm=silence(before, audio.rate).pcm + audio.pcm + silence(after, audio.rate).pcm,
        rate=audio.rate,
        width=audio.width,
        channels=audio.channels,
    )


def _joined(*clips: PcmAudio) -> PcmAudio:
    return PcmAudio(pcm=b"".join(c.pcm for c in clips), rate=clips[0].rate, width=2, channels=1)


@pytest.fixture(scope="session")
def hey_jarvis() -> PcmAudio:
    return _padded(speak("Hey Jarvis."))


@pytest.fixture(scope="session")
def unrelated_speech() -> PcmAudio:
    return _padded(
        speak("The cat sat on the mat. What a lovely sunny day it is. Let's go to the park.")
    )


@pytest.fixture
def wake_executor() -> Iterator[ThreadPoolExecutor]:
    executor = ThreadPoolExecutor(2, thread_name_prefix="wake-test")
    yield executor
    executor.shutdown(wait=True)  # no inference thread outlives the test


async def _serve(
    executor: ThreadPoolExecutor,
    settings: DetectionSettings | None = None,
    custom_dirs: tuple[Path, ...] = (),
) -> AsyncIterator[ServerAddress]:
    context = WakeServerContext(
        discover_models(custom_dirs), settings or DetectionSettings(), executor
    )
    async with running_server(partial(WakeEventHandler, context)) as address:
        yield address


@pytest.fixture
async def wake_server(wake_executor: ThreadPoolExecutor) -> AsyncIterator[ServerAddress]:
    async for address in _serve(wake_executor):
        yield address


def _types(events: list) -> list[str]:
    return [event.type for event in events]


# -- describe and detect ------------------------------------------------------------------------


async def test_describe_lists_the_bundled_wake_words(wake_server: ServerAddress) -> None:
    info = await describe(wake_server)
    [program] = info.wake
    assert program.installed
    assert {model.name for model in program.models} == BUILTIN_NAMES
    phrases = {model.name: model.phrase for model in program.models}
    assert phrases["hey_jarvis"] == "hey jarvis" and phrases["okay_nabu"] == "okay nabu"


async def test_hey_jarvis_is_detected_with_name_and_timestamp(
    wake_server: ServerAddress, hey_jarvis: PcmAudio
) -> None:
    events = await detect_wake_word(wake_server, hey_jarvis)  # 22050 Hz: converted by the server
    assert _types(events) == ["detection"]
    detection = events[0].data
    assert detection["name"] == "hey_jarvis"
    # The client sent timestamps; the detection points inside the utterance, after the leading silence.
    assert 1000 <= detection["timestamp"] <= hey_jarvis.duration_seconds * 1000


async def test_unrelated_speech_is_not_detected(
    wake_server: ServerAddress, unrelated_speech: PcmAudio
) -> None:
    events = await detect_wake_word(wake_server, unrelated_speech)
    assert _types(events) == ["not-detected"]


async def test_detect_selects_models_by_name_or_phrase(
    wake_server: ServerAddress, hey_jarvis: PcmAudio
) -> None:
    assert _types(await detect_wake_word(wake_server, hey_jarvis, names=["alexa"])) == [
        "not-detected"
    ]
    by_phrase = await detect_wake_word(wake_server, hey_jarvis, names=["Hey Jarvis"])
    assert _types(by_phrase) == ["detection"] and by_phrase[0].data["name"] == "hey_jarvis"


async def test_unknown_wake_word_name_gets_an_error(
    wake_server: ServerAddress, hey_jarvis: PcmAudio
) -> None:
    events = await detect_wake_word(wake_server, hey_jarvis, names=["hey_blip"])
    assert _types(events) == ["error", "not-detected"]
    assert events[0].data["code"] == "unknown-wake-word" and "hey_jarvis" in events[0].data["text"]


@pytest.mark.parametrize(
    ("rate", "width", "channels"), [(48000, 4, 2), (16000, 2, 1), (8000, 1, 1), (44100, 3, 2)]
)
async def test_any_audio_format_is_converted(
    wake_server: ServerAddress, hey_jarvis: PcmAudio, rate: int, width: int, channels: int
) -> None:
    audio = convert_pcm(hey_jarvis, rate, width, channels)
    events = await detect_wake_word(wake_server, audio, chunk_seconds=0.03)
    assert _types(events) == ["detection"] and events[0].data["name"] == "hey_jarvis"


async def test_each_connection_has_its_own_detector(
    wake_server: ServerAddress, hey_jarvis: PcmAudio, unrelated_speech: PcmAudio
) -> None:
    results = await asyncio.gather(
        detect_wake_word(wake_server, unrelated_speech),
        detect_wake_word(wake_server, hey_jarvis),
        detect_wake_word(wake_server, unrelated_speech),
        detect_wake_word(wake_server, hey_jarvis),
    )
    assert [_types(events) for events in results] == [
        ["not-detected"],
        ["detection"],
        ["not-detected"],
        ["detection"],
    ]


async def test_a_satellite_stream_keeps_listening_after_a_detection(
    wake_executor: ThreadPoolExecutor, hey_jarvis: PcmAudio, unrelated_speech: PcmAudio
) -> None:
    """Two wake words 3 s apart in one stream: two detections, then no NotDetected at the end."""
    settings = DetectionSettings(refractory_seconds=2.0)
    stream = _joined(hey_jarvis, silence(1.0, hey_jarvis.rate), hey_jarvis, unrelated_speech)
    async for address in _serve(wake_executor, settings):
        async with AsyncTcpClient(address.host, address.port, read_timeout=30) as client:
            await client.write_event(AudioStart(rate=stream.rate, width=2, channels=1).event())
            step = stream.rate // 10 * 2
            for offset in range(0, len(stream.pcm), step):
                chunk = AudioChunk(
                    rate=stream.rate, width=2, channels=1, audio=stream.pcm[offset : offset + step]
                )
                await client.write_event(chunk.event())
            await client.write_event(AudioStop().event())
            # Second stream on the same connection: a fresh start, nothing heard.
            await client.write_event(Detect(names=None).event())
            await client.write_event(AudioStart(rate=stream.rate, width=2, channels=1).event())
            await client.write_event(
                AudioChunk(
                    rate=stream.rate, width=2, channels=1, audio=silence(1.0, stream.rate).pcm
                ).event()
            )
            await client.write_event(AudioStop().event())
            events = []
            while (event := await client.read_event()) is not None:
                events.append(event)
                if event.type == "not-detected":
                    break
    assert _types(events) == ["detection", "detection", "not-detected"]
    first, second = events[0].data["timestamp"], events[1].data["timestamp"]
    assert second - first > 2000  # computed from audio position: no client timestamps here


# -- trigger level, threshold and refractory period (the detector alone) -------------------------------


def _detect_all(settings: DetectionSettings, audio: PcmAudio) -> list[str]:
    pcm16 = convert_pcm(audio, 16000, 2, 1).pcm
    detector = WakeWordDetector(discover_models(), settings)
    try:
        found = [
            d.name
            for start in range(0, len(pcm16), 3200)
            for d in detector.process(pcm16[start : start + 3200])
        ]
        return found + [d.name for d in detector.process(b"", final=True)]
    finally:
        detector.close()


def test_refractory_period_suppresses_a_repeat(hey_jarvis: PcmAudio) -> None:
    # "Hey Jarvis" scores above threshold for about half a second; the two are 2.9 s apart.
    twice = _joined(hey_jarvis, hey_jarvis)
    assert _detect_all(DetectionSettings(refractory_seconds=1.5), twice) == [
        "hey_jarvis",
        "hey_jarvis",
    ]
    assert _detect_all(DetectionSettings(refractory_seconds=10.0), twice) == ["hey_jarvis"]


def test_threshold_and_trigger_level_gate_detection(hey_jarvis: PcmAudio) -> None:
    assert _detect_all(DetectionSettings(), hey_jarvis) == ["hey_jarvis"]
    assert _detect_all(DetectionSettings(threshold=0.9999), hey_jarvis) == []
    assert _detect_all(DetectionSettings(trigger_level=40), hey_jarvis) == []


# -- custom models --------------------------------------------------------------------------------------


async def test_custom_model_folder_adds_wake_words(
    wake_executor: ThreadPoolExecutor, tmp_path: Path, hey_jarvis: PcmAudio
) -> None:
    # A stand-in for a trained "hey blip": a real openWakeWord model under a custom name.
    shutil.copy(BUILTIN_MODELS_DIR / "hey_jarvis.tflite", tmp_path / "hey_blip_v0.1.tflite")
    async for address in _serve(wake_executor, custom_dirs=(tmp_path,)):
        info = await describe(address)
        models = {model.name: model for model in info.wake[0].models}
        assert set(models) == BUILTIN_NAMES | {"hey_blip_v0.1"}
        assert (
            models["hey_blip_v0.1"].phrase == "hey blip"
            and models["hey_blip_v0.1"].version == "v0.1"
        )
        events = await detect_wake_word(address, hey_jarvis, names=["hey blip"])
        assert _types(events) == ["detection"] and events[0].data["name"] == "hey_blip_v0.1"


def test_broken_custom_model_is_rejected_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "hey_blip.tflite").write_bytes(b"definitely not a flatbuffer")
    with pytest.raises(InvalidWakeWordModelError, match="not a valid"):
        discover_models([tmp_path])
    # A valid TFLite file that is not a wake word model (wrong input shape).
    shutil.copy(BUILTIN_MODELS_DIR / "melspectrogram.tflite", tmp_path / "hey_blip.tflite")
    with pytest.raises(InvalidWakeWordModelError, match="shape"):
        discover_models([tmp_path])
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "wyoming_servers.wake",
            "--uri",
            "tcp://127.0.0.1:1",
            "--custom-model-dir",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1 and "hey_blip.tflite" in result.stderr


# -- robustness and command line ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "garbage",
    [
        b"nonsense\n",
        event_line("audio-chunk", data={"rate": 16000, "width": 7, "channels": 1}, payload_length=4)
        + b"\x00" * 4,
        event_line("audio-chunk", data={"rate": 0, "width": 2, "channels": 1}, payload_length=4)
        + b"\x00" * 4,
        event_line("audio-chunk", data={"width": 2}, payload_length=2) + b"\x00\x00",
        event_line("detect", data={"names": "hey_jarvis"}),
        event_line("audio-chunk", payload_length=10**10),
    ],
)
async def test_malformed_audio_gets_an_error_and_the_server_keeps_serving(
    wake_server: ServerAddress, hey_jarvis: PcmAudio, garbage: bytes
) -> None:
    events = parse_events(await send_raw(wake_server, garbage))
    assert _types(events) == ["error"]
    assert _types(await detect_wake_word(wake_server, hey_jarvis)) == ["detection"]


async def test_abrupt_disconnect_mid_stream_is_harmless(
    wake_server: ServerAddress, hey_jarvis: PcmAudio
) -> None:
    for _ in range(5):
        _, writer = await asyncio.open_connection(wake_server.host, wake_server.port)
        start = event_line("audio-start", data={"rate": 22050, "width": 2, "channels": 1})
        chunk_data = hey_jarvis.pcm[:20000]
        chunk = event_line(
            "audio-chunk",
            data={"rate": 22050, "width": 2, "channels": 1},
            payload_length=len(chunk_data),
        )
        writer.write(start + chunk + chunk_data[:5000])  # cut mid-payload
        await writer.drain()
        writer.transport.abort()
    assert _types(await detect_wake_word(wake_server, hey_jarvis)) == ["detection"]


async def test_fifty_concurrent_listeners(wake_server: ServerAddress, hey_jarvis: PcmAudio) -> None:
    short = PcmAudio(pcm=hey_jarvis.pcm, rate=hey_jarvis.rate, width=2, channels=1)
    results = await asyncio.gather(
        *(detect_wake_word(wake_server, short, chunk_seconds=0.5) for _ in range(50))
    )
    assert all(_types(events) == ["detection"] for events in results)


async def test_command_line_starts_with_only_uri(tmp_path: Path, hey_jarvis: PcmAudio) -> None:
    with server_process("wyoming_servers.wake", log_path=tmp_path / "wake.log") as server:
        info = await describe(server.address)
        assert {model.name for model in info.wake[0].models} == BUILTIN_NAMES
        assert _types(await detect_wake_word(server.address, hey_jarvis)) == ["detection"]


# -- shared audio helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize("width", [1, 2, 3, 4])
def test_pcm_float_round_trip(width: int) -> None:
    samples = np.sin(np.linspace(0, 20 * np.pi, 1000, dtype=np.float32)) * 0.8
    decoded = decode_samples(encode_samples(samples, width), width)
    assert np.max(np.abs(decoded - samples)) < (0.02 if width == 1 else 1e-4)


def test_streaming_resampler_matches_one_piece_conversion() -> None:
    tone = PcmAudio(
        pcm=encode_samples(np.sin(np.arange(22050) * 2 * np.pi * 440 / 22050) * 0.5, 2),
        rate=22050,
        width=2,
        channels=1,
    )
    whole = convert_pcm(tone, 16000, 2, 1)
    converter = StreamConverter(PcmFormat(16000, 2, 1))
    pieces = b"".join(
        converter.convert(tone.pcm[i : i + 882], tone.format) for i in range(0, len(tone.pcm), 882)
    )
    # Streamed, the filter's look-ahead (about a millisecond) waits for the end of the stream.
    assert 0 < len(whole.pcm) - len(pieces) < 2 * 16000 * 2 // 1000
    assert pieces + converter.flush() == whole.pcm
    assert abs(whole.duration_seconds - 1.0) < 0.001


def test_wav_bytes_round_trip_and_stereo_mixdown() -> None:
    stereo = PcmAudio(
        pcm=encode_samples(np.array([0.5, -0.5] * 100), 2), rate=8000, width=2, channels=2
    )
    assert wav_bytes_to_pcm(pcm_to_wav_bytes(stereo)) == stereo
    mono = convert_pcm(stereo, 8000, 2, 1)
    assert mono.channels == 1 and mono.frames == 100
    assert np.max(np.abs(decode_samples(mono.pcm, 2))) < 1e-3  # the channels cancel out
