"""Drills speak ahead: their predictable sentences reach Blip voice's phrase cache early.

Two moments (see agent/drill_expectations.py for what is predicted, voice/prewarm.py for how it
is synthesized without delaying live speech):

- once Blip voice takes requests: the opening sentence of "how do you spell <word>" for every
  word of each child's grade list (background: about 16 CPU seconds and 7.5 MB for a grade);
- after every drill turn that leaves a question open: the likely replies to it (urgent: the
  child answers within seconds);
- before a spelling answer whose first sentence is not cached (a word in no list): a short cached
  opening goes first, so audio starts while piper makes the spelled sentence.

Satellites (through Home Assistant's pipeline) and paired devices speak with the same Blip
voice entity, so both find these sentences in its cache. Without Blip voice this does nothing.
"""

from __future__ import annotations

from dataclasses import replace
import itertools
import logging

from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.dispatcher import async_dispatcher_connect

from . import BlipConfigEntry
from .agent.drill_expectations import (
    SPELLING_OPENINGS,
    expected_sentences,
    is_spelling_answer,
    spelling_answer_openings,
)
from .brain.drills import DrillState, grade_for_age, word_lists
from .brain.router import RouteDecision
from .const import CONF_AGE, SUBENTRY_CHILD
from .voice.prewarm import SIGNAL_PREWARM_READY, Prewarmer, PrewarmJob
from .voice.speakable import split_sentences

_LOGGER = logging.getLogger(__name__)
_OPENING_TURNS = itertools.count()


def _prewarmer(entry: BlipConfigEntry) -> Prewarmer | None:
    voice = getattr(entry.runtime_data, "voice", None)
    return voice.prewarmer if voice is not None else None


def _grade_words(entry: BlipConfigEntry) -> list[str]:
    """Every word of the grade lists the family's children practise, in list order."""
    grades: dict[int, None] = {}
    for subentry in entry.subentries.values():
        if subentry.subentry_type != SUBENTRY_CHILD:
            continue
        age = subentry.data.get(CONF_AGE)
        grades.setdefault(grade_for_age(int(age) if age is not None else None), None)
    lists = word_lists()
    return [word for grade in grades for word in lists[grade]]


@callback
def async_setup(hass: HomeAssistant, entry: BlipConfigEntry) -> None:
    """Warm the children's grade lists as soon as Blip voice can (now, or when it is added)."""

    @callback
    def warm_word_lists() -> None:
        if (prewarmer := _prewarmer(entry)) is None:
            return
        try:
            openings = spelling_answer_openings(_grade_words(entry))
        except Exception:  # speaking ahead is an optimisation: never a reason to fail set-up
            _LOGGER.exception("Blip could not list the spelling answers to speak ahead")
            return
        prewarmer.request([*SPELLING_OPENINGS, *openings], urgent=False)

    entry.async_on_unload(
        async_dispatcher_connect(hass, SIGNAL_PREWARM_READY.format(entry.entry_id), warm_word_lists)
    )
    warm_word_lists()


@callback
def expect_answer(
    entry: BlipConfigEntry, state: DrillState | None, age: int | None
) -> PrewarmJob | None:
    """A drill question is open: synthesize its likely replies before the child answers."""
    if state is None or (prewarmer := _prewarmer(entry)) is None:
        return None
    try:
        sentences = expected_sentences(state, age)
    except Exception:
        _LOGGER.exception("Blip could not predict a drill's next replies")
        return None
    return prewarmer.request(sentences, urgent=True)


def with_cached_opening(entry: BlipConfigEntry, decision: RouteDecision) -> RouteDecision:
    """A spelling answer Blip voice has not cached opens with one it has (see module doc)."""
    reply = decision.drill_reply
    if reply is None or reply.results or (prewarmer := _prewarmer(entry)) is None:
        return decision
    said = split_sentences(reply.text)
    if not said or not is_spelling_answer(said[0]) or prewarmer.is_cached(said[0]):
        return decision
    turn = next(_OPENING_TURNS)
    for offset in range(len(SPELLING_OPENINGS)):
        opening = SPELLING_OPENINGS[(turn + offset) % len(SPELLING_OPENINGS)]
        if prewarmer.is_cached(opening):
            return replace(decision, drill_reply=replace(reply, text=f"{opening} {reply.text}"))
    return decision
