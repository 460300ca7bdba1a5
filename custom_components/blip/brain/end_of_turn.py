"""Has the child finished asking? Judged from the words heard so far, to end the turn early.

Home Assistant ends a turn after a fixed silence (0.7 s by default); a child then waits that long
for every answer, and a child who pauses longer mid-question ("how do you spell… um…
elephant") is cut off. Blip's speech-to-text server decodes the audio speculatively as soon as
the child pauses; ``is_complete`` reads that transcript: a complete question may end the turn
after a short silence, an incomplete one (a dangling "spell", "times", "the", a hesitation, a
trailing "...") waits for the family's patience before giving up. ``TurnListener`` is that
decision as a small state machine over audio time, with no clock and no Home Assistant, so the
speech-to-text entity and the tests drive it alike.
"""

from __future__ import annotations

from dataclasses import dataclass
import re
from typing import Final

from .spoken import normalise_utterance


@dataclass(frozen=True, slots=True)
class Patience:
    """Seconds of silence after the last word before the turn ends."""

    complete: float  # after a complete question
    incomplete: float  # after an unfinished one (or nothing understood)

    def __post_init__(self) -> None:
        if not 0 < self.complete <= self.incomplete:
            raise ValueError("need 0 < complete <= incomplete")


# The family's choice (options: "Listening patience"). Blip's STT server starts its speculative
# decode after 0.15 s of silence, so "complete" cannot usefully be shorter than that; on this
# CPU the decode itself then takes 0.1-0.3 s, so "normal" rarely waits for its own 0.3 s.
PATIENCE: Final = {
    "quick": Patience(complete=0.25, incomplete=1.0),
    "normal": Patience(complete=0.3, incomplete=1.5),
    "patient": Patience(complete=0.5, incomplete=2.5),
}
DEFAULT_PATIENCE: Final = "normal"

# Hesitations Whisper writes when a child stops to think.
_HESITATIONS: Final = frozenset(
    {"um", "umm", "uh", "uhh", "uhm", "er", "erm", "hmm", "hm", "mm", "mmm", "ah", "eh", "like"}
)
# A question cannot end on these: an article, a preposition, a conjunction, an operator, the
# verb of a drill request, a question word.
_DANGLING: Final = frozenset(
    {
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "to",
        "for",
        "with",
        "about",
        "from",
        "in",
        "on",
        "at",
        "by",
        "if",
        "because",
        "so",
        "than",
        "then",
        "my",
        "your",
        "his",
        "her",
        "our",
        "their",
        "is",
        "are",
        "was",
        "were",
        "what's",
        "spell",
        "spelled",
        "spelt",
        "times",
        "plus",
        "minus",
        "divided",
        "multiplied",
        "over",
        "equals",
        "after",
        "before",
        "into",
        "how",
        "what",
        "why",
        "who",
        "where",
        "when",
        "which",
        "does",
        "did",
    }
)
# Openers that are not yet a question on their own.
_BARE_OPENERS: Final = re.compile(
    r"^(?:(?:hey |hi |okay )?blip|hey|hi|okay|so|and|um|what|how|why|who|where|when|"
    r"how do you|how do i|can you|could you|will you|tell me|do you know|i want to know|"
    r"what is|what's|what does|how many|what about|i have a question|guess what)$"
)
# "Spell because", "how do you spell after": the word asked for ends the request, even when it
# would dangle anywhere else; "spell the word" is still waiting for it.
_SPELL_TARGET: Final = re.compile(r"\bspel(?:l|led|t|ling) (?:the word |the )?(?P<word>[a-z']+)$")
_NOT_A_TARGET: Final = frozenset({"the", "word", "a", "an", "please"})
_UNFINISHED: Final = re.compile(r"\bhow (?:do|can|would) (?:you|i|we) say$")
_WAKE: Final = re.compile(r"^(?:hey |hi |okay )?blip\b[, ]*")
_TRAILING_PAUSE: Final = re.compile(r"(?:\.\.\.|…|--|—|-|,)\s*$")


def is_complete(transcript: str) -> bool:
    """True when the words heard so far make a whole question or request."""
    if _TRAILING_PAUSE.search(transcript.strip()):
        return False  # Whisper marks a trailing pause: the child means to go on
    words = normalise_utterance(transcript)
    words = _WAKE.sub("", words).strip()
    if not words:
        return False
    tokens = words.split()
    if tokens[-1] in _HESITATIONS:
        return False
    if (target := _SPELL_TARGET.search(words)) is not None:
        return target["word"] not in _NOT_A_TARGET and target["word"] not in _HESITATIONS
    if tokens[-1] in _DANGLING or _UNFINISHED.search(words):
        return False
    return not _BARE_OPENERS.match(words)


@dataclass(slots=True)
class TurnListener:
    """When to end a child's turn, from the speech-to-text server's view of the audio.

    Times are seconds of audio since the turn's start. The server reports the end of the last
    speech with a speculative transcript of everything up to it (``heard``), and says when the
    child speaks again (``speech_resumed``), which voids that transcript.
    """

    patience: Patience
    # Nothing that counts as speech this long: the turn ends (with whatever was heard).
    no_speech_limit: float = 8.0
    # No turn listens longer than this.
    max_seconds: float = 30.0
    _speech_end: float | None = None
    _transcript: str | None = None
    _complete: bool = False
    _paused: bool = False  # a pause was reported and its transcript is on its way

    def paused(self, speech_end: float) -> None:
        """The child stopped at ``speech_end``; a transcript of it will follow."""
        self._speech_end = speech_end
        self._transcript = None
        self._paused = True

    def heard(self, transcript: str, speech_end: float) -> None:
        """A speculative transcript of the audio up to ``speech_end``."""
        self._speech_end = speech_end
        self._transcript = transcript
        self._complete = is_complete(transcript)
        self._paused = False

    def speech_resumed(self) -> None:
        """The child went on talking: the last transcript is out of date."""
        self._transcript = None
        self._paused = False

    @property
    def transcript(self) -> str | None:
        """The latest speculative transcript still current."""
        return self._transcript

    @property
    def last_word(self) -> float | None:
        """Audio time of the end of the last speech the server heard."""
        return self._speech_end

    def should_end(self, now: float) -> bool:
        """Whether the turn is over at audio time ``now``."""
        if now >= self.max_seconds:
            return True
        if self._speech_end is None:
            return now >= self.no_speech_limit
        silence = now - self._speech_end + 1e-9  # 1.9 - 1.6 is 0.2999… in floating point
        if self._transcript is None:
            # Speaking; or paused with the decode still running (a busy CPU): then only the
            # full patience ends the turn, as ending sooner could cut a child off mid-question.
            return self._paused and silence >= self.patience.incomplete
        if not self._transcript.strip():
            return silence >= self.patience.incomplete
        wait = self.patience.complete if self._complete else self.patience.incomplete
        return silence >= wait
