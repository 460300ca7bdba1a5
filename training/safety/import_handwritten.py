"""Copy hand-written training turns into the corpus, validated.

    .venv/bin/python training/safety/import_handwritten.py writer1=PATH writer2=PATH

Other people wrote these turns by hand, without seeing the rules, the model or the evaluation
sets: the words nobody here thought of, which the templated corpus (build_corpus.py) cannot
supply. Each ``NAME=PATH`` becomes ``corpus/handwritten_NAME.jsonl``; train.py reads every
``handwritten_*.jsonl`` beside corpus.jsonl.

A line is kept when it is a JSON object with a non-empty ``text``, a known ``label`` and an
``activity`` that agrees with it (a distress or harmful-request label is the "safety"
activity; "none" is one of the ordinary ones), and a well-formed ``history`` if any. Dropped,
and counted: broken lines, duplicates (same words and history, within and across the files,
or already in corpus.jsonl), and any line whose words appear in a blind or tuned evaluation
set (tests/data/*.jsonl), so those sets stay a fair check.
"""

from __future__ import annotations

from collections import Counter
import json
from pathlib import Path
import re
import sys
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS_DIR = HERE / "corpus"
sys.path.insert(0, str(REPO))

# The label lists are the heads' own (one copy, in the integration).
from custom_components.blip.brain.activity_model import (  # noqa: E402
    ACTIVITY_LABELS as ACTIVITIES,
)
from custom_components.blip.brain.safety_model import LABELS  # noqa: E402


def key_text(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"[^\w\s]", " ", text.lower())).strip()


def row_key(text: str, history: list[dict[str, str]] | None) -> tuple[str, ...]:
    return (key_text(text), *(key_text(t["text"]) for t in history or []))


def validate(record: Any) -> dict[str, Any] | None:
    """The cleaned row, or None when the line is not a usable training turn."""
    if not isinstance(record, dict):
        return None
    text, label, activity = record.get("text"), record.get("label"), record.get("activity")
    if not isinstance(text, str) or not key_text(text) or label not in LABELS:
        return None
    if label == "none" and activity not in ACTIVITIES:
        return None
    if label != "none" and activity != "safety":
        return None
    row: dict[str, Any] = {"text": text.strip(), "label": label, "activity": activity}
    history = record.get("history")
    if history is not None:
        if not isinstance(history, list):
            return None
        turns = []
        for turn in history:
            if (
                not isinstance(turn, dict)
                or turn.get("role") not in ("user", "assistant")
                or not isinstance(turn.get("text"), str)
                or not turn["text"].strip()
            ):
                return None
            turns.append({"role": turn["role"], "text": turn["text"].strip()})
        if turns:
            row["history"] = turns
    for field in ("register", "lang"):
        if isinstance(record.get(field), str):
            row[field] = record[field]
    return row


def evaluation_texts() -> set[str]:
    texts = set()
    for path in sorted((REPO / "tests" / "data").glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.add(key_text(json.loads(line)["text"]))
    return texts


def main(argv: list[str]) -> None:
    if not argv or any("=" not in arg for arg in argv):
        raise SystemExit(__doc__)
    seen: set[tuple[str, ...]] = set()
    for line in (CORPUS_DIR / "corpus.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            seen.add(row_key(record["text"], record.get("history")))
    held_out = evaluation_texts()
    report: dict[str, Any] = {}
    for arg in argv:
        name, path = arg.split("=", 1)
        counts: Counter[str] = Counter()
        kept: list[dict[str, Any]] = []
        for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
            if not line.strip():
                continue
            counts["lines"] += 1
            try:
                row = validate(json.loads(line))
            except json.JSONDecodeError:
                row = None
            if row is None:
                counts["broken"] += 1
                continue
            key = row_key(row["text"], row.get("history"))
            if key in seen:
                counts["duplicate"] += 1
                continue
            if key[0] in held_out:
                counts["in_evaluation_set"] += 1
                continue
            seen.add(key)
            kept.append(row)
        counts["kept"] = len(kept)
        out = CORPUS_DIR / f"handwritten_{name}.jsonl"
        out.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in kept), encoding="utf-8"
        )
        labels = Counter(r["label"] for r in kept)
        activities = Counter(r["activity"] for r in kept)
        report[name] = {
            **counts,
            "with_history": sum("history" in r for r in kept),
            "labels": dict(sorted(labels.items())),
            "activities": dict(sorted(activities.items())),
        }
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
