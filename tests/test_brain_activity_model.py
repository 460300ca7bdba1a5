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
)
from custom_components.blip.brain.router import classify_activity
from custom_components.blip.brain.safety_model import SafetyModel, load_safety_model
from tests import safety_fixtures

model = safety_fixtures.model
router = safety_fixtures.router


def test_the_committed_activity_head_loads_with_the_safety_model(model: SafetyModel) -> None:
    assert model.activity_head is not None
    head = ActivityHead(ACTIVITY_HEAD_PATH)
    # It reads the turn's own embedding: no second encoding.
    assert head.input_dim == 384
    assert head.probabilities(np.zeros(384, np.float32)).shape == (len(ACTIVITY_LABELS),)
    assert 0.0 < head.confidence < 1.0
    assert ACTIVITY_HEAD_PATH.stat().st_size < 300_000


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Other languages: the activity rules are written in English and guess small talk.
        ("cuánto es nueve menos cuatro", Activity.MATH),
        ("pourquoi le ciel est bleu", Activity.TRIVIA),
        ("月亮为什么会变形状", Activity.TRIVIA),
        ("estoy muy triste porque mi mejor amiga se mudó", Activity.EMOTIONAL),
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
    assert arrays["w1"].ndim == 2  # the committed activity head is one network
    other = {**arrays, "b2": arrays["b2"] + np.arange(len(ACTIVITY_LABELS), dtype=np.float32)}
    np.savez(tmp_path / "other.npz", **other)
    stacked = {
        **arrays,
        **{key: np.stack([arrays[key], other[key]]) for key in ("w1", "b1", "w2", "b2")},
    }
    np.savez(tmp_path / "pair.npz", **stacked)
    pair = ActivityHead(tmp_path / "pair.npz")
    assert pair.members == 2
    features = np.linspace(-1, 1, 384, dtype=np.float32)
    expected = (
        ActivityHead().probabilities(features)
        + ActivityHead(tmp_path / "other.npz").probabilities(features)
    ) / 2
    assert np.allclose(pair.probabilities(features), expected, atol=1e-6)
