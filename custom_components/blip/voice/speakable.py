"""Text to speakable sentences: the one place Blip cleans text for speech and cuts it up.

Used by the agent (model output as it streams), by Blip voice (the integration's TTS entity)
and by the Blip TTS server, so a phrase cached by one layer is found by the others: they all
cut a text into the same sentences and clean it the same way.

- ``SpokenTextFilter`` / ``clean_for_speech``: markdown, list bullets and emoji out, line breaks
  into pauses (model output, any chunking).
- ``speakable_text``: what a TTS engine may say of any text (markup, SSML, control characters,
  phoneme escapes out); also the text part of the server's cache key.
- ``SentenceSplitter``: releases a sentence the moment it is complete (end punctuation plus
  whitespace, or a line break), optionally the answer's first clause alone.
- Spelled words and number runs ("D, I, N, O" / "2, 4, 6") are never cut: a child must hear
  the letters as one run with even pauses (``letter_runs``, ``render_letter_runs``).

Pure Python: no Home Assistant import, so the servers import it too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import html
import re
from typing import Final
import unicodedata

# -- markdown, bullets and emoji (streaming) -------------------------------------------------

# Markdown and layout characters that are never worth speaking.
_DROPPED_CHARS: Final = frozenset("*_#`~|\\")
_BULLETS: Final = frozenset("-*•+·‣▪–—>")
_PAUSE_PUNCTUATION: Final = ".!?,:;"
_CLOSING_PUNCTUATION: Final = ".!?,:;)"


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
    """Clean a whole text at once (fixed replies, drill answers, one sentence, tests)."""
    speech = SpokenTextFilter()
    return (speech.feed(text) + speech.flush()).strip()


# -- what a TTS engine may say ---------------------------------------------------------------

_TAG_RE: Final = re.compile(r"</?[A-Za-z!?][^<>]*>")
_PHONEME_ESCAPE_RE: Final = re.compile(r"\[\[|\]\]")
_WHITESPACE_RE: Final = re.compile(r"\s+")
_QUOTE_TRANSLATION: Final = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2013": "-",
        "\u2014": " - ",
    }
)
# Unicode categories dropped: control and format characters, emoji and other symbols,
# private-use and unassigned code points.
_DROPPED_CATEGORIES: Final = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "So", "Sk"})


def sentence_key(sentence: str) -> str:
    """What a sentence is looked up by in a phrase cache: trimmed, single spaces."""
    return _WHITESPACE_RE.sub(" ", sentence).strip()


def speakable_text(text: str, *, is_ssml: bool = False) -> str:
    """Strip everything that should not be spoken and normalise the rest.

    The result is both what the engine synthesizes and the text part of a cache key, so
    "Great  job!" and "<b>Great job!</b>" share one entry. Case and punctuation are kept: they
    change how the sentence sounds. Markdown goes the same way as in model output.
    """
    text = _TAG_RE.sub(" ", text)
    if is_ssml or "&" in text:
        text = html.unescape(text)
        text = _TAG_RE.sub(" ", text)  # entities may have hidden tags (&lt;b&gt;)
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_TRANSLATION)
    text = _PHONEME_ESCAPE_RE.sub(" ", text)
    text = "".join(
        " " if char in "\t\n\r\x0b\x0c" else char
        for char in text
        if char in "\t\n\r\x0b\x0c" or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    text = clean_for_speech(text)
    text = _WHITESPACE_RE.sub(" ", text).strip()
    if not any(char.isalnum() for char in text):
        return ""  # only punctuation left: nothing an engine could say
    return text


# -- spelled letters and number runs ---------------------------------------------------------

# "D, I, N, O" / "C-A-T" / "K, N, I, F, E" / "apostrophe": one letter (or apostrophe) per item.
_RUN_ITEM: Final = r"(?:[A-Z]|apostrophe)"
# Not ". ": "Plan B. I think" is two sentences, not letters.
_RUN_SEPARATOR: Final = r"(?:,\s+|\s*-\s*)"
LETTER_RUN_RE: Final = re.compile(
    rf"(?<![\w'-]){_RUN_ITEM}(?:{_RUN_SEPARATOR}{_RUN_ITEM})+(?![\w'])"
)
# "2, 4, 6, 8" (skip counting) and "1, 2, 3": numbers listed one by one.
NUMBER_RUN_RE: Final = re.compile(r"(?<![\w.,])\d+(?:,\s+\d+)+(?![\w])")


def letter_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of every spelled-out letter run in ``text``."""
    return [match.span() for match in LETTER_RUN_RE.finditer(text)]


def protected_spans(text: str) -> list[tuple[int, int]]:
    """Spans no cut may fall inside: spelled letters and listed numbers."""
    spans = letter_runs(text)
    spans.extend(match.span() for match in NUMBER_RUN_RE.finditer(text))
    return sorted(spans)


