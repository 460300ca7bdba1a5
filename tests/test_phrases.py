"""The shared phrase list keeps the promises its users rely on."""

from __future__ import annotations

import re

from custom_components.blip.phrases import (
    ALL_PHRASES,
    FILLERS_CALM,
    FILLERS_CHEERFUL,
    FILLERS_CREATIVE,
)

# Home Assistant starts streaming TTS only once assistant text exceeds this many characters.
STREAM_RESPONSE_CHARS = 60


def test_every_filler_starts_tts_streaming_on_its_own() -> None:
    """A filler longer than 60 characters makes HA start the TTS stream before the answer."""
    for filler in (*FILLERS_CHEERFUL, *FILLERS_CREATIVE, *FILLERS_CALM):
        assert len(filler) > STREAM_RESPONSE_CHARS, filler


def test_fillers_are_complete_sentences_followed_by_a_space() -> None:
    """piper releases a sentence only once whitespace follows its end punctuation."""
    for filler in (*FILLERS_CHEERFUL, *FILLERS_CREATIVE, *FILLERS_CALM):
        assert re.search(r"[.!?] $", filler), filler


def test_calm_fillers_do_not_cheer() -> None:
    """Emotional and safety turns never hear "great question"."""
    for filler in FILLERS_CALM:
        assert "great" not in filler.lower() and "!" not in filler, filler


def test_no_duplicates() -> None:
    assert len(set(ALL_PHRASES)) == len(ALL_PHRASES)
