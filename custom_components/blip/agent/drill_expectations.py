"""What Blip may say next in a drill: the sentences worth synthesizing before the child speaks.

A drill is the one route whose replies can be known before the child answers. After "Can you
spell cat?" the next reply opens with the praise or "That's okay!" and goes on with
"C, A, T spells cat." or "Cat is spelled C, A, T.", a hint, or the question again; only the
next word is still to be chosen. The drill engine is asked, through its public ``respond``, what
it would reply to the likely answers (right, nearly right, wrong, "I don't know", "hint"), on a
copy of the session and with its own random numbers, so the child's real session and its item
picking are untouched. A reply that moves on to a new item ends with that item's question,
which is dropped: the real next item is picked when the child answers.

For "how do you spell <word>" the answer's first sentence is known for every word of a list.
For a word in no list it is not, and piper needs from a tenth of a second to a second (on a
loaded CPU) for "Zebra is spelled Z, E, B, R, A."; such an answer may open with a short cached
sentence ("Good one! Let's spell it.") that plays while the spelled sentence is made. The letters
themselves are untouched: the spelled sentence is the drill engine's, said whole.

Pure logic (no Home Assistant import): drill_prewarm.py hands the sentences to Blip voice.
"""

from __future__ import annotations

from collections.abc import Iterable
import random
import re
from typing import Final

from ..brain.drills import DrillEngine, DrillState
from ..brain.spoken import say_number
from ..voice.speakable import split_sentences

SPELLING: Final = "spelling"
# Fixed seed: predictions are the same for the same session (the dropped last question is the
# only part the random numbers choose).
_SEED: Final = 19
# Openings for a spelling answer whose first sentence is not cached: a child hears Blip react at
# once, then the letters. Each longer than piper takes for a short spelled word on a quiet CPU.
SPELLING_OPENINGS: Final = (
    "Good one! Let's spell it.",
    "Ooh, I know that one!",
)
_SPELLING_ANSWER = re.compile(r"^[A-Z][a-z']*(?: [a-z']+)? is spelled |^There's more than one way")


def is_spelling_answer(sentence: str) -> bool:
    """Whether a sentence opens the drill engine's answer to "how do you spell <word>"."""
    return bool(_SPELLING_ANSWER.match(sentence))


def _likely_answers(state: DrillState) -> list[str]:
    """What a child says after the question, most likely first."""
    if state.kind == SPELLING:
        word = state.answer
        last = "e" if word[-1:] == "a" else "a"
        nearly = word[:-1] + last  # one letter off: "Almost!" or a hint
        wrong = "".join(reversed(word)) if len(set(word)) > 1 else word + "x"
        return [" ".join(word), " ".join(nearly), " ".join(wrong), "I don't know", "hint"]
    try:
        value = int(state.answer)
    except ValueError:
        return ["I don't know", "hint"]
    return [
        say_number(value),
        say_number(value + 1),
        say_number(value + 10),
        "I don't know",
        "hint",
    ]


def expected_sentences(state: DrillState, age: int | None = None) -> list[str]:
    """The sentences of Blip's likely next replies in this session, most likely first."""
    engine = DrillEngine(random.Random(_SEED))
    sentences: dict[str, None] = {}
    for answer in _likely_answers(state):
        # respond() works on its own copy of the session: the child's state is not changed.
        reply = engine.respond(answer, state, age)
        if reply is None:
            continue
        said = split_sentences(reply.text)
        if reply.state is not None and reply.state.item != state.item and said:
            said = said[:-1]  # the next item's question: that item is chosen later
        for sentence in said:
            sentences.setdefault(sentence, None)
    return list(sentences)


def spelling_answer_openings(words: Iterable[str]) -> list[str]:
    """The first sentence of "how do you spell <word>"'s answer, per word: its first audio."""
    engine = DrillEngine(random.Random(_SEED))
    openings: dict[str, None] = {}
    for word in words:
        reply = engine.respond(f"how do you spell {word}", None)
        if reply is not None and (said := split_sentences(reply.text)):
            openings.setdefault(said[0], None)
    return list(openings)
