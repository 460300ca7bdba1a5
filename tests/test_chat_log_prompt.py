"""Blip's prompt is in the chat log, where Home Assistant's conversation debug view shows it."""

from __future__ import annotations

from homeassistant.components import conversation
from homeassistant.core import HomeAssistant
from homeassistant.helpers import chat_session

from tests.agent_helpers import blip_entry, converse, setup_blip
from tests.llm_servers import FakeAnthropic


def _system_prompt(hass: HomeAssistant, conversation_id: str) -> str:
    with (
        chat_session.async_get_chat_session(hass, conversation_id) as session,
        conversation.async_get_chat_log(hass, session) as chat_log,
    ):
        first = chat_log.content[0]
        assert isinstance(first, conversation.SystemContent)
        return first.content


async def test_the_debug_view_shows_the_prompt_claude_was_given(
    hass: HomeAssistant, anthropic_server: FakeAnthropic
) -> None:
    """The system prompt in the chat log is the one Claude received for the turn."""
    await setup_blip(hass, blip_entry(anthropic_server))
    turn = await converse(hass, "tell me a story about a brave little owl")
    (request,) = anthropic_server.chat_requests
    sent = request["system"]
    sent_text = sent if isinstance(sent, str) else "".join(part["text"] for part in sent)
    shown = _system_prompt(hass, turn.conversation_id)
    assert sent_text.strip() and shown.startswith(sent_text.strip())
    assert "Ada" in shown
