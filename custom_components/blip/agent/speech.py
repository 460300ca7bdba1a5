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

from ..voice.speakable import (
    SentenceSplitter as _Splitter,
    SpokenTextFilter,
    clean_for_speech,
    is_emoji,
)

__all__ = [
    "OutputProblem",
    "SentenceSplitter",
    "SpokenTextFilter",
    "check_local_sentence",
    "clean_for_speech",
    "is_emoji",
]


class SentenceSplitter:
    """The one splitter (voice/speakable.py) in raw mode: sentences keep their spacing and line
    breaks, so the streaming filter still sees them; ``flush`` returns the rest as one text."""

    def __init__(self) -> None:
        """Start empty."""
        self._splitter = _Splitter(keep_spacing=True)

    def feed(self, chunk: str) -> Iterator[str]:
        """Yield every sentence completed by this chunk, with its trailing whitespace."""
        yield from self._splitter.feed(chunk)

    def flush(self) -> str:
        """The unfinished rest at the end of the stream."""
        return "".join(self._splitter.flush())


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
