"""Train the learned activity head and write custom_components/blip/brain/models/activity_head.npz.

    .venv/bin/python training/safety/train_activity.py

The head reads a turn's activity (spelling, math, chitchat, creative, trivia, emotional) from
the multilingual-e5-small embedding the safety layer already computes (see
brain/activity_model.py). It learns only from turns a person labelled: the ordinary turns of
the tuned sets in tests/data (router_eval, safety_eval, safety_heldout5) and the hand-written
corpus files (corpus/handwritten_*.jsonl); the templated corpus has no activity labels. Never
trains on tests/data/safety_blind*.jsonl. Reproducible: fixed seed, one BLAS thread, the
embeddings cached as in train.py.

The router trusts the head over the rules' weaker readings only at or above CONFIDENCE
(stored in the file); the rules stay in charge where drills depend on them.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
import sys

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np

# train first: it lets the brain package load without Home Assistant (see train.py).
from train import (
    ENCODER_ID,
    MODELS,
    SEED,
    embed_all,
    load_rows,
    predict,
    row_weights,
    train_head,
)

from custom_components.blip.brain.activity_model import (
    ACTIVITY_HEAD_PATH,
    ACTIVITY_LABELS,
)
from custom_components.blip.brain.safety_model import normalise_for_embedding

HIDDEN = 64
EPOCHS = 60
WEIGHT_DECAY = 1e-3
DROPOUT = 0.2
# Chosen on the tuned blind6/blind7 sets' ordinary turns (docs/benchmarks.md, round 3).
CONFIDENCE = 0.8


def main() -> None:
    rows = [row for row in load_rows() if row.get("activity") in ACTIVITY_LABELS]
    vectors = embed_all([str(row["text"]) for row in rows])
    x = np.stack([vectors[normalise_for_embedding(str(row["text"])) or "."] for row in rows])
    y = np.array([ACTIVITY_LABELS.index(str(row["activity"])) for row in rows])
    weights = row_weights(rows)
    classes = len(ACTIVITY_LABELS)

    def fit(train: np.ndarray, seed: int) -> dict[str, np.ndarray]:
        return train_head(
            x[train],
            y[train],
            seed,
            weights[train],
            classes=classes,
            hidden_units=HIDDEN,
            epochs=EPOCHS,
            weight_decay=WEIGHT_DECAY,
            dropout=DROPOUT,
        )

    folds = np.random.default_rng(SEED).integers(0, 5, len(rows))
    out_of_fold = np.zeros((len(rows), classes))
    for fold in range(5):
        out_of_fold[folds == fold] = predict(fit(folds != fold, SEED + fold), x[folds == fold])
    handwritten = np.array([bool(row.get("handwritten")) for row in rows])
    right = out_of_fold.argmax(axis=1) == y
    confident = out_of_fold.max(axis=1) >= CONFIDENCE
    head = fit(np.ones(len(rows), dtype=bool), SEED)
    out = MODELS / ACTIVITY_HEAD_PATH.name
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        **{k: v.astype(np.float32) for k, v in head.items()},
        labels=np.array(ACTIVITY_LABELS),
        confidence=np.array(CONFIDENCE),
        encoder=np.array(ENCODER_ID),
    )
    report = {
        "rows": len(rows),
        "per_label": {label: int((y == i).sum()) for i, label in enumerate(ACTIVITY_LABELS)},
        "handwritten_rows": int(handwritten.sum()),
        "cv_accuracy": round(float(right.mean()), 4),
        "cv_accuracy_handwritten": round(float(right[handwritten].mean()), 4),
        "cv_confident_share": round(float(confident.mean()), 4),
        "cv_accuracy_when_confident": round(float(right[confident].mean()), 4),
        "head_sha256": hashlib.sha256(out.read_bytes()).hexdigest()[:16],
        "head_bytes": out.stat().st_size,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
