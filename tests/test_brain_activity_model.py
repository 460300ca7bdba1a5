"""The learned activity head, with the real encoder: loaded with the safety model, used by the
router where the activity rules are weak, never over the rules a drill depends on."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pytest

from custom_components.blip.brain import Activity, Backend, HistoryTurn, Router
from custom_components.blip.brain.activity_model import (
    ACTIVITY_HEAD_PATH,
    ACTIVITY_LABELS,
    ActivityHead,
    activity_input,
    embedding_dim,
)
from custom_components.blip.brain.router import classify_activity, classify_activity_why
from custom_components.blip.brain.safety_model import FLAGS, SafetyModel, load_safety_model
from tests import safety_fixtures

model = safety_fixtures.model
router = safety_fixtures.router


def test_the_committed_activity_head_loads_with_the_safety_model(model: SafetyModel) -> None:
    assert model.activity_head is not None
    head = ActivityHead(ACTIVITY_HEAD_PATH)
    # It reads the turn's and the previous child turn's embeddings and Blip's flags, all of
    # which the safety check already computed: no second encoding.
    assert head.input_dim == 2 * 384 + FLAGS
    assert head.reads_history(384)
    assert head.members == 3
    assert head.probabilities(np.zeros(head.input_dim, np.float32)).shape == (len(ACTIVITY_LABELS),)
    assert 0.0 < head.confidence < 1.0
    assert 0.0 < head.confidence_weak < 1.0
    assert ACTIVITY_HEAD_PATH.stat().st_size < 800_000


def test_the_head_reads_the_turn_the_previous_turn_and_the_flags() -> None:
    dim = 4
    features = np.arange(3 * dim + FLAGS, dtype=np.float32)
    assert embedding_dim(features) == dim
    # The pooled window (8..11) is left out.
    assert activity_input(features).tolist() == [*range(8), *range(12, 12 + FLAGS)]
    batch = np.stack([features, features + 1])
    assert activity_input(batch).shape == (2, 2 * dim + FLAGS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Other languages: the activity rules read only English and a few request and
        # feeling words in other languages (activity_words.py), so they guess small talk here.
        ("cuánto es nueve menos cuatro", Activity.MATH),
        ("pourquoi le ciel est bleu", Activity.TRIVIA),
        ("月亮为什么会变形状", Activity.TRIVIA),
        ("por qué los gatos ronronean", Activity.TRIVIA),
    ],
)
def test_the_router_uses_the_head_where_the_rules_guess(
    router: Router, text: str, expected: Activity
) -> None:
    assert classify_activity(text) is not expected  # the rules alone get it wrong
    assert router.decide(text).activity is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("how do you spell elephant", Activity.SPELLING),
        ("what's 7 times 8", Activity.MATH),
        ("quiz me on my spelling words", Activity.SPELLING),
    ],
)
def test_drill_requests_stay_with_the_rules(router: Router, text: str, expected: Activity) -> None:
    decision = router.decide(text)
    assert decision.activity is expected
    assert decision.backend is Backend.DRILL


def test_an_answer_inside_a_drill_stays_in_the_drill(router: Router) -> None:
    history = [HistoryTurn("assistant", "Can you spell rabbit?")]
    decision = router.decide("r a b b i t", history)
    assert decision.activity is Activity.SPELLING
    assert decision.backend is Backend.DRILL


def test_a_missing_activity_head_leaves_the_rules_in_charge(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with caplog.at_level(logging.ERROR):
        model = load_safety_model(activity_head_path=tmp_path / "missing.npz")
    assert model.activity_head is None
    assert "activity rules decide" in caplog.text
    router = Router(safety_model=model)
    text = "cuánto es nueve menos cuatro"
    assert router.decide(text).activity is classify_activity(text)
    # The safety check is untouched.
    assert router.decide("i want to kill myself").safety is not None


def test_an_ensemble_file_averages_its_members(tmp_path: Path) -> None:
    with np.load(ACTIVITY_HEAD_PATH, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    assert arrays["w1"].ndim == 3  # the committed activity head is an ensemble
    singles = []
    for member in range(2):
        single = {**arrays, **{key: arrays[key][member] for key in ("w1", "b1", "w2", "b2")}}
        np.savez(tmp_path / f"member{member}.npz", **single)
        singles.append(ActivityHead(tmp_path / f"member{member}.npz"))
    pair = {**arrays, **{key: arrays[key][:2] for key in ("w1", "b1", "w2", "b2")}}
    np.savez(tmp_path / "pair.npz", **pair)
    head = ActivityHead(tmp_path / "pair.npz")
    assert head.members == 2
    features = np.linspace(-1, 1, head.input_dim, dtype=np.float32)
    expected = (singles[0].probabilities(features) + singles[1].probabilities(features)) / 2
    assert np.allclose(head.probabilities(features), expected, atol=1e-6)


def _head_file(
    tmp_path: Path, name: str, drop: tuple[str, ...] = (), **changes: np.ndarray
) -> Path:
    with np.load(ACTIVITY_HEAD_PATH, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files if key not in drop}
    np.savez(tmp_path / name, **{**arrays, **changes})
    return tmp_path / name


def test_a_turn_no_rule_matched_needs_only_the_weak_confidence(tmp_path: Path) -> None:
    # The head never overrules a rule here (confidence 1.01), but always a rules' guess.
    path = _head_file(
        tmp_path, "weak.npz", confidence=np.array(1.01), confidence_weak=np.array(0.0)
    )
    model = load_safety_model(activity_head_path=path)
    assert model.activity_head is not None
    router = Router(safety_model=model)
    guess = "pourquoi le ciel est bleu"  # no English rule matches: the rules guess small talk
    assert classify_activity_why(guess)[1] == "weak"
    learned = model.activity(guess)
    assert learned is not None
    assert router.decide(guess).activity is learned[0]
    ruled = "tell me a joke about the moon"  # a rule matched: it stands
    assert classify_activity_why(ruled)[1] == "rule"
    assert router.decide(ruled).activity is classify_activity(ruled)


def test_a_head_of_the_turn_alone_still_loads_and_reads_the_turn(tmp_path: Path) -> None:
    # Round 3/4 heads read the turn's embedding only (384 inputs) and stored one confidence:
    # still accepted, that confidence for every reading.
    with np.load(ACTIVITY_HEAD_PATH, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    path = _head_file(
        tmp_path,
        "turn_only.npz",
        drop=("confidence_weak",),
        w1=arrays["w1"][:, :384],
        mean=arrays["mean"][:384],
        scale=arrays["scale"][:384],
        confidence=np.array(0.8),
    )
    model = load_safety_model(activity_head_path=path)
    assert model.activity_head is not None
    assert not model.activity_head.reads_history(384)
    assert model.activity_head.confidence_weak == model.activity_head.confidence == 0.8
    assert model.activity("what is the biggest planet") is not None


def test_a_head_of_another_width_is_refused(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with np.load(ACTIVITY_HEAD_PATH, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    path = _head_file(
        tmp_path,
        "wide.npz",
        w1=arrays["w1"][:, :500],
        mean=arrays["mean"][:500],
        scale=arrays["scale"][:500],
    )
    with caplog.at_level(logging.ERROR):
        model = load_safety_model(activity_head_path=path)
    assert model.activity_head is None
    assert "activity rules decide" in caplog.text


@pytest.mark.parametrize(
    ("text", "history", "expected"),
    [
        # An answer to the child's own quiz question: a fact, not small talk or a story.
        (
            "a cheetah",
            [("user", "what is the fastest animal in the world"), ("assistant", "Can you guess?")],
            Activity.TRIVIA,
        ),
        (
            # (Round 6's head reads "mars" alone as a fact already: another answer here.)
            "a blue whale",
            [("user", "what is the biggest animal ever"), ("assistant", "Can you guess?")],
            Activity.TRIVIA,
        ),
    ],
)
def test_the_head_reads_the_previous_turn(
    model: SafetyModel, text: str, history: list[tuple[str, str]], expected: Activity
) -> None:
    turns = safety_fixtures.turns(*history)
    alone = model.activity(text)
    learned = model.activity(text, turns)
    assert alone is not None and learned is not None
    assert alone[0] is not expected  # the words alone do not say it
    assert learned[0] is expected
    assert model.activity_head is not None
    assert learned[1] >= model.activity_head.confidence_weak


def test_the_rules_and_the_head_agree_on_a_feeling_in_spanish(router: Router) -> None:
    # The rules read "triste" (activity_words.py); the head reads it too.
    text = "estoy muy triste porque mi mejor amiga se mudó"
    assert classify_activity(text) is Activity.EMOTIONAL
    assert router.decide(text).activity is Activity.EMOTIONAL
