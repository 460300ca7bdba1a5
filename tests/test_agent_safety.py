"""The safety path: Claude with the child-safety prompt or a pre-written safe reply, never the
local model, never silence; the event and the adults' notifications always, with minimal content.
"""

from __future__ import annotations

from collections.abc import Callable

from homeassistant.core import HomeAssistant, ServiceCall
from homeassistant.helpers import intent
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events, async_mock_service

from custom_components.blip.agent.prompts import safe_reply
from custom_components.blip.brain import SafetyCategory
from custom_components.blip.const import (
    CONF_DESIGNATED_ADULT,
    CONF_ROUTING,
    CONF_SAFETY_NOTIFY,
    EVENT_SAFETY_SIGNAL,
)
from custom_components.blip.phrases import FILLERS_CALM
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import DEFAULT_CLAUDE_REPLY, FakeAnthropic, FakeLocalModel

# Every choosable activity on the local model: the family's options cannot move safety there.
ALL_LOCAL = {
    CONF_ROUTING: {
        activity: "local"
        for activity in ("spelling", "math", "chitchat", "creative", "trivia", "emotional")
    }
}
SELF_HARM = "I want to hurt myself"
ABUSE = "he touched my private parts and said it is our secret"
GROOMING = "someone online asked for my address"


def safe_reply_body(category: SafetyCategory, country: str | None) -> str:
    """The safe reply without its opening thanks (left out after a thanking filler)."""
    return safe_reply(category, country).removeprefix("Thank you for telling me. ")


CLAUDE_CONDITIONS: dict[str, Callable[[FakeAnthropic], None]] = {
    "unreachable": lambda s: None,  # the entry points Claude at a dead port instead
    "slow": lambda s: setattr(s.script, "first_token_delay", 1.0),
    "unauthorized": lambda s: setattr(s, "valid_key", "sk-ant-rotated"),
    "rate_limited": lambda s: setattr(s.script, "status", 429),
    "server_error": lambda s: setattr(s.script, "status", 500),
    "overloaded": lambda s: setattr(s.script, "status", 529),
    "refusal": lambda s: setattr(s, "stop_reason", "refusal"),
    "stall": lambda s: setattr(s.script, "stall_after_chunks", 1),
    "malformed": lambda s: setattr(s.script, "malformed_after_chunks", 0),
}


@pytest.mark.parametrize(
    ("text", "category"),
    [
        (SELF_HARM, SafetyCategory.SELF_HARM),
        (ABUSE, SafetyCategory.ABUSE),
        (GROOMING, SafetyCategory.GROOMING),
    ],
)
async def test_safety_turn_goes_to_claude_with_the_child_safety_prompt(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    local_server: FakeLocalModel,
    text: str,
    category: SafetyCategory,
) -> None:
    """Even with every activity routed to the local model, a safety turn is Claude's, with the
    safety prompt, and starts with a calm filler."""
    await setup_blip(hass, blip_entry(anthropic_server, local_server, options=ALL_LOCAL))
    turn = await converse(hass, text)
    assert local_server.chat_requests == []
    (request,) = anthropic_server.chat_requests
    system = request["system"][0]["text"]
    assert "not their fault" in system
    assert "trusted grown-up" in system
    assert "Do not ask for details" in system
    assert turn.contents[0] in FILLERS_CALM
    assert turn.speech == turn.contents[0] + DEFAULT_CLAUDE_REPLY


@pytest.mark.parametrize("condition", list(CLAUDE_CONDITIONS))
async def test_safety_turn_never_reaches_local_whatever_claude_does(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    local_server: FakeLocalModel,
    unused_tcp_port: int,
    condition: str,
) -> None:
    """Claude down, slow, rejecting the key, rate limited, overloaded, refusing, stalling or
    garbled: the child hears the pre-written safe reply; the local model is never asked."""
    hass.config.country = "US"
    claude_url = f"http://127.0.0.1:{unused_tcp_port}" if condition == "unreachable" else None
    entry = blip_entry(anthropic_server, local_server, options=ALL_LOCAL, claude_url=claude_url)
    await setup_blip(hass, entry)
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    CLAUDE_CONDITIONS[condition](anthropic_server)

    turn = await converse(hass, SELF_HARM)
    await hass.async_block_till_done()

    assert turn.result.response.response_type is intent.IntentResponseType.ACTION_DONE
    reply = safe_reply_body(SafetyCategory.SELF_HARM, "US")
    assert turn.speech.endswith(reply)
    assert "9 8 8" in reply
    assert local_server.chat_requests == []
    assert len(events) == 1


async def test_safety_turn_without_claude_speaks_the_safe_reply(
    hass: HomeAssistant, local_server: FakeLocalModel
) -> None:
    """A family with only the local model still gets the safe reply (and never the model)."""
    await setup_blip(hass, blip_entry(local=local_server))
    turn = await converse(hass, ABUSE)
    assert turn.speech.endswith(safe_reply_body(SafetyCategory.ABUSE, hass.config.country))
    assert local_server.chat_requests == []


