"""Picking up an unfinished practice session on another satellite, or after a restart.

A child who walks from the bedroom to the kitchen should hear "We were on word four — ready for
because?" rather than start over. This module holds the pure parts: what counts as asking to
carry on, and what Blip says when it does. Where the session is kept (per child, across
restarts, within the family's window) is ``child_session.py``.
"""

from __future__ import annotations

import re
from typing import Final

from .drills import SPELLING, DrillEngine, DrillState

_CARRY_ON = re.compile(
    r"\b(continue|keep going|carry on|where were we|resume|pick up where|finish (my|the|our) "
    r"(words|quiz|spelling|math|maths|questions)|let'?s keep going|keep practi[cs]ing|"
    r"go on|back to (my|the|our) (words|quiz|spelling|math|maths))\b"
)
_YES = re.compile(r"^(yes|yeah|yep|yup|sure|ok|okay|ready|i'?m ready|let'?s go)\b")
_ORDINALS: Final = (
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
)
_CHECKER: Final = DrillEngine()


def wants_to_resume(text: str, state: DrillState, invited: bool = False) -> bool:
    """Does the child ask to carry on with this unfinished session?

    "Keep going", "where were we", or asking for the same kind of practice again ("let's do
    spelling"). ``invited`` is set when Blip itself just asked (blip.start_drill's "Are you
    ready?"): then a plain "yes" carries on too.
    """
    if not isinstance(text, str):
        return False
    lowered = " ".join(text.lower().replace("’", "'").split()).strip(" .!?,")
    if not lowered or len(lowered) > 200:
        return False
    if _CARRY_ON.search(lowered) or (invited and _YES.match(lowered)):
        return True
    started = _CHECKER.respond(lowered, None)
    return started is not None and started.state is not None and started.state.kind == state.kind


def resume_offer(state: DrillState) -> str:
    """ "We were on word four — ready for because? Can you spell because?" """
    number = state.total_count + 1
    spoken = _ORDINALS[number - 1] if number <= len(_ORDINALS) else str(number)
    if state.kind == SPELLING:
        return f"We were on word {spoken} — ready for {state.item}? Can you spell {state.item}?"
    left, right, operation = _fact_words(state)
    return f"We were on question {spoken} — ready? What is {left} {operation} {right}?"


def _fact_words(state: DrillState) -> tuple[str, str, str]:
    symbols = {"add": ("+", "plus"), "sub": ("-", "minus"), "mul": ("x", "times")}
    symbol, word = symbols.get(state.operation or "", ("/", "divided by"))
    left, _, right = state.item.partition(symbol)
    return left, right, word
