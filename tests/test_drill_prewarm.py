"""Drills speak ahead (drill_prewarm.py) in a real Home Assistant with the real Blip agent and Blip
voice on the project's Wyoming TTS server: after a drill question, its likely replies are in
Blip voice's phrase cache before the child answers, and the reply is then spoken from it."""

from __future__ import annotations

import re

from homeassistant.components import conversation, tts
from homeassistant.core import Context, HomeAssistant

from custom_components.blip.agent.drill_expectations import (
    SPELLING_OPENINGS,
    spelling_answer_openings,
)
from custom_components.blip.brain.drills import grade_for_age, word_lists
from custom_components.blip.voice.prewarm import Prewarmer
from custom_components.blip.voice.speakable import phrase_sentences, split_sentences
from tests import voice_fixtures
from tests.agent_helpers import AGENT_ID
from tests.voice_fixtures import WYOMING_SATELLITE, setup_blip_with_voice, voice_runtime
from tests.wyoming_fixtures import ServerAddress

blip_tts_engine = voice_fixtures.blip_tts_engine
tts_server = voice_fixtures.tts_server

VOICE = "en_US-joe-medium"
_ASKED = re.compile(r"Can you spell (\w+)\?")


async def _say(
    hass: HomeAssistant, text: str, conversation_id: str | None = None
) -> tuple[str, str]:
    result = await conversation.async_converse(
        hass, text, conversation_id, Context(), agent_id=AGENT_ID
    )
    return result.response.speech["plain"]["speech"], result.conversation_id


async def _speak(hass: HomeAssistant, text: str) -> None:
    """What a satellite's pipeline does with the reply: Blip voice, the satellite's format."""
    stream = tts.async_create_stream(hass, "tts.blip_voice", None, dict(WYOMING_SATELLITE))
    stream.async_set_message(text)
    async for _ in stream.async_stream_result():
        pass


def _prewarmer(entry) -> Prewarmer:  # type: ignore[no-untyped-def]
    prewarmer = voice_runtime(entry).prewarmer
    assert prewarmer is not None
    return prewarmer


async def test_a_questions_answers_are_cached_before_the_child_answers(
    hass: HomeAssistant, tts_server: ServerAddress
) -> None:
    entry = await setup_blip_with_voice(hass, tts_server)
    prewarmer = _prewarmer(entry)
    question, conversation_id = await _say(hass, "let's practice spelling")
    asked = _ASKED.search(question)
    assert asked, question
    word = asked.group(1).lower()
    job = prewarmer.last_job
    assert job is not None and job.urgent
    await job.done.wait()
    assert not job.superseded and job.failed == 0
    letters = ", ".join(word.upper())
    cache = voice_runtime(entry).cache
    for expected in (f"{letters} spells {word}.", "That's okay!", f"Can you spell {word}?"):
        assert cache.contains(VOICE, expected), expected

    # The child spells it: everything but the next word's question comes from the cache.
    reply, _ = await _say(hass, " ".join(word), conversation_id)
    said = split_sentences(reply)
    assert said[1] == f"{letters} spells {word}."
    assert all(cache.contains(VOICE, sentence) for sentence in said[:-1]), said
    await _speak(hass, reply)
    stats = voice_runtime(entry).last_stats
    assert stats is not None and stats.error is None
    assert stats.from_cache >= len(said) - 1  # at most "Can you spell <next word>?" is made


async def test_the_childrens_grade_list_is_queued_at_start_up(
    hass: HomeAssistant, tts_server: ServerAddress
) -> None:
    entry = await setup_blip_with_voice(hass, tts_server)
    [job] = _prewarmer(entry).background_jobs
    assert not job.urgent
    openings = phrase_sentences(SPELLING_OPENINGS)
    assert list(job.sentences[: len(openings)]) == openings
    words = word_lists()[grade_for_age(7)]  # tests.agent_helpers' child is 7
    assert set(spelling_answer_openings(words)) <= set(job.sentences)


async def test_an_uncached_spelling_answer_opens_with_a_cached_sentence(
    hass: HomeAssistant, tts_server: ServerAddress
) -> None:
    entry = await setup_blip_with_voice(hass, tts_server)
    prewarmer = _prewarmer(entry)
    # Before the openings are cached, nothing is added: a child never waits for one.
    first, _ = await _say(hass, "how do you spell zebra")
    assert first.startswith("Zebra is spelled Z, E, B, R, A.")
    openings = prewarmer.request(SPELLING_OPENINGS, urgent=True)
    await openings.done.wait()

    answer, _ = await _say(hass, "how do you spell zebra")
    opening = next(o for o in SPELLING_OPENINGS if answer.startswith(o))
    assert answer == f"{opening} {first}"  # the letters are the drill engine's, untouched
    await _speak(hass, answer)
    stats = voice_runtime(entry).last_stats
    assert stats is not None and stats.from_cache >= 1 and stats.error is None

    # Once the spelled sentence itself is cached, the answer starts with it.
    spelled = prewarmer.request(["Zebra is spelled Z, E, B, R, A."], urgent=True)
    await spelled.done.wait()
    again, _ = await _say(hass, "how do you spell zebra")
    assert again == first
