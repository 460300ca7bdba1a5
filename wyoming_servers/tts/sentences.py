"""Incremental sentence splitting for streamed text.

Home Assistant forwards a language model's answer in small pieces. The sooner a sentence is
known to be complete, the sooner its audio can start, so a sentence is released the moment its
end punctuation is followed by whitespace (or a line ends) - not when the next sentence's first
letter turns up, and not at the end of the whole stream. What remains at the end is flushed.

The same splitter cuts the phrase list into cache entries, so a phrase spoken alone and the same
sentence inside a streamed answer map to the same cached audio.

Optionally the very first unit of an answer is a clause rather than a sentence: a long opening
sentence is cut at its first comma (or semicolon, colon) once that clause is long enough, so
the child hears speech after synthesizing a few words instead of a whole sentence. The clause
still lasts longer than synthesizing the rest of the sentence takes, so playback has no gap.
Text the caller wants kept whole (a cached phrase, or the start of one) is never cut.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
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
_CLAUSE_END_RE: Final = re.compile(r"[,;:](?=\s)")


class SentenceSplitter:
    """Feed text pieces; get back every sentence as soon as it is complete."""

    def __init__(
        self,
        max_sentence_chars: int = DEFAULT_MAX_SENTENCE_CHARS,
        *,
        first_clause_min_chars: int = 0,
        keep_whole: Callable[[str], bool] | None = None,
    ) -> None:
        """`first_clause_min_chars` > 0 lets the first unit be a clause at least that long;
        `keep_whole(text)` returning True forbids cutting that text (or the sentence it starts)."""
        self.max_sentence_chars = max_sentence_chars
        self.first_clause_min_chars = first_clause_min_chars
        self._keep_whole = keep_whole or (lambda _text: False)
        self._buffer = ""
        self._released_any = False

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
        if self.first_clause_min_chars and not self._released_any:
            sentences = self._clause_first(sentences)
        self._released_any = self._released_any or bool(sentences)
        return sentences

    def _clause_first(self, sentences: list[str]) -> list[str]:
        """Cut the answer's opening sentence (complete or still arriving) after its first clause."""
        if sentences:
            first = sentences[0]
            cut = self._clause_cut(first, complete=True)
            if cut is None or self._keep_whole(first):
                return sentences
            return [first[:cut].strip(), first[cut:].strip(), *sentences[1:]]
        cut = self._clause_cut(self._buffer, complete=False)
        if cut is None:
            return sentences
        clause = self._buffer[:cut].strip()
        if self._keep_whole(clause):
            return sentences
        self._buffer = self._buffer[cut:].lstrip()
        return [clause]

    def _clause_cut(self, text: str, *, complete: bool) -> int | None:
        minimum = self.first_clause_min_chars
        for match in _CLAUSE_END_RE.finditer(text):
            cut = match.end()
            if cut < minimum:
                continue
            # A complete sentence is cut only if its rest is a clause worth speaking on its own.
            if complete and len(text) - cut < minimum:
                return None
            return cut
        return None

    def flush(self) -> list[str]:
        """End of stream: release whatever is left."""
        sentences = self._split_overlong()
        rest = self._buffer.strip()
        self._buffer = ""
        if rest:
            sentences.append(rest)
        if self.first_clause_min_chars and not self._released_any:
            sentences = self._clause_first(sentences)
        self._released_any = self._released_any or bool(sentences)
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
