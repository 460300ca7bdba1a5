"""The learned activity head: which activity a turn is, read from the safety layer's embeddings.

The activity rules (router.py) are precise where a drill depends on them (spelling and math
requests, a drill's answers, misheard drill requests) and weak elsewhere: on words nobody
wrote down, small talk, feelings and questions in Spanish or Chinese, they guessed wrong one
turn in five on the blind sets. The safety layer already embeds every turn with
multilingual-e5-small (and the child's earlier turns, cached when they were said), so a small
head over those embeddings (trained by training/safety/train_activity.py on hand-labelled
turns) reads the activity for almost nothing: no extra encoding.

Its input is the turn, the child's previous turn and the flags read from Blip's last words
(safety_model.context_flags): "the dragon one" after "tell me a story" is a story, "a horse"
after Blip's quiz question is trivia. A head of the turn alone (384 inputs) still loads.

The router trusts the head over the rules' weaker readings at or above a confidence chosen by
cross-validation, one for a turn some rule matched ("rule") and one for a turn no rule
matched ("weak": the rules' small-talk guess is worth less, so the head needs less).

No Home Assistant import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import numpy as np

from .activities import Activity
from .safety_model import FLAGS, MlpHead

ACTIVITY_HEAD_PATH: Final = Path(__file__).resolve().parent / "models" / "activity_head.npz"
# The head's classes, in the order of its output units (never SAFETY: that is the detector's).
ACTIVITY_LABELS: Final = ("spelling", "math", "chitchat", "creative", "trivia", "emotional")
# Below this confidence the rules' reading stands (the training script stores its own).
DEFAULT_CONFIDENCE: Final = 0.8


def activity_input(features: np.ndarray) -> np.ndarray:
    """The activity head's input from a turn's safety features (safety_model.features_for: the
    turn, the previous child turn and the pooled window, each one embedding wide, then the
    flags): the turn, the previous child turn and the flags; the pooled window adds nothing
    the two turns do not say about the activity."""
    dim = embedding_dim(features)
    return np.concatenate([features[..., : 2 * dim], features[..., 3 * dim :]], axis=-1)


def embedding_dim(features: np.ndarray) -> int:
    """The embedding width of a safety feature vector (three embeddings and the flags)."""
    return (int(features.shape[-1]) - FLAGS) // 3


class ActivityHead(MlpHead):
    """Activity probabilities from one turn's safety features."""

    def __init__(self, path: str | os.PathLike[str] = ACTIVITY_HEAD_PATH) -> None:
        super().__init__(path, ACTIVITY_LABELS)
        confidence = self.extra.get("confidence")
        self.confidence = float(confidence) if confidence is not None else DEFAULT_CONFIDENCE
        # Where no rule matched, the rules' guess is weaker: the head may decide at less.
        weak = self.extra.get("confidence_weak")
        self.confidence_weak = float(weak) if weak is not None else self.confidence

    def reads_history(self, dim: int) -> bool:
        """Whether the head reads the previous turn and the flags (else the turn alone)."""
        return self.input_dim == 2 * dim + FLAGS

    def predict(self, features: np.ndarray) -> tuple[Activity, float]:
        """The most likely activity of a turn and the head's probability for it, from the
        turn's safety features (a head of the turn alone reads only the turn's embedding)."""
        dim = embedding_dim(features)
        vector = activity_input(features) if self.reads_history(dim) else features[:dim]
        probabilities = self.probabilities(vector)
        best = int(np.argmax(probabilities))
        return Activity(ACTIVITY_LABELS[best]), float(probabilities[best])
