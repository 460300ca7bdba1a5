"""What the agent tells the rest of Blip: learning progress (with its limits) and stage timings."""

from __future__ import annotations

import re

from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.blip.const import EVENT_SAFETY_SIGNAL
from custom_components.blip.diagnostics import async_get_config_entry_diagnostics
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import DEFAULT_CLAUDE_REPLY, FakeAnthropic, FakeLocalModel

PAUSE_SWITCH = "switch.blip_for_ada_paused"


async def _pause(hass: HomeAssistant) -> None:
    await hass.services.async_call("switch", "turn_on", {"entity_id": PAUSE_SWITCH}, blocking=True)


async def test_paused_child_hears_the_goodbye_but_safety_still_answers(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Limits stop play turns before any model is asked; a safety turn is never blocked."""
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    await _pause(hass)

    play = await converse(hass, "why is the sky blue")
    assert "Ada" in play.speech
    assert DEFAULT_CLAUDE_REPLY not in play.speech
    assert anthropic_server.chat_requests == []

    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    safety = await converse(hass, "I want to hurt myself")
    await hass.async_block_till_done()
    assert safety.speech.endswith(DEFAULT_CLAUDE_REPLY)
    assert len(events) == 1


async def test_turns_and_drill_results_reach_the_progress_tracker(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """An answered spelling word shows up in the child's spelling sensor; turns count."""
    await setup_blip(hass, blip_entry(anthropic_server))
    start = await converse(hass, "let's practice spelling")
    word = re.search(r"spell (\w+)\?$", start.speech)
    assert word is not None, start.speech
    answer = await converse(hass, " ".join(word.group(1)), start.conversation_id)
    assert answer.speech.startswith("That's right!")
    await hass.async_block_till_done()

    spelling = hass.states.get("sensor.blip_for_ada_spelling_accuracy")
    assert spelling is not None
    assert float(spelling.state) == 100
    assert spelling.attributes["correct"] == 1
    sessions = hass.states.get("sensor.blip_for_ada_sessions_today")
    assert sessions is not None
    assert int(sessions.state) >= 1


async def test_stage_timings_are_recorded_and_in_diagnostics(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Each turn's routing time, backend, filler and first-token times are kept (no words)."""
    anthropic_server.script.first_token_delay = 0.2
    entry = blip_entry(anthropic_server, openai_server)
    services = await setup_blip(hass, entry)
    await converse(hass, "why is the sky blue")
    await converse(hass, "how do you spell cat")
    await converse(hass, "do you like dogs")

    claude, drill, local = services.timings.recent
    assert (claude.answered_by, drill.answered_by, local.answered_by) == (
        "claude",
        "drill",
        "local",
    )
    assert claude.activity == "trivia"
    assert claude.filler_ms is not None and claude.first_token_ms is not None
    assert claude.first_token_ms - claude.filler_ms >= 150  # the filler did not wait for Claude
    assert drill.filler_ms is None
    # Relative, not timed: the drill answers without the 0.2 s Claude is scripted to take, and
    # each turn's routing time is part of its time to first token (both rounded: 0.1 ms slack).
    assert drill.first_token_ms is not None and drill.first_token_ms < claude.first_token_ms
    assert all(
        t.first_token_ms is not None and 0 <= t.routing_ms <= t.first_token_ms + 0.1
        for t in (claude, drill, local)
    )

    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    assert set(diagnostics["timings"]["by_backend"]) == {"claude", "drill", "local"}
    assert diagnostics["backend_health"]["claude"]["down"] is False
    assert "sky" not in repr(diagnostics)
