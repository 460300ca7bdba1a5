"""A switch per child to pause Blip: while on, Blip says a kind goodbye instead of playing."""

from __future__ import annotations

from typing import Any

from homeassistant.components.switch import SwitchEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import BlipConfigEntry
from .entity import BlipProgressEntity, async_add_child_entities

# Switching only changes Blip's own stored state: no device to protect from parallel calls.
PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlipConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One pause switch per child."""
    async_add_child_entities(
        entry, async_add_entities, lambda subentry: [BlipPauseSwitch(entry, subentry)]
    )


class BlipPauseSwitch(BlipProgressEntity, SwitchEntity):
    """Pause Blip for one child (safety turns are still answered).

    The state lives in the child's progress store, so it survives restarts.
    """

    _attr_translation_key = "pause"
    _unique_id_key = "pause"

    @property
    def is_on(self) -> bool | None:
        """On while Blip is paused for the child."""
        progress = self.entry.runtime_data.progress.progress(self.subentry.subentry_id)
        return progress.paused if progress is not None else None

    async def async_turn_on(self, **kwargs: Any) -> None:
        """Pause Blip."""
        self.entry.runtime_data.progress.set_paused(self.subentry.subentry_id, True)

    async def async_turn_off(self, **kwargs: Any) -> None:
        """Let the child play again."""
        self.entry.runtime_data.progress.set_paused(self.subentry.subentry_id, False)
