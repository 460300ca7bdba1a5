"""Turning whatever text arrives into what piper should say, and into a cache key.

The text comes from a language model, a drill engine or a hand-typed automation, so it can
carry markup (SSML, HTML, Markdown), emoji, control characters or piper's own ``[[ phonemes ]]``
escape. None of that should be read aloud to a child, and none of it should make two spellings
of the same sentence miss the cache.
"""

from __future__ import annotations

import html
import re
import unicodedata

_TAG_RE = re.compile(r"</?[A-Za-z!?][^<>]*>")
_PHONEME_ESCAPE_RE = re.compile(r"\[\[|\]\]")
# Markdown emphasis, headings, code and strike-through marks; never spoken.
_MARKDOWN_RE = re.compile(r"[*#`~]+")
_WHITESPACE_RE = re.compile(r"\s+")
_QUOTE_TRANSLATION = str.maketrans(
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
_DROPPED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cn", "Cs", "So", "Sk"})


def speakable_text(text: str, *, is_ssml: bool = False) -> str:
    """Strip everything that should not be spoken and normalise the rest.

    The result is both what piper synthesizes and the text part of the cache key, so
    "Great  job!" and "<b>Great job!</b>" share one cache entry. Case and punctuation are kept:
    they change how the sentence sounds.
    """
    text = _TAG_RE.sub(" ", text)
    if is_ssml or "&" in text:
        text = html.unescape(text)
        text = _TAG_RE.sub(" ", text)  # entities may have hidden tags (&lt;b&gt;)
    text = unicodedata.normalize("NFKC", text).translate(_QUOTE_TRANSLATION)
    text = _PHONEME_ESCAPE_RE.sub(" ", text)
    text = _MARKDOWN_RE.sub("", text)
    text = "".join(
        " " if char in "\t\n\r\x0b\x0c" else char
        for char in text
        if char in "\t\n\r\x0b\x0c" or unicodedata.category(char) not in _DROPPED_CATEGORIES
    )
    text = _WHITESPACE_RE.sub(" ", text).strip()
    if not any(char.isalnum() for char in text):
        return ""  # only punctuation left: nothing piper could say
    return text
