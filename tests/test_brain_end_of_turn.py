"""Judging whether a child has finished asking, and when the turn ends, in audio time."""

from __future__ import annotations

import pytest

from custom_components.blip.brain.end_of_turn import (
    DEFAULT_PATIENCE,
    PATIENCE,
    Patience,
    TurnListener,
    is_complete,
)


@pytest.mark.parametrize(
    "transcript",
    [
        "How do you spell dinosaur?",
        "What is seven times eight?",
        "Spell school.",
        "Why is the sky blue?",
        "Hey Blip, tell me a joke.",
        "Can you help me?",
        "I love you.",
        "What's 7 x 8?",
        "Quiz me on spelling.",
        # The word asked for ends a spelling request even when it would dangle elsewhere.
        "How do you spell the word because?",
        "Spell after.",
        "Can you spell it?",
    ],
)
def test_complete_questions(transcript: str) -> None:
    assert is_complete(transcript)


@pytest.mark.parametrize(
    "transcript",
    [
        "",
        "Blip",
        "Hey Blip.",
        "How do you spell",
        "How do you spell...",
        "How do you spell, um",
        "How do you spell, um...",
        "What is seven times",
        "What is seven times...",
        "What is",
        "Tell me a story about the",
        "Can you",
        "How do you",
        "Why is the sky—",
        "Um",
        "I want to know",
        "How do you spell the word",
        "How do you spell the",
        "How do you say",
        "What comes after",
    ],
)
def test_unfinished_questions(transcript: str) -> None:
    assert not is_complete(transcript)


def test_patience_presets_are_ordered() -> None:
    assert DEFAULT_PATIENCE in PATIENCE
    quick, normal, patient = PATIENCE["quick"], PATIENCE["normal"], PATIENCE["patient"]
    assert quick.complete <= normal.complete <= patient.complete
    assert quick.incomplete < normal.incomplete < patient.incomplete
    with pytest.raises(ValueError):
        Patience(complete=1.0, incomplete=0.5)


def test_a_complete_question_ends_after_the_short_silence() -> None:
    listener = TurnListener(PATIENCE["normal"])
    assert not listener.should_end(1.0)  # nothing heard yet
    listener.heard("How do you spell cat?", speech_end=1.6)
    assert not listener.should_end(1.8)
    assert listener.should_end(1.9)
    assert listener.transcript == "How do you spell cat?" and listener.last_word == 1.6


def test_an_unfinished_question_waits_for_the_rest() -> None:
    """ "How do you spell... um... elephant": the pause after "spell" does not end the turn."""
    listener = TurnListener(PATIENCE["normal"])
    listener.heard("How do you spell...", speech_end=1.2)
    assert not listener.should_end(1.2 + 1.2)  # a 1.2 s pause: still listening
    listener.speech_resumed()
    assert listener.transcript is None
    assert not listener.should_end(3.5)  # talking again: no decision without a transcript
    listener.heard("How do you spell elephant?", speech_end=3.6)
    assert listener.should_end(3.6 + PATIENCE["normal"].complete)


def test_an_unfinished_question_ends_when_patience_runs_out() -> None:
    listener = TurnListener(PATIENCE["quick"])
    listener.heard("What is seven times", speech_end=2.0)
    assert not listener.should_end(2.9)
    assert listener.should_end(3.0)


def test_nothing_said_ends_at_the_no_speech_limit_and_every_turn_ends() -> None:
    listener = TurnListener(PATIENCE["normal"], no_speech_limit=5.0, max_seconds=20.0)
    assert not listener.should_end(4.9)
    assert listener.should_end(5.0)
    talking = TurnListener(PATIENCE["normal"], max_seconds=20.0)
    talking.heard("and then", speech_end=1.0)
    talking.speech_resumed()
    assert not talking.should_end(19.9)
    assert talking.should_end(20.0)
    empty = TurnListener(PATIENCE["normal"])
    empty.heard("", speech_end=1.0)
    assert not empty.should_end(2.0) and empty.should_end(2.5)


def test_a_slow_decode_never_cuts_a_child_off_and_never_waits_forever() -> None:
    """The server said the child paused, but its transcript is slow to come (a busy CPU): only
    the full patience ends the turn; a transcript that does come decides as usual."""
    patience = PATIENCE["normal"]
    listener = TurnListener(patience)
    listener.paused(speech_end=1.0)
    assert not listener.should_end(1.0 + patience.incomplete - 0.01)
    assert listener.should_end(1.0 + patience.incomplete)
    waiting = TurnListener(patience)
    waiting.paused(speech_end=1.0)
    waiting.heard("How do you spell cat?", speech_end=1.0)
    assert waiting.should_end(1.0 + patience.complete)
    waiting.paused(speech_end=2.0)
    waiting.speech_resumed()
    assert not waiting.should_end(5.0)
