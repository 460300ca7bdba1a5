"""Synthesis with a cache in front: sentence text in, PCM audio out, never on the event loop.

One engine serves every connection. Synthesis runs on a bounded thread pool (the explicit
concurrency limit), so a long sentence on one connection delays nobody's reads, and concurrent
requests for the same uncached sentence share a single synthesis.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass
import logging
import threading
import time
from typing import Final

import numpy as np
from piper import SynthesisConfig

from custom_components.blip.voice.speakable import render_letter_runs

from ..audio import PcmAudio, convert_pcm
from ..openai_audio import RemoteAudioError, RemoteEndpoint, speech
from .cache import SentenceAudioCache, cache_key, profile_id
from .voices import LoadedVoice, VoiceNotFoundError

_LOGGER = logging.getLogger(__name__)

SAMPLE_WIDTH = 2  # piper produces 16-bit mono
CHANNELS = 1


class SentenceTooLongError(ValueError):
    """What piper would be given is too long to synthesize within the server's bounds."""


# English letter names in espeak's phonemes. Written as text, "A" is read as the article ("uh"),
# "S" after a word as "as", a final "E" is swallowed: tiny.en heard 15 of 30 spelled answers
# right with "D, I, N", 39 of 40 with these (see benchmarks/spelled_letters.py). V starts with a
# long v ("vv"): with a plain one both Whisper ears heard B in 8 of 8 words with a V (favorite →
# F-A-B-O-R-I-T-E); with the long one in 2 of 8. E is held longer ("iːː"): a final E after L
# was heard as D in 4 of 4 words (people → P-E-O-P-L-D), with the long one in none (issue 15
# round 4, benchmarks/spelled_letters.py). Only piper sees these: the cache key is the plain
# text.
LETTER_PHONEMES: Final = {
    "A": "ˈeɪ",
    "B": "bˈiː",
    "C": "sˈiː",
    "D": "dˈiː",
    "E": "ˈiːː",
    "F": "ˈɛf",
    "G": "dʒˈiː",
    "H": "ˈeɪtʃ",
    "I": "ˈaɪ",
    "J": "dʒˈeɪ",
    "K": "kˈeɪ",
    "L": "ˈɛl",
    "M": "ˈɛm",
    "N": "ˈɛn",
    "O": "ˈoʊ",
    "P": "pˈiː",
    "Q": "kjˈuː",
    "R": "ˈɑːɹ",
    "S": "ˈɛs",
    "T": "tˈiː",
    "U": "jˈuː",
    "V": "vvˈiː",
    "W": "dˈʌbəljuː",
    "X": "ˈɛks",
    "Y": "wˈaɪ",
    "Z": "zˈiː",
    "apostrophe": "ɐpˈɔstɹəfi",
}
# Between two letters a space; between a doubled letter two, a longer gap: with one, the model
# ran "ˈɛf ˈɛf" into one F (balloon → B-A-L-O-O-N). Not a comma: piper reads a comma inside the
# phonemes as a pause before a new phrase, and the vowel letters after it came out with an onset
# (O heard as "no", E as D): 14 of 30 hard words against 20 without. (Before round 4 the run was
# one "[[ ]]" block per letter joined by ", ", and piper's phonemizer dropped those commas: the
# letters were already run together by single spaces.)
LETTER_GAP: Final = " "
DOUBLED_LETTER_GAP: Final = "  "
# Round 5: a longer gap before a letter whose name starts with a consonant (U's "j" left out: after
# a long gap it was heard as Q), never before a vowel sound: with every gap longer, E after it
# was heard "eat", D or G and U as Q (fresh set 82 -> 73 of 91). A doubled letter whose name ends
# in a consonant (LL, FF, SS) apart longer still (yellow: Y-E-L-O-O-W in every pass before).
CONSONANT_ONSET_GAP: Final = "  "
DOUBLED_CONSONANT_GAP: Final = "   "
_CONSONANT_ONSET_LETTERS: Final = frozenset("BCDGJKPQTVWYZ")
# Round 6: the longer gap before I too, though its name starts with a vowel: with one space its
# "aɪ" ran into the letter before ("K, I, T, E" heard "k it", "P, I, C" as "PIC"); after the
# longer gap it was not given an onset heard as another letter, as E and U were (issue 15,
# docs/benchmarks.md round 6: goal 98, 94, 94, 94 against 93-94; within piper's spread).
_WIDE_GAP_LETTERS: Final = _CONSONANT_ONSET_LETTERS | {"I"}


