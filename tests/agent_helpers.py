"""Helpers for the agent tests and the turn-latency benchmark: a Blip entry wired to loopback
servers, and a way to converse that also records the streamed deltas the way Assist sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
import time
from typing import Any

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import Context, HomeAssistant
from homeassistant.helpers import chat_session
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.blip.agent.turn import Deadlines
from custom_components.blip.const import (
    CONF_AGE,
    CONF_API_KEY,
    CONF_CHILD_NAME,
    CONF_CLAUDE_BASE_URL,
    CONF_DAILY_MINUTES,
    CONF_FILLER,
    CONF_LOCAL_API,
    CONF_LOCAL_MODEL,
    CONF_LOCAL_URL,
    CONF_QUIET_END,
    CONF_QUIET_START,
    DOMAIN,
    SUBENTRY_CHILD,
)
from custom_components.blip.conversation import BlipAgentServices
from tests.llm_servers import VALID_KEY, FakeAnthropic, FakeLocalModel

AGENT_ID = "conversation.blip_for_ada"

# Short deadlines so the slow and stalled rows of the fault matrix take well under a second.
TEST_DEADLINES = Deadlines(
    claude_first_token=0.6,
    local_first_token=0.4,
    between_chunks=0.4,
    safety_first_token=0.6,
    safety_between_chunks=0.4,
)


def blip_entry(
    anthropic: FakeAnthropic | None = None,
    local: FakeLocalModel | None = None,
    *,
    local_url: str | None = None,
    claude_url: str | None = None,
    options: dict[str, Any] | None = None,
    child: dict[str, Any] | None = None,
) -> MockConfigEntry:
    """A Blip entry with one child, Ada (7), on the given loopback backends."""
    data: dict[str, Any] = {}
    if anthropic is not None or claude_url is not None:
        data |= {
            CONF_API_KEY: VALID_KEY,
            CONF_CLAUDE_BASE_URL: claude_url or anthropic.base_url,  # type: ignore[union-attr]
        }
    if local is not None or local_url is not None:
        data |= {
            CONF_LOCAL_URL: local_url or local.base_url,  # type: ignore[union-attr]
            CONF_LOCAL_API: local.api if local is not None else "openai",
            CONF_LOCAL_MODEL: "blip-edu",
        }
    return MockConfigEntry(
        domain=DOMAIN,
        data=data,
        options=options or {},
        subentries_data=[
            ConfigSubentryData(
                data={
                    CONF_CHILD_NAME: "Ada",
                    CONF_AGE: 7,
                    CONF_FILLER: True,
                    # No quiet hours or daily limit: the tests may run at any hour.
                    CONF_QUIET_START: "00:00:00",
                    CONF_QUIET_END: "00:00:00",
                    CONF_DAILY_MINUTES: 0,
                    **(child or {}),
                },
                subentry_type=SUBENTRY_CHILD,
                title="Ada",
                unique_id=None,
            )
        ],
    )


async def setup_blip(
    hass: HomeAssistant, entry: MockConfigEntry, deadlines: Deadlines | None = TEST_DEADLINES
) -> BlipAgentServices:
    """Load the entry; return the agent's shared services (with test deadlines)."""
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    services = entry.runtime_data.agent
    assert services is not None
    if deadlines is not None:
        services.engine.deadlines = deadlines
    return services


@dataclass
class Turn:
    """One conversation turn as Assist saw it."""

    result: conversation.ConversationResult
    deltas: list[tuple[float, dict[str, Any]]] = field(default_factory=list)  # (seconds, delta)
    started: float = 0.0

    @property
    def speech(self) -> str:
        """What the satellite says (the last assistant message)."""
        return self.result.response.speech["plain"]["speech"]

    @property
    def contents(self) -> list[str]:
        """The streamed content deltas, in order."""
        return [delta["content"] for _, delta in self.deltas if delta.get("content")]

    @property
    def roles(self) -> list[str]:
        """The role deltas (each starts a message)."""
        return [delta["role"] for _, delta in self.deltas if "role" in delta]

    @property
    def conversation_id(self) -> str:
        """The conversation to continue."""
        assert self.result.conversation_id is not None
        return self.result.conversation_id

    def first_content_after(self) -> float:
        """Seconds from the call to the first content delta."""
        return self.deltas_with_content()[0][0] - self.started

    def deltas_with_content(self) -> list[tuple[float, dict[str, Any]]]:
        """Content deltas with their arrival times."""
        return [(at, delta) for at, delta in self.deltas if delta.get("content")]


async def converse(
    hass: HomeAssistant,
    text: str,
    conversation_id: str | None = None,
    *,
    agent_id: str = AGENT_ID,
    satellite_id: str | None = None,
    device_id: str | None = None,
) -> Turn:
    """``conversation.async_converse`` inside a chat log with a delta listener, as the Assist
    pipeline runs it, so a test sees each streamed delta and when it arrived."""
    turn = Turn(result=None, started=time.monotonic())  # type: ignore[arg-type]

    def listener(_chat_log: conversation.ChatLog, delta: dict[str, Any]) -> None:
        turn.deltas.append((time.monotonic(), dict(delta)))

    context = Context()
    with (
        chat_session.async_get_chat_session(hass, conversation_id) as session,
        conversation.async_get_chat_log(
            hass,
            session,
            conversation.ConversationInput(
                text=text,
                context=context,
                conversation_id=session.conversation_id,
                device_id=device_id,
                satellite_id=satellite_id,
                language="en",
                agent_id=agent_id,
            ),
            chat_log_delta_listener=listener,
        ),
    ):
        turn.result = await conversation.async_converse(
            hass,
            text,
            session.conversation_id,
            context,
            language="en",
            agent_id=agent_id,
            satellite_id=satellite_id,
            device_id=device_id,
        )
    return turn
