"""A part of Blip that breaks mid-turn (the progress tracker, the router, bad routing options)
never leaves the child in silence: the turn is still answered, and the failure is logged."""

from __future__ import annotations

import logging

from homeassistant.core import HomeAssistant
import pytest

from custom_components.blip.const import CONF_ROUTING
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import DEFAULT_CLAUDE_REPLY, FakeAnthropic


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
    for method in ("check_limits", "record_turn", "record_drill_results"):
        monkeypatch.setattr(progress, method, _broken)
    turn = await converse(hass, "tell me a story about a dragon")
    assert turn.speech.endswith(DEFAULT_CLAUDE_REPLY)
    spelling = await converse(hass, "quiz me on spelling", turn.conversation_id)
    assert spelling.speech
    failed = {r.getMessage() for r in caplog.records if r.levelno == logging.ERROR}
    assert "Blip's progress tracker failed in check_limits" in failed
    assert "Blip's progress tracker failed in record_turn" in failed


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
