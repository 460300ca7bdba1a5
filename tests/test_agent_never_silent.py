"""A part of Blip that breaks mid-turn (the progress tracker, the router, bad routing options)
never leaves the child in silence: the turn is still answered, and the failure is logged."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.blip.brain import SafetyCategory
from custom_components.blip.const import CONF_ROUTING, EVENT_SAFETY_SIGNAL
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import DEFAULT_CLAUDE_REPLY, FakeAnthropic, FakeLocalModel
from tests.test_agent_safety import SELF_HARM, safe_reply_body


def _broken(*_: object, **__: object) -> None:
    raise RuntimeError("broken on purpose")


async def test_a_broken_progress_tracker_does_not_stop_the_answer(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entry = blip_entry(anthropic_server)
    await setup_blip(hass, entry)
    progress = entry.runtime_data.progress
    for method in ("check_limits", "record_turn", "record_drill_results", "practice_picker"):
        monkeypatch.setattr(progress, method, _broken)
    turn = await converse(hass, "tell me a story about a dragon")
    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)
    spelling = await converse(hass, "quiz me on spelling", turn.conversation_id)
    assert spelling.speech.startswith("Let's practice spelling!"), spelling.speech
    failed = {r.getMessage() for r in caplog.records if r.levelno == logging.ERROR}
    assert "Blip's progress tracker failed in check_limits" in failed
    assert "Blip's progress tracker failed in record_turn" in failed
    # Without the practice scheduler, drills pick their items at random.
    assert "Blip's practice scheduler failed; drills pick at random" in failed


async def test_a_broken_router_still_checks_safety_then_chats(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    caplog: pytest.LogCaptureFixture,
) -> None:
    services = await setup_blip(hass, blip_entry(anthropic_server))
    services.router.decide = _broken  # type: ignore[method-assign]
    turn = await converse(hass, "what is the biggest animal")
    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)
    assert any("Blip's router failed" in r.getMessage() for r in caplog.records)


async def test_invalid_routing_options_fall_back_to_the_defaults(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, caplog: pytest.LogCaptureFixture
) -> None:
    entry = blip_entry(anthropic_server, options={CONF_ROUTING: {"juggling": "claude"}})
    await setup_blip(hass, entry)
    assert any("routing options are not valid" in r.getMessage() for r in caplog.records)
    turn = await converse(hass, "tell me a story about a dragon")
    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)


async def test_a_broken_router_still_catches_a_safety_turn(
    hass: HomeAssistant, openai_server: FakeLocalModel, caplog: pytest.LogCaptureFixture
) -> None:
    """The router breaks on a child saying they want to hurt themselves: Blip's own safety check
    still runs, so the adults are alerted and the child hears the safe reply, never the model."""
    services = await setup_blip(hass, blip_entry(local=openai_server))
    services.router.decide = _broken  # type: ignore[method-assign]
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    turn = await converse(hass, SELF_HARM)
    await hass.async_block_till_done()
    assert turn.speech.endswith(safe_reply_body(SafetyCategory.SELF_HARM, hass.config.country))
    assert openai_server.chat_requests == []
    assert len(events) == 1
    assert any("Blip's router failed" in r.getMessage() for r in caplog.records)


async def test_a_broken_router_and_safety_check_still_answer(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both the router and the safety check break: the turn goes to Claude as a chat."""
    services = await setup_blip(hass, blip_entry(anthropic_server))
    services.router.decide = _broken  # type: ignore[method-assign]
    monkeypatch.setattr("custom_components.blip.conversation.check_safety", _broken)
    turn = await converse(hass, "what is the biggest animal")
    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)
    failed = {r.getMessage() for r in caplog.records if r.levelno == logging.ERROR}
    assert {
        "Blip's router failed; answering as a chat turn",
        "Blip's safety check failed",
    } <= failed
