"""Drill requests as speech-to-text misheard them still reach the drill engine; nothing else
is touched. The misheard shapes are those seen in benchmarks/drill_requests_stt.py (piper at
0.8-1.2x, pitched up to 7 semitones, room noise, through the project's tiny.en)."""

from __future__ import annotations

import pytest

from custom_components.blip.brain import Activity, DrillEngine
from custom_components.blip.brain.mishearings import no_repair, repair_request
from custom_components.blip.brain.router import classify_activity


@pytest.mark.parametrize(
    ("heard", "letters"),
    [
        ("Have you spelled dinosaur?", "D, I, N, O, S, A, U, R"),
        ("Happy you spell little.", "L, I, T, T, L, E"),
        ("Had you spelled rabbit?", "R, A, B, B, I, T"),
        ("Have you spell elephant?", "E, L, E, P, H, A, N, T"),
        ("How do you spill school?", "S, C, H, O, O, L"),
        ("How do you smell cat?", "C, A, T"),
        ("How do you spelled friend?", "F, R, I, E, N, D"),
        ("It's Bal School.", "S, C, H, O, O, L"),
        ("Its bell school", "S, C, H, O, O, L"),
        ("Spellhouse.", "H, O, U, S, E"),
        ("Can you smell rabbit?", "R, A, B, B, I, T"),
        ("Hey Blip, have you spelled octopus?", "O, C, T, O, P, U, S"),
    ],
)
def test_misheard_spelling_requests_are_answered(heard: str, letters: str) -> None:
    reply = DrillEngine().respond(heard, None, 7)
    assert reply is not None and letters in reply.text, heard
    assert classify_activity(heard) is Activity.SPELLING


@pytest.mark.parametrize(
    ("heard", "answer"),
    [
        ("What is seven tines eight?", " is 56."),
        ("What is 7 time's 8?", " is 56."),
        ("What's six time four?", " is 24."),
        ("What is 9 x 3?", " is 27."),
    ],
)
def test_misheard_times_is_still_multiplication(heard: str, answer: str) -> None:
    reply = DrillEngine().respond(heard, None, 7)
    assert reply is not None and answer in reply.text, heard
    assert classify_activity(heard) is Activity.MATH


@pytest.mark.parametrize(
    "text",
    [
        "I spilled my milk",
        "time's up",
        "what time is it",
        "How do you smell flowers with your nose?",
        "It's a ball",
        "Its bell rang",
        "it's bal",
        "Spelling.",
        "how do you spell... um",
        "I have 3 times more",
        "",
    ],
)
def test_everything_else_is_left_alone(text: str) -> None:
    assert repair_request(text) == text
    assert no_repair(text) == text


def test_a_drill_answer_in_a_session_is_not_rewritten() -> None:
    """Inside a spelling quiz, "smell" is an answer attempt, not a new request."""
    engine = DrillEngine()
    started = engine.respond("give me a spelling word", None, 7)
    assert started is not None and started.state is not None
    reply = engine.respond("S M E L L", started.state, 7)
    assert reply is not None
