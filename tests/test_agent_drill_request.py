"""blip.start_drill's follow-up: the child's reply to "Are you ready?" starts the drill."""

from __future__ import annotations

from homeassistant.components import conversation
from homeassistant.core import Context, HomeAssistant

from custom_components.blip.const import DRILL_REQUEST_PREFIX
from tests.agent_helpers import AGENT_ID, blip_entry, setup_blip
from tests.llm_servers import FakeAnthropic, FakeLocalModel


async def _reply(hass: HomeAssistant, text: str, extra_system_prompt: str | None) -> str:
    result = await conversation.async_converse(
        hass,
        text,
        None,
        Context(),
        language="en",
        agent_id=AGENT_ID,
        extra_system_prompt=extra_system_prompt,
    )
    return result.response.speech["plain"]["speech"]


async def test_yes_after_start_drill_starts_a_spelling_drill(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """The drill engine asks the first word; no model sees the drill marker."""
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    speech = await _reply(hass, "yes", f"{DRILL_REQUEST_PREFIX}spelling")
    assert speech.startswith("Let's practice spelling!"), speech
    assert speech.endswith("?")  # the satellite keeps listening for the answer
    assert openai_server.chat_requests == [] and anthropic_server.chat_requests == []


async def test_safety_outranks_a_drill_request(
    hass: HomeAssistant, anthropic_server: FakeAnthropic, openai_server: FakeLocalModel
) -> None:
    """A child who answers the drill invitation with distress gets the safety path."""
    await setup_blip(hass, blip_entry(anthropic_server, openai_server))
    await _reply(hass, "no, I want to disappear forever", f"{DRILL_REQUEST_PREFIX}math")
    assert openai_server.chat_requests == []
    (request,) = anthropic_server.chat_requests
    assert DRILL_REQUEST_PREFIX not in str(request)