def _letter_gap(previous: str, item: str) -> str:
    if item == previous:
        ends_in_vowel = LETTER_PHONEMES[item][-1] in "ːɪʊə"
        return DOUBLED_LETTER_GAP if ends_in_vowel else DOUBLED_CONSONANT_GAP
    if LETTER_PHONEMES[previous].endswith(LETTER_PHONEMES[item]):
        return DOUBLED_LETTER_GAP  # the same name sound twice: Q, U ("question" heard Q-E-S)
    return CONSONANT_ONSET_GAP if item in _WIDE_GAP_LETTERS else LETTER_GAP


TEXT_RENDERING: Final = "letter-names-5"
LETTER_RUN_PAUSE_SECONDS: Final = 0.3


def letter_run_phonemes(items: Sequence[str]) -> str:
    """One spelled run as piper phonemes, one ``[[ ]]`` block (the gaps are inside it)."""
    spoken: list[str] = []
    for index, item in enumerate(items):
        if index:
            spoken.append(_letter_gap(items[index - 1], item))
        spoken.append(LETTER_PHONEMES[item])
    return f"[[ {''.join(spoken)} ]]"


def piper_input(text: str, languages: Sequence[str]) -> str:
    """What piper is given for a speakable sentence: spelled letters as letter names."""
    if not any(language.lower().startswith("en") for language in languages):
        return text
    return render_letter_runs(text, letter_run_phonemes)


class UnknownVoiceError(VoiceNotFoundError):
    """A request named a voice (or speaker) this server does not have."""


# piper samples each sentence with noise (joe's own noise_scale 0.667, noise_w 0.8): a sentence
# of spelled letters comes out differently each time, and some takes run two letters into one.
# A sentence with a spelled run is sampled with less. Measured (docs/benchmarks.md, issue 15
# round 4): 0.333 heard 91 and 91/100 (held out 55, 53/58), the voice's own 87-88 (53-54),
# none at all 87 (54); a gain within piper's pass-to-pass spread, not proven.
LETTER_NOISE_SCALE: Final = 0.333
LETTER_NOISE_W_SCALE: Final = 0.333


@dataclass(frozen=True, slots=True)
class SynthesisSettings:
    """Server-wide piper settings; None keeps the voice's own default.

    ``letter_*``: for a sentence with spelled letters (None: as any other sentence).
    """

    length_scale: float | None = None
    noise_scale: float | None = None
    noise_w_scale: float | None = None
    letter_noise_scale: float | None = LETTER_NOISE_SCALE
    letter_noise_w_scale: float | None = LETTER_NOISE_W_SCALE

    def piper_config(self, speaker_id: int | None, *, letters: bool) -> SynthesisConfig:
        """piper's settings for one sentence; ``letters``: it has a spelled run."""
        noise_scale, noise_w_scale = self.noise_scale, self.noise_w_scale
        if letters and self.letter_noise_scale is not None:
            noise_scale = self.letter_noise_scale
        if letters and self.letter_noise_w_scale is not None:
            noise_w_scale = self.letter_noise_w_scale
        return SynthesisConfig(
            speaker_id=speaker_id,
            length_scale=self.length_scale,
            noise_scale=noise_scale,
            noise_w_scale=noise_w_scale,
        )


@dataclass(frozen=True, slots=True)
class RemoteVoice:
    """The inference box's OpenAI-compatible ``/v1/audio/speech`` voice, preferred over piper."""

    endpoint: RemoteEndpoint
    model: str = "tts-1"
    voice: str = "alloy"
    response_format: str = "pcm"
    timeout: float = 10.0

    @property
    def identity(self) -> str:
        """Part of the cache profile: audio of another box or voice is never served."""
        return f"{self.endpoint.label}{self.endpoint.prefix}|{self.model}|{self.voice}"


