"""Make model output fit to be spoken to a child, and check the local model's output.

Text-to-speech reads everything literally: ``**`` becomes noise, a list becomes a run-on
sentence, an emoji is skipped or spelled out. Claude is asked for plain spoken sentences, and
whatever still slips through is cleaned here as it streams. The local model's output is also
checked sentence by sentence; a first sentence that fails the check hands the turn to Claude.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import re

# Markdown and layout characters that are never worth speaking.
_DROPPED_CHARS = frozenset("*_#`~|\\")
_BULLETS = frozenset("-*•+·‣▪–—>")
_SENTENCE_END = ".!?"
_PAUSE_PUNCTUATION = ".!?,:;"
_CLOSING_PUNCTUATION = ".!?,:;)"


def is_emoji(char: str) -> bool:
    """Emoji and pictographs (and their joiners/selectors), which TTS cannot say nicely."""
    code = ord(char)
    return (
        0x1F000 <= code <= 0x1FAFF  # emoji, pictographs, flags, symbols
        or 0x2600 <= code <= 0x27BF  # misc symbols, dingbats
        or 0x2B00 <= code <= 0x2BFF  # arrows, stars
        or 0x1F1E6 <= code <= 0x1F1FF
        or code in (0x200D, 0xFE0F, 0xFE0E, 0x20E3)
    )


class SpokenTextFilter:
    """Streaming cleanup: feed model text in any chunking, get speakable text out.

    Drops markdown characters and emoji, removes list bullets and (after a line break) list
    numbers, and turns line breaks into sentence pauses. The very start of an answer keeps a
    leading number ("7. Great job!") because that is an answer, not a list.
    """

    def __init__(self) -> None:
        """Start at the beginning of an answer."""
        self._at_line_start = True
        self._after_newline = False
        self._pending = ""  # line-start text held back until it is known not to be a marker
        self._last_char = ""  # last non-space character emitted, to place spoken pauses
        self._emitted_any = False
        self._space_pending = False

    def feed(self, chunk: str) -> str:
        """Clean one chunk; text at a line start may be held back until the next chunk."""
        out: list[str] = []
        for char in chunk:
            self._take(char, out)
        return "".join(out)

    def flush(self) -> str:
        """End of the answer: release anything held back."""
        out: list[str] = []
        self._release_pending(out)
        return "".join(out)

    def _release_pending(self, out: list[str]) -> None:
        # A line that was only a bullet or markdown says nothing.
        if self._pending.strip(" \t" + "".join(_BULLETS | _DROPPED_CHARS)):
            self._finish_line_start(out)
        self._pending = ""

    def _take(self, char: str, out: list[str]) -> None:
        if char in "\r\n":
            self._line_break(out)
            return
        if is_emoji(char) or (char in _DROPPED_CHARS and not self._at_line_start):
            return
        if not self._at_line_start:
            self._emit(char, out)
            return
        # At a line start: skip indentation, bullets and (after a newline) "12." / "12)".
        if not self._pending and char in " \t":
            return
        self._pending += char
        self._resolve_line_start(out)

    def _resolve_line_start(self, out: list[str]) -> None:
        pending = self._pending
        if pending[0] in _BULLETS or pending[0] in _DROPPED_CHARS:
            if len(pending) == 1:
                return  # wait: "-" may be a bullet, "**" may be bold
            if pending[1] in " \t" or pending[1] in _DROPPED_CHARS or pending[1] in _BULLETS:
                # A bullet or markdown run: drop it and keep looking for the line's first word.
                self._pending = ""
                return
            if pending[0] in _DROPPED_CHARS:
                self._pending = pending[1:]
                self._resolve_line_start(out)
                return
            self._finish_line_start(out)  # "-5 degrees": a real minus sign
            return
        if pending[0].isdigit() and self._after_newline:
            digits = len(pending) - len(pending.lstrip("0123456789"))
            if digits == len(pending):
                return  # still reading the number
            rest = pending[digits:]
            if rest[0] in ".)":
                if len(rest) == 1:
                    return  # wait: "3." could be a list marker
                if rest[1] in " \t":
                    self._pending = ""  # a numbered-list marker: drop it
                    return
        self._finish_line_start(out)

    def _finish_line_start(self, out: list[str]) -> None:
        pending, self._pending = self._pending, ""
        self._at_line_start = False
        self._emit_text(pending, out)

    def _emit_text(self, text: str, out: list[str]) -> None:
        for char in text:
            if not is_emoji(char) and char not in _DROPPED_CHARS:
                self._emit(char, out)

    def _emit(self, char: str, out: list[str]) -> None:
        # Spaces are held until the next character, so none lands before punctuation (left
        # behind by a dropped emoji) and none is doubled.
        if char in " \t":
            self._space_pending = self._emitted_any
            return
        if self._space_pending and char not in _CLOSING_PUNCTUATION:
            out.append(" ")
        self._space_pending = False
        out.append(char)
        self._last_char = char
        self._emitted_any = True

    def _line_break(self, out: list[str]) -> None:
        self._release_pending(out)
        # A line that ends without punctuation (a heading, a list item) gets a spoken pause.
        if self._emitted_any and not self._at_line_start:
            if self._last_char not in _PAUSE_PUNCTUATION:
                self._space_pending = False
                self._emit(".", out)
            self._emit(" ", out)
        self._at_line_start = True
        self._after_newline = True


def clean_for_speech(text: str) -> str:
    """Clean a whole text at once (fixed replies, drill answers, tests)."""
    speech = SpokenTextFilter()
    return (speech.feed(text) + speech.flush()).strip()


class SentenceSplitter:
    """Collects streamed text and releases whole sentences (end punctuation plus a space)."""

    _BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+")

    def __init__(self) -> None:
        """Start empty."""
        self._buffer = ""

    def feed(self, chunk: str) -> Iterator[str]:
        """Yield every sentence completed by this chunk, with its trailing space."""
        self._buffer += chunk
        while match := self._BOUNDARY.search(self._buffer):
            sentence, self._buffer = self._buffer[: match.end()], self._buffer[match.end() :]
            yield sentence

    def flush(self) -> str:
        """The unfinished rest at the end of the stream."""
        rest, self._buffer = self._buffer, ""
        return rest


@dataclass(frozen=True)
class OutputProblem:
    """Why a piece of local-model output is not fit to speak as is."""

    reason: str
    cosmetic: bool  # cleanup alone would fix it (markdown, emoji, a list)


_SPEAKABLE = frozenset(".,!?'\"-:;()+=%$/’‘“”…*#_`")  # markdown is judged separately
_MARKDOWN = re.compile(
    r"(\*\*|__|```|`|^\s*#{1,6}\s|^\s*[-*•+]\s|^\s*\d+[.)]\s|\[[^\]]*\]\()", re.M
)
_JUNK = re.compile(
    r"(<\|[^|>]*\|>|</?s>|\[/?INST\]|<\/?[a-z]+>|https?://|as an ai\b|language model|"
    r"\b(?P<word>\w+)(?:\W+(?P=word)\b){3,}|(?P<char>.)(?P=char){5,})",
    re.IGNORECASE,
)


def check_local_sentence(sentence: str) -> OutputProblem | None:
    """A light check of one sentence of local-model output."""
    if not sentence.strip():
        return None
    if _JUNK.search(sentence):
        return OutputProblem("junk", cosmetic=False)
    text = sentence.strip()
    odd = sum(not (char.isalnum() or char.isspace() or char in _SPEAKABLE) for char in text)
    if odd > 0.2 * len(text) and len(text) > 4:
        return OutputProblem("not_words", cosmetic=False)
    if any(is_emoji(char) for char in sentence):
        return OutputProblem("emoji", cosmetic=True)
    if _MARKDOWN.search(sentence) or "\n" in sentence.strip():
        return OutputProblem("markdown", cosmetic=True)
    return None
