"""Voice activity and end-of-speech detection on the audio a client streams in.

The server keeps its own light VAD so it can start decoding while Home Assistant is still waiting
out its end-of-speech silence window. Everything here is a pure function of the samples received,
never of wall-clock time or of how the stream was cut into chunks: the same audio always yields
the same decode input, which is what lets a speculative decode stand in for the final one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

SAMPLE_RATE = 16000
# Silero VAD v6 scores 512-sample windows at 16 kHz and looks 64 samples back for context.
VAD_FRAME_SAMPLES = 512
_VAD_CONTEXT_SAMPLES = 64


class FrameScorer(Protocol):
    """Scores consecutive VAD frames with a speech probability in [0, 1]."""

    def score(self, frame: np.ndarray) -> float:
        """Score one frame of VAD_FRAME_SAMPLES float32 samples; frames arrive in order."""
        ...


class SileroFrameScorer:
    """Streaming Silero VAD (the onnx model bundled in faster-whisper's wheel).

    About 0.09 ms per 32 ms frame on this project's CPUs (0.3 % of a core), so it runs on the
    event loop. The onnx session is shared and thread-safe; the recurrent state is per stream.
    """

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session
        self._state = (
            np.zeros((1, 1, 128), dtype=np.float32),
            np.zeros((1, 1, 128), dtype=np.float32),
        )
        self._context = np.zeros((1, _VAD_CONTEXT_SAMPLES), dtype=np.float32)

    def score(self, frame: np.ndarray) -> float:
        window = frame.reshape(1, VAD_FRAME_SAMPLES)
        hidden, cell = self._state
        output, hidden, cell = self._session.run(
            None,
            {"input": np.concatenate([self._context, window], axis=1), "h": hidden, "c": cell},
        )
        self._state = hidden, cell
        self._context = window[:, -_VAD_CONTEXT_SAMPLES:]
        return float(np.asarray(output).reshape(-1)[0])


@dataclass(frozen=True, slots=True)
class EndpointSettings:
    """How speech and its end are recognised, in samples at 16 kHz."""

    speech_threshold: float = 0.5
    # Hysteresis as in Silero's own segmenter: once speaking, only a clearly lower score ends it.
    silence_threshold: float = 0.35
    # A speech run must last this long to count, so a click or a cough does not void a decode.
    min_speech_samples: int = 2 * VAD_FRAME_SAMPLES
    # Silence after the last speech that triggers a speculative decode. 0.15 s: Blip listening
    # ends a complete question as soon as this decode is in (benchmarks/end_of_turn.py: 0.25 s
    # -> 0.15 s took ~80 ms off the child's wait; 0 of 30 paused questions cut off).
    speculate_after_samples: int = 2400
    # Silence kept after the last speech in the decode input: covers the VAD's lag and quiet word
    # endings. Must not exceed speculate_after_samples, or a speculation would decode too little.
    keep_trailing_samples: int = 2400

    def __post_init__(self) -> None:
        if not 0.0 < self.silence_threshold <= self.speech_threshold < 1.0:
            raise ValueError("need 0 < silence_threshold <= speech_threshold < 1")
        if self.keep_trailing_samples > self.speculate_after_samples:
            raise ValueError("keep_trailing_samples must not exceed speculate_after_samples")
        if self.min_speech_samples < 0 or self.keep_trailing_samples < 0:
            raise ValueError("sample counts must not be negative")


class UtteranceBuffer:
    """The utterance so far (16 kHz mono int16) with its speech endpoint.

    `decode_end()` is the canonical end of the decode input: the end of the last speech run plus
    `keep_trailing_samples` of what followed. Both the speculative and the final decode read
    `samples[:decode_end()]`, so when no speech arrives between them they decode the very same
    samples.
    """

    def __init__(
        self,
        scorer: FrameScorer,
        settings: EndpointSettings,
        max_samples: int,
    ) -> None:
        self._scorer = scorer
        self._settings = settings
        self._max_samples = max_samples
        self._samples = np.zeros(SAMPLE_RATE * 4, dtype=np.int16)
        self._length = 0
        self._scored = 0  # samples already passed through the VAD (whole frames)
        self._in_speech = False
        self._run_start = 0  # first sample of the current speech run
        self._speech_end = 0  # end of the last speech run long enough to count
        # The longest silence between two counted speech runs (a pause mid-question).
        self._longest_pause = 0
        self.speech_seen = False
        self.truncated = False

    @property
    def length(self) -> int:
        return self._length

    @property
    def room(self) -> int:
        """Samples still accepted before the cap."""
        return max(0, self._max_samples - self._length)

    @property
    def samples(self) -> np.ndarray:
        """All audio received (a view; later appends never change what it shows)."""
        return self._samples[: self._length]

    def append(self, pcm16: bytes) -> None:
        """Add 16 kHz mono 16-bit audio and run the VAD over every completed frame."""
        incoming = np.frombuffer(pcm16, dtype="<i2", count=len(pcm16) // 2)
        room = self._max_samples - self._length
        if len(incoming) > room:
            # Past the cap the rest is dropped: a stuck stream must not eat the server's memory.
            incoming = incoming[:room]
            self.truncated = True
        if len(incoming) == 0:
            return
        needed = self._length + len(incoming)
        if needed > len(self._samples):
            grown = np.zeros(max(needed, 2 * len(self._samples)), dtype=np.int16)
            grown[: self._length] = self._samples[: self._length]
            self._samples = grown
        self._samples[self._length : needed] = incoming
        self._length = needed
        self._score_complete_frames()

    def _score_complete_frames(self) -> None:
        settings = self._settings
        while self._length - self._scored >= VAD_FRAME_SAMPLES:
            start = self._scored
            end = start + VAD_FRAME_SAMPLES
            frame = self._samples[start:end].astype(np.float32) / 32768.0
            probability = self._scorer.score(frame)
            self._scored = end
            if self._in_speech:
                if probability < settings.silence_threshold:
                    self._in_speech = False
                    continue
            elif probability >= settings.speech_threshold:
                self._in_speech = True
                self._run_start = start
            else:
                continue
            if end - self._run_start >= settings.min_speech_samples:
                if self.speech_seen and self._speech_end < self._run_start:
                    # A new run counts: the silence since the last one was a pause.
                    pause = self._run_start - self._speech_end
                    self._longest_pause = max(self._longest_pause, pause)
                self._speech_end = end
                self.speech_seen = True

    @property
    def speech_end(self) -> int:
        """End of the last speech run long enough to count (0 before any)."""
        return self._speech_end

    @property
    def longest_pause_samples(self) -> int:
        """The longest silence between two counted speech runs so far (0 before a second).

        Only pauses before ``speech_end`` count, so it is a function of ``samples[:decode_end()]``
        alone, like the decode input itself: a speculative and a final decode of the same
        samples see the same value.
        """
        return self._longest_pause

    @property
    def trailing_silence_samples(self) -> int:
        """Scored audio since the end of the last speech run (0 while speech goes on)."""
        # During a counted speech run _speech_end keeps up with _scored, so this is 0 then.
        return self._scored - self._speech_end if self.speech_seen else 0

    def decode_end(self) -> int:
        """Canonical end of the decode input (see the class docstring)."""
        if not self.speech_seen:
            # Nothing the VAD calls speech (a whisper, far-field audio): decode all of it.
            return self._length
        return min(self._speech_end + self._settings.keep_trailing_samples, self._length)

    def ready_to_speculate(self) -> bool:
        """Speech was heard and has been followed by enough silence to try a decode."""
        return (
            self.speech_seen
            and self.trailing_silence_samples >= self._settings.speculate_after_samples
        )