class PiperSynthesizer:
    """Runs piper for one voice. `calls` counts real syntheses, so tests can tell cache from piper.

    With a ``remote`` voice, sentences are spoken by the inference box (converted to this
    voice's format, so an answer never changes format half-way) and piper speaks only when the
    box fails; ``remote_failures`` counts those.
    """

    def __init__(
        self, voice: LoadedVoice, settings: SynthesisSettings, remote: RemoteVoice | None = None
    ) -> None:
        self.voice = voice
        self.settings = settings
        self.remote = remote
        # The text rendering is part of the profile: phrase audio saved before letters were
        # spoken as letter names must not be served again.
        profile_settings: dict[str, object] = {
            **asdict(settings),
            "text_rendering": TEXT_RENDERING,
        }
        if remote is not None:
            profile_settings["remote"] = remote.identity
        self.profile = profile_id(voice.fingerprint, profile_settings)
        self.calls = 0
        self.remote_calls = 0
        self.remote_failures = 0
        self._calls_lock = threading.Lock()

    def synthesize(self, text: str, speaker_id: int | None) -> PcmAudio:
        """Blocking: synthesize one sentence entirely in memory."""
        return self.synthesize_checked(text, speaker_id)[0]

    def synthesize_checked(self, text: str, speaker_id: int | None) -> tuple[PcmAudio, bool]:
        """Blocking: the sentence's audio and whether it is the voice asked for (not a fallback)."""
        if self.remote is None:
            return self._piper(text, speaker_id), True
        with self._calls_lock:
            self.remote_calls += 1
        try:
            audio = speech(
                self.remote.endpoint,
                text,
                model=self.remote.model,
                voice=self.remote.voice,
                response_format=self.remote.response_format,
                timeout=self.remote.timeout,
            )
            return self._to_voice_format(audio), True
        except (RemoteAudioError, ValueError) as err:
            with self._calls_lock:
                self.remote_failures += 1
            _LOGGER.warning("Remote voice failed, piper speaks instead: %s", err)
            return self._piper(text, speaker_id), False

    def _to_voice_format(self, audio: PcmAudio) -> PcmAudio:
        return convert_pcm(audio, self.voice.sample_rate, SAMPLE_WIDTH, CHANNELS)

    def _piper(self, text: str, speaker_id: int | None) -> PcmAudio:
        with self._calls_lock:
            self.calls += 1
        piper = self.voice.piper
        # Spelled letters are given to piper as letter names (see piper_input).
        spoken = piper_input(text, self.voice.languages)
        config = self.settings.piper_config(speaker_id, letters=spoken != text)
        sentences = piper.phonemize(spoken)
        total = sum(len(phonemes) for phonemes in sentences)
        if total > MAX_PHONEMES_PER_SENTENCE:
            raise SentenceTooLongError(
                f"sentence too long to speak: {total} phonemes (limit {MAX_PHONEMES_PER_SENTENCE})"
            )
        pcm = bytearray()
        # piper cuts the text into sentences itself; each is then cut again into pieces of a
        # bounded number of phonemes, because one model call costs memory that grows faster
        # than its length (24,000 phonemes took 22 GB) and onnxruntime keeps its peak.
        for phonemes in sentences:
            for piece in phoneme_pieces(phonemes, MAX_PHONEMES_PER_CALL):
                audio = piper.phoneme_ids_to_audio(piper.phonemes_to_ids(piece), config)
                pcm += _to_int16(audio)
        if spoken != text:
            # A pause after the letters: piper runs the next sentence straight on, and the last
            # letter merged into it ("E. It has" heard as "EIT has").
            pcm += bytes(int(self.voice.sample_rate * LETTER_RUN_PAUSE_SECONDS) * SAMPLE_WIDTH)
        return PcmAudio(
            pcm=bytes(pcm), rate=self.voice.sample_rate, width=SAMPLE_WIDTH, channels=CHANNELS
        )


# Phonemes per model call. Peak memory grows about 2 MB per phoneme of one call (measured with
# the default voice on "1, 2, ... 150.": one call 3.2 GB peak; 400 per call 0.8 GB; 200, 0.59 GB;
# 120, 0.39 GB, from 0.16 GB idle); 120 phonemes is about 8 s of speech, longer than most
# sentences a child hears, and a longer one is cut at a comma or between words.
# Phonemes of one sentence, in all: about two minutes of speech, far more than any sentence
# Blip says. Text that normalises or phonemizes into far more than it looks (U+FDFA, a run of
# CJK characters read out one by one) is refused here instead of occupying one of the few
# synthesis threads for many minutes.
MAX_PHONEMES_PER_SENTENCE: Final = 2000
MAX_PHONEMES_PER_CALL: Final = 120
_PHONEME_BREAKS: Final = frozenset(",;:.!?")


