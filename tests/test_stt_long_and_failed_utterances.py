"""The STT server with an utterance longer than Whisper's window, and with a decode that fails.

Both came out of the soak (benchmarks/soak.py, docs/benchmarks.md "Soak, session 6"): every
utterance over ~32 s failed ("Speech recognition failed": faster-whisper refuses a token bound
that does not fit the model's 448 positions with the prompt), and each failure left the audio,
its features and the connection in a reference cycle, ~10 MB that only Python's cycle collector
gave back, dozens of requests later. The real model over real TCP for the first; for the second
a real engine whose model call fails, since the real model no longer fails on demand.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
import gc
import re
import weakref

import numpy as np
import pytest
from wyoming.asr import Transcribe
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient

from tests.wyoming_fixtures import speak
from wyoming_servers.audio import convert_pcm
from wyoming_servers.stt.engine import (
    DecodeOptions,
    DecodeResult,
    EngineSettings,
    WhisperEngine,
    default_model_path,
)
from wyoming_servers.stt.server import start_tcp_server
from wyoming_servers.stt.service import ServiceSettings, SttService

RATE = 16000


class FailingModelEngine(WhisperEngine):
    """The real engine, but its model call fails the way faster-whisper's did: after the audio
    has been converted for it (a corrupt model file or CTranslate2 out of memory would too)."""

    def decode_blocking(
        self, samples: np.ndarray, options: DecodeOptions, fit: bool = False
    ) -> DecodeResult:
        audio = samples.astype(np.float32) / 32768.0
        raise RuntimeError(f"the model failed on {len(audio)} samples")


@pytest.fixture(scope="module")
def engine() -> Iterator[WhisperEngine]:
    loaded = WhisperEngine(EngineSettings(default_model_path(), cpu_threads=2))
    loaded.warm_up()  # the worker thread starts before a test watches for threads left behind
    yield loaded
    loaded.close()


@pytest.fixture(scope="module")
def failing_engine() -> Iterator[WhisperEngine]:
    loaded = FailingModelEngine(EngineSettings(default_model_path(), cpu_threads=2))
    # The worker thread starts now, before a test watches for threads left behind.
    with pytest.raises(RuntimeError):
        loaded.warm_up()
    yield loaded
    loaded.close()


def question() -> bytes:
    """ "How do you spell dinosaur?" at 16 kHz, then quiet room noise."""
    spoken = convert_pcm(speak("How do you spell dinosaur?"), RATE, 2, 1).pcm
    noise = np.random.default_rng(0).normal(0.0, 30.0, RATE // 2)
    return spoken + np.clip(noise, -32768, 32767).astype("<i2").tobytes()


async def test_an_utterance_longer_than_whispers_window_is_transcribed(
    engine: WhisperEngine,
) -> None:
    """40 s (two 30 s windows): before, faster-whisper refused the token bound (40 + 12 per
    second = 520, over the model's 448 with the prompt) and the child got an error."""
    clip = question()
    pcm = clip * (40 * RATE * 2 // len(clip) + 1)
    running = await start_tcp_server(SttService(engine, ServiceSettings()))
    try:
        async with AsyncTcpClient("127.0.0.1", running.port) as client:
            await client.write_event(Transcribe(language="en").event())
            await client.write_event(AudioStart(RATE, 2, 1).event())
            step = RATE // 10 * 2
            for offset in range(0, len(pcm), step):
                chunk = pcm[offset : offset + step]
                await client.write_event(AudioChunk(RATE, 2, 1, chunk).event())
            await client.write_event(AudioStop().event())
            events = []
            while (event := await client.read_event()) is not None:
                events.append(event)
                if event.type == "transcript-stop":
                    break
    finally:
        await running.stop()
    types = [event.type for event in events]
    assert "error" not in types, events
    (transcript,) = [event for event in events if event.type == "transcript"]
    assert "dinosaur" in re.findall(r"[a-z]+", transcript.data["text"].lower())


@pytest.mark.parametrize("speculation", [True, False], ids=["speculative", "final"])
async def test_a_failed_decode_lets_go_of_the_utterance_without_the_cycle_collector(
    failing_engine: WhisperEngine, speculation: bool
) -> None:
    """With the collector off, the utterance (its audio, and through the handler the
    connection) must be freed as soon as nothing uses it: a cycle through the traceback kept it
    until the collector ran, which the soak showed can be dozens of failed requests later."""
    service = SttService(failing_engine, ServiceSettings(speculation=speculation))
    utterance = service.new_utterance(Transcribe(language="en"))
    gc.collect()
    gc.disable()
    try:
        utterance.add_audio(question())
        assert service.stats.speculations_started == int(speculation)
        failed = ""
        try:
            await utterance.finish()
        except RuntimeError as err:
            failed = str(err)
        assert failed.startswith("the model failed")
        # The speculative decode was the one that failed, or the final one was.
        assert service.stats.final_decodes == int(not speculation)
        gone = weakref.ref(utterance)
        del utterance
        # The decode's worker thread may not have returned yet from handing the failure over
        # (the concurrent future it sets holds the same exception, whose traceback now runs
        # through this utterance's frames): a no-op queued behind it on the one worker runs only
        # once it has (Python 3.13 showed that window in 1 run of 3).
        assert failing_engine.settings.max_concurrent == 1
        await asyncio.get_running_loop().run_in_executor(failing_engine._executor, int)
        # The done callbacks the decode's task scheduled (call_soon) hold it until they run.
        await asyncio.sleep(0)
        assert gone() is None
    finally:
        gc.enable()
