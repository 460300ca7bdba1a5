"""State follows the child: blip.start_drill's request and an unfinished drill are kept per child
(child_session.py), so the drill starts or carries on on any satellite, across restarts, within
the family's window."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_mock_service

from custom_components.blip.const import (
    CONF_RESUME_MINUTES,
    CONF_SATELLITES,
    DEFAULT_RESUME_MINUTES,
    DOMAIN,
)
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import FakeAnthropic, FakeLocalModel

KITCHEN = "assist_satellite.kitchen"
BEDROOM = "assist_satellite.bedroom"


# blip.start_drill names the child by their device or, as here, one of their entities.
ADA = "sensor.blip_for_ada_words_mastered"


def _spelling_word(speech: str) -> str:
    assert "Can you spell " in speech, speech
    return speech.rsplit("Can you spell ", 1)[1].rstrip("?")


async def test_start_drill_reaches_the_agent_through_the_childs_state(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """The satellite asks "Are you ready?"; the child's "yes" starts the drill, no prompt marker."""
    await setup_blip(
        hass, blip_entry(anthropic_server, openai_server, child={CONF_SATELLITES: [KITCHEN]})
    )
    calls = async_mock_service(hass, "assist_satellite", "start_conversation")
    await hass.services.async_call(
        DOMAIN, "start_drill", {"child": ADA, "kind": "spelling"}, blocking=True
    )
    (call,) = calls
    assert call.data["entity_id"] == KITCHEN
    assert "extra_system_prompt" not in call.data

    yes = await converse(hass, "yes", satellite_id=KITCHEN)
    assert yes.speech.startswith("Let's practice spelling!"), yes.speech
    assert yes.speech.endswith("?")  # the satellite keeps listening for the answer
    assert openai_server.chat_requests == [] and anthropic_server.chat_requests == []

    # The request is used once: a later "yes" in a new conversation is an ordinary turn.
    later = await converse(hass, "what is seven times eight", satellite_id=KITCHEN)
    assert "56" in later.speech or "fifty" in later.speech.lower()


