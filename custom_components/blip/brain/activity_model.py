"""The learned activity head: which activity a turn is, read from the safety layer's embedding.

The activity rules (router.py) are precise where a drill depends on them (spelling and math
requests, a drill's answers, misheard drill requests) and weak elsewhere: on words nobody
wrote down, small talk, feelings and questions in Spanish or Chinese, they guessed wrong one
turn in five on the blind sets. The safety layer already embeds every turn with
multilingual-e5-small, so a small head over that embedding (~100 KB, trained by
training/safety/train_activity.py on hand-labelled turns) reads the activity for almost
nothing: one 384 x 64 product, no extra encoding.

No Home Assistant import.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final

import numpy as np

from .activities import Activity
from .safety_model import MlpHead

ACTIVITY_HEAD_PATH: Final = Path(__file__).resolve().parent / "models" / "activity_head.npz"
# The head's classes, in the order of its output units (never SAFETY: that is the detector's).
ACTIVITY_LABELS: Final = ("spelling", "math", "chitchat", "creative", "trivia", "emotional")
# Below this confidence the rules' reading stands (the training script can store another).
DEFAULT_CONFIDENCE: Final = 0.8


class ActivityHead(MlpHead):
    """Activity probabilities from one turn's embedding."""

    def __init__(self, path: str | os.PathLike[str] = ACTIVITY_HEAD_PATH) -> None:
        super().__init__(path, ACTIVITY_LABELS)
        confidence = self.extra.get("confidence")
        self.confidence = float(confidence) if confidence is not None else DEFAULT_CONFIDENCE

    def predict(self, embedding: np.ndarray) -> tuple[Activity, float]:
        """The most likely activity of a turn and the head's probability for it."""
        probabilities = self.probabilities(embedding[: self.input_dim])
        best = int(np.argmax(probabilities))
        return Activity(ACTIVITY_LABELS[best]), float(probabilities[best])
