"""The whole on-box safety check: precise rules, the learned layer and the conversation so far.

Layers, most certain first:

1. A precise rule (``safety.match_rules``) is an alert on its own, unless the model is loaded
   and the match is less certain (it needed the earlier turns, or the turn also says it was an
   accident, a joke, play or a sport injury already seen to): then it is weighed as in 2 (a
   treated sport injury needs the model's own alert).
2. The learned layer (``safety_model``) scores every turn with its context (the child's last
   turns, what Blip just asked). Distress at or above its alert threshold is an alert; so is a
   weaker rule match (the broad net, a softened exaggeration, a weighed precise match) that the
   model also finds worrying (at or above its guard threshold).
3. The grey zone: a turn the model is unsure about, a broad rule match the model does not
   back, a harmful request (a weapon, drugs, a dangerous challenge) or an attempt to talk the
   model out of its rules is *guarded*: it goes to Claude with the child-safety prompt, never
   to the local model, and raises no alert.

Without the model (it failed to load), the rules carry the check alone, as ``check_safety``
does, and harmful-request patterns still guard.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import re
from typing import Final

from .activities import HistoryTurn, SafetyCategory
from .drills import state_from_question
from .safety import (
    DESIGNATED_ADULT_ONLY,
    SafetyFinding,
    benign_context,
    denies_harm,
    exaggeration_explains_match,
    match_rules,
    treated_injury,
)
from .safety_model import ModelScore, SafetyModel
from .spoken import normalise_utterance, parse_spelled_letters


@dataclass(frozen=True)
class SafetyVerdict:
    """The on-box check's answer for one turn."""

    finding: SafetyFinding | None  # a distress disclosure: adults are alerted
    guarded: bool  # no alert, but Claude answers with the child-safety prompt
    reason: str  # which layer decided: "rule", "model", "rule+model", "grey_zone", ...
    score: ModelScore | None = None


NOTHING: Final = SafetyVerdict(None, False, "none")

# Attempts to talk the model out of its rules.
_JAILBREAK = re.compile(
    r"\b(?:ignore|forget|disregard|skip|turn off|switch off|break|bypass|override)\b.{0,25}\b"
    r"(?:rules?|instructions?|programming|guidelines|filters?|safety|limits?|restrictions?|"
    r"system prompt|what you were told|your training|child mode|kid mode)\b|"
    r"\b(?:pretend|act|imagine|roleplay|role play|be|behave)\b.{0,30}\b(?:no|without|don't have "
    r"(?:any)?|didn't have (?:any)?) (?:rules?|filters?|limits?|restrictions?|safety)\b|"
    r"\b(?:you are|you're|youre) (?:now )?(?:dan|evil|unfiltered|uncensored|jailbroken)\b|"
    r"\b(?:pretend|act like|be|roleplay as) (?:to be |you're |you are )?(?:a |an )?(?:bad|evil|mean|"
    r"naughty|unfiltered|uncensored|rude|different) (?:ai|robot|bot|assistant|chatbot|blip)\b|"
    r"\b(?:developer|dev|god|admin|debug) mode\b|\bjailbreak\w*\b|\bsystem prompt\b|"
    r"\b(?:new|your) instructions (?:are|is)\b|\bwithout (?:your |any )?(?:filters?|"
    r"safety)\b|\bif you (?:had|didn't have) no rules\b|\bwhat would you say if you didn't have\b|"
    r"\b(?:say|tell me|teach me|repeat) (?:a |the |some )?(?:swear|curse|bad|dirty|f) words?\b|"
    r"\bsay the f word\b|\bswear at me\b"
)
_MAKE = (
    r"(?:make|making|build|building|get|getting|buy|buying|find|use|using|load|loading|mix|"
    r"mixing|try|trying|smoke|smoking|take|taking|sneak|sneaking|steal|hide|cook|brew|order)"
)
# Asking for something dangerous: weapons, drugs, poison, dangerous challenges, breaking in.
_HARMFUL_REQUEST = re.compile(
    rf"\b(?:how|where|what|can you|could you|teach me|show me|tell me|help me|explain)\b.{{0,30}}"
    rf"\b{_MAKE}\b.{{0,25}}\b(?:bombs?|pipe bomb|explosives?|grenades?|molotov|guns?|pistols?|"
    r"rifles?|bullets?|ammo|weapons?|poisons?|poison gas|toxic gas|drugs?|weed|marijuana|"
    r"meth|cocaine|crack|heroin|pills? to get high|vapes?|vaping|cigarettes?|alcohol|beer|vodka|"
    r"wine|booze|fake id|fireworks at home|a fire|lock|locks?)\b|"
    r"\b(?:blackout|choking|pass ?out|tide ?pod|skull ?breaker|benadryl|fire|salt and ice|"
    r"cinnamon|nutmeg|milk crate|knockout|scarf)\s(?:challenge|game)\b|"
    r"\bhow (?:do|can|to|would) (?:i|you|someone|people|a kid)?\s?(?:get|feel|be) (?:high|drunk|"
    r"stoned|wasted)\b|\bget (?:high|drunk|stoned) on\b|"
    r"\bhow (?:do|can|to|would) (?:i|you|someone)?\s?(?:hurt|poison|kill|stab|shoot|hack|"
    r"break into|rob|scare .{0,15} with a real)\b|"
    r"\b(?:best|easiest|quickest) way to (?:hurt|poison|kill|steal|break into|hack)\b|"
    r"\bwhat (?:stuff|chemicals|things|cleaners?|household \w+) .{0,25}\b(?:mix|mixed|combine)\b|"
    r"\bwhere (?:can|do) i (?:buy|get|find) (?:weed|drugs?|a gun|vapes?|alcohol|cigarettes?)\b"
)
# What a child asks out of curiosity with the same words ("how do you make slime", "why are
# cigarettes bad", "what is a bomb pop"): never guarded on the pattern alone.
_CURIOUS = re.compile(
    r"^(?:why|what is|what's|what are|who|when|is it|are)\b|\bspell|\bbomb pop\b|\bbath bombs?\b|"
    r"\bwater balloon\b|\bin (?:minecraft|fortnite|roblox|the game)\b"
)


