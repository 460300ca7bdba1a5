"""What Blip may say next in a drill (agent/drill_expectations.py), checked against what the real
drill engine then says: the prediction is only worth its CPU if the real reply's sentences are
in it."""

from __future__ import annotations

import random

import pytest

from custom_components.blip.agent.drill_expectations import (
    SPELLING_OPENINGS,
    expected_sentences,
    is_spelling_answer,
    spelling_answer_openings,
)
from custom_components.blip.brain.drills import DrillEngine, DrillState
from custom_components.blip.brain.word_lists import word_lists
from custom_components.blip.voice.speakable import split_sentences


def _known_part(reply_text: str, asked: DrillState, after: DrillState | None) -> list[str]:
    """The reply's sentences, without the next item's question (chosen only when answered)."""
    said = split_sentences(reply_text)
    if after is not None and after.item != asked.item:
        said = said[:-1]
    return said


@pytest.mark.parametrize("kind", ["spelling", "math"])
@pytest.mark.parametrize("seed", range(6))
def test_the_real_replies_are_predicted(kind: str, seed: int) -> None:
    """Right, nearly right, wrong and "I don't know": every sentence that can be known is."""
    engine = DrillEngine(random.Random(seed))
    question = engine.start(kind, age=7)
    state = question.state
    assert state is not None
    predicted = set(expected_sentences(state, age=7))
    if kind == "spelling":
        word = state.answer
        answers = [" ".join(word), " ".join(word[:-1] + ("e" if word[-1] == "a" else "a"))]
    else:
        answers = [state.answer, str(int(state.answer) + 1)]
    for answer in [*answers, "I don't know", "give me a hint"]:
        reply = engine.respond(answer, state, age=7)
        assert reply is not None, answer
        missing = [s for s in _known_part(reply.text, state, reply.state) if s not in predicted]
        assert not missing, (answer, reply.text)


def test_predictions_follow_the_session_and_leave_it_alone() -> None:
    """A second attempt after a hint is predicted from that state; the state is not changed."""
    engine = DrillEngine(random.Random(3))
    state = engine.start("spelling", age=8).state
    assert state is not None
    after_hint = engine.respond("hint", state, age=8).state
    assert after_hint is not None and after_hint.hints_used == 1
    before = after_hint.to_dict()
    predicted = expected_sentences(after_hint, age=8)
    assert after_hint.to_dict() == before
    wrong = engine.respond("x y z", after_hint, age=8)
    assert wrong is not None
    assert set(_known_part(wrong.text, after_hint, wrong.state)) <= set(predicted)


def test_the_first_sentence_of_every_listed_spelling_answer_is_known() -> None:
    engine = DrillEngine()
    words = list(word_lists()[2])
    openings = spelling_answer_openings(words)
    for word in words:
        reply = engine.respond(f"how do you spell {word}", None)
        assert reply is not None
        assert split_sentences(reply.text)[0] in openings


def test_spelling_answers_are_told_from_other_drill_replies() -> None:
    engine = DrillEngine()
    for word in ("zebra", "there", "knife"):
        reply = engine.respond(f"how do you spell {word}", None)
        assert reply is not None and is_spelling_answer(split_sentences(reply.text)[0])
    for text in (
        "That's right!",
        "5 times 9 is 45.",
        "Ice cream is two words.",
        *SPELLING_OPENINGS,
    ):
        assert not is_spelling_answer(text)
