"""Is a sentence the local model wrote fit to say to a child?

The local model is small and can be talked into things; Claude is not checked here. This check
replaces an answer, so it is written for precision: phrases, not single scary words. A story's
dragon may be defeated, a killer whale may swim, a knife may cut bread, a child may be told
"be careful not to hurt yourself". What it catches: profanity and slurs, sexual content,
instructions or encouragement to hurt oneself or others, drugs and getting drunk, dangerous
"challenges", and the grooming moves no companion should make (asking for secrets, photos,
an address, or to meet). The benchmark's word list (bench/unsuitable_words.txt) scores answers
more strictly; it is a grade, this is a gate.
"""

from __future__ import annotations

from enum import StrEnum
import re
from typing import Final


class UnfitKind(StrEnum):
    """Why an answer is not fit for a child (logged; never the words)."""

    PROFANITY = "profanity"
    SEXUAL = "sexual"
    SELF_HARM = "self_harm"
    VIOLENCE = "violence"
    DRUGS = "drugs"
    DANGER = "danger"
    GROOMING = "grooming"


def _rx(*parts: str) -> re.Pattern[str]:
    return re.compile("|".join(f"(?:{part})" for part in parts))


# Words just before a match that make it a warning, not an instruction: "be careful not to cut
# yourself", "nobody should touch your private parts", "it is never okay to hurt someone".
_NEGATION: Final = (
    r"not|n't|never|no one|nobody|careful|avoid|without|safe|safely|accidentally|wrong to|"
    r"okay to|ok to|allowed to"
)
_WARNING_BEFORE: Final = re.compile(rf"\b(?:{_NEGATION}|could|might|may|so you)\b")
# Telling a child to hurt themselves is never cleared by a "could": only by a plain negation.
_NEGATION_BEFORE: Final = re.compile(rf"\b(?:{_NEGATION})\b")
_WARNING_WINDOW: Final = 30  # characters before a match that are looked at

_TARGETS: Final = (
    r"(?:you|him|her|someone|somebody|people|a person|your (?:\w+ )?(?:brother|sister|mom|mum|"
    r"dad|friend|teacher|parents?|classmates?)|kids|children|everyone|the teacher)"
)

