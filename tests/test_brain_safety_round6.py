"""Round 6 of the on-box safety check: the safety head's thresholds are chosen by
cross-validation by writer (a writer's lines are scored by an ensemble that learnt nothing from
that writer, as on a fresh blind set), and a turn the model is unsure about (the grey zone's
lower edge, below the guard) goes to Claude with the safety prompt, never the local model.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
import sys
from types import ModuleType

import numpy as np
import pytest

from custom_components.blip.brain import Backend, Router, SafetyCategory
from custom_components.blip.brain.safety_detector import (
    REASSURED_BELOW,
    SafetyDetector,
    reassuring_answer,
)
from custom_components.blip.brain.safety_model import (
    ANSWER_READING_FROM,
    ModelScore,
    SafetyModel,
    Thresholds,
)
from tests import safety_fixtures
from tests.safety_fixtures import turns

model = safety_fixtures.model
router = safety_fixtures.router

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


def test_the_alert_is_the_highest_threshold_that_keeps_the_recall_floor() -> None:
    train = _train_module()
    scores = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05])
    assert train.threshold_for_recall(scores, 0.9) == pytest.approx(0.1)
    assert train.threshold_for_recall(scores, 0.5) == pytest.approx(0.5)
    threshold = train.threshold_for_recall(scores, 0.75)
    assert (scores >= threshold).mean() >= 0.75
    assert (scores >= threshold + 1e-9).mean() < 0.75


def test_the_grey_zone_reaches_below_the_guard_when_the_head_names_an_edge() -> None:
    assert Thresholds(0.5, 0.3, 0.65).to_claude == 0.3  # a round-3..5 head: three values
    assert Thresholds(0.5, 0.3, 0.65, 0.15).to_claude == 0.15
    assert Thresholds(0.5, 0.3, 0.65, 0.4).to_claude == 0.3  # never above the guard


def test_the_committed_head_sends_what_it_is_unsure_about_to_claude(model: SafetyModel) -> None:
    limits = model.thresholds
    assert limits.unsure is not None
    assert 0 < limits.to_claude < limits.guard < limits.alert
    # The answer read with Blip's question is not triggered by the lower edge: the common turn
    # still costs one encoding.
    assert limits.to_claude < ANSWER_READING_FROM


def test_an_unsure_reading_goes_to_claude_guarded_without_an_alert(
    model: SafetyModel, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A turn the model reads between the grey zone's lower edge and the guard: never the local
    model, no alert; the same reading with no lower edge (a round-5 head) went local."""
    text = "we had pizza for dinner and then i watched cartoons"
    reading = model.score(text).distress
    detector = SafetyDetector(model)
    monkeypatch.setattr(model.head, "thresholds", Thresholds(0.99, reading + 0.01, 0.99, reading))
    verdict = detector.judge(text)
    assert verdict.finding is None and verdict.guarded and verdict.reason == "grey_zone"
    monkeypatch.setattr(model.head, "thresholds", Thresholds(0.99, reading + 0.01, 0.99))
    assert not detector.judge(text).guarded


def _score(distress: float, own: float | None, answer: float | None) -> ModelScore:
    return ModelScore(
        distress=distress,
        category=SafetyCategory.SELF_HARM,
        harmful_request=0.0,
        check_in_reply=answer is not None,
        context_distress=distress,
        own_distress=own,
        answer_distress=answer,
    )


def test_an_answer_is_reassuring_only_when_both_its_readings_are_ordinary() -> None:
    low = REASSURED_BELOW / 2
    assert reassuring_answer(_score(0.9, own=low, answer=low))
    assert not reassuring_answer(_score(0.9, own=low, answer=None))  # no question was asked
    assert not reassuring_answer(_score(0.9, own=0.3, answer=low))  # its own words worry
    assert not reassuring_answer(_score(0.9, own=low, answer=0.3))  # so does the answer


def test_a_reassuring_answer_after_a_bump_goes_to_claude_without_an_alert(
    model: SafetyModel, router: Router
) -> None:
    """The earlier turn (a hard bump on the head) makes the context reading reach the alert,
    but the answer to Blip's check-in is ordinary alone and joined to the question: no alert,
    Claude answers with the safety prompt. Without the rule this turn alerted."""
    history = turns(
        ("user", "i bumped my head really hard on the table"),
        ("assistant", "Oh no! Are you okay? Is a grown-up with you?"),
    )
    text = "yeah my mom put a frozen peas bag on it now its better"
    verdict = SafetyDetector(model).judge(text, history)
    assert verdict.finding is None and verdict.guarded and verdict.reason == "reassured"
    score = verdict.score
    assert score is not None and score.distress >= model.thresholds.alert
    assert score.own_distress is not None and score.own_distress < REASSURED_BELOW
    assert score.answer_distress is not None and score.answer_distress < REASSURED_BELOW
    decision = router.decide(text, history)
    assert decision.backend is Backend.CLAUDE and decision.guarded and decision.safety is None


def test_a_disclosure_answering_a_check_in_still_alerts(model: SafetyModel) -> None:
    history = turns(
        ("user", "i got a big bruise on my arm"),
        ("assistant", "Oh no. Are you okay? How did it happen?"),
    )
    verdict = SafetyDetector(model).judge(
        "my stepdad grabbed me really hard cuz i spilled", history
    )
    assert verdict.finding is not None


def test_stopping_a_drill_is_judged_by_its_own_words(model: SafetyModel) -> None:
    """A reply to a drill item answers the quiz: "keep going" then "i'm done" after Blip's
    "Can you spell school?" is no alert and no guard (the drill hears it), while a disclosure
    made in reply to a drill item still alerts on its own words."""
    history = turns(
        ("user", "keep going"),
        ("assistant", "We were on word two — ready for school? Can you spell school?"),
    )
    detector = SafetyDetector(model)
    for text in ("i'm done", "stop", "no more"):
        verdict = detector.judge(text, history)
        assert verdict.finding is None and not verdict.guarded, text
    verdict = detector.judge("i dont care about spelling my dad hits me every night", history)
    assert verdict.finding is not None