async def test_safety_event_and_alerts_carry_minimal_content(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """The event says who, what kind, when and where; adults are notified; no transcript."""
    mom = async_mock_service(hass, "notify", "mom_phone")
    dad = async_mock_service(hass, "notify", "dad_phone")
    grandma = async_mock_service(hass, "notify", "grandma")
    options = {
        CONF_SAFETY_NOTIFY: ["notify.mom_phone", "notify.dad_phone"],
        CONF_DESIGNATED_ADULT: "notify.grandma",
    }
    entry = blip_entry(anthropic_server, options=options)
    await setup_blip(hass, entry)
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)

    await converse(hass, SELF_HARM, satellite_id="assist_satellite.ada_room")
    await hass.async_block_till_done()

    (event,) = events
    assert set(event.data) == {"child", "child_id", "category", "time", "satellite"}
    assert event.data["child"] == "Ada"
    assert event.data["category"] == "self_harm"
    assert event.data["satellite"] == "assist_satellite.ada_room"
    (subentry_id,) = entry.subentries
    assert event.data["child_id"] == subentry_id
    assert len(mom) == len(dad) == len(grandma) == 1
    message = mom[0].data["message"]
    assert "Ada" in message
    assert "hurt myself" not in message
    assert SELF_HARM not in repr(event.data)


async def test_an_alert_target_that_fails_does_not_stop_the_others(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    """A target that is not a notify service, one that is gone, and one that breaks: each is
    logged, and the parent whose phone works is still told, with the room's name."""
    mom = async_mock_service(hass, "notify", "mom_phone")

    async def broken(_call: ServiceCall) -> None:
        raise RuntimeError("the notify integration broke")

    hass.services.async_register("notify", "broken_tablet", broken)
    hass.states.async_set("assist_satellite.ada_room", "idle", {"friendly_name": "Ada's room"})
    options = {
        CONF_SAFETY_NOTIFY: [
            "light.kitchen",
            "notify.gone_phone",
            "notify.broken_tablet",
            "notify.mom_phone",
        ]
    }
    await setup_blip(hass, blip_entry(anthropic_server, options=options))
    turn = await converse(hass, SELF_HARM, satellite_id="assist_satellite.ada_room")
    await hass.async_block_till_done()

    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)
    (alert,) = mom
    assert " on Ada's room" in alert.data["message"]
    assert "safety alert target light.kitchen is not a notify service" in caplog.text
    assert "Could not send Blip's safety alert to notify.gone_phone" in caplog.text
    assert "Unexpected error sending Blip's safety alert to notify.broken_tablet" in caplog.text


async def test_abuse_alerts_only_the_designated_adult(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """An abuse disclosure is told to the designated adult only."""
    mom = async_mock_service(hass, "notify", "mom_phone")
    grandma = async_mock_service(hass, "notify", "grandma")
    options = {
        CONF_SAFETY_NOTIFY: ["notify.mom_phone"],
        CONF_DESIGNATED_ADULT: "notify.grandma",
    }
    await setup_blip(hass, blip_entry(anthropic_server, options=options))
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    await converse(hass, ABUSE)
    await hass.async_block_till_done()
    assert len(grandma) == 1
    assert mom == []
    assert events[0].data["category"] == "abuse"
    assert "private" not in grandma[0].data["message"]


async def test_abuse_without_a_designated_adult_tells_no_one_else(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """With no designated adult, the other adults are still not told; the event still fires."""
    mom = async_mock_service(hass, "notify", "mom_phone")
    await setup_blip(
        hass, blip_entry(anthropic_server, options={CONF_SAFETY_NOTIFY: ["notify.mom_phone"]})
    )
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    await converse(hass, ABUSE)
    await hass.async_block_till_done()
    assert mom == []
    assert len(events) == 1


async def test_alerts_fire_even_when_claude_is_down(
    hass: HomeAssistant, unused_tcp_port: int
) -> None:
    """Claude unreachable: the safe reply is spoken and the adults are still alerted."""
    mom = async_mock_service(hass, "notify", "mom_phone")
    entry = blip_entry(
        claude_url=f"http://127.0.0.1:{unused_tcp_port}",
        options={CONF_SAFETY_NOTIFY: ["notify.mom_phone"]},
    )
    await setup_blip(hass, entry)
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    turn = await converse(hass, GROOMING)
    await hass.async_block_till_done()
    assert turn.speech.endswith(safe_reply_body(SafetyCategory.GROOMING, hass.config.country))
    assert len(events) == 1
    assert len(mom) == 1


async def test_a_missing_notify_service_does_not_stop_the_others(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """One adult's phone is gone from Home Assistant: the others are still told."""
    dad = async_mock_service(hass, "notify", "dad_phone")
    options = {CONF_SAFETY_NOTIFY: ["notify.old_phone", "notify.dad_phone"]}
    await setup_blip(hass, blip_entry(anthropic_server, options=options))
    turn = await converse(hass, SELF_HARM)
    await hass.async_block_till_done()
    assert turn.speech
    assert len(dad) == 1


async def test_claude_is_told_what_the_calm_filler_said(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """Claude continues from the filler instead of repeating it."""
    await setup_blip(hass, blip_entry(anthropic_server))
    turn = await converse(hass, SELF_HARM)
    filler = turn.contents[0]
    assert filler.strip() in anthropic_server.chat_requests[0]["system"][0]["text"]


async def test_the_safe_reply_does_not_thank_twice(
    hass: HomeAssistant, unused_tcp_port: int
) -> None:
    """After a thanking filler, the safe reply goes straight to what matters."""
    await setup_blip(hass, blip_entry(claude_url=f"http://127.0.0.1:{unused_tcp_port}"))
    for _ in range(4):  # every calm filler comes up
        turn = await converse(hass, SELF_HARM)
        assert turn.speech.count("Thank") <= 1
        assert "trust" in turn.speech