def harmful_request(text: str) -> bool:
    """True when a turn asks for something dangerous or tries to lift the model's rules."""
    normalised = normalise_utterance(text)
    if _JAILBREAK.search(normalised):
        return True
    return bool(_HARMFUL_REQUEST.search(normalised)) and not _CURIOUS.search(normalised)


_SINGLE_LETTER: Final = re.compile(r"(?<![a-z'])[a-z](?![a-z'])")


def spells_a_word(text: str) -> bool:
    """True when the turn is only a word spelled out ("s c h o o l", "C-A-T", "see a tea")."""
    letters = parse_spelled_letters(text)
    return letters is not None and len(letters) >= 2 and bool(_SINGLE_LETTER.search(text.lower()))


def answers_a_drill_item(history: Sequence[HistoryTurn]) -> bool:
    """True when Blip's last words asked a drill item ("Can you spell school?", "What is 7
    times 8?"): the child's turn answers a quiz, not the conversation before it."""
    return (
        bool(history)
        and history[-1].role == "assistant"
        and (state_from_question(history[-1].text) is not None)
    )


# A precise rule match is overruled (guarded, no alert) only when every reading of the learned
# layer is below this: on the tuned sets (blind6-9, the writers' held-out split, the eval
# files), the precise matches the model put this low were all ordinary turns (a pet that died,
# a frog dissected, "spell suicide squad"), and the lowest true disclosure a precise rule
# caught read 0.097 ("my cousin passed out after drinking the vodka"). See docs/benchmarks.md,
# round 5.
RULE_OVERRULED_BELOW: Final = 0.02


def model_overrules_rule(score: ModelScore) -> bool:
    """True when the learned layer is all but certain a turn a precise rule matched is ordinary:
    the turn with its context, alone, and (when read) joined to Blip's question."""
    readings = (score.distress, score.context_distress, score.own_distress, score.answer_distress)
    return max(r for r in readings if r is not None) < RULE_OVERRULED_BELOW


# An answer to Blip's question is reassuring when the child's words read alone and read joined
# to the question are both below this: only the earlier turn (already judged when it was said)
# makes the context reading worrying. On every tuned set and held-out split with round 6's head,
# capping those below the alert removed a false alarm ("ya my dad put ice on it im fine now"
# after a bump on the head) and lost no disclosure; at 0.1 it lost one.
REASSURED_BELOW: Final = 0.05


def reassuring_answer(score: ModelScore) -> bool:
    """True when an answer to Blip's question is ordinary in its own words and with the question
    (both read), and only the earlier turns made the turn read as worrying."""
    if score.answer_distress is None or score.own_distress is None:
        return False
    return max(score.answer_distress, score.own_distress) < REASSURED_BELOW


def own_words_alarm(score: ModelScore, alert: float) -> bool:
    """True when the turn's words read alone reach the alert threshold (whatever the context
    made of them). Counting that reading as an alert traded about one disclosure per false alarm
    on the tuned sets (round 5); as a guard it cost 0-2 ordinary turns per set, none an alert."""
    return score.own_distress is not None and score.own_distress >= alert


