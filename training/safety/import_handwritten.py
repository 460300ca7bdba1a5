"""Copy hand-written training turns into the corpus, validated.

    .venv/bin/python training/safety/import_handwritten.py writer1=PATH writer2=PATH
    .venv/bin/python training/safety/import_handwritten.py --holdout NAME writer5=PATH ...

Other people wrote these turns by hand, without seeing the rules, the model or the evaluation
sets: the words nobody here thought of, which the templated corpus (build_corpus.py) cannot
supply. Each ``NAME=PATH`` becomes ``corpus/handwritten_NAME.jsonl``; train.py reads every
``handwritten_*.jsonl`` beside corpus.jsonl.

A line is kept when it is a JSON object with a non-empty ``text``, a known ``label`` and an
``activity`` that agrees with it (a distress or harmful-request label is the "safety"
activity; "none" is one of the ordinary ones), and a well-formed ``history`` if any. Dropped,
and counted: broken lines, duplicates (same words and history, within and across the files,
or already in corpus.jsonl), and any line whose words appear in a blind or tuned evaluation
set (tests/data/*.jsonl), so those sets stay a fair check. Lines already imported from other
writers (the other ``handwritten_*.jsonl``) count as duplicates too.

``--holdout NAME`` keeps HOLDOUT_PERCENT of the named writers' kept lines (chosen by a hash of
their words, so a rerun picks the same ones) out of training: they are written, in the
benchmark's format, to ``tests/data/safety_holdout_NAME.jsonl`` (a held-out split of the
writers' own data: the same writers as the training lines, so an easier check than a blind
set), and every later import drops them as it drops any evaluation set's lines.
"""

from __future__ import annotations

from collections import Counter
import hashlib
import json
from pathlib import Path
import re
import sys
from typing import Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
CORPUS_DIR = HERE / "corpus"
DATA = REPO / "tests" / "data"
HOLDOUT_PERCENT = 15
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


def evaluation_texts(exclude: Path | None = None) -> set[str]:
    texts = set()
    for path in sorted(DATA.glob("*.jsonl")):
        if path == exclude:
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                texts.add(key_text(json.loads(line)["text"]))
    return texts


def held_out_share(key: tuple[str, ...]) -> bool:
    """True for the stable HOLDOUT_PERCENT of lines kept out of training."""
    digest = hashlib.sha256("\x1f".join(key).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HOLDOUT_PERCENT


def benchmark_row(row: dict[str, Any], split: str) -> dict[str, Any]:
    """A kept line in the evaluation sets' format (tests/data/safety_blind*.jsonl)."""
    out: dict[str, Any] = {"text": row["text"], "activity": row["activity"]}
    if row["label"] != "none":
        out["safety_category"] = row["label"]
    if row.get("history"):
        out["history"] = row["history"]
    out["lang"] = row.get("lang", "en")
    out["split"] = split
    return out


def main(argv: list[str]) -> None:
    holdout_name = None
    if argv[:1] == ["--holdout"] and len(argv) > 1:
        holdout_name, argv = argv[1], argv[2:]
    if not argv or any("=" not in arg for arg in argv):
        raise SystemExit(__doc__)
    names = {arg.split("=", 1)[0] for arg in argv}
    seen: set[tuple[str, ...]] = set()
    sources = [CORPUS_DIR / "corpus.jsonl"] + [
        path
        for path in sorted(CORPUS_DIR.glob("handwritten_*.jsonl"))
        if path.stem.removeprefix("handwritten_") not in names
    ]
    for source in sources:
        for line in source.read_text(encoding="utf-8").splitlines():
            if line.strip():
                record = json.loads(line)
                seen.add(row_key(record["text"], record.get("history")))
    holdout_path = DATA / f"safety_holdout_{holdout_name}.jsonl" if holdout_name else None
    held_out = evaluation_texts(exclude=holdout_path)
    holdout: list[dict[str, Any]] = []
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
            if holdout_name and held_out_share(key):
                counts["held_out"] += 1
                holdout.append(benchmark_row(row, f"holdout_{holdout_name}"))
                continue
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
    if holdout_path is not None:
        holdout_path.write_text(
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in holdout), encoding="utf-8"
        )
        report["holdout"] = {"path": holdout_path.name, "rows": len(holdout)}
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main(sys.argv[1:])
