"""Review findings on the safety path, each reproduced through the real agent in a real Home
Assistant with loopback backends.

- A Claude stream whose text delta is not a string broke the turn with an unexpected
  exception: a child in distress heard "my thinking brain is napping" instead of the safe reply,
  and a chat turn never reached its local fallback.
- Any unexpected error during a safety turn must still end in the safe reply for the category.
- A safety disclosure must not reach the local model on later turns through the history.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
import json
from typing import Any

from aiohttp import web
from homeassistant.core import HomeAssistant
from homeassistant.helpers import intent
import pytest

from custom_components.blip.agent.backends import ChatMessage
from custom_components.blip.agent.prompts import safe_reply
from custom_components.blip.agent.turn import NAPPING_REPLY
from custom_components.blip.brain import SafetyCategory
from custom_components.blip.const import CONF_ROUTING
from custom_components.blip.diagnostics import async_get_config_entry_diagnostics
from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import (
    DEFAULT_CLAUDE_REPLY,
    DEFAULT_LOCAL_REPLY,
    FakeAnthropic,
    FakeLocalModel,
    start_fake_server,
)

SELF_HARM = "I want to hurt myself"
GROOMING = "someone online asked for my address"
ALL_LOCAL = {
    CONF_ROUTING: {
        activity: "local"
        for activity in ("spelling", "math", "chitchat", "creative", "trivia", "emotional")
    }
}


def safe_reply_body(category: SafetyCategory, country: str | None) -> str:
    """The safe reply without its opening thanks (left out after a thanking filler)."""
    return safe_reply(category, country).removeprefix("Thank you for telling me. ")


async def _non_text_delta_messages(request: web.Request) -> web.StreamResponse:
    """Anthropic's Messages stream whose one text delta carries a number instead of text."""
    await request.json()
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)

    def event(kind: str, data: dict[str, Any]) -> bytes:
        return f"event: {kind}\ndata: {json.dumps({'type': kind, **data})}\n\n".encode()

    start = {
        "message": {
            "id": "msg_bad",
            "type": "message",
            "role": "assistant",
            "model": "claude",
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": 1, "output_tokens": 1},
        }
    }
    await response.write(event("message_start", start))
    await response.write(
        event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
    )
    await response.write(
        event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": 5}})
    )
    await response.write(event("content_block_stop", {"index": 0}))
    await response.write(
        event("message_delta", {"delta": {"stop_reason": "end_turn"}, "usage": {}})
    )
    await response.write(event("message_stop", {}))
    return response


@pytest.fixture
async def garbled_claude_url() -> AsyncIterator[str]:
    """A loopback Anthropic endpoint that streams a non-text text delta."""
    app = web.Application()
    app.router.add_post("/v1/messages", _non_text_delta_messages)
    async with start_fake_server(app) as base_url:
        yield base_url


async def test_non_text_claude_delta_on_a_safety_turn_speaks_the_safe_reply(
    hass: HomeAssistant, garbled_claude_url: str, openai_server: FakeLocalModel
) -> None:
    """A garbled Claude stream on a safety turn ends in the category's safe reply."""
    hass.config.country = "US"
    entry = blip_entry(local=openai_server, claude_url=garbled_claude_url, options=ALL_LOCAL)
    await setup_blip(hass, entry)
    turn = await converse(hass, SELF_HARM)
    assert turn.result.response.response_type is intent.IntentResponseType.ACTION_DONE
    assert NAPPING_REPLY not in turn.speech
    assert turn.speech.endswith(safe_reply_body(SafetyCategory.SELF_HARM, "US"))
    assert openai_server.chat_requests == []


async def test_non_text_claude_delta_on_a_chat_turn_falls_back_to_local(
    hass: HomeAssistant, garbled_claude_url: str, openai_server: FakeLocalModel
) -> None:
    """A garbled Claude stream is a backend failure like any other: the local model answers."""
    entry = blip_entry(local=openai_server, claude_url=garbled_claude_url)
    await setup_blip(hass, entry)
    turn = await converse(hass, "why is the sky blue?")  # trivia: Claude by default
    assert turn.speech.endswith(DEFAULT_LOCAL_REPLY)
    assert len(openai_server.chat_requests) == 1


async def test_an_unexpected_error_in_a_safety_turn_still_speaks_the_safe_reply(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """Whatever breaks inside a safety turn (a bug, not a backend failure), the child hears the
    safe reply for the category, never the 'napping' line and never the local model."""
    hass.config.country = "US"
    services = await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    claude = services.engine.claude
    assert claude is not None

    async def broken_stream(
        system: str, messages: Sequence[ChatMessage], max_tokens: int
    ) -> AsyncIterator[str]:
        yield "I hear you. "
        raise RuntimeError("a bug nobody anticipated")

    claude.stream = broken_stream  # type: ignore[method-assign]
    turn = await converse(hass, GROOMING)
    assert NAPPING_REPLY not in turn.speech
    assert turn.speech.endswith(safe_reply_body(SafetyCategory.GROOMING, "US"))
    assert openai_server.chat_requests == []


async def test_a_safety_disclosure_never_reaches_the_local_model_in_later_history(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, local_server: FakeLocalModel
) -> None:
    """After a safety turn, the next turn routed to the local model does not carry the child's
    disclosure (or Claude's safety answer) in its history; Claude still sees it."""
    await setup_blip(hass, blip_entry(anthropic_server, local_server))  # chitchat: local
    first = await converse(hass, GROOMING)
    assert first.speech.endswith(DEFAULT_CLAUDE_REPLY)
    second = await converse(hass, "hello", first.conversation_id)
    assert second.speech.endswith(DEFAULT_LOCAL_REPLY)
    (local_request,) = local_server.chat_requests
    sent = json.dumps(local_request["messages"])
    assert "asked for my address" not in sent
    assert DEFAULT_CLAUDE_REPLY not in sent
    assert local_request["messages"][-1]["content"] == "hello"

    # Claude, answering a later turn of the same conversation, keeps the whole conversation.
    third = await converse(hass, "why is the sky blue?", second.conversation_id)
    assert third.speech.endswith(DEFAULT_CLAUDE_REPLY)
    claude_messages = json.dumps(anthropic_server.chat_requests[-1]["messages"])
    assert GROOMING in claude_messages


async def test_a_safety_turn_leaves_no_trace_in_sensors_or_diagnostics(
    hass: HomeAssistant, openai_server: FakeLocalModel
) -> None:
    """Progress sensors already hide safety turns (the person hurting a child may be another
    adult in the house); the turn-timing sensors and diagnostics must not give one away either:
    no "safety" activity and no "safe_reply" backend, which only a safety turn produces."""
    entry = blip_entry(local=openai_server)  # no Claude: a safety turn gets the safe reply
    await setup_blip(hass, entry)
    await converse(hass, "hello")
    turn = await converse(hass, GROOMING)
    await hass.async_block_till_done()
    assert turn.speech.endswith(safe_reply_body(SafetyCategory.GROOMING, hass.config.country))

    for state in hass.states.async_all("sensor"):
        shown = json.dumps({"state": state.state, "attributes": dict(state.attributes)})
        assert "safe_reply" not in shown and "safety" not in shown, state.entity_id
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    shown = json.dumps(diagnostics, default=str)
    assert "safe_reply" not in shown and "safety" not in shown
