"""How much of a model's answer is spoken: a cap that ends on a sentence boundary.

A language model (or a gateway in front of one) may ignore ``max_tokens`` and stream megabytes;
the text-to-speech server refuses anything over its limit, and a child would hear an answer cut
off mid-word. The cap here is applied to the speakable text as it streams: text flows through at
once while the answer is well below the cap (so first audio is not delayed), and near the cap
whole sentences are held back until it is known they fit. The answer then ends after the last
sentence that fits; should a single sentence be longer than everything left (a run-on without
punctuation), it is ended at a clause or word boundary with a full stop, so the child always
hears a complete ending.
"""

from __future__ import annotations

import re

# Below the cap minus this many characters, text passes through without waiting for the end of
# its sentence; about two short sentences for a child.
HOLD_BACK_CHARS = 160
_BOUNDARY = re.compile(r"[.!?]+[\"')\]]*\s+")
_CLAUSE_BREAK = re.compile(r"[,;:]\s")
_WORD_BREAK = re.compile(r"\s")


def _last_boundary(text: str) -> int:
    """Index just after the last sentence boundary in ``text`` (0 when there is none)."""
    end = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
    return end


def _sentences(text: str) -> list[str]:
    """``text`` (ending on a boundary) cut into sentences, each with its trailing space."""
    pieces: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        pieces.append(text[start : match.end()])
        start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def ended_within(text: str, room: int) -> str:
    """The start of ``text`` that fits in ``room`` characters, ended at a clause or word break
    with a full stop ("" when not even one word fits)."""
    if room <= 1:
        return ""
    window = text[: room - 1]
    if len(text) >= room:
        # Prefer the last clause break, then the last word break, inside the window.
        clauses = [match.start() for match in _CLAUSE_BREAK.finditer(window)]
        words = [match.start() for match in _WORD_BREAK.finditer(window)]
        window = window[: (clauses or words or [0])[-1]]
    window = window.rstrip(" \t\n,;:-")
    if not any(char.isalnum() for char in window):
        return ""
    if window[-1] in ".!?":
        return window
    return window + "."


class AnswerCap:
    """Feed speakable text in any chunking; get back what may be spoken, at most ``max_chars``."""

    def __init__(self, max_chars: int, *, hold_back: int = HOLD_BACK_CHARS) -> None:
        """A cap of ``max_chars`` characters for one answer (or one turn)."""
        if max_chars < 1:
            raise ValueError("max_chars must be positive")
        self.max_chars = max_chars
        self._hold_back = min(hold_back, max_chars // 2)
        self._released = 0
        self._held = ""
        self._space = ""  # whitespace released but not yet sent
        self._mid_sentence = False  # the released text ends inside a sentence
        self.reached = False  # the cap ended the answer: stop reading the model

    @property
    def released(self) -> int:
        """Characters let through so far."""
        return self._released

    def feed(self, text: str) -> str:
        """Text that may be spoken now (possibly ""); after the cap is reached, always ""."""
        if self.reached or not text:
            return ""
        self._held += text
        out: list[str] = []
        boundary = _last_boundary(self._held)
        if boundary:
            complete, rest = self._held[:boundary], self._held[boundary:]
            if self._released + len(complete) <= self.max_chars:
                self._release(complete, out, ends_sentence=True)
                self._held = rest
            else:
                self._end_with(complete, out)
                return "".join(out)
        room = self.max_chars - self._released
        if len(self._held) > room:
            # This sentence cannot end inside the cap.
            self._end_with(self._held, out)
        elif self._released + len(self._held) <= self.max_chars - self._hold_back:
            self._release(self._held, out, ends_sentence=False)
            self._held = ""
        return "".join(out)

    def finish(self) -> str:
        """The end of the stream: what is left, if it fits, or a complete ending."""
        if self.reached:
            return ""
        out: list[str] = []
        if self._released + len(self._held) <= self.max_chars:
            self._release(self._held, out, ends_sentence=True)
            self._held = ""
        else:
            self._end_with(self._held, out)
        return "".join(out)

    def _release(self, text: str, out: list[str], *, ends_sentence: bool) -> None:
        if not text:
            return
        # Trailing spaces go out with the next text, so an answer never ends in whitespace.
        body = text.rstrip()
        if body:
            out.append(self._space + body)
            self._space = text[len(body) :]
        else:
            self._space += text
        self._released += len(text)
        self._mid_sentence = not ends_sentence

    def _end_with(self, text: str, out: list[str]) -> None:
        """The cap is reached: say the sentences of ``text`` that fit, then stop."""
        self.reached = True
        self._held = ""
        for sentence in _sentences(text):
            if self._released + len(sentence.rstrip()) > self.max_chars:
                if self._mid_sentence or self._released == 0:
                    # Nothing said yet, or a sentence already begun: end it within the cap.
                    ending = ended_within(sentence, self.max_chars - self._released)
                    if ending:
                        self._release(ending, out, ends_sentence=True)
                    elif self._mid_sentence:
                        self._full_stop(out)
                return
            self._release(sentence, out, ends_sentence=_last_boundary(sentence) > 0)
        if self._mid_sentence:
            self._full_stop(out)

    def _full_stop(self, out: list[str]) -> None:
        """End the sentence begun with a full stop right after its last word ("Go on.")."""
        self._space = ""
        self._release(".", out, ends_sentence=True)
