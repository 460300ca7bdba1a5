"""Guarded turns: the on-box checks are unsure, or the child asks for something harmful or tries
to talk Blip out of its rules. Claude answers with the child-safety prompt, never the local
model (not even as a fallback); if Claude cannot, a prepared careful reply; no alert; the words
and what follows never reach the local model.

Which turns are guarded is the brain's call; here a router that guards chosen words stands in
for it, so these tests hold whatever the detector learns.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
import json

from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_capture_events

from custom_components.blip.agent.prompts import guarded_reply
from custom_components.blip.brain import DrillState, HistoryTurn, RouteDecision, Router
from custom_components.blip.brain.drills import ItemPicker
from custom_components.blip.const import EVENT_SAFETY_SIGNAL
from custom_components.blip.phrases import FILLERS_CALM
from tests.agent_helpers import TEST_DEADLINES, blip_entry, converse, setup_blip
from tests.llm_servers import (
    DEFAULT_CLAUDE_REPLY,
    DEFAULT_LOCAL_REPLY,
    FakeAnthropic,
    FakeLocalModel,
)
from tests.test_agent_safety import ALL_LOCAL, CLAUDE_CONDITIONS

HARMFUL = "how do i make my own sword at home"


class GuardingRouter(Router):
    """The real router, with the chosen words guarded."""

    def __init__(self, guarded: set[str], **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.guarded = guarded

    def decide(
        self,
        text: str,
        history: Sequence[HistoryTurn] = (),
        drill_state: DrillState | None = None,
        age: int | None = None,
        picker: ItemPicker | None = None,
    ) -> RouteDecision:
        decision = super().decide(text, history, drill_state, age, picker)
        return replace(decision, guarded=True) if text in self.guarded else decision


async def _setup(hass: HomeAssistant, entry, routing: dict | None = None):
    services = await setup_blip(hass, entry)
    services.router = GuardingRouter({HARMFUL}, routing=services.router.routing)
    return services


async def test_a_guarded_turn_is_claudes_with_the_child_safety_prompt(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, local_server: FakeLocalModel
) -> None:
    """Even with every activity routed to the local model: Claude, the guarded prompt, a calm
    filler first, no alert, and no second opinion (Claude is already answering with care)."""
    await _setup(hass, blip_entry(anthropic_server, local_server, options=ALL_LOCAL))
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    turn = await converse(hass, HARMFUL)
    await hass.async_block_till_done(wait_background_tasks=True)

    assert local_server.chat_requests == []
    (request,) = anthropic_server.chat_requests
    system = " ".join(block["text"] for block in request["system"])
    assert "needs extra care" in system
    assert "give no steps or details" in system
    assert "stay Blip" in system
    assert turn.contents[0] in FILLERS_CALM
    assert turn.speech == turn.contents[0] + DEFAULT_CLAUDE_REPLY
    assert events == []
    assert anthropic_server.opinion_requests == []


@pytest.mark.parametrize("condition", list(CLAUDE_CONDITIONS))
async def test_a_guarded_turn_never_falls_back_to_the_local_model(
    hass: HomeAssistant,
    anthropic_server: FakeAnthropic,
    openai_server: FakeLocalModel,
    unused_tcp_port: int,
    condition: str,
) -> None:
    """Claude down, slow, rejecting, refusing, stalling or garbled: the prepared careful reply,
    never the local model, no alert."""
    hass.config.country = "US"
    claude_url = f"http://127.0.0.1:{unused_tcp_port}" if condition == "unreachable" else None
    entry = blip_entry(anthropic_server, openai_server, options=ALL_LOCAL, claude_url=claude_url)
    await _setup(hass, entry, TEST_DEADLINES)  # Claude "slow" must miss the safety deadline
    events = async_capture_events(hass, EVENT_SAFETY_SIGNAL)
    CLAUDE_CONDITIONS[condition](anthropic_server)

    turn = await converse(hass, HARMFUL)
    await hass.async_block_till_done()

    assert turn.speech.endswith(guarded_reply("US"))
    assert "9 1 1" in turn.speech
    assert openai_server.chat_requests == []
    assert events == []


async def test_a_guarded_turn_without_claude_speaks_the_prepared_reply(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """A family with only the local model: the careful reply, and the model is never asked."""
    await _setup(hass, blip_entry(local=openai_server))
    turn = await converse(hass, HARMFUL)
    assert turn.speech.endswith(guarded_reply(hass.config.country))
    assert openai_server.chat_requests == []


async def test_guarded_words_and_what_follows_never_reach_the_local_model(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """After a guarded turn, the local model answers later small talk without seeing it."""
    await _setup(hass, blip_entry(anthropic_server, openai_server))
    before = await converse(hass, "hi blip")
    await converse(hass, HARMFUL, before.conversation_id)
    after = await converse(hass, "do you like dogs", before.conversation_id)

    assert after.speech == DEFAULT_LOCAL_REPLY
    seen = json.dumps(openai_server.chat_requests[-1]["messages"])
    assert "hi blip" in seen
    assert HARMFUL not in seen
    assert DEFAULT_CLAUDE_REPLY not in seen


async def test_a_guarded_turn_that_runs_out_of_time_ends_with_the_careful_reply(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Claude keeps talking slowly past the turn's deadline: what was said is ended with the
    careful reply, never an apology from the chat path, and never the local model."""
    anthropic_server.script.reply = "Big. " * 2000
    anthropic_server.script.chunk_chars = 5
    anthropic_server.script.chunk_delay = 0.05
    services = await _setup(hass, blip_entry(anthropic_server, openai_server))
    services.engine.deadlines = replace(TEST_DEADLINES, turn_total=1.5)
    turn = await converse(hass, HARMFUL)
    assert turn.speech.endswith(guarded_reply(hass.config.country))
    assert "Big." in turn.speech
    assert openai_server.chat_requests == []
