"""openWakeWord models (via pyopen-wakeword) and a per-stream detector with trigger logic.

No Wyoming here: the detector takes 16 kHz mono 16-bit PCM and returns detections, so it can be
tested and reused on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
import logging
from pathlib import Path
import re
from typing import Final

import pyopen_wakeword
from pyopen_wakeword import Model, OpenWakeWord, OpenWakeWordFeatures

_LOGGER = logging.getLogger(__name__)

SAMPLE_RATE: Final = 16000
SAMPLE_WIDTH: Final = 2
CHANNELS: Final = 1
# openWakeWord scores one embedding per 80 ms of audio.
SAMPLES_PER_STEP: Final = 1280
EMBEDDING_FEATURES: Final = 96
PRIMING_SAMPLES: Final = int(2.5 * SAMPLE_RATE)
# Whole 80 ms steps, about one second.
MAX_FEATURE_BLOCK_BYTES: Final = 12 * SAMPLES_PER_STEP * SAMPLE_WIDTH
BUILTIN_MODELS_DIR: Final = Path(pyopen_wakeword.__file__).parent / "models"
_FEATURE_MODEL_STEMS: Final = frozenset({"melspectrogram", "embedding_model"})
_VERSION_SUFFIX_RE: Final = re.compile(r"^(?P<name>.+?)_(?P<version>v\d+(?:\.\d+)*)$")


@dataclass(frozen=True, slots=True)
class WakeWordModel:
    """One wake word model file."""

    name: str
    path: Path
    phrase: str
    version: str | None
    builtin: bool


@dataclass(frozen=True, slots=True)
class DetectionSettings:
    """How eager detection is.

    threshold: probability an 80 ms step must reach to count as an activation.
    trigger_level: activations needed (net of quiet steps) before a detection is reported.
    refractory_seconds: audio time during which the same wake word is not reported again.
    """

    threshold: float = 0.5
    trigger_level: int = 1
    refractory_seconds: float = 2.0


def _model_from_path(path: Path, *, builtin: bool) -> WakeWordModel:
    stem = path.stem
    version: str | None = None
    base = stem
    if match := _VERSION_SUFFIX_RE.match(stem):
        base, version = match.group("name"), match.group("version")
    return WakeWordModel(
        name=stem, path=path, phrase=base.replace("_", " "), version=version, builtin=builtin
    )


class InvalidWakeWordModelError(ValueError):
    """A custom .tflite file is not an openWakeWord wake word model."""


def check_wake_word_file(path: Path) -> None:
    """Reject a file TensorFlow Lite cannot parse before pyopen-wakeword touches it.

    pyopen-wakeword hands whatever TFLite returns straight to the interpreter, so a corrupt
    model would take the whole process down with a segmentation fault instead of an error.
    """
    probe = OpenWakeWord.from_builtin(Model.HEY_JARVIS)
    try:
        lib = probe.lib
        model = lib.TfLiteModelCreateFromFile(str(path).encode("utf-8"))
        if not model:
            raise InvalidWakeWordModelError(f"{path} is not a valid TensorFlow Lite model")
        lib.TfLiteModelDelete(model)
    finally:
        probe.close()
    scorer = OpenWakeWord.from_model(path)
    try:
        tensor = scorer.input_tensor
        shape = [
            scorer.lib.TfLiteTensorDim(tensor, i)
            for i in range(scorer.lib.TfLiteTensorNumDims(tensor))
        ]
    finally:
        scorer.close()
    if len(shape) != 3 or shape[2] != EMBEDDING_FEATURES:
        raise InvalidWakeWordModelError(
            f"{path} takes input of shape {shape}, not the openWakeWord (1, windows, {EMBEDDING_FEATURES})"
        )


def discover_models(custom_model_dirs: Sequence[Path] = ()) -> list[WakeWordModel]:
    """The five bundled models plus every .tflite wake word in the custom folders.

    A custom model with the same name as a bundled one replaces it (a retrained "hey_jarvis").
    Raises InvalidWakeWordModelError for a file that is not a wake word model.
    """
    models: dict[str, WakeWordModel] = {}
    for builtin in Model:
        path = BUILTIN_MODELS_DIR / f"{builtin.value}.tflite"
        models[builtin.value] = _model_from_path(path, builtin=True)
    for folder in custom_model_dirs:
        if not folder.is_dir():
            raise FileNotFoundError(f"custom model folder {folder} does not exist")
        for path in sorted(folder.glob("*.tflite")):
            if path.stem in _FEATURE_MODEL_STEMS:
                continue
            check_wake_word_file(path)
            model = _model_from_path(path, builtin=False)
            models[model.name] = model
    return list(models.values())


def _normalise_name(name: str) -> str:
    name = name.strip().lower().replace("-", " ").replace("_", " ")
    return " ".join(name.split())


def match_models(
    models: Sequence[WakeWordModel], names: Iterable[str]
) -> tuple[list[WakeWordModel], list[str]]:
    """Models a Detect event asks for, by name, name without version, or phrase; plus unknown names."""
    chosen: dict[str, WakeWordModel] = {}
    unknown: list[str] = []
    for requested in names:
        wanted = _normalise_name(str(requested))
        found = [
            model
            for model in models
            if wanted in {_normalise_name(model.name), _normalise_name(model.phrase)}
        ]
        if found:
            chosen.setdefault(found[0].name, found[0])
        else:
            unknown.append(str(requested))
    return list(chosen.values()), unknown


@dataclass(slots=True)
class _ModelState:
    model: WakeWordModel
    scorer: OpenWakeWord
    activations: int = 0
    quiet_until_sample: int = 0


@dataclass(slots=True)
class Detected:
    """A wake word heard at a point of the stream."""

    name: str
    probability: float
    audio_ms: int


@dataclass(slots=True)
class WakeWordDetector:
    """Features plus the selected models for one audio stream at a time. Not thread-safe."""

    models: list[WakeWordModel]
    settings: DetectionSettings
    _features: OpenWakeWordFeatures = field(init=False)
    _states: list[_ModelState] = field(init=False)
    _samples_seen: int = field(init=False, default=0)
    _pending: bytearray = field(init=False, default_factory=bytearray)

    def __post_init__(self) -> None:
        self._features = OpenWakeWordFeatures.from_builtin()
        self._states = [
            _ModelState(model, OpenWakeWord.from_model(model.path)) for model in self.models
        ]
        self._limit_priming()

    def _limit_priming(self) -> None:
        """Prime the feature models with 2.5 s of silence instead of pyopen-wakeword's 8 s.

        Every stream starts by running the feature models over that silence. A wake word model
        looks at only 16 embeddings (1.28 s), each made of 76 mel frames (0.76 s), so 2.5 s of
        silence fills the same context - and makes each new stream about 3x cheaper to start.
        """
        self._features.new_audio_samples = min(self._features.new_audio_samples, PRIMING_SAMPLES)

    @property
    def model_names(self) -> list[str]:
        return [state.model.name for state in self._states]

    def reset(self) -> None:
        """Start a new stream: forget audio, activations and refractory periods."""
        self._features.reset()
        self._limit_priming()
        for state in self._states:
            state.scorer.reset()
            state.activations = 0
            state.quiet_until_sample = 0
        self._samples_seen = 0
        self._pending.clear()

    def process(self, pcm: bytes, *, final: bool = False) -> list[Detected]:
        """Feed 16 kHz mono 16-bit PCM; returns detections completed by it.

        Audio is scored in whole 80 ms steps; `final` pushes out a last partial step.
        """
        self._pending.extend(pcm)
        step_bytes = SAMPLES_PER_STEP * SAMPLE_WIDTH
        usable = len(self._pending) - len(self._pending) % step_bytes
        if final:
            usable = len(self._pending) - len(self._pending) % SAMPLE_WIDTH
        if usable == 0:
            return []
        block = bytes(self._pending[:usable])
        del self._pending[:usable]

        detections: list[Detected] = []
        # The feature models keep fixed-size buffers: feed them at most a second at a time, so a
        # long chunk is scored like the same audio sent in satellite-sized chunks.
        for offset in range(0, len(block), MAX_FEATURE_BLOCK_BYTES):
            piece = block[offset : offset + MAX_FEATURE_BLOCK_BYTES]
            block_start = self._samples_seen
            self._samples_seen += len(piece) // SAMPLE_WIDTH
            for embedding in self._features.process_streaming(piece):
                for state in self._states:
                    for probability in state.scorer.process_streaming(embedding):
                        if detected := self._score(state, probability, block_start):
                            detections.append(detected)
        return detections

    def _score(self, state: _ModelState, probability: float, block_start: int) -> Detected | None:
        if probability < self.settings.threshold:
            state.activations = max(0, state.activations - 1)
            return None
        state.activations += 1
        if (
            state.activations < self.settings.trigger_level
            or self._samples_seen < state.quiet_until_sample
        ):
            return None
        state.activations = 0
        state.quiet_until_sample = self._samples_seen + int(
            self.settings.refractory_seconds * SAMPLE_RATE
        )
        _LOGGER.debug(
            "Detected %s (p=%.3f) in block starting at sample %d",
            state.model.name,
            probability,
            block_start,
        )
        return Detected(
            name=state.model.name,
            probability=probability,
            audio_ms=self._samples_seen * 1000 // SAMPLE_RATE,
        )

    def close(self) -> None:
        self._features.close()
        for state in self._states:
            state.scorer.close()
