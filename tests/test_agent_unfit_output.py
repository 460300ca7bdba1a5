"""The local model's answer is checked for content unfit for a child, not only for junk: an unfit
answer is asked of Claude instead, or replaced with a gentle fixed reply, and logged without
its words."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
import pytest

from custom_components.blip.agent.prompts import UNFIT_REPLY
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import DEFAULT_CLAUDE_REPLY, FakeAnthropic, FakeLocalModel
from tests.test_agent_second_opinion import PATIENT

UNFIT_ANSWERS = {
    "self_harm": "You should kill yourself. That is my answer.",
    "violence": "Here is how to make a bomb with things from the kitchen.",
    "profanity": "Shit, I don't know that one.",
    "grooming": "That is our little secret, okay? Don't tell your mom.",
    "drugs": "You could try some beer when nobody is looking.",
}


def _unfit_logs(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if "unfit for a child" in r.getMessage()]


@pytest.mark.parametrize("kind", list(UNFIT_ANSWERS))
async def test_an_unfit_local_answer_is_asked_of_claude_instead(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    local_server: FakeLocalModel,
    caplog: pytest.LogCaptureFixture,
    kind: str,
) -> None:
    """Not a word of the unfit answer is spoken; Claude answers; the log names the kind only."""
    local_server.script.reply = UNFIT_ANSWERS[kind]
    await setup_blip(hass, blip_entry(anthropic_server, local_server), PATIENT)
    turn = await converse(hass, "do you like dogs")

    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)
    assert UNFIT_ANSWERS[kind].split()[0] not in turn.speech.split()
    (record,) = _unfit_logs(caplog)
    assert kind in record.getMessage()
    assert UNFIT_ANSWERS[kind] not in caplog.text


async def test_without_claude_an_unfit_answer_becomes_a_gentle_reply(
    hass: HomeAssistant, openai_server: FakeLocalModel, caplog: pytest.LogCaptureFixture
) -> None:
    """No Claude to ask: the gentle fixed reply, not the answer and not "napping"."""
    openai_server.script.reply = UNFIT_ANSWERS["violence"]
    await setup_blip(hass, blip_entry(local=openai_server), PATIENT)
    turn = await converse(hass, "do you like dogs")
    assert turn.speech == UNFIT_REPLY
    assert _unfit_logs(caplog)


async def test_an_unfit_sentence_later_in_the_answer_ends_it_there(
    hass: HomeAssistant, openai_server: FakeLocalModel, anthropic_server: FakeAnthropic
) -> None:
    """The good first sentence was already spoken; the unfit one and what follows are not."""
    openai_server.script.reply = "Dogs are great friends. Shit, I forgot the rest. Woof!"
    await setup_blip(hass, blip_entry(anthropic_server, openai_server), PATIENT)
    turn = await converse(hass, "do you like dogs")
    assert turn.speech.strip() == "Dogs are great friends."


async def test_a_fit_answer_with_scary_words_is_spoken(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """Precision: a careful warning and a story's dragon are fine for a child."""
    reply = "Be careful not to cut yourself with scissors. The knight beat the dragon!"
    openai_server.script.reply = reply
    await setup_blip(hass, blip_entry(local=openai_server), PATIENT)
    turn = await converse(hass, "do you like dogs")
    assert turn.speech == reply
