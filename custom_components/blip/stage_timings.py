"""Per-turn stage timings of voice turns: STT, routing, first token, TTS first audio.

Each sample is one stage of one turn, in milliseconds, tagged with the backend that answered
the turn (``drill``, ``local``, ``claude``, …), so a family can see what each route costs from
the child's last word to Blip's first sound. Kept in memory only; no child text is in here.

Stages:
- ``end_of_turn``: from the child's last word to the decision that the child has finished
  (Home Assistant's end-of-speech silence, or Blip's listening ending the turn early).
- ``stt``: from that decision to the transcript.
- ``routing``: Blip deciding who answers.
- ``first_token``: from the turn's start to the answer's first text (a filler does not count).
- ``tts_first_audio``: from the child's last word (for a turn that was not spoken: the turn's
  start) to Blip voice's first audio for the turn (the filler's, when there is one). This is
  what the child waits.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
import logging
import statistics
from typing import Any, Final

_LOGGER = logging.getLogger(__name__)

STAGE_END_OF_TURN: Final = "end_of_turn"
STAGE_STT: Final = "stt"
STAGE_ROUTING: Final = "routing"
STAGE_FIRST_TOKEN: Final = "first_token"
STAGE_TTS_FIRST_AUDIO: Final = "tts_first_audio"
STAGES: Final = (
    STAGE_END_OF_TURN,
    STAGE_STT,
    STAGE_ROUTING,
    STAGE_FIRST_TOKEN,
    STAGE_TTS_FIRST_AUDIO,
)

# Samples kept per stage and backend for the rolling median.
DEFAULT_KEEP: Final = 50

type StageListener = Callable[[StageSample], None]


@dataclass(frozen=True, slots=True)
class StageSample:
    """One stage of one turn."""

    stage: str
    backend: str
    ms: float


class StageTimings:
    """Recent samples per stage and backend, with the latest per stage."""

    def __init__(self, keep: int = DEFAULT_KEEP) -> None:
        """Keep the last ``keep`` samples of each stage for each backend."""
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self._keep = keep
        self._samples: dict[str, dict[str, deque[float]]] = {stage: {} for stage in STAGES}
        self._latest: dict[str, StageSample] = {}
        self._listeners: list[StageListener] = []

    def record(self, stage: str, backend: str, ms: float) -> StageSample:
        """Add a sample and tell the listeners; an unknown stage is a programming error."""
        if stage not in self._samples:
            raise ValueError(f"unknown stage {stage!r}")
        sample = StageSample(stage=stage, backend=backend, ms=round(max(0.0, ms), 2))
        self._samples[stage].setdefault(backend, deque(maxlen=self._keep)).append(sample.ms)
        self._latest[stage] = sample
        for listener in list(self._listeners):
            try:
                listener(sample)
            except Exception:
                # A broken listener (a sensor) must never break the turn that is being timed.
                _LOGGER.exception("A stage timing listener failed")
        return sample

    def latest(self, stage: str) -> StageSample | None:
        """The most recent sample of ``stage``."""
        return self._latest.get(stage)

    def median(self, stage: str, backend: str) -> float | None:
        """The rolling median of ``stage`` for ``backend``; None before the first sample."""
        samples = self._samples.get(stage, {}).get(backend)
        return round(statistics.median(samples), 2) if samples else None

    def medians(self, stage: str) -> dict[str, float]:
        """The rolling median of ``stage`` for every backend that has samples."""
        return {
            backend: round(statistics.median(samples), 2)
            for backend, samples in sorted(self._samples.get(stage, {}).items())
            if samples
        }

    def count(self, stage: str, backend: str | None = None) -> int:
        """Samples kept for ``stage`` (for one backend, or all)."""
        by_backend = self._samples.get(stage, {})
        if backend is not None:
            return len(by_backend.get(backend, ()))
        return sum(len(samples) for samples in by_backend.values())

    def add_listener(self, listener: StageListener) -> Callable[[], None]:
        """Call ``listener`` with every new sample; returns the function that stops it."""
        self._listeners.append(listener)

        def remove() -> None:
            if listener in self._listeners:
                self._listeners.remove(listener)

        return remove

    def as_diagnostics(self) -> dict[str, Any]:
        """Latest sample and medians (with counts) per stage and backend."""
        return {
            stage: {
                "latest": asdict(latest) if (latest := self._latest.get(stage)) else None,
                "median_ms": self.medians(stage),
                "samples": {
                    backend: len(samples)
                    for backend, samples in sorted(self._samples[stage].items())
                },
            }
            for stage in STAGES
        }
