"""Clips for the speech-to-text benchmarks: piper speech, room noise, the server's decode input.

Shared by benchmarks/stt_vocabulary.py and benchmarks/drill_requests_stt.py, so both hear the
project's piper voice the same way and decode exactly what the STT server would decode.
"""

from __future__ import annotations

import numpy as np

from wyoming_servers.audio import PcmAudio, convert_pcm
from wyoming_servers.stt.endpointing import (
    SAMPLE_RATE,
    EndpointSettings,
    SileroFrameScorer,
    UtteranceBuffer,
)

_voices: dict[str, object] = {}


def piper_speech(text: str, speed: float | None = None, semitones: float = 0.0) -> np.ndarray:
    """The project's default piper voice, repeatable (no generator noise); 16 kHz int16.

    ``speed`` is piper's length_scale (None: the voice's own pace; 0.8 brisk, 1.2 slow).
    ``semitones`` pitches it up like a child's voice: synthesized slower by the pitch factor,
    then played faster by it, so the pace stays and pitch and formants rise.
    """
    from piper import SynthesisConfig

    from wyoming_servers.tts.voices import DEFAULT_VOICE, find_voice, load_voice

    voice = _voices.get("default")
    if voice is None:
        voice = _voices["default"] = load_voice(find_voice(DEFAULT_VOICE, []))
    factor = 2 ** (semitones / 12)
    length = None if speed is None and not semitones else (speed or 1.0) * factor
    config = SynthesisConfig(noise_scale=0.0, noise_w_scale=0.0, length_scale=length)
    pcm = b"".join(chunk.audio_int16_bytes for chunk in voice.piper.synthesize(text, config))  # type: ignore[attr-defined]
    played = PcmAudio(pcm, round(voice.sample_rate * factor), 2, 1)  # type: ignore[attr-defined]
    return np.frombuffer(convert_pcm(played, SAMPLE_RATE, 2, 1).pcm, dtype="<i2")


def room_noise(seconds: float, seed: int) -> np.ndarray:
    """Quiet microphone noise (about -60 dBFS), not digital zeros."""
    noise = np.random.default_rng(seed).normal(0.0, 30.0, round(seconds * SAMPLE_RATE))
    return np.clip(noise, -32768, 32767).astype(np.int16)


def server_decode_input(samples: np.ndarray) -> np.ndarray:
    """What the server would decode: the audio up to its VAD endpoint plus the kept trailer."""
    buffer = UtteranceBuffer(SileroFrameScorer(), EndpointSettings(), max_samples=len(samples))
    step = SAMPLE_RATE * 20 // 1000  # 20 ms chunks, as a satellite sends them
    for start in range(0, len(samples), step):
        buffer.append(samples[start : start + step].astype("<i2").tobytes())
    return buffer.samples[: buffer.decode_end()].copy()
