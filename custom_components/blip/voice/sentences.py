"""Cut streamed text into sentences the moment each one is complete.

A sentence ends at end punctuation followed by whitespace, or at a line break. Waiting for the
next sentence's first letter (as piper's own splitter does) would hold a filler back until the
answer starts; waiting for the end of the message would hold everything back.
"""

from __future__ import annotations

from collections.abc import Iterable
import re
from typing import Final

MAX_SENTENCE_CHARS: Final = 300

_BOUNDARY: Final = re.compile(r"[.!?…]+[\"'”’)\]]*\s+|\n+")
_ABBREVIATION: Final = re.compile(
    r"(?:^|\s)(?:mr|mrs|ms|dr|prof|st|vs|etc|e\.g|i\.e|no)\.\s+$", re.IGNORECASE
)
_WHITESPACE: Final = re.compile(r"\s+")


def sentence_key(sentence: str) -> str:
    """What a sentence is looked up by in the phrase cache: trimmed, single spaces."""
    return _WHITESPACE.sub(" ", sentence).strip()


class SentenceSplitter:
    """Feed text pieces, get back every sentence that became complete."""

    def __init__(self, max_sentence_chars: int = MAX_SENTENCE_CHARS) -> None:
        """Split at sentence ends; cut runaway text without punctuation at a space."""
        self._max_chars = max_sentence_chars
        self._buffer = ""

    def feed(self, text: str) -> list[str]:
        """Add a piece of text; return the sentences it completed (trimmed, non-empty)."""
        self._buffer += text
        sentences: list[str] = []
        search_from = 0
        while match := _BOUNDARY.search(self._buffer, search_from):
            candidate = self._buffer[: match.end()]
            if _ABBREVIATION.search(candidate):
                search_from = match.end()
                continue
            self._buffer = self._buffer[match.end() :]
            search_from = 0
            if sentence := sentence_key(candidate):
                sentences.append(sentence)
        while len(self._buffer) > self._max_chars:
            cut = self._buffer.rfind(" ", 0, self._max_chars)
            cut = cut if cut > 0 else self._max_chars
            if sentence := sentence_key(self._buffer[:cut]):
                sentences.append(sentence)
            self._buffer = self._buffer[cut:]
        return sentences

    def flush(self) -> list[str]:
        """End of text: whatever is left is the last sentence."""
        rest, self._buffer = sentence_key(self._buffer), ""
        return [rest] if rest else []


def split_sentences(text: str) -> list[str]:
    """All sentences of a whole text."""
    splitter = SentenceSplitter()
    return [*splitter.feed(text), *splitter.flush()]


def phrase_sentences(phrases: Iterable[str]) -> list[str]:
    """Every distinct sentence of a phrase list, in order: what the phrase cache holds."""
    seen: dict[str, None] = {}
    for phrase in phrases:
        for sentence in split_sentences(phrase):
            seen.setdefault(sentence, None)
    return list(seen)
