"""Base entity for Blip's per-child entities."""

from __future__ import annotations

from homeassistant.config_entries import ConfigSubentry
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.entity import Entity

from . import BlipConfigEntry
from .const import CONF_AGE, CONF_CHILD_NAME, DOMAIN


class BlipChildEntity(Entity):
    """An entity that belongs to one child; each child is a device of its own."""

    _attr_has_entity_name = True

    def __init__(self, entry: BlipConfigEntry, subentry: ConfigSubentry) -> None:
        """Tie the entity to the child's device."""
        self.entry = entry
        self.subentry = subentry
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, subentry.subentry_id)},
            name=f"Blip for {subentry.data[CONF_CHILD_NAME]}",
            manufacturer="Blip",
            model="Learning companion",
            entry_type=DeviceEntryType.SERVICE,
        )

    @property
    def child_name(self) -> str:
        """The child's first name, as the family entered it."""
        return str(self.subentry.data[CONF_CHILD_NAME])

    @property
    def child_age(self) -> int | None:
        """The child's age in years, if the family gave it."""
        age = self.subentry.data.get(CONF_AGE)
        return int(age) if age is not None else None
