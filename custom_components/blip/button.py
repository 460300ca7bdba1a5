"""A button per child to pair a device (a tablet, a phone) with Blip, without a HA login."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import BlipConfigEntry
from .device_api import async_start_pairing
from .entity import BlipChildEntity, async_add_child_entities


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlipConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One "Pair a device" button per child."""
    async_add_child_entities(
        entry, async_add_entities, lambda subentry: [BlipPairButton(entry, subentry)]
    )


class BlipPairButton(BlipChildEntity, ButtonEntity):
    """Press: a pairing code and QR code appear as a notification for the parent."""

    _attr_translation_key = "pair_device"
    _attr_entity_category = EntityCategory.CONFIG
    _unique_id_key = "pair_device"

    async def async_press(self) -> None:
        """Start pairing for this child."""
        async_start_pairing(self.hass, self.subentry.subentry_id)