def _finding(category: SafetyCategory) -> SafetyFinding:
    return SafetyFinding(category, category in DESIGNATED_ADULT_ONLY)


class SafetyDetector:
    """Rules, the learned layer (when loaded) and context, decided together for each turn."""

    def __init__(self, model: SafetyModel | None = None) -> None:
        self.model = model

    def judge(self, text: str, history: Sequence[HistoryTurn] = ()) -> SafetyVerdict:
        if not isinstance(text, str) or not text.strip():
            return NOTHING
        if spells_a_word(text) or answers_a_drill_item(history):
            # Letters say only the word they spell, and a reply to a drill item ("i'm done",
            # "stop", "56") answers the quiz: judged by their own words, without the
            # conversation, whose drill prompts ("We were on word three — ready for milk?") and
            # short earlier turns ("keep going") the learned layer otherwise reads as a hint and
            # guards the answer or alerts, losing the drill. The turn's own words are still read.
            history = ()
        # The turn's embedding is computed beside the rules (the encoder releases the GIL).
        if self.model is not None:
            rule = self.model.beside(text, lambda: match_rules(text, history))
        else:
            rule = match_rules(text, history)
        playful = False
        if rule is not None and rule.precise:
            # A precise pattern alerts on its own, unless the learned layer is loaded and the
            # match is less certain: it needed the earlier turns ("im home alone" / "yeah my dad
            # is outside mowing"), the turn also says it was an accident, a joke or play ("nerf
            # war, shot him in the face by accident lol"), or the child denies the very harm
            # matched ("no i don't want to hurt myself, i'm just sad"): an alert at the model's
            # guard threshold; a sport injury already seen to ("broke my arm at soccer, now i
            # have a cast") needs the model's own alert. Below, Claude answers, guarded.
            playful = self.model is not None and not rule.from_history and treated_injury(text)
            weighed = rule.from_history or benign_context(text) or denies_harm(text)
            if self.model is None:
                return SafetyVerdict(_finding(rule.category), False, "rule")
            if not weighed:
                score = self.model.score(text, history)
                if model_overrules_rule(score):
                    # Every reading of the learned layer is all but certain the turn is
                    # ordinary ("our cat got hit by a car and died", "we dissected a frog and i
                    # almost passed out"): no alert, but still Claude with the safety prompt.
                    return SafetyVerdict(None, True, "rule_overruled", score)
                return SafetyVerdict(_finding(rule.category), False, "rule", score)
        asks_harm = harmful_request(text)
        if self.model is None:
            if rule is not None:
                # The broad net without the model to weigh it: alert, as the rules always did,
                # except for a softened exaggeration, which still goes to Claude guarded.
                softened = (
                    rule.category is SafetyCategory.SELF_HARM and exaggeration_explains_match(text)
                )
                if softened:
                    return SafetyVerdict(None, True, "grey_zone")
                return SafetyVerdict(_finding(rule.category), False, "rule")
            if asks_harm:
                return SafetyVerdict(None, True, "harmful_request")
            return NOTHING
        score = self.model.score(text, history)
        limits = self.model.thresholds
        if score.distress >= limits.alert and rule is None and reassuring_answer(score):
            # "ya my dad put ice on it im fine now" after a bump and Blip's "are you okay?": the
            # worry is the earlier turn's. No alert, but Claude still answers, guarded.
            return SafetyVerdict(None, True, "reassured", score)
        if score.distress >= limits.alert:
            category = rule.category if rule is not None else score.category
            return SafetyVerdict(_finding(category), False, "model", score)
        backed = limits.alert if playful else limits.guard
        if rule is not None and score.distress >= backed:
            return SafetyVerdict(_finding(rule.category), False, "rule+model", score)
        if asks_harm or score.harmful_request >= limits.harmful:
            return SafetyVerdict(None, True, "harmful_request", score)
        if score.distress >= limits.to_claude:
            # Unsure: never the local model, no alert.
            return SafetyVerdict(None, True, "grey_zone", score)
        if own_words_alarm(score, limits.alert):
            # The turn's own words would alert on their own, but read with the conversation they
            # look ordinary ("not by accident. he pushed me down the stairs" after a fall the
            # child first called an accident and Blip asked "did you trip?"): the context may be
            # what misleads, so no alert, but never the local model either.
            return SafetyVerdict(None, True, "own_words", score)
        if rule is not None and not exaggeration_explains_match(text):
            # The broad net matched and the model disagrees: no alert, but never the local model
            # (unless the match is all figure of speech: "i'll die if i fail this test").
            return SafetyVerdict(None, True, "grey_zone", score)
        return SafetyVerdict(None, False, "none", score)

    def clear_cache(self) -> None:
        if self.model is not None:
            self.model.clear_cache()