def _inside(position: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(start < position < end for start, end in spans)


def render_letter_runs(text: str, render: Callable[[list[str]], str], *, lead_in: str = ":") -> str:
    """Rewrite every letter run as ``render(["D", "I", "N"])`` says it.

    ``lead_in`` is put between a word and the run ("is spelled: D, I"), so the first letter is
    not read into the word before it ("spelled T" heard as "spelt").
    """

    pieces: list[str] = []
    position = 0
    for match in LETTER_RUN_RE.finditer(text):
        before = text[position : match.start()]
        if lead_in and before.rstrip() and before.rstrip()[-1].isalnum():
            before = before.rstrip() + lead_in + " "
        pieces.extend((before, render(re.findall(_RUN_ITEM, match.group(0)))))
        position = match.end()
    pieces.append(text[position:])
    return "".join(pieces)


# -- sentences -------------------------------------------------------------------------------

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
    """Feed text pieces; get back every sentence as soon as it is complete.

    Sentences come back trimmed with single spaces (``sentence_key``), or, with
    ``keep_spacing``, exactly as received including their trailing whitespace (for a streaming
    filter that still has to see line breaks).
    """

    def __init__(
        self,
        max_sentence_chars: int = DEFAULT_MAX_SENTENCE_CHARS,
        *,
        first_clause_min_chars: int = 0,
        keep_whole: Callable[[str], bool] | None = None,
        keep_spacing: bool = False,
    ) -> None:
        """`first_clause_min_chars` > 0 lets the first unit be a clause at least that long;
        `keep_whole(text)` returning True forbids cutting that text (or the sentence it starts)."""
        self.max_sentence_chars = max_sentence_chars
        self.first_clause_min_chars = first_clause_min_chars
        self._keep_whole = keep_whole or (lambda _text: False)
        self._keep_spacing = keep_spacing
        self._buffer = ""
        self._released_any = False

    @property
    def pending_text(self) -> str:
        """Text received but not yet released as a sentence."""
        return self._buffer

    def _out(self, text: str) -> str:
        return text if self._keep_spacing else sentence_key(text)

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
            end = match.end() if self._keep_spacing else sentence_end
            sentence = self._out(self._buffer[:end])
            self._buffer = self._buffer[match.end() :]
            search_from = 0
            if sentence.strip():
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
        protected = protected_spans(text)
        for match in _CLAUSE_END_RE.finditer(text):
            cut = match.end()
            if cut < minimum:
                continue
            if _inside(cut, protected) or (not complete and _may_start_run(text, cut)):
                # Never inside a spelled word or a number list: the child hears it as one run.
                # A text still arriving may be starting one ("D," then " I, N").
                return None
            # A complete sentence is cut only if its rest is a clause worth speaking on its own.
            if complete and len(text) - cut < minimum:
                return None
            return cut
        return None

    def flush(self) -> list[str]:
        """End of stream: release whatever is left."""
        sentences = self._split_overlong()
        rest = self._buffer if self._keep_spacing else self._buffer.strip()
        self._buffer = ""
        if rest.strip():
            sentences.append(self._out(rest))
        if self.first_clause_min_chars and not self._released_any:
            sentences = self._clause_first(sentences)
        self._released_any = self._released_any or bool(sentences)
        return sentences

    def _split_overlong(self) -> list[str]:
        """A run-on with no punctuation must not hold back audio forever: cut at a space."""
        sentences: list[str] = []
        while len(self._buffer) > self.max_sentence_chars:
            window = self._buffer[: self.max_sentence_chars]
            protected = protected_spans(window)
            cut = max(window.rfind(", "), window.rfind(" "))
            while cut > 0 and _inside(cut, protected):
                cut = max(window.rfind(", ", 0, cut), window.rfind(" ", 0, cut))
            if cut <= 0:
                cut = self.max_sentence_chars
            sentence = self._out(self._buffer[: cut + 1])
            self._buffer = self._buffer[cut + 1 :]
            if sentence.strip():
                sentences.append(sentence)
        return sentences


def _may_start_run(text: str, cut: int) -> bool:
    """Whether the clause ending at ``cut`` ends in a lone letter or number: maybe a run's start."""
    return re.search(rf"(?<![\w'-])(?:{_RUN_ITEM}|\d+),$", text[:cut].rstrip()) is not None


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


def phrase_sentences(phrases: Iterable[str]) -> list[str]:
    """Every distinct sentence of a phrase list, in order: what a phrase cache holds."""
    seen: dict[str, None] = {}
    for phrase in phrases:
        for sentence in split_sentences(phrase):
            seen.setdefault(sentence, None)
    return list(seen)
