"""Incremental sentence splitting for streamed text.

Home Assistant forwards a language model's answer in small pieces. The sooner a sentence is
known to be complete, the sooner its audio can start, so a sentence is released the moment its
end punctuation is followed by whitespace (or a line ends) - not when the next sentence's first
letter turns up, and not at the end of the whole stream. What remains at the end is flushed.

The same splitter cuts the phrase list into cache entries, so a phrase spoken alone and the same
sentence inside a streamed answer map to the same cached audio.
"""

from __future__ import annotations

from collections.abc import Iterable
import re
from typing import Final

DEFAULT_MAX_SENTENCE_CHARS: Final = 400

# End punctuation, then optional closing quotes/brackets, then whitespace; or a bare line
# break; or CJK end punctuation, which is not followed by a space.
_BOUNDARY_RE: Final = re.compile(
    r"(?P<end>[.!?…]+[\"'”’»)\]]*)(?P<space>\s+)|(?P<newline>\n\s*)|(?P<cjk>[。！？]+)"
)
# Words whose trailing period does not end a sentence.
_ABBREVIATIONS: Final = frozenset(
    {
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "st",
        "sr",
        "jr",
        "vs",
        "etc",
        "e.g",
        "i.e",
        "approx",
        "mt",
        "ft",
    }
)
_LAST_WORD_RE: Final = re.compile(r"(\S+)\.$")
_LIST_NUMBER_RE: Final = re.compile(r"^\(?\d{1,3}\.$")


class SentenceSplitter:
    """Feed text pieces; get back every sentence as soon as it is complete."""

    def __init__(self, max_sentence_chars: int = DEFAULT_MAX_SENTENCE_CHARS) -> None:
        self.max_sentence_chars = max_sentence_chars
        self._buffer = ""

    @property
    def pending_text(self) -> str:
        """Text received but not yet released as a sentence."""
        return self._buffer

    def feed(self, text: str) -> list[str]:
        """Add a piece of the stream; return the sentences it completed."""
        self._buffer += text
        sentences: list[str] = []
        search_from = 0
        while match := _BOUNDARY_RE.search(self._buffer, search_from):
            if match.group("end") is not None:
                sentence_end = match.start("space")
                if not _ends_sentence(self._buffer[:sentence_end]):
                    search_from = match.end()
                    continue
            else:
                sentence_end = match.end()
            sentence = self._buffer[:sentence_end].strip()
            self._buffer = self._buffer[match.end() :]
            search_from = 0
            if sentence:
                sentences.append(sentence)
        sentences.extend(self._split_overlong())
        return sentences

    def flush(self) -> list[str]:
        """End of stream: release whatever is left."""
        sentences = self._split_overlong()
        rest = self._buffer.strip()
        self._buffer = ""
        if rest:
            sentences.append(rest)
        return sentences

    def _split_overlong(self) -> list[str]:
        """A run-on with no punctuation must not hold back audio forever: cut at a space."""
        sentences: list[str] = []
        while len(self._buffer) > self.max_sentence_chars:
            window = self._buffer[: self.max_sentence_chars]
            cut = max(window.rfind(", "), window.rfind(" "))
            if cut <= 0:
                cut = self.max_sentence_chars
            sentence = self._buffer[: cut + 1].strip()
            self._buffer = self._buffer[cut + 1 :]
            if sentence:
                sentences.append(sentence)
        return sentences


def _ends_sentence(candidate: str) -> bool:
    """False when a period belongs to an abbreviation ("Dr.") or a list number ("2.")."""
    candidate = candidate.rstrip("\"'”’»)]")
    if not candidate.endswith(".") or candidate.endswith(".."):
        return True
    stripped = candidate.strip()
    if _LIST_NUMBER_RE.match(stripped):
        return False
    last_word = _LAST_WORD_RE.search(candidate)
    return not (last_word and last_word.group(1).lower().lstrip("(\"'") in _ABBREVIATIONS)


def split_sentences(text: str, max_sentence_chars: int = DEFAULT_MAX_SENTENCE_CHARS) -> list[str]:
    """Split a complete text into the sentences a stream of it would produce."""
    splitter = SentenceSplitter(max_sentence_chars)
    return [*splitter.feed(text), *splitter.flush()]


def split_all(texts: Iterable[str]) -> list[str]:
    """Sentences of several texts, in order, without duplicates."""
    seen: dict[str, None] = {}
    for text in texts:
        for sentence in split_sentences(text):
            seen.setdefault(sentence, None)
    return list(seen)