async def test_safety_outranks_a_drill_request(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """A child who answers the drill invitation with distress gets the safety path."""
    await setup_blip(
        hass, blip_entry(anthropic_server, openai_server, child={CONF_SATELLITES: [KITCHEN]})
    )
    async_mock_service(hass, "assist_satellite", "start_conversation")
    await hass.services.async_call(
        DOMAIN, "start_drill", {"child": ADA, "kind": "math"}, blocking=True
    )
    await converse(hass, "no, I want to disappear forever", satellite_id=KITCHEN)
    assert openai_server.chat_requests == []
    (request,) = anthropic_server.chat_requests
    assert "blip_drill" not in str(request)


async def test_an_unfinished_drill_follows_the_child_to_another_satellite(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Spelling in the kitchen, two words right; in the bedroom "keep going" picks up at word
    three."""
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    start = await converse(hass, "let's practice spelling", satellite_id=KITCHEN)
    first = _spelling_word(start.speech)
    right = await converse(hass, " ".join(first), start.conversation_id, satellite_id=KITCHEN)
    second = _spelling_word(right.speech)
    assert second != first  # a new word is not asked twice running
    right = await converse(hass, " ".join(second), start.conversation_id, satellite_id=KITCHEN)
    third = _spelling_word(right.speech)

    # ("lets keep going": round 2's learned layer guarded the bare "can we keep going".)
    bedroom = await converse(hass, "lets keep going", satellite_id=BEDROOM)
    assert bedroom.speech == (
        f"We were on word three — ready for {third}? Can you spell {third}?"
    ), bedroom.speech
    answer = await converse(hass, " ".join(third), bedroom.conversation_id, satellite_id=BEDROOM)
    assert answer.speech.startswith(("That's right!", "Great job!")), answer.speech
    assert openai_server.chat_requests == [] and anthropic_server.chat_requests == []


async def test_an_unfinished_drill_survives_a_restart_within_the_window(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Home Assistant restarts mid-drill (the entry reloads from its files); asking for spelling
    again resumes it. After the family's window it starts afresh."""
    entry = blip_entry(anthropic_server, openai_server, options={CONF_RESUME_MINUTES: 20})
    await setup_blip(hass, entry)
    start = await converse(hass, "let's practice spelling", satellite_id=KITCHEN)
    word = _spelling_word(start.speech)

    assert await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    freezer.tick(timedelta(minutes=10))
    again = await converse(hass, "let's do spelling", satellite_id=BEDROOM)
    assert again.speech == f"We were on word one — ready for {word}? Can you spell {word}?"

    freezer.tick(timedelta(minutes=25))  # past the 20-minute window
    fresh = await converse(hass, "let's do spelling", satellite_id=KITCHEN)
    assert fresh.speech.startswith("Let's practice spelling!"), fresh.speech


async def test_a_finished_drill_is_not_offered_again(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """ "I'm done" ends the drill everywhere: a new conversation starts a new one."""
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    start = await converse(hass, "let's practice spelling", satellite_id=KITCHEN)
    done = await converse(hass, "i'm done", start.conversation_id, satellite_id=KITCHEN)
    assert "What would you like to do next?" in done.speech
    fresh = await converse(hass, "let's do spelling", satellite_id=BEDROOM)
    assert fresh.speech.startswith("Let's practice spelling!"), fresh.speech


async def test_the_childs_latest_state_wins_back_in_the_first_room(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Kitchen, then bedroom (word two), then the kitchen conversation again: it asks what
    the bedroom left off with; a drill finished in the bedroom is not offered anywhere."""
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    kitchen = await converse(hass, "let's practice spelling", satellite_id=KITCHEN)
    bedroom = await converse(hass, "keep going", satellite_id=BEDROOM)
    first = _spelling_word(bedroom.speech)
    right = await converse(hass, " ".join(first), bedroom.conversation_id, satellite_id=BEDROOM)
    second = _spelling_word(right.speech)

    again = await converse(hass, "say it again", kitchen.conversation_id, satellite_id=KITCHEN)
    assert again.speech == f"Sure! Can you spell {second}?", again.speech

    await converse(hass, "i'm done", bedroom.conversation_id, satellite_id=BEDROOM)
    elsewhere = await converse(hass, "keep going", satellite_id="assist_satellite.hall")
    assert not elsewhere.speech.startswith("We were on"), elsewhere.speech


_UNFINISHED = {
    "drill": {"kind": "spelling", "item": "cat", "answer": "cat"},
    "conversation_id": "kitchen-conversation",
    "updated": "2026-03-02T18:00:00+00:00",
}


@pytest.mark.parametrize(
    ("version", "children", "warning"),
    [
        (
            1,
            {"ada": {"drill": {"kind": "chess"}, "updated": "yesterday"}},
            "A saved drill session was damaged and is dropped",
        ),
        (1, {"ada": "spelling cat"}, "a saved session must be an object"),
        (1, {"ada": {**_UNFINISHED, "updated": "2026-03-02T18:00:00"}}, "needs an aware time"),
        # The file of a newer Blip (an unknown layout): not read at all.
        (2, {"ada": _UNFINISHED}, "saved drill sessions could not be read; starting afresh"),
        # A child who is no longer set up: their session is not picked up by anyone.
        (1, {"removed-child": _UNFINISHED}, None),
    ],
    ids=["not-a-drill", "not-an-object", "naive-time", "newer-layout", "removed-child"],
)
async def test_a_damaged_saved_session_is_dropped(
    hass: HomeAssistant,
    hass_storage: dict[str, Any],
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    caplog: pytest.LogCaptureFixture,
    version: int,
    children: dict[str, Any],
    warning: str | None,
) -> None:
    """A saved session that is not one (a file edited by hand, an older layout): dropped with a
    warning, the child starts afresh, nothing else breaks."""
    entry = blip_entry(anthropic_server, openai_server)
    (ada_id,) = entry.subentries
    hass_storage["blip.child_sessions"] = {
        "version": version,
        "key": "blip.child_sessions",
        "data": {"children": {ada_id if k == "ada" else k: v for k, v in children.items()}},
    }
    await setup_blip(hass, entry)
    if warning is not None:
        assert warning in caplog.text
    fresh = await converse(hass, "let's do spelling", satellite_id=KITCHEN)
    assert fresh.speech.startswith("Let's practice spelling!"), fresh.speech


async def test_a_resume_window_that_is_not_a_number_is_the_default(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Options edited by hand ("soon"): the default window applies and resuming still works."""
    entry = blip_entry(anthropic_server, openai_server, options={CONF_RESUME_MINUTES: "soon"})
    await setup_blip(hass, entry)
    assert entry.runtime_data.sessions.window == timedelta(minutes=DEFAULT_RESUME_MINUTES)
    start = await converse(hass, "let's practice spelling", satellite_id=KITCHEN)
    word = _spelling_word(start.speech)
    again = await converse(hass, "let's do spelling", satellite_id=BEDROOM)
    assert again.speech == f"We were on word one — ready for {word}? Can you spell {word}?"
