"""A child's question into Home Assistant's real Assist pipeline, in real time; what it waited.

Shared by tests/test_blip_listening.py and benchmarks/end_of_turn.py. The audio is built from
piper clips with known silences, so the child's last word is known to the sample; the microphone
sends 20 ms chunks on the clock from the STT stage on, as a satellite streams after its wake word;
the reply is read from HA's TTS stream the way Wyoming satellites read it. "Waited" is from the
last word to the first reply audio byte.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
import time
from typing import Any

from homeassistant.components import assist_pipeline
from homeassistant.components.assist_pipeline.pipeline import (
    PipelineEvent,
    PipelineEventType,
    PipelineStage,
)
from homeassistant.core import HomeAssistant
from homeassistant.util import dt as dt_util
import numpy as np

from tests.pipeline_runs import drive_pipeline
from tests.wyoming_fixtures import default_voice
from wyoming_servers.audio import PcmAudio, convert_pcm

MIC_RATE = 16000
CHUNK_MS = 20
LEAD_SECONDS = 0.3
TRAILING_SECONDS = 3.0  # longer than any end-of-speech wait, so the pipeline decides, not us
CHILD_PACE = 0.85


@dataclass(frozen=True)
class Question:
    """Spoken parts with pauses between them; ``last_word`` is where speech ends (seconds)."""

    parts: tuple[str, ...]
    pauses: tuple[float, ...] = ()

    @property
    def text(self) -> str:
        return " ".join(self.parts)


@dataclass
class SpokenQuestion:
    pcm: bytes
    last_word: float  # seconds from the stream's start
    part_starts: tuple[float, ...] = ()  # where each spoken part starts (seconds)


def _speech(text: str) -> np.ndarray:
    """Piper's voice, repeatable, at a child's brisk pace, trimmed of its own silence."""
    from piper import SynthesisConfig

    voice = default_voice()
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=CHILD_PACE)
    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.piper.synthesize(text, config))
    audio = convert_pcm(PcmAudio(pcm, voice.sample_rate, 2, 1), MIC_RATE, 2, 1)
    samples = np.frombuffer(audio.pcm, dtype="<i2")
    loud = np.flatnonzero(np.abs(samples) > 500)
    return samples[loud[0] : loud[-1] + 1] if len(loud) else samples


def _room(seconds: float, seed: int) -> np.ndarray:
    noise = np.random.default_rng(seed).normal(0.0, 30.0, round(seconds * MIC_RATE))
    return np.clip(noise, -32768, 32767).astype(np.int16)


def speak(question: Question, seed: int = 0) -> SpokenQuestion:
    """The question's audio: lead silence, parts with their pauses, a long trailing silence."""
    pieces = [_room(LEAD_SECONDS, seed)]
    starts: list[float] = []
    for index, part in enumerate(question.parts):
        if index:
            pieces.append(_room(question.pauses[index - 1], seed + index))
        starts.append(sum(len(piece) for piece in pieces) / MIC_RATE)
        pieces.append(_speech(part))
    last_word = sum(len(piece) for piece in pieces) / MIC_RATE
    pieces.append(_room(TRAILING_SECONDS, seed + 99))
    pcm = np.concatenate(pieces).astype("<i2").tobytes()
    return SpokenQuestion(pcm, last_word, tuple(starts))


@dataclass
class HeardTurn:
    """One run: its events, the transcript, and the child's wait."""

    events: list[tuple[float, PipelineEvent]] = field(default_factory=list)
    mic_started: float = 0.0  # monotonic
    mic_started_wall: datetime | None = None
    first_audio: float | None = None
    last_word: float = 0.0
    run_id: str = ""

    @property
    def transcript(self) -> str:
        for _, event in self.events:
            if event.type is PipelineEventType.STT_END:
                return str((event.data or {})["stt_output"]["text"])
        return ""

    @property
    def errors(self) -> list[dict[str, Any]]:
        return [e.data or {} for _, e in self.events if e.type is PipelineEventType.ERROR]

    @property
    def waited(self) -> float | None:
        """Seconds from the child's last word to the reply's first audio."""
        if self.first_audio is None:
            return None
        return self.first_audio - (self.mic_started + self.last_word)

    def monotonic(self, wall: datetime) -> float:
        """A wall-clock moment of this turn on the monotonic clock of ``events``."""
        assert self.mic_started_wall is not None
        return self.mic_started + (wall - self.mic_started_wall).total_seconds()

    @property
    def transcript_after_last_word(self) -> float | None:
        for at, event in self.events:
            if event.type is PipelineEventType.STT_END:
                return at - (self.mic_started + self.last_word)
        return None


async def use_pipeline(
    hass: HomeAssistant, *, stt_engine: str, agent_id: str, tts_engine: str
) -> None:
    """The preferred pipeline: ``stt_engine``, Blip's agent, ``tts_engine``."""
    pipeline = assist_pipeline.async_get_pipeline(hass)
    await assist_pipeline.async_update_pipeline(
        hass,
        pipeline,
        language="en",
        conversation_engine=agent_id,
        conversation_language="en",
        prefer_local_intents=False,
        stt_engine=stt_engine,
        stt_language="en",
        tts_engine=tts_engine,
        tts_language="en_US",
        tts_voice=None,
    )


async def _microphone(pcm: bytes, turn: HeardTurn) -> AsyncIterator[bytes]:
    step = MIC_RATE * CHUNK_MS // 1000 * 2
    loop = asyncio.get_running_loop()
    started = loop.time()
    turn.mic_started = time.monotonic()
    turn.mic_started_wall = dt_util.utcnow()
    for index, offset in enumerate(range(0, len(pcm), step)):
        if (wait := started + index * CHUNK_MS / 1000 - loop.time()) > 0:
            await asyncio.sleep(wait)
        yield pcm[offset : offset + step]


async def ask(
    hass: HomeAssistant,
    spoken: SpokenQuestion,
    tts_audio_output: dict[str, Any],
    limit_seconds: float = 60.0,
) -> HeardTurn:
    """Run the preferred pipeline from STT to TTS on ``spoken``, in real time."""
    turn = HeardTurn(last_word=spoken.last_word)

    def on_audio(at: float, chunk: bytes) -> None:
        if chunk and turn.first_audio is None:
            turn.first_audio = at

    driven = await drive_pipeline(
        hass,
        _microphone(spoken.pcm, turn),
        tts_audio_output,
        start_stage=PipelineStage.STT,
        on_event=lambda at, event: turn.events.append((at, event)),
        on_audio=on_audio,
        limit_seconds=limit_seconds,
    )
    turn.run_id = driven.run_id
    return turn
