"""Fillers: what Blip says at once while a slow backend thinks, so a child never waits in silence.

A filler is streamed before the answer, in the same assistant message. Home Assistant starts
streaming TTS only once more than 60 characters of assistant text have arrived, and piper speaks
a sentence only once whitespace follows it, so every filler is over 60 characters of complete
sentences ending in a space.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
import random
import re
from typing import Final

from ..brain import Activity
from ..phrases import FILLERS_CALM, FILLERS_CHEERFUL, FILLERS_CREATIVE

# Home Assistant's STREAM_RESPONSE_CHARS: TTS streaming starts only after more text than this.
STREAM_RESPONSE_CHARS: Final = 60
_COMPLETE_SENTENCES = re.compile(r"^[^\n]*[.!?][\"')]* $")


def normalize_filler(line: str) -> str | None:
    """A family's filler line as Blip can use it, or None when it can't be a filler.

    It must be complete sentences (ending in . ! or ?) and longer than 60 characters, else TTS
    would not start on it; a trailing space is added so the last sentence is spoken at once.
    """
    text = " ".join(line.split())
    if not text:
        return None
    text += " "
    if len(text) <= STREAM_RESPONSE_CHARS or not _COMPLETE_SENTENCES.match(text):
        return None
    return text


def parse_extra_fillers(raw: str | Iterable[str] | None) -> tuple[tuple[str, ...], list[str]]:
    """Split the options' extra fillers (one per line) into usable ones and rejected lines."""
    if not raw:
        return (), []
    lines = raw.splitlines() if isinstance(raw, str) else list(raw)
    usable: list[str] = []
    rejected: list[str] = []
    for line in lines:
        if not line.strip():
            continue
        if (filler := normalize_filler(line)) is not None:
            usable.append(filler)
        else:
            rejected.append(line.strip())
    return tuple(usable), rejected


def usable_fillers(phrases: Sequence[str]) -> tuple[str, ...]:
    """The fillers of one mood that will really start TTS streaming (over 60 characters).

    Shorter phrases would not start TTS on their own, and would only delay the answer's audio.
    When fewer than two phrases are long enough, shorter ones are paired (still phrase-list
    sentences, so the TTS server's sentence cache serves them) so a filler need not repeat.
    """
    singles = [filler for filler in phrases if normalize_filler(filler) == filler]
    if len(singles) >= 2:
        return tuple(singles)
    shorts = [filler for filler in phrases if filler not in singles]
    pairs = [
        first + second
        for first, second in zip(shorts, [*shorts[1:], *shorts[:1]], strict=True)
        if first != second
    ]
    return (*singles, *pairs)


class FillerPicker:
    """Chooses a filler for a turn: by mood, never the same one twice in a row."""

    def __init__(self, extra: Sequence[str] = (), rng: random.Random | None = None) -> None:
        """``extra`` are the family's own (already normalized) fillers, used on cheerful turns."""
        self._rng = rng or random.Random()
        self._pools: dict[str, tuple[str, ...]] = {
            "cheerful": usable_fillers((*FILLERS_CHEERFUL, *extra)),
            "creative": usable_fillers((*FILLERS_CREATIVE, *extra)),
            "calm": usable_fillers(FILLERS_CALM),
        }
        self._last: str | None = None

    @property
    def all_fillers(self) -> frozenset[str]:
        """Every filler this picker may say (to keep them out of model history)."""
        return frozenset(f for pool in self._pools.values() for f in pool)

    @staticmethod
    def mood_for(activity: Activity) -> str:
        """Calm for feelings and safety, playful for creative turns, cheerful otherwise."""
        if activity in (Activity.EMOTIONAL, Activity.SAFETY):
            return "calm"
        if activity is Activity.CREATIVE:
            return "creative"
        return "cheerful"

    def pick(self, activity: Activity) -> str:
        """A filler for this activity, different from the one spoken last."""
        pool = self._pools[self.mood_for(activity)]
        choices = [f for f in pool if f != self._last] or list(pool)
        filler = self._rng.choice(choices)
        self._last = filler
        return filler


def strip_filler(text: str, fillers: Iterable[str]) -> str:
    """The answer without the filler it started with (what the model should remember)."""
    for filler in fillers:
        if text.startswith(filler):
            return text[len(filler) :]
    return text
