"""Blip's fixed sentences, synthesized once and kept in memory, per voice and output format.

Fillers, greetings, drill prompts and fixed replies (``custom_components/blip/phrases.py``) are
what a child hears first on a slow turn. Holding their audio here means the first bytes of a
filler leave Home Assistant without asking the TTS server anything. Audio is kept in the
voice's own format and converted once per output format a satellite asks for.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass, field
import logging

from .audio import PcmFormat, convert_all
from .speakable import phrase_sentences, sentence_key
from .wyoming_client import WyomingTtsClient, WyomingTtsError

_LOGGER = logging.getLogger(__name__)


@dataclass(slots=True)
class WarmUpReport:
    """How a warm-up went."""

    sentences: int = 0
    synthesized: int = 0
    already_cached: int = 0
    failed: list[str] = field(default_factory=list)


@dataclass(slots=True)
class _Clip:
    pcm_format: PcmFormat
    pcm: bytes


class PhraseCache:
    """Sentence audio by (voice, sentence), in the voice's format and in converted formats."""

    def __init__(self) -> None:
        """Start empty."""
        self._native: dict[tuple[str | None, str], _Clip] = {}
        self._converted: dict[tuple[str | None, str, PcmFormat], bytes] = {}
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        """Number of sentences held (all voices)."""
        return len(self._native)

    def contains(self, voice: str | None, sentence: str) -> bool:
        """Whether this voice's audio for the sentence is held."""
        return (voice, sentence_key(sentence)) in self._native

    def could_start(self, voice: str | None, text: str) -> bool:
        """Whether some held sentence of this voice starts with ``text`` (or is it)."""
        key = sentence_key(text)
        return any(
            clip_voice == voice and sentence.startswith(key)
            for clip_voice, sentence in self._native
        )

    def native_format(self, voice: str | None) -> PcmFormat | None:
        """The format the server synthesizes this voice in, once a sentence is held."""
        for (clip_voice, _), clip in self._native.items():
            if clip_voice == voice:
                return clip.pcm_format
        return None

    def add(self, voice: str | None, sentence: str, pcm_format: PcmFormat, pcm: bytes) -> None:
        """Hold a sentence's audio; converted copies of an older clip are dropped."""
        key = sentence_key(sentence)
        self._native[(voice, key)] = _Clip(pcm_format, pcm)
        for converted_key in [k for k in self._converted if k[:2] == (voice, key)]:
            del self._converted[converted_key]

    def discard(self, voice: str | None, sentence: str) -> None:
        """Forget a sentence's audio and its converted copies (speaking ahead's budget)."""
        key = sentence_key(sentence)
        self._native.pop((voice, key), None)
        for converted_key in [k for k in self._converted if k[:2] == (voice, key)]:
            del self._converted[converted_key]

    def get_now(self, voice: str | None, sentence: str, target: PcmFormat) -> bytes | None:
        """The sentence in ``target`` format if it is ready without any conversion work."""
        key = sentence_key(sentence)
        clip = self._native.get((voice, key))
        if clip is None:
            return None
        if clip.pcm_format == target:
            return clip.pcm
        return self._converted.get((voice, key, target))

    async def async_get(self, voice: str | None, sentence: str, target: PcmFormat) -> bytes | None:
        """The sentence in ``target`` format, converting it (off the event loop) on first use."""
        key = sentence_key(sentence)
        clip = self._native.get((voice, key))
        if clip is None:
            self.misses += 1
            return None
        self.hits += 1
        if (ready := self.get_now(voice, key, target)) is not None:
            return ready
        converted = await asyncio.to_thread(convert_all, clip.pcm, clip.pcm_format, target)
        self._converted[(voice, key, target)] = converted
        return converted

    async def async_prepare_format(self, voice: str | None, target: PcmFormat) -> None:
        """Convert every sentence of a voice to ``target`` now, so the first request is instant."""
        for (clip_voice, key), clip in list(self._native.items()):
            if clip_voice != voice or clip.pcm_format == target:
                continue
            if (voice, key, target) not in self._converted:
                self._converted[(voice, key, target)] = await asyncio.to_thread(
                    convert_all, clip.pcm, clip.pcm_format, target
                )

    async def async_warm(
        self,
        client: WyomingTtsClient,
        phrases: Iterable[str],
        voice: str | None,
        speaker: str | None = None,
    ) -> WarmUpReport:
        """Synthesize every sentence of ``phrases`` not held yet, one at a time.

        One at a time keeps the TTS server free for a child who speaks during start-up. A
        sentence that fails is reported and skipped; it will simply be synthesized when used.
        """
        report = WarmUpReport()
        for sentence in phrase_sentences(phrases):
            report.sentences += 1
            if self.contains(voice, sentence):
                report.already_cached += 1
                continue
            chunks: list[bytes] = []
            pcm_format: PcmFormat | None = None
            try:
                async for chunk_format, chunk in client.synthesize(sentence, voice, speaker):
                    if pcm_format is not None and chunk_format != pcm_format:
                        raise WyomingTtsError("the audio format changed within one sentence")
                    pcm_format = chunk_format
                    chunks.append(chunk)
            except WyomingTtsError as err:
                _LOGGER.debug("Could not pre-synthesize a phrase: %s", err)
                report.failed.append(sentence)
                continue
            if pcm_format is None:
                report.failed.append(sentence)
                continue
            self.add(voice, sentence, pcm_format, b"".join(chunks))
            report.synthesized += 1
        return report
