"""Blip's conversation agent: one per child, selectable in an Assist pipeline."""

from __future__ import annotations

from typing import Literal

from homeassistant.components import conversation
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import BlipConfigEntry
from .const import SUBENTRY_CHILD
from .entity import BlipChildEntity
from .phrases import FIXED_REPLIES

NOT_READY_REPLY = FIXED_REPLIES[2]


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlipConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One agent per child."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_CHILD:
            async_add_entities(
                [BlipConversationEntity(entry, subentry)], config_subentry_id=subentry.subentry_id
            )


class BlipConversationEntity(
    BlipChildEntity, conversation.ConversationEntity, conversation.AbstractConversationAgent
):
    """Blip for one child."""

    _attr_name = None
    _attr_supports_streaming = True

    def __init__(self, entry: BlipConfigEntry, subentry: ConfigSubentry) -> None:
        """Name the agent after the child: "Blip for Ada"."""
        super().__init__(entry, subentry)
        self._attr_unique_id = subentry.subentry_id

    @property
    def supported_languages(self) -> list[str] | Literal["*"]:
        """Blip speaks English."""
        return ["en"]

    async def _async_handle_message(
        self, user_input: conversation.ConversationInput, chat_log: conversation.ChatLog
    ) -> conversation.ConversationResult:
        """Answer honestly that the agent is not ready yet."""
        chat_log.async_add_assistant_content_without_tools(
            conversation.AssistantContent(agent_id=self.entity_id, content=NOT_READY_REPLY)
        )
        return conversation.async_get_result_from_chat_log(user_input, chat_log)
