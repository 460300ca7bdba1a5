"""Sentence audio cache: pinned phrases (memory + disk) and an LRU of recent sentences.

Keys are a hash of the speakable sentence text, the voice's file fingerprint and the synthesis
settings, so a new voice file or a different speed never serves stale audio. Phrase audio is
also written to disk, one folder per voice profile, so a restart loads it instead of spending
seconds of CPU re-synthesizing; folders of older profiles of the same voice are removed.

Thread-safe: synthesis runs in worker threads and stores its results here directly.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
import functools
import hashlib
import json
import logging
import os
from pathlib import Path
import re
import shutil
import threading
from typing import Any, Final
import wave

from ..audio import PcmAudio, pcm_to_wav_bytes, wav_bytes_to_pcm

_LOGGER = logging.getLogger(__name__)

DEFAULT_RECENT_ENTRIES: Final = 256
DEFAULT_RECENT_BYTES: Final = 64 * 1024 * 1024
# Whole requests made only of phrases, remembered so their next time skips sentence splitting.
MAX_PHRASE_ANSWERS: Final = 256
_MAX_PHRASE_ANSWER_CHARS: Final = 1000
_PROFILE_DIR_RE: Final = re.compile(r"^(?P<voice>.+)-(?P<profile>[0-9a-f]{16})$")


def profile_id(voice_fingerprint: str, settings: dict[str, Any]) -> str:
    """Short id of a voice plus synthesis settings; part of every key and the disk folder name."""
    blob = json.dumps([voice_fingerprint, settings], sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


# Pure, and asked for the same sentence several times on its way (may it be cut? is it cached?
# then its audio): memoised so a cached phrase's first audio does not hash it three times.
@functools.lru_cache(maxsize=1024)
def cache_key(profile: str, speaker_id: int | None, text: str) -> str:
    """Key of one sentence's audio; `text` must already be speakable_text()."""
    blob = json.dumps([profile, speaker_id, text], ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


@dataclass(slots=True)
class CacheStats:
    """Counters reported in the log and in the server's Info description."""

    hits: int = 0
    misses: int = 0
    phrase_entries: int = 0
    phrase_bytes: int = 0
    recent_entries: int = 0
    recent_bytes: int = 0

    @property
    def total_bytes(self) -> int:
        return self.phrase_bytes + self.recent_bytes

    def summary(self) -> str:
        return (
            f"hits={self.hits} misses={self.misses} "
            f"phrases={self.phrase_entries} recent={self.recent_entries} "
            f"bytes={self.total_bytes}"
        )


class SentenceAudioCache:
    """Pinned phrase audio plus a bounded LRU of recently synthesized sentences."""

    def __init__(
        self,
        *,
        disk_dir: Path | None,
        max_recent_entries: int = DEFAULT_RECENT_ENTRIES,
        max_recent_bytes: int = DEFAULT_RECENT_BYTES,
    ) -> None:
        self.disk_dir = disk_dir
        self.max_recent_entries = max_recent_entries
        self.max_recent_bytes = max_recent_bytes
        self._lock = threading.Lock()
        self._phrases: dict[str, PcmAudio] = {}
        self._recent: OrderedDict[str, PcmAudio] = OrderedDict()
        # request -> its sentences' pinned audio: an index into _phrases, never other audio.
        self._phrase_answers: OrderedDict[Hashable, tuple[PcmAudio, ...]] = OrderedDict()
        self._stats = CacheStats()

    # -- lookups -------------------------------------------------------------------------

    def get(self, key: str, *, count_miss: bool = True) -> PcmAudio | None:
        """Audio for a key, counting the hit (and the miss, unless told not to)."""
        with self._lock:
            audio = self._phrases.get(key)
            if audio is None and (audio := self._recent.get(key)) is not None:
                self._recent.move_to_end(key)
            if audio is None:
                self._stats.misses += count_miss
            else:
                self._stats.hits += 1
            return audio

    def phrase_answer(self, request: Hashable) -> tuple[PcmAudio, ...] | None:
        """The pinned audio of every sentence of a request made only of phrases, if it was
        remembered (``remember_phrase_answer``); each sentence counts as a hit."""
        with self._lock:
            answer = self._phrase_answers.get(request)
            if answer is not None:
                self._phrase_answers.move_to_end(request)
                self._stats.hits += len(answer)
            return answer

    def remember_phrase_answer(self, request: Hashable, text: str, keys: Sequence[str]) -> bool:
        """Remember a request (of ``text``) whose sentences' keys are all pinned phrases.

        Pinned audio is never evicted or replaced, so the index cannot go stale; a request
        with any other sentence is not remembered (False).
        """
        if not keys or len(text) > _MAX_PHRASE_ANSWER_CHARS:
            return False
        with self._lock:
            audios = tuple(self._phrases.get(key) for key in keys)
            if any(audio is None for audio in audios):
                return False
            self._phrase_answers[request] = audios  # type: ignore[assignment]
            self._phrase_answers.move_to_end(request)
            while len(self._phrase_answers) > MAX_PHRASE_ANSWERS:
                self._phrase_answers.popitem(last=False)
            return True

    def peek(self, key: str) -> PcmAudio | None:
        """Audio for a key without touching counters or recency."""
        with self._lock:
            return self._phrases.get(key) or self._recent.get(key)

    def stats(self) -> CacheStats:
        with self._lock:
            return CacheStats(**{name: getattr(self._stats, name) for name in CacheStats.__slots__})

    # -- stores --------------------------------------------------------------------------

    def pin(self, key: str, audio: PcmAudio) -> None:
        """Keep a phrase's audio for the life of the server (never evicted)."""
        with self._lock:
            if key in self._phrases:
                return
            if (recent := self._recent.pop(key, None)) is not None:
                self._stats.recent_entries -= 1
                self._stats.recent_bytes -= len(recent.pcm)
            self._phrases[key] = audio
            self._stats.phrase_entries += 1
            self._stats.phrase_bytes += len(audio.pcm)

    def remember(self, key: str, audio: PcmAudio) -> None:
        """Keep a freshly synthesized sentence, evicting the least recently used beyond bounds."""
        size = len(audio.pcm)
        if size > self.max_recent_bytes or self.max_recent_entries <= 0:
            return
        with self._lock:
            if key in self._phrases:
                return
            if (previous := self._recent.pop(key, None)) is not None:
                self._stats.recent_bytes -= len(previous.pcm)
                self._stats.recent_entries -= 1
            self._recent[key] = audio
            self._stats.recent_entries += 1
            self._stats.recent_bytes += size
            while (
                self._stats.recent_entries > self.max_recent_entries
                or self._stats.recent_bytes > self.max_recent_bytes
            ):
                _, evicted = self._recent.popitem(last=False)
                self._stats.recent_entries -= 1
                self._stats.recent_bytes -= len(evicted.pcm)

    # -- disk ----------------------------------------------------------------------------

    def profile_dir(self, voice_name: str, profile: str) -> Path | None:
        if self.disk_dir is None:
            return None
        return self.disk_dir / f"{_safe_name(voice_name)}-{profile}"

    def load_from_disk(self, voice_name: str, profile: str, key: str) -> PcmAudio | None:
        """A phrase's audio saved by an earlier run, or None (missing or unreadable)."""
        folder = self.profile_dir(voice_name, profile)
        if folder is None:
            return None
        path = folder / f"{key}.wav"
        try:
            return wav_bytes_to_pcm(path.read_bytes())
        except FileNotFoundError:
            return None
        except (OSError, EOFError, wave.Error) as err:
            _LOGGER.warning("Ignoring unreadable cache file %s: %s", path, err)
            return None

    def save_to_disk(self, voice_name: str, profile: str, key: str, audio: PcmAudio) -> None:
        """Write a phrase's audio atomically; a failure only costs the next start some time."""
        folder = self.profile_dir(voice_name, profile)
        if folder is None:
            return
        path = folder / f"{key}.wav"
        partial = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.part")
        try:
            folder.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(pcm_to_wav_bytes(audio))
            partial.replace(path)
        except OSError as err:
            _LOGGER.warning("Could not write phrase cache file %s: %s", path, err)
            partial.unlink(missing_ok=True)

    def prune_stale_profiles(self, voice_name: str, profile: str) -> list[Path]:
        """Delete cache folders of earlier files or settings of this voice; returns them."""
        if self.disk_dir is None or not self.disk_dir.is_dir():
            return []
        removed: list[Path] = []
        wanted = _safe_name(voice_name)
        for folder in self.disk_dir.iterdir():
            match = _PROFILE_DIR_RE.match(folder.name)
            if (
                match
                and folder.is_dir()
                and match.group("voice") == wanted
                and match.group("profile") != profile
            ):
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
        if removed:
            _LOGGER.info("Removed %d stale phrase cache folder(s) of %s", len(removed), voice_name)
        return removed


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name)
