"""Whisper's encoder given a window fitted to the question (an option, off by default), and
Whisper's repeats dropped."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tqdm

from benchmarks.stt_clips import piper_speech, room_noise, server_decode_input
from wyoming_servers.stt.engine import (
    FIT_MIN_FRAMES,
    DecodeOptions,
    EngineSettings,
    WhisperEngine,
    default_model_path,
    drop_repeats,
    fitted_frames,
)
from wyoming_servers.stt.service import DEFAULT_INITIAL_PROMPT


def test_the_window_covers_the_audio_with_a_margin_and_a_floor() -> None:
    assert fitted_frames(16000 * 2) == FIT_MIN_FRAMES  # a short question: the 14 s floor
    long = fitted_frames(16000 * 25)  # 25 s: the audio and its margin
    assert long > 2500 and long % 2 == 0
    assert fitted_frames(16000 * 60) == 3000  # never more than Whisper's 30 s


@pytest.mark.parametrize(
    ("segments", "expected"),
    [
        # Whisper looping to the end of its window, cut off by the token bound.
        (
            (" What is 50 minus six? What is 50 minus six? What is 50 minus six? What is 5",),
            (" What is 50 minus six?",),
        ),
        ((" How do you spell cat?", " How do you spell cat?"), (" How do you spell cat?",)),
        ((" Spell house. Spell house. Spell house. Spell",), (" Spell house.",)),
        # Two words said twice is a loop too (the drill engine does not answer it).
        ((" Spell garden. Spell garden.",), (" Spell garden.",)),
        # Short repeats are meant: letters, "no, no".
        ((" R. A. B. B. I. T.",), (" R. A. B. B. I. T.",)),
        ((" No. No.",), (" No. No.",)),
        ((" Spell cat. Now spell dog.",), (" Spell cat. Now spell dog.",)),
        ((), ()),
    ],
)
def test_repeated_sentences_are_dropped(
    segments: tuple[str, ...], expected: tuple[str, ...]
) -> None:
    assert drop_repeats(segments) == expected


@pytest.fixture(scope="module")
def engines() -> Iterator[tuple[WhisperEngine, WhisperEngine]]:
    # Decoding here, in the test's own thread, faster-whisper's progress bar would start tqdm's
    # monitor thread, which Home Assistant's test harness reports as left running.
    saved, tqdm.tqdm.monitor_interval = tqdm.tqdm.monitor_interval, 0
    fitted = WhisperEngine(EngineSettings(default_model_path(), fit_audio_context=True))
    full = WhisperEngine(EngineSettings(default_model_path(), fit_audio_context=False))
    yield fitted, full
    fitted.close()
    full.close()
    tqdm.tqdm.monitor_interval = saved


@pytest.mark.parametrize(
    "text",
    [
        "How do you spell dinosaur?",
        "What is seven times eight?",
        "Spell friend.",
        "What's nine times three?",
    ],
)
def test_the_fitted_window_hears_what_the_full_window_hears(
    engines: tuple[WhisperEngine, WhisperEngine], text: str
) -> None:
    """Real piper speech, real tiny.en: the same words from a 14 s window without timestamps."""
    audio = np.concatenate([room_noise(0.3, 1), piper_speech(text), room_noise(0.6, 2)])
    samples = server_decode_input(audio)
    options = DecodeOptions(language="en", initial_prompt=DEFAULT_INITIAL_PROMPT)
    fitted, full = (engine.decode_blocking(samples, options) for engine in engines)
    assert fitted.text == full.text == text