def phoneme_pieces(phonemes: list[str], limit: int) -> list[list[str]]:
    """Cut one sentence's phonemes into pieces of at most ``limit``, at a pause if possible.

    A clause break (a comma's phoneme) is preferred, then a word break; a single word longer
    than ``limit`` (no real word is) is cut where it must be.
    """
    pieces: list[list[str]] = []
    start = 0
    while len(phonemes) - start > limit:
        window = phonemes[start : start + limit]
        cut = _last_index(window, _PHONEME_BREAKS) or _last_index(window, frozenset(" "))
        end = start + (cut if cut else limit)
        piece = phonemes[start:end]
        while piece and piece[-1] == " ":
            piece.pop()
        pieces.append(piece)
        start = end
        while start < len(phonemes) and phonemes[start] == " ":
            start += 1
    if start < len(phonemes):
        pieces.append(phonemes[start:])
    return [piece for piece in pieces if piece]


def _last_index(window: list[str], marks: frozenset[str]) -> int:
    """Index just after the last phoneme of ``window`` in ``marks`` (0 when none)."""
    for index in range(len(window) - 1, 0, -1):
        if window[index] in marks:
            return index + 1
    return 0


def _to_int16(audio: np.ndarray) -> bytes:
    """piper's own post-processing of one model output (normalised, then 16-bit)."""
    peak = float(np.max(np.abs(audio))) if audio.size else 0.0
    if peak < 1e-8:
        return np.zeros(audio.size, dtype=np.int16).tobytes()
    scaled = np.clip(audio / peak, -1.0, 1.0) * 32767.0
    return scaled.astype(np.int16).tobytes()


@dataclass(frozen=True, slots=True)
class PhrasePreparation:
    """What start-up did for the phrase list."""

    sentences: int
    from_disk: int
    synthesized: int
    seconds: float


