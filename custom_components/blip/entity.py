"""Base entity for Blip's per-child entities."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import callback
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import BlipConfigEntry
from .const import CONF_AGE, CONF_CHILD_NAME, DOMAIN, SUBENTRY_CHILD


def async_add_child_entities(
    entry: BlipConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_for: Callable[[ConfigSubentry], Iterable[Entity]],
) -> None:
    """Add each child's entities under the child's subentry, so that they go when it goes."""
    for subentry in entry.subentries.values():
        if subentry.subentry_type == SUBENTRY_CHILD:
            async_add_entities(
                list(entities_for(subentry)), config_subentry_id=subentry.subentry_id
            )


class BlipChildEntity(Entity):
    """An entity that belongs to one child; each child is a device of its own."""

    _attr_has_entity_name = True
    # An entity that is one of a kind per child: its unique id is the child's subentry id and
    # this key (entities with several of a kind, like the progress sensors, set their own).
    _unique_id_key: str | None = None

    def __init__(self, entry: BlipConfigEntry, subentry: ConfigSubentry) -> None:
        """Tie the entity to the child's device."""
        self.entry = entry
        self.subentry = subentry
        if self._unique_id_key is not None:
            self._attr_unique_id = f"{subentry.subentry_id}_{self._unique_id_key}"
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


class BlipProgressEntity(BlipChildEntity):
    """A child's entity whose state follows their learning progress, pushed (never polled)."""

    _attr_should_poll = False

    async def async_added_to_hass(self) -> None:
        """Follow the child's progress updates."""
        await super().async_added_to_hass()
        self.async_on_remove(
            async_dispatcher_connect(
                self.hass,
                self.entry.runtime_data.progress.signal(self.subentry.subentry_id),
                self._async_progress_updated,
            )
        )

    @callback
    def _async_progress_updated(self) -> None:
        self.async_write_ha_state()
