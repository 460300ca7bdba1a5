"""Round 5 of the on-box safety check: a precise rule the learned layer is all but certain is
ordinary goes to Claude guarded instead of alerting, and a child's first-person denial of the
harm a rule matched is weighed by the learned layer.

The decision is pure logic over the model's readings, tested directly on ``ModelScore``; the
sentences are new phrasings of their kind (not in the training corpus or any eval set).
"""

from __future__ import annotations

import pytest

from custom_components.blip.brain import Backend, Router, SafetyCategory
from custom_components.blip.brain.safety import benign_context, denies_harm, match_rules
from custom_components.blip.brain.safety_detector import (
    RULE_OVERRULED_BELOW,
    SafetyDetector,
    model_overrules_rule,
    own_words_alarm,
)
from custom_components.blip.brain.safety_model import ModelScore, SafetyModel
from tests import safety_fixtures
from tests.safety_fixtures import turns

model = safety_fixtures.model
router = safety_fixtures.router


def _score(
    distress: float,
    context: float | None = None,
    own: float | None = None,
    answer: float | None = None,
) -> ModelScore:
    return ModelScore(
        distress=distress,
        category=SafetyCategory.SELF_HARM,
        harmful_request=0.0,
        check_in_reply=answer is not None,
        context_distress=distress if context is None else context,
        own_distress=distress if own is None else own,
        answer_distress=answer,
    )


def test_the_model_overrules_a_rule_only_when_every_reading_is_all_but_zero() -> None:
    low = RULE_OVERRULED_BELOW / 4
    assert model_overrules_rule(_score(low))
    assert model_overrules_rule(_score(low, answer=low))
    # Any one reading that sees something keeps the rule's alert: the turn alone...
    assert not model_overrules_rule(_score(low, own=0.3))
    # ...the answer read with Blip's question...
    assert not model_overrules_rule(_score(low, answer=RULE_OVERRULED_BELOW))
    # ...or the turn with its context.
    assert not model_overrules_rule(_score(0.2, context=0.2, own=low))


def test_the_overrule_floor_is_far_below_the_guard_threshold(model: SafetyModel) -> None:
    assert 0 < RULE_OVERRULED_BELOW < model.thresholds.guard / 5


@pytest.mark.parametrize(
    ("text", "denied"),
    [
        ("no i don't want to hurt myself, i'm just grumpy about my lego", True),
        ("i would never hurt myself, that's silly", True),
        ("i'm not gonna run away, i was just mad", True),
        ("no im not thinking about killing myself", True),
        ("i want to hurt myself", False),
        ("i don't know if i want to kill myself", False),
        ("i keep thinking about running away", False),
    ],
)
def test_a_first_person_denial_of_the_harm(text: str, denied: bool) -> None:
    assert denies_harm(text) is denied


def test_a_denial_repeating_blips_check_in_is_not_an_alert_but_goes_to_claude(
    router: Router,
) -> None:
    history = turns(
        ("user", "i feel kind of bad today"),
        (
            "assistant",
            "I'm sorry. Sometimes people who feel bad think about hurting "
            "themselves. Do you ever feel like that?",
        ),
    )
    text = "no i don't want to hurt myself i'm just grumpy cause my lego tower fell"
    rule = match_rules(text, history)
    assert rule is not None and rule.precise  # the rules alone would alert
    decision = router.decide(text, history)
    assert decision.safety is None


def test_a_denial_beside_a_disclosure_still_alerts(router: Router) -> None:
    decision = router.decide("i said i don't want to hurt myself but i cut my arm again last night")
    assert decision.safety is not None
    assert decision.backend is Backend.CLAUDE


def test_precise_disclosures_the_model_backs_still_alert(model: SafetyModel) -> None:
    detector = SafetyDetector(model)
    for text in ("i want to kill myself", "my uncle touches my private parts"):
        verdict = detector.judge(text)
        assert verdict.finding is not None, text
        assert verdict.reason == "rule"
        assert verdict.score is not None and not model_overrules_rule(verdict.score)


def test_words_that_would_alert_alone_never_reach_the_local_model() -> None:
    # The context read them as ordinary (distress low), the words alone at the alert line.
    assert own_words_alarm(_score(0.01, own=0.6), alert=0.55)
    assert not own_words_alarm(_score(0.01, own=0.5), alert=0.55)
    assert not own_words_alarm(_score(0.01, own=None), alert=0.55)


def test_a_disclosure_after_an_accident_story_reaches_claude(
    model: SafetyModel, router: Router
) -> None:
    history = turns(
        ("user", "i hit my head on the door last night"),
        ("assistant", "Oh no, that sounds sore! Are you okay? Did you bump into it?"),
    )
    text = "it wasnt an accident. my stepdad shoved me into it cuz i talked back"
    decision = router.decide(text, history)
    assert decision.backend is Backend.CLAUDE
    assert decision.safety is not None


def test_a_denied_accident_or_joke_does_not_soften_a_disclosure() -> None:
    assert benign_context("i shoved my brother by accident lol")
    assert benign_context("we were joking around and he punched me")
    for text in (
        "it wasnt an accident. my stepdad shoved me into it",
        "not by accident he pushed me down the stairs",
        "im not joking he hits me with the belt",
    ):
        assert not benign_context(text), text