class TtsEngine:
    """Voices, their synthesizers and the shared sentence cache."""

    def __init__(
        self,
        voices: Sequence[LoadedVoice],
        *,
        cache: SentenceAudioCache,
        settings: SynthesisSettings | None = None,
        max_concurrent: int = 2,
        remote: RemoteVoice | None = None,
    ) -> None:
        if not voices:
            raise VoiceNotFoundError("no voice loaded")
        if max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        self.settings = settings or SynthesisSettings()
        # The remote voice speaks for the default voice (the one the phrases are prepared in).
        self.synthesizers = {
            voice.name: PiperSynthesizer(voice, self.settings, remote if index == 0 else None)
            for index, voice in enumerate(voices)
        }
        self.default_voice = voices[0]
        self.cache = cache
        self.max_concurrent = max_concurrent
        self._executor = ThreadPoolExecutor(max_concurrent, thread_name_prefix="piper")
        self._in_flight: dict[str, Future[PcmAudio]] = {}
        self._in_flight_lock = threading.Lock()
        self._phrase_texts: tuple[str, ...] = ()

    @property
    def voices(self) -> list[LoadedVoice]:
        return [synthesizer.voice for synthesizer in self.synthesizers.values()]

    @property
    def synthesis_calls(self) -> int:
        """Real piper syntheses so far, over all voices."""
        return sum(synthesizer.calls for synthesizer in self.synthesizers.values())

    def resolve(
        self, voice_name: str | None, speaker: str | None
    ) -> tuple[PiperSynthesizer, int | None]:
        """Synthesizer and speaker id for a request; raises UnknownVoiceError."""
        if voice_name is None:
            synthesizer = self.synthesizers[self.default_voice.name]
        elif (synthesizer := self.synthesizers.get(voice_name)) is None:
            available = ", ".join(self.synthesizers)
            raise UnknownVoiceError(f"unknown voice {voice_name!r}; available: {available}")
        try:
            return synthesizer, synthesizer.voice.speaker_id(speaker)
        except VoiceNotFoundError as err:
            raise UnknownVoiceError(str(err)) from err

    def is_cached_or_phrase_start(
        self, synthesizer: PiperSynthesizer, speaker_id: int | None, text: str
    ) -> bool:
        """Whether speakable `text` is cached, or begins a phrase of the list (so keep it whole)."""
        if not text:
            return False
        if self.cache.peek(cache_key(synthesizer.profile, speaker_id, text)) is not None:
            return True
        return any(phrase.startswith(text) for phrase in self._phrase_texts)

    def is_phrase_start(self, text: str) -> bool:
        """Whether speakable ``text`` begins a phrase of the list."""
        return bool(text) and any(phrase.startswith(text) for phrase in self._phrase_texts)

    def phrase_answer(
        self, synthesizer: PiperSynthesizer, speaker_id: int | None, text: str, is_ssml: bool
    ) -> tuple[PcmAudio, ...] | None:
        """The audio of each sentence of a request text made only of phrases, asked before."""
        return self.cache.phrase_answer((synthesizer.profile, speaker_id, is_ssml, text))

    def remember_phrase_answer(
        self,
        synthesizer: PiperSynthesizer,
        speaker_id: int | None,
        text: str,
        is_ssml: bool,
        sentences: Sequence[str],
    ) -> None:
        """After a request was cut into speakable ``sentences``: if they are all phrases, let
        the same request find their audio without being cut up again (``phrase_answer``)."""
        keys = [cache_key(synthesizer.profile, speaker_id, sentence) for sentence in sentences]
        self.cache.remember_phrase_answer(
            (synthesizer.profile, speaker_id, is_ssml, text), text, keys
        )

    def cached_audio(
        self, synthesizer: PiperSynthesizer, speaker_id: int | None, text: str
    ) -> PcmAudio | None:
        """Audio of one speakable sentence if it is cached (a hit is counted, a miss is not:
        the caller goes on to ``sentence_audio``, which counts it)."""
        return self.cache.get(cache_key(synthesizer.profile, speaker_id, text), count_miss=False)

    async def sentence_audio(
        self, synthesizer: PiperSynthesizer, speaker_id: int | None, text: str
    ) -> tuple[PcmAudio, bool]:
        """Audio of one speakable sentence and whether it came from the cache."""
        key = cache_key(synthesizer.profile, speaker_id, text)
        if (audio := self.cache.get(key)) is not None:
            return audio, True
        future = self._synthesis_future(synthesizer, speaker_id, text, key)
        # shield: one client hanging up must not cancel a synthesis others are waiting for.
        return await asyncio.shield(asyncio.wrap_future(future)), False

    def _synthesis_future(
        self, synthesizer: PiperSynthesizer, speaker_id: int | None, text: str, key: str
    ) -> Future[PcmAudio]:
        with self._in_flight_lock:
            if (future := self._in_flight.get(key)) is not None:
                return future
            future = self._executor.submit(
                self._synthesize_and_remember, synthesizer, speaker_id, text, key
            )
            self._in_flight[key] = future
            return future

    def _synthesize_and_remember(
        self, synthesizer: PiperSynthesizer, speaker_id: int | None, text: str, key: str
    ) -> PcmAudio:
        try:
            audio, as_asked = synthesizer.synthesize_checked(text, speaker_id)
            if as_asked:  # piper standing in for the box is not kept under the box's key
                self.cache.remember(key, audio)
            return audio
        finally:
            with self._in_flight_lock:
                self._in_flight.pop(key, None)

    def prepare_phrases(self, sentences: Iterable[str]) -> PhrasePreparation:
        """Blocking start-up step: load phrase audio from disk or synthesize it, then pin it.

        `sentences` must already be speakable_text(); they use the default voice and speaker.
        """
        started = time.monotonic()
        synthesizer = self.synthesizers[self.default_voice.name]
        voice_name = synthesizer.voice.name
        self.cache.prune_stale_profiles(voice_name, synthesizer.profile)

        keyed = {cache_key(synthesizer.profile, None, text): text for text in sentences if text}
        self._phrase_texts = tuple(keyed.values())
        to_synthesize: dict[str, str] = {}
        from_disk = 0
        for key, text in keyed.items():
            if (
                audio := self.cache.load_from_disk(voice_name, synthesizer.profile, key)
            ) is not None:
                self.cache.pin(key, audio)
                from_disk += 1
            else:
                to_synthesize[key] = text

        def synthesize_phrase(item: tuple[str, str]) -> None:
            key, text = item
            audio, as_asked = synthesizer.synthesize_checked(text, None)
            self.cache.pin(key, audio)
            if as_asked:  # the box's voice is saved; piper standing in is tried again next start
                self.cache.save_to_disk(voice_name, synthesizer.profile, key, audio)

        for _ in self._executor.map(synthesize_phrase, to_synthesize.items()):
            pass

        report = PhrasePreparation(
            sentences=len(keyed),
            from_disk=from_disk,
            synthesized=len(to_synthesize),
            seconds=time.monotonic() - started,
        )
        _LOGGER.info(
            "Phrase cache ready: %d sentences (%d from disk, %d synthesized) in %.1f s; %s",
            report.sentences,
            report.from_disk,
            report.synthesized,
            report.seconds,
            self.cache.stats().summary(),
        )
        return report

    def close(self, *, wait: bool = False) -> None:
        """Stop the synthesis threads; ``wait`` (off the event loop) until they have exited."""
        self._executor.shutdown(wait=wait, cancel_futures=True)