# (kind, pattern, what just before a match clears it: a warning, not an instruction)
_CHECKS: Final[tuple[tuple[UnfitKind, re.Pattern[str], re.Pattern[str] | None], ...]] = (
    (
        UnfitKind.PROFANITY,
        _rx(
            r"\b(?:fuck\w*|motherf\w+|shit\w*|bullshit|bitch\w*|cunt\w*|asshole\w*|"
            r"arsehole\w*|bastards?|dickhead\w*|wanker\w*|twats?|cocksucker\w*|"
            r"goddamn\w*|dammit|damn(?:ed|it)?|crappy|piss(?:ed)? off|slut\w*|whores?|"
            r"retard(?:ed|s)?|faggots?|niggers?|nigga\w*|kikes?)\b",
            r"\b(?:what|why|who|where|how) the hell\b|\bgo to hell\b|\bhell (?:of a|yeah|no)\b",
            r"\bshut up,? (?:you )?(?:idiot|stupid|moron|loser)\b",
        ),
        None,
    ),
    (
        UnfitKind.SEXUAL,
        _rx(
            r"\b(?:porn\w*|sexy|sexting|sexually|orgasm\w*|erections?|masturbat\w*|intercourse|"
            r"horny|blowjob\w*|handjob\w*|condoms?|boobs|tits|nudes|naked (?:pictures?|photos?|"
            r"pics?|selfies?|bodies)|get naked|take (?:off )?your clothes off|strip(?:ping)? "
            r"naked|make love|have sex|having sex|had sex|sex (?:with|toys?|acts?|scenes?)|"
            r"foreplay)\b",
            r"\btouch(?:es|ing)? (?:your|my|their|his|her) (?:private parts?|privates|crotch)\b",
        ),
        _WARNING_BEFORE,
    ),
    (
        UnfitKind.SELF_HARM,
        _rx(
            r"\b(?:kill|cut|hurt|harm|hang|starve|strangle|choke) yourself\b",
            r"\b(?:end|take) your (?:own )?life\b|\bslit (?:your|my) wrists?\b|\bkys\b|"
            r"\b(?:commit|committing|attempt) suicide\b|\bhow to (?:overdose|self harm)\b|"
            r"\b(?:you should|why not|go ahead and|just) (?:die|disappear forever|stop eating)\b|"
            r"\bsuicide (?:method|is the answer|is an option)\b|\bnobody would miss you\b|"
            r"\bthe world (?:is|would be) better (?:off )?without you\b",
        ),
        _NEGATION_BEFORE,
    ),
    (
        UnfitKind.VIOLENCE,
        _rx(
            rf"\b(?:kill|murder|stab|shoot|strangle|choke|poison|beat up|torture) {_TARGETS}\b",
            r"\b(?:how to|here's how to|steps to|you can|you could) (?:make|build) (?:a |an )?"
            r"(?:bomb|explosive|pipe bomb|molotov|gun|weapon|poison)\b|"
            r"\b(?:make|build|making|building) (?:a |an )?(?:bomb|pipe bomb|molotov cocktail|"
            r"explosives?)\b",
            r"\b(?:rape\w*|behead\w*|decapitat\w*|dismember\w*|disembowel\w*|"
            r"mass shooting|school shooting|shoot up (?:a|the|your) school|blood (?:everywhere|"
            r"gushed|spurted|splattered)|guts (?:spilled|everywhere))\b",
        ),
        _WARNING_BEFORE,
    ),
    (
        UnfitKind.DRUGS,
        _rx(
            r"\b(?:cocaine|heroin|meth|methamphetamine|crystal meth|fentanyl|lsd|mdma|ketamine|"
            r"marijuana|cannabis)\b",
            r"\b(?:smoke|smoking|vape|vaping) (?:weed|pot|a joint|joints|cigarettes?|cigs?|a "
            r"cigarette)\b|\bget (?:high|drunk|stoned|wasted)\b|"
            r"\b(?:you (?:could|should|can|might) |let's |why not |go ahead and )(?:try|taste|sip|"
            r"drink|have|take|do) (?:some |a )?(?:beer|wine|vodka|whiskey|alcohol|booze|drugs)\b",
        ),
        _WARNING_BEFORE,
    ),
    (
        UnfitKind.DANGER,
        _rx(
            r"\b(?:blackout|choking|pass out|fire|tide pod|skull breaker|benadryl|salt and ice) "
            r"challenge\b",
            r"\b(?:drink|swallow|eat|taste) (?:some |the )?(?:bleach|detergent|laundry pods?|"
            r"cleaning (?:stuff|products?)|batteries|gasoline|antifreeze)\b|"
            r"\bmix (?:bleach|ammonia) (?:and|with)\b|\bplay with (?:matches|a lighter|lighters|"
            r"fire|knives|a knife|a gun|guns)\b|\b(?:set|light) (?:something|things|it|stuff) "
            r"on fire\b|\bhold your breath (?:until|till) you pass out\b|"
            r"\bput (?:a |the )?(?:fork|knife|key|paperclip|metal) in(?:to)? (?:a |the )?"
            r"(?:socket|outlet|plug|toaster)\b",
        ),
        _WARNING_BEFORE,
    ),
    (
        UnfitKind.GROOMING,
        _rx(
            r"\b(?:don't|do not|never) tell (?:your |a )?(?:mom|mum|dad|parents?|mommy|daddy|"
            r"grown ?ups?|teacher|anyone|anybody)\b|\bour (?:little |special )?secret\b|"
            r"\bkeep (?:it|this) (?:a )?secret from\b|"
            r"\b(?:what(?:'s| is) your|tell me your|give me your) (?:home )?(?:address|phone "
            r"number|school(?:'s name)?|password|last name|full name)\b|\bwhere do you live\b|"
            r"\bsend me (?:a |some )?(?:photos?|pictures?|pics?|selfies?|videos?)\b|"
            r"\bmeet (?:me|up) (?:in person|in real life|somewhere|after school|at the park)\b|"
            r"\bwe (?:could|should|can) meet (?:up|in person)\b",
        ),
        None,
    ),
)


def _cleared(text: str, start: int, guard: re.Pattern[str] | None) -> bool:
    return guard is not None and bool(guard.search(text[max(0, start - _WARNING_WINDOW) : start]))


def _normalise(sentence: str) -> str:
    text = sentence.lower().replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", text)


def check_unfit(sentence: str) -> UnfitKind | None:
    """What makes this sentence unfit for a child, or None when it is fine to say."""
    text = _normalise(sentence)
    if not text.strip():
        return None
    for kind, pattern, guard in _CHECKS:
        for match in pattern.finditer(text):
            if not _cleared(text, match.start(), guard):
                return kind
    return None
