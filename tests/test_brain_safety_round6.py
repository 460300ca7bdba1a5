"""Round 6 of the on-box safety check: the safety head's thresholds are chosen by
cross-validation by writer (a writer's lines are scored by an ensemble that learnt nothing from
that writer, as on a fresh blind set).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
import sys
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parent.parent


def _train_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "blip_safety_train", REPO / "training" / "safety" / "train.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("blip_safety_train", module)
    spec.loader.exec_module(module)
    return module


def test_each_writers_lines_and_their_answer_readings_share_one_fold(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Cross-validation by writer: every line a writer wrote is in that writer's fold, and so is
    the answer-read-with-Blip's-question row made from it (else the fold that scores a line has
    learnt its twin); rows no writer owns keep their fold when other rows are added."""
    train = _train_module()
    corpus = tmp_path / "corpus"
    data = tmp_path / "data"
    corpus.mkdir()
    data.mkdir()
    templated = [{"text": f"my dog likes the park number {i}", "label": "none"} for i in range(40)]
    (corpus / "corpus.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in templated), encoding="utf-8"
    )
    question = [
        {"role": "user", "text": "i'm home by myself"},
        {"role": "assistant", "text": "Okay. Did you have dinner yet?"},
    ]
    for number in (3, 8, 11):
        lines = [
            {"text": f"writer {number} line {i}", "label": "none", "activity": "chitchat"}
            for i in range(10)
        ] + [{"text": f"no not since yesterday {number}", "label": "neglect", "history": question}]
        (corpus / f"handwritten_writer{number}.jsonl").write_text(
            "".join(json.dumps(row) + "\n" for row in lines), encoding="utf-8"
        )
    monkeypatch.setattr(train, "CORPUS", corpus / "corpus.jsonl")
    monkeypatch.setattr(train, "HANDWRITTEN", sorted(corpus.glob("handwritten_*.jsonl")))
    monkeypatch.setattr(train, "TUNED_SETS", ())
    rows = train.with_answer_readings(train.load_rows())
    for number in (3, 8, 11):
        mine = [row for row in rows if row.get("writer") == f"handwritten_writer{number}"]
        assert len(mine) == 12  # ten lines, the answer, and the answer read with the question
        assert {row["fold"] for row in mine} == {number % train.FOLDS}
    assert any(row.get("answer_reading") and row["label"] == "neglect" for row in rows)
    first = {str(row["text"]): row["fold"] for row in rows if not row.get("handwritten")}
    assert len(set(first.values())) > 1  # templated rows are spread over the folds
    (corpus / "corpus.jsonl").write_text(
        "".join(json.dumps(row) + "\n" for row in [{"text": "a new line", "label": "none"}])
        + "".join(json.dumps(row) + "\n" for row in templated),
        encoding="utf-8",
    )
    again = {str(row["text"]): row["fold"] for row in train.load_rows()}
    assert all(again[text] == fold for text, fold in first.items())


def test_a_writers_number_is_read_from_the_file_name() -> None:
    train = _train_module()
    assert train.writer_number(Path("handwritten_writer10.jsonl")) == 10
    assert train.writer_number(Path("handwritten_writer1.jsonl")) == 1
    assert train.writer_number(Path("handwritten_extra.jsonl")) == 0
