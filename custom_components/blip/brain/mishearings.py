"""What speech-to-text makes of a child's drill requests, mapped back to the request.

Whisper tiny.en, hearing a child (or piper pitched up like one) ask "how do you spell school",
writes "Have you spelled school?", "How do you spill school?", "It's Bal School." — and "seven
times eight" as "seven tines eight" or "7 time's 8". ``repair_request`` rewrites those few shapes
of Blip's own requests into the words the drill engine and the router match, and leaves every
other utterance exactly as it was. The repairs are narrow on purpose: each needs the shape of a
request around the misheard word (a question opening before "spill", a number on both sides of
"tines"), so "I spilled my milk" or "time's up" are never touched.

Measured by ``benchmarks/drill_requests_stt.py`` (real synthesized audio through the project's
STT); ``tests/test_brain_mishearings.py`` holds every transcript shape seen there.
"""

from __future__ import annotations

from functools import lru_cache
import re
from typing import Final

from .spoken import find_numbers, tokenize
from .word_lists import known_words as _known_words

# "spell" as Whisper hears it from a child: the verb, with the question opening before it.
_SPELL_SOUNDS: Final = (
    r"(?P<verb>spell(?:ed|t|s)?|spill(?:ed|s)?|smell(?:ed|s)?|spel|spal|spiel|spoil)"
)
# "how do you" as heard: "have you", "how'd you", "how did you", "how to", "how you", "who do you",
# and "how do" run together into one word: "happy you", "had you".
_HOW_DO_YOU: Final = (
    r"(?:how|have|half|who|how'd|hey|happy|had|and how)\s+(?:do|did|does|would|can|to)?\s*"
    r"(?:you|ya|u|i|we)?"
)
_SPELL_QUESTION: Final = re.compile(
    rf"^(?P<lead>(?:hey |hi |okay )?(?:blip[, ]+)?)(?:{_HOW_DO_YOU})\s+{_SPELL_SOUNDS}\s+"
    r"(?P<word>[a-z][a-z' -]*?)[\s?.!,]*$"
)
# "Can you spill dinosaur?", "Could you smell cat?"
_CAN_YOU_SPELL: Final = re.compile(
    rf"^(?P<lead>(?:hey |hi |okay )?(?:blip[, ]+)?)(?:can|could|will|would) (?:you )?"
    rf"(?:please )?{_SPELL_SOUNDS}\s+(?P<word>[a-z][a-z'-]*)[\s?.!,]*$"
)
# "Spell school." heard as "It's Bal School.", "Its bell school", "Spill school", "Smell cat."
_SPELL_COMMAND: Final = re.compile(
    r"^(?P<lead>(?:hey |hi |okay )?(?:blip[, ]+)?)(?:please )?"
    r"(?:(?:it's|its|it is|is|this|let's)\s+(?:bal|ball|bell|bel|pal|spal|spell|spill|smell)|"
    r"spill|smell|spal|spel|spiel)\s+(?P<word>[a-z][a-z'-]*)[\s?.!,]*$"
)
# "Spell house." written as one word: "Spellhouse."
_GLUED_SPELL: Final = re.compile(
    r"^(?P<lead>(?:hey |hi |okay )?(?:blip[, ]+)?)(?:please )?spell(?P<word>[a-z]{3,})[\s?.!,]*$"
)
# "times" between two numbers, as heard: "tines", "time's", "time", "tim's", "x".
_TIMES_SOUNDS: Final = frozenset(
    {"tines", "time's", "time", "tims", "tim's", "timed", "tiles", "x", "tons", "dimes"}
)


def no_repair(text: str) -> str:
    """The identity: what ``repair_request`` is measured against."""
    return text


@lru_cache(maxsize=1024)
def repair_request(text: str) -> str:
    """``text`` with a misheard drill request put back in the words Blip matches."""
    if not isinstance(text, str) or not text or len(text) > 200:
        return text
    lowered = " ".join(text.lower().replace("’", "'").split())
    for pattern in (_SPELL_QUESTION, _CAN_YOU_SPELL):
        if (match := pattern.match(lowered)) is not None:
            word = match.group("word").strip(" -'")
            # "How do you smell flowers?" is a question of its own unless the word is one of
            # Blip's spelling words; "have you spelled ..." always means spell.
            sure = match.group("verb").startswith("spell") or _known_word(word)
            if word and len(word.split()) <= 2 and sure:
                return f"{match.group('lead')}how do you spell {word}?"
    if (match := _GLUED_SPELL.match(lowered)) is not None and _known_word(match.group("word")):
        return f"{match.group('lead')}spell {match.group('word')}."
    if (match := _SPELL_COMMAND.match(lowered)) is not None:
        word = match.group("word").strip(" -'")
        if word and _known_word(word):
            return f"{match.group('lead')}spell {word}."
    return _repair_times(text)


def _known_word(word: str) -> bool:
    """A word from Blip's own spelling lists: only then is "it's bal school" a request."""
    return word in _known_words()


def _repair_times(text: str) -> str:
    """ "seven tines eight" -> "seven times eight", only between two numbers."""
    tokens = tokenize(text.lower().replace("’", "'"))
    if not any(token in _TIMES_SOUNDS for token in tokens):
        return text
    spans = find_numbers(tokens)
    ends = {span.end for span in spans}
    starts = {span.start for span in spans}
    changed = False
    for index, token in enumerate(tokens):
        if token in _TIMES_SOUNDS and index in ends and index + 1 in starts:
            tokens[index] = "times"
            changed = True
    if not changed:
        return text
    return " ".join(tokens).replace(" ?", "?")
