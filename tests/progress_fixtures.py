"""Shared helpers for progress tests: a Blip entry with children at fixed ids, set up for real."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntryState, ConfigSubentryDataWithId
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.blip.const import DOMAIN
from custom_components.blip.progress import ProgressManager

ADA = "01JADA0000000000000000000A"
BOB = "01JB0B0000000000000000000B"
# 10:00 in the test time zone (US/Pacific): outside the default quiet hours (20:00-07:00).
MORNING = "2026-03-02T18:00:00+00:00"


def blip_entry(
    children: Mapping[str, Mapping[str, Any]] | None = None,
    options: Mapping[str, Any] | None = None,
) -> MockConfigEntry:
    """A Blip entry with a local backend (not contacted at setup) and the given children."""
    children = children if children is not None else {ADA: {"name": "Ada", "age": 7}}
    return MockConfigEntry(
        domain=DOMAIN,
        data={"local_url": "http://127.0.0.1:9"},
        options=dict(options or {}),
        subentries_data=[
            ConfigSubentryDataWithId(
                data=dict(data),
                subentry_type="child",
                title=data["name"],
                unique_id=None,
                subentry_id=child_id,
            )
            for child_id, data in children.items()
        ],
    )


async def set_up(hass: HomeAssistant, entry: MockConfigEntry) -> ProgressManager:
    if entry.entry_id not in {e.entry_id for e in hass.config_entries.async_entries(DOMAIN)}:
        entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return entry.runtime_data.progress


def child_device(hass: HomeAssistant, child_id: str = ADA) -> str:
    # async_get_device is deprecated on 2026.10 (identifiers are unique per entry only) and
    # async_get_device_by_identifier is missing on 2026.2: look through Blip's own entries.
    registry = dr.async_get(hass)
    devices = [
        device
        for entry in hass.config_entries.async_entries(DOMAIN)
        for device in dr.async_entries_for_config_entry(registry, entry.entry_id)
        if (DOMAIN, child_id) in device.identifiers
    ]
    assert len(devices) == 1, devices
    return devices[0].id
