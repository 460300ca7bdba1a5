"""The inference box: Blip's STT and TTS servers with an OpenAI-compatible box in front of their
local models, against loopback aiohttp servers speaking the box's wire formats (one answers, one
dies mid-answer, one is not there), with the real tiny.en and piper behind them."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
import contextlib
from dataclasses import dataclass, field
import io
import json
import os
from pathlib import Path
import socket
import sys
import wave

from aiohttp import web
import numpy as np
import pytest

from custom_components.blip.voice.audio import PcmFormat, convert_all
from tests.wyoming_fixtures import default_voice
from wyoming_servers.openai_audio import OPENAI_PCM_RATE, RemoteEndpoint
from wyoming_servers.stt.engine import EngineSettings, WhisperEngine, default_model_path
from wyoming_servers.stt.service import ServiceSettings, SttService, UpstreamHealth
from wyoming_servers.tts.cache import SentenceAudioCache
from wyoming_servers.tts.engine import RemoteVoice, TtsEngine

BOX_TRANSCRIPT = "how do you spell elephant"
BOX_TONE_HZ = 440.0


@dataclass
class Box:
    """A loopback inference box; ``behaviour`` is "answer", "die" or "stall"."""

    behaviour: str = "answer"
    transcriptions: list[dict[str, object]] = field(default_factory=list)
    speech_requests: list[dict[str, object]] = field(default_factory=list)
    url: str = ""
    runner: web.AppRunner | None = None

    async def kill(self) -> None:
        """The box goes away: its listening socket and every connection close."""
        if self.runner is not None:
            await self.runner.cleanup()
            self.runner = None

    async def transcriptions_endpoint(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        upload = form["file"]
        assert isinstance(upload, web.FileField)
        with wave.open(io.BytesIO(upload.file.read()), "rb") as wav_file:
            pcm = wav_file.readframes(wav_file.getnframes())
            rate = wav_file.getframerate()
        self.transcriptions.append({**{k: v for k, v in form.items() if k != "file"}, "pcm": pcm})
        assert rate == 16000
        return await self._answer(request, json.dumps({"text": f" {BOX_TRANSCRIPT} "}).encode())

    async def speech_endpoint(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.speech_requests.append(body)
        seconds = 0.5
        t = np.arange(int(seconds * OPENAI_PCM_RATE)) / OPENAI_PCM_RATE
        pcm = (np.sin(2 * np.pi * BOX_TONE_HZ * t) * 12000).astype("<i2").tobytes()
        if body["response_format"] == "wav":
            buffer = io.BytesIO()
            with wave.open(buffer, "wb") as wav_file:
                wav_file.setnchannels(1)
                wav_file.setsampwidth(2)
                wav_file.setframerate(OPENAI_PCM_RATE)
                wav_file.writeframes(pcm)
            pcm = buffer.getvalue()
        return await self._answer(request, pcm)

    async def _answer(self, request: web.Request, body: bytes) -> web.StreamResponse:
        if self.behaviour == "stall":
            await asyncio.sleep(30)
        response = web.StreamResponse(status=200)
        response.content_length = len(body)
        await response.prepare(request)
        if self.behaviour == "die":
            # The box goes away a few bytes into its answer.
            await response.write(body[:5])
            assert request.transport is not None
            request.transport.close()
            return response
        await response.write(body)
        await response.write_eof()
        return response


@contextlib.asynccontextmanager
async def serve_box(box: Box) -> AsyncIterator[Box]:
    app = web.Application()
    app.router.add_post("/v1/audio/transcriptions", box.transcriptions_endpoint)
    app.router.add_post("/v1/audio/speech", box.speech_endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    box.url = f"http://127.0.0.1:{port}"
    box.runner = runner
    try:
        yield box
    finally:
        await box.kill()


def _closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


# -- speech-to-text --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def whisper() -> Iterator[WhisperEngine]:
    engine = WhisperEngine(EngineSettings(default_model_path(), cpu_threads=2, max_concurrent=1))
    engine.warm_up()
    yield engine
    engine.close()


@pytest.fixture(scope="module")
def question() -> bytes:
    """Piper saying a question, 16 kHz, then 0.7 s of quiet room."""
    voice = default_voice()
    pcm = b"".join(
        chunk.audio_int16_bytes for chunk in voice.piper.synthesize("What is seven times eight?")
    )
    speech = convert_all(pcm, PcmFormat(voice.sample_rate, 2, 1), PcmFormat(16000, 2, 1))
    noise = np.random.default_rng(0).normal(0.0, 30.0, 11200).astype("<i2").tobytes()
    return speech + noise


async def _transcribe(
    service: SttService, audio: bytes, halfway: Callable[[], Awaitable[None]] | None = None
) -> tuple[str, str, float]:
    """Stream ``audio`` in 30 ms chunks, then AudioStop: text, source, seconds after AudioStop.

    ``halfway`` runs when half of the audio has been sent (the box is killed mid-utterance)."""
    utterance = service.new_utterance(None)
    for offset in range(0, len(audio), 960):
        if halfway is not None and offset <= len(audio) // 2 < offset + 960:
            await halfway()
        utterance.add_audio(audio[offset : offset + 960])
        await asyncio.sleep(0)  # let a speculative decode start, as real time would
    started = asyncio.get_running_loop().time()
    outcome = await utterance.finish()
    return outcome.text, outcome.source, asyncio.get_running_loop().time() - started


async def test_the_box_transcribes_and_gets_the_whole_utterance(
    whisper: WhisperEngine, question: bytes
) -> None:
    async with serve_box(Box()) as box:
        settings = ServiceSettings(
            language="en", upstream=RemoteEndpoint.parse(box.url), upstream_model="voxtral"
        )
        text, source, _ = await _transcribe(SttService(whisper, settings), question)
    assert (text, source) == (BOX_TRANSCRIPT, "upstream")
    (request,) = box.transcriptions
    assert request["model"] == "voxtral"
    assert request["language"] == "en"
    assert request["pcm"] == question  # every sample, in order


@pytest.mark.parametrize("behaviour", ["die", "absent"])
async def test_a_box_that_dies_or_is_down_leaves_the_local_model_answering(
    whisper: WhisperEngine, question: bytes, behaviour: str
) -> None:
    async with serve_box(Box(behaviour)) as box:
        url = _closed_port_url() if behaviour == "absent" else box.url
        service = SttService(
            whisper, ServiceSettings(language="en", upstream=RemoteEndpoint.parse(url))
        )
        text, source, _ = await _transcribe(service, question)
    assert source in ("speculative", "final")
    assert "seven times eight" in text.lower() or "7 times 8" in text
    assert service.stats.upstream_failed == 1


@pytest.mark.parametrize("mode", ["prefer", "race"])
async def test_the_box_killed_mid_utterance_leaves_the_local_decode_already_under_way(
    whisper: WhisperEngine, question: bytes, mode: str
) -> None:
    """The local model decoded speculatively while the box was in use, so when the box dies the
    transcript is that decode: started in the end-of-speech silence, before AudioStop, not a
    new one begun once the box failed."""
    async with serve_box(Box()) as box:
        settings = ServiceSettings(
            language="en", upstream=RemoteEndpoint.parse(box.url), upstream_mode=mode
        )
        service = SttService(whisper, settings)
        text, source, _ = await _transcribe(service, question, halfway=box.kill)
    assert source == "speculative"
    assert "seven times eight" in text.lower() or "7 times 8" in text
    assert service.stats.final_decodes == 0
    assert service.stats.speculations_reused == 1
    assert box.transcriptions == []


async def test_a_box_that_went_silent_is_not_waited_for_again_at_once(
    whisper: WhisperEngine, question: bytes
) -> None:
    """A box that stops answering (a power cut: no refusal, only silence) costs one utterance
    the upstream timeout; the next ones go to the local model without that wait."""
    async with serve_box(Box("stall")) as box:
        settings = ServiceSettings(
            language="en", upstream=RemoteEndpoint.parse(box.url), upstream_timeout=0.5
        )
        service = SttService(whisper, settings)
        first = await _transcribe(service, question)
        second = await _transcribe(service, question)
    assert first[1] == second[1] == "speculative"
    assert first[2] >= 0.5  # the box's whole timeout
    assert service.stats.upstream_failed == 1
    assert service.stats.upstream_skipped == 1
    assert len(box.transcriptions) == 1  # the second utterance never went to the box


def test_upstream_health_rests_a_failed_upstream_longer_each_time_until_it_answers() -> None:
    now = [100.0]
    health = UpstreamHealth(rest=5.0, max_rest=12.0, clock=lambda: now[0])
    assert health.available()
    health.failed()
    assert not health.available()
    now[0] += 5.0
    assert health.available()  # its retry
    health.failed()
    now[0] += 9.9
    assert not health.available()  # 10 s this time
    now[0] += 0.1
    health.failed()
    now[0] += 11.9
    assert not health.available()  # at most 12 s
    now[0] += 0.1
    assert health.available()
    health.succeeded()
    health.failed()
    now[0] += 5.0
    assert health.available()  # back to 5 s after a success


async def test_racing_a_stalled_box_the_local_model_wins(
    whisper: WhisperEngine, question: bytes
) -> None:
    async with serve_box(Box("stall")) as box:
        settings = ServiceSettings(
            language="en",
            upstream=RemoteEndpoint.parse(box.url),
            upstream_mode="race",
            upstream_timeout=20.0,
        )
        text, source, waited = await _transcribe(SttService(whisper, settings), question)
    assert source in ("speculative", "final")
    assert text
    assert waited < 15  # not the box's 20 s deadline


# -- text-to-speech --------------------------------------------------------------------------


def _dominant_hz(audio_pcm: bytes, rate: int) -> float:
    samples = np.frombuffer(audio_pcm, "<i2").astype(np.float32)
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[np.argmax(spectrum)])


def _engine(url: str, cache_dir: Path | None, response_format: str = "pcm") -> TtsEngine:
    remote = RemoteVoice(
        RemoteEndpoint.parse(url), model="omnivoice", voice="kid", response_format=response_format
    )
    return TtsEngine([default_voice()], cache=SentenceAudioCache(disk_dir=cache_dir), remote=remote)


@pytest.mark.parametrize("response_format", ["pcm", "wav"])
async def test_the_box_speaks_in_the_voices_format_and_fills_the_phrase_cache(
    tmp_path: Path, response_format: str
) -> None:
    async with serve_box(Box()) as box:
        engine = _engine(box.url, tmp_path, response_format)
        synthesizer, _ = engine.resolve(None, None)
        try:
            report = await asyncio.to_thread(engine.prepare_phrases, ["Hmm, let me think."])
            audio, cached = await engine.sentence_audio(synthesizer, None, "Hmm, let me think.")
            fresh, _ = await engine.sentence_audio(synthesizer, None, "A brand new sentence.")
        finally:
            await asyncio.to_thread(engine.close, wait=True)  # no thread outlives the test
    assert report.synthesized == 1
    assert cached  # pre-generated with the box's voice
    assert [request["voice"] for request in box.speech_requests] == ["kid", "kid"]
    assert box.speech_requests[0]["model"] == "omnivoice"
    assert synthesizer.calls == 0  # piper never spoke
    for clip in (audio, fresh):
        assert clip.rate == synthesizer.voice.sample_rate  # converted: one format per answer
        assert abs(clip.duration_seconds - 0.5) < 0.01
        assert abs(_dominant_hz(clip.pcm, clip.rate) - BOX_TONE_HZ) < 5
    assert list(tmp_path.rglob("*.wav"))  # the box's phrase audio is kept on disk


@pytest.mark.parametrize("behaviour", ["die", "absent"])
async def test_a_box_that_dies_mid_answer_leaves_piper_speaking(
    tmp_path: Path, behaviour: str
) -> None:
    async with serve_box(Box(behaviour)) as box:
        url = _closed_port_url() if behaviour == "absent" else box.url
        engine = _engine(url, tmp_path)
        synthesizer, _ = engine.resolve(None, None)
        try:
            await asyncio.to_thread(engine.prepare_phrases, ["Hmm, let me think."])
            audio, _ = await engine.sentence_audio(synthesizer, None, "Seven times eight is 56.")
        finally:
            await asyncio.to_thread(engine.close, wait=True)  # no thread outlives the test
    assert synthesizer.remote_failures == 2
    assert synthesizer.calls == 2  # piper spoke both
    assert audio.duration_seconds > 1.0  # real speech, not the box's half-second tone
    assert not list(tmp_path.rglob("*.wav"))  # piper's stand-in audio is not kept as the box's


def test_a_box_url_must_be_http() -> None:
    with pytest.raises(ValueError, match="http"):
        RemoteEndpoint.parse("tcp://box:10300")
    endpoint = RemoteEndpoint.parse("http://box:8000/")
    assert (endpoint.host, endpoint.port, endpoint.prefix) == ("box", 8000, "/v1")
    assert RemoteEndpoint.parse("https://box/api/v1").prefix == "/api/v1"


# -- command lines ---------------------------------------------------------------------------


async def test_the_stt_server_started_with_a_box_answers_with_the_boxs_transcript(
    question: bytes,
) -> None:
    from wyoming.asr import Transcribe, Transcript
    from wyoming.audio import AudioChunk, AudioStart, AudioStop
    from wyoming.client import AsyncTcpClient

    repo = Path(__file__).resolve().parent.parent
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with serve_box(Box()) as box:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "wyoming_servers.stt", "--uri", f"tcp://127.0.0.1:{port}"),
            *("--upstream", box.url, "--upstream-model", "voxtral"),
            cwd=repo,
            env={**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(repo)},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        try:
            assert process.stderr is not None
            while b"Ready on" not in (
                line := await asyncio.wait_for(process.stderr.readline(), 180)
            ):
                assert line, "server exited before it was ready"
            async with AsyncTcpClient("127.0.0.1", port) as client:
                await client.write_event(Transcribe(language="en").event())
                await client.write_event(AudioStart(16000, 2, 1).event())
                for offset in range(0, len(question), 3200):
                    chunk = AudioChunk(16000, 2, 1, question[offset : offset + 3200])
                    await client.write_event(chunk.event())
                await client.write_event(AudioStop().event())
                while True:
                    event = await asyncio.wait_for(client.read_event(), 60)
                    assert event is not None
                    if Transcript.is_type(event.type):
                        break
        finally:
            process.terminate()
            await process.wait()
    assert Transcript.from_event(event).text == BOX_TRANSCRIPT
    assert box.transcriptions[0]["model"] == "voxtral"


def test_the_tts_command_line_builds_an_engine_with_the_box_voice() -> None:
    from wyoming_servers.tts.__main__ import build_engine, build_parser

    args = build_parser().parse_args(
        [
            *("--no-disk-cache", "--remote-voice-url", "http://box:8000"),
            *("--remote-voice-model", "omnivoice", "--remote-voice", "kid"),
            *("--remote-voice-format", "wav"),
        ]
    )
    engine = build_engine(args)
    try:
        synthesizer, _ = engine.resolve(None, None)
        assert synthesizer.remote is not None
        assert (synthesizer.remote.model, synthesizer.remote.voice) == ("omnivoice", "kid")
        assert synthesizer.remote.response_format == "wav"
        assert synthesizer.remote.endpoint.label == "http://box:8000"
    finally:
        engine.close()
