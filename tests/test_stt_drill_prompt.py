"""The STT server's default prompt, on real piper speech pitched up like a child's, real tiny.en:
every way a child asks for a drill comes back as a request the drill engine answers, and room
noise comes back as no words (a prompt's words must not leak into silence).

The rates are measured by benchmarks/drill_requests_stt.py; these are fixed examples of it.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
import tqdm

from benchmarks.stt_clips import piper_speech, room_noise, server_decode_input
from custom_components.blip.brain.drills import DrillEngine
from custom_components.blip.brain.spoken import say_letters
from wyoming_servers.stt.engine import (
    DecodeOptions,
    EngineSettings,
    WhisperEngine,
    default_model_path,
)
from wyoming_servers.stt.service import DEFAULT_INITIAL_PROMPT, ServiceSettings

OPTIONS = DecodeOptions(language="en", initial_prompt=DEFAULT_INITIAL_PROMPT)


@pytest.fixture(scope="module")
def engine() -> Iterator[WhisperEngine]:
    # faster-whisper's progress bar would start tqdm's monitor thread in the test's thread.
    saved, tqdm.tqdm.monitor_interval = tqdm.tqdm.monitor_interval, 0
    whisper = WhisperEngine(EngineSettings(default_model_path()))
    yield whisper
    whisper.close()
    tqdm.tqdm.monitor_interval = saved


def test_the_server_uses_the_prompt_by_default() -> None:
    assert ServiceSettings().initial_prompt == DEFAULT_INITIAL_PROMPT
    # The forms a child asks in are all in it.
    for form in ("how do you spell", "Spell cat.", "seven times eight"):
        assert form in DEFAULT_INITIAL_PROMPT
    # No question that a child's unfinished "how do you spell…" could be completed into while
    # they pause: Whisper would hear the prompt's ending and the turn would end early.
    assert "spell it" not in DEFAULT_INITIAL_PROMPT.lower()


@pytest.mark.parametrize(
    ("text", "semitones", "expected"),
    [
        ("Spell garden.", 4, say_letters("garden")),
        ("Can you spell window?", 4, say_letters("window")),
        ("How would you spell turtle?", 4, say_letters("turtle")),
        ("How do you spell brother?", 7, say_letters("brother")),
        ("What is thirteen minus five?", 4, "13 minus 5 is 8."),
        ("What's eight times seven?", 7, "8 times 7 is 56."),
    ],
)
def test_a_childs_drill_request_is_heard_as_one(
    engine: WhisperEngine, text: str, semitones: int, expected: str
) -> None:
    audio = np.concatenate(
        [room_noise(0.4, 1), piper_speech(text, 1.0, semitones), room_noise(0.7, 2)]
    )
    heard = engine.decode_blocking(server_decode_input(audio), OPTIONS).text
    reply = DrillEngine().respond(heard, None, 8)
    assert reply is not None, heard
    assert expected in reply.text, heard


@pytest.mark.parametrize("seed", [3, 5, 8])
def test_room_noise_is_heard_as_no_words(engine: WhisperEngine, seed: int) -> None:
    """A prompt's words leak into silence: with "What's fourteen minus six?" in it, seed 5's
    noise came back "One. Two. Three. Two. Three." (round 3, 1 of 60 noise clips; now 0 of 60)."""
    assert engine.decode_blocking(room_noise(2.0, seed), OPTIONS).text == ""
