"""A button per child to pair a device (a tablet, a phone) with Blip, without a HA login."""

from __future__ import annotations

from homeassistant.components.button import ButtonEntity
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import BlipConfigEntry
from .const import SUBENTRY_CHILD
from .device_api import async_start_pairing
from .entity import BlipChildEntity


async def async_setup_entry(
    hass: HomeAssistant,
    entry: BlipConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """One "Pair a device" button per child."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_CHILD:
            async_add_entities(
                [BlipPairButton(entry, subentry)], config_subentry_id=subentry.subentry_id
            )


class BlipPairButton(BlipChildEntity, ButtonEntity):
    """Press: a pairing code and QR code appear as a notification for the parent."""

    _attr_translation_key = "pair_device"
    _attr_entity_category = EntityCategory.CONFIG

    def __init__(self, entry: BlipConfigEntry, subentry: ConfigSubentry) -> None:
        """Tie the button to the child."""
        super().__init__(entry, subentry)
        self._attr_unique_id = f"{subentry.subentry_id}_pair_device"

    async def async_press(self) -> None:
        """Start pairing for this child."""
        async_start_pairing(self.hass, self.subentry.subentry_id)
