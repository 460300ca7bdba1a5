"""Blip on any device: pairing, a per-child voice endpoint and the kid's page.

``async_setup_device_api`` (from the integration's ``async_setup``) registers the views and the
actions once; ``async_setup_device_entry`` (from ``async_setup_entry``) loads the entry's paired
devices. See views.py for the HTTP paths and pairing.py for the tokens.
"""

from __future__ import annotations

from typing import Any, Final

from homeassistant.components import persistent_notification
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.network import NoURLAvailableError, get_url
import voluptuous as vol

from ..const import ATTR_CHILD, DOMAIN, LOGGER
from .access import DATA_KEY, DeviceAccess, async_get_access
from .pairing import CODE_TTL_SECONDS, DEFAULT_EXPIRE_AFTER_DAYS, MAX_EXPIRE_AFTER_DAYS
from .qr import qr_data_uri
from .views import BASE, async_register_views

SERVICE_START_PAIRING: Final = "start_pairing"
SERVICE_LIST_DEVICES: Final = "list_devices"
SERVICE_REVOKE_DEVICE: Final = "revoke_device"
ATTR_NAME: Final = "name"
ATTR_EXPIRE_AFTER_DAYS: Final = "expire_after_days"
ATTR_DEVICE_ID: Final = "device_id"
NOTIFICATION_ID: Final = "blip_pairing_{}"

START_PAIRING_SCHEMA: Final = vol.Schema(
    {
        vol.Required(ATTR_CHILD): cv.string,
        vol.Optional(ATTR_NAME): vol.All(cv.string, vol.Length(max=40)),
        vol.Optional(ATTR_EXPIRE_AFTER_DAYS, default=DEFAULT_EXPIRE_AFTER_DAYS): vol.All(
            vol.Coerce(int), vol.Range(min=1, max=MAX_EXPIRE_AFTER_DAYS)
        ),
    }
)
LIST_DEVICES_SCHEMA: Final = vol.Schema({vol.Optional(ATTR_CHILD): cv.string})
REVOKE_DEVICE_SCHEMA: Final = vol.All(
    vol.Schema({vol.Optional(ATTR_DEVICE_ID): cv.string, vol.Optional(ATTR_CHILD): cv.string}),
    cv.has_at_least_one_key(ATTR_DEVICE_ID, ATTR_CHILD),
)


@callback
def async_setup_device_api(hass: HomeAssistant) -> None:
    """Views and actions, once per Home Assistant run."""
    async_register_views(hass)

    async def start_pairing(call: ServiceCall) -> ServiceResponse:
        child_id = _child_id(hass, call.data[ATTR_CHILD])
        return async_start_pairing(
            hass, child_id, call.data.get(ATTR_NAME), call.data[ATTR_EXPIRE_AFTER_DAYS]
        )

    async def list_devices(call: ServiceCall) -> ServiceResponse:
        access = _loaded(hass)
        child_id = _child_id(hass, call.data[ATTR_CHILD]) if ATTR_CHILD in call.data else None
        return {"devices": access.book.listing(child_id)}

    async def revoke_device(call: ServiceCall) -> ServiceResponse:
        access = _loaded(hass)
        records = []
        if device_id := call.data.get(ATTR_DEVICE_ID):
            if (record := access.book.revoke(device_id)) is None:
                raise ServiceValidationError(
                    translation_domain=DOMAIN,
                    translation_key="unknown_paired_device",
                    translation_placeholders={"device_id": device_id},
                )
            records.append(record)
        if ATTR_CHILD in call.data:
            records.extend(access.book.revoke_child(_child_id(hass, call.data[ATTR_CHILD])))
        for record in records:
            access.forget(record)
        LOGGER.info("Revoked %d paired Blip device(s)", len(records))
        return {"revoked": [record.device_id for record in records]}

    hass.services.async_register(
        DOMAIN,
        SERVICE_START_PAIRING,
        start_pairing,
        START_PAIRING_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_LIST_DEVICES,
        list_devices,
        LIST_DEVICES_SCHEMA,
        supports_response=SupportsResponse.ONLY,
    )
    hass.services.async_register(
        DOMAIN,
        SERVICE_REVOKE_DEVICE,
        revoke_device,
        REVOKE_DEVICE_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


async def async_setup_device_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Load the entry's paired devices; written back on unload."""
    access = DeviceAccess(hass, entry.entry_id)
    await access.async_load()
    hass.data.setdefault(DATA_KEY, {})[entry.entry_id] = access
    entry.runtime_data.devices = access  # diagnostics: counts per child only

    async def unload() -> None:
        hass.data.get(DATA_KEY, {}).pop(entry.entry_id, None)
        await access.async_flush()

    entry.async_on_unload(unload)


async def async_remove_device_entry(hass: HomeAssistant, entry: ConfigEntry) -> None:
    """Blip removed: its paired devices go too."""
    await DeviceAccess(hass, entry.entry_id).async_remove()


@callback
def async_start_pairing(
    hass: HomeAssistant,
    child_id: str,
    device_name: str | None = None,
    expire_after_days: int = DEFAULT_EXPIRE_AFTER_DAYS,
) -> dict[str, Any]:
    """A new code for the child, shown to the parent as a notification with a QR code."""
    access = _loaded(hass)
    entry = hass.config_entries.async_get_entry(access.entry_id)
    subentry = entry.subentries.get(child_id) if entry else None
    if subentry is None:
        raise ServiceValidationError(
            translation_domain=DOMAIN,
            translation_key="unknown_child",
            translation_placeholders={"device": child_id},
        )
    pending = access.book.start(child_id, device_name, expire_after_days)
    path = f"{BASE}/?code={pending.code}"
    try:
        url = get_url(hass, prefer_external=True, allow_ip=True) + path
    except NoURLAvailableError:
        url = path
    minutes = CODE_TTL_SECONDS // 60
    lines = [
        f"Open **{url}** on {subentry.title}'s device (or scan the code), then enter "
        f"**{pending.code}**. The code works once, for {minutes} minutes.",
    ]
    if url.startswith("http"):
        lines.append(f"\n![Pairing QR code]({qr_data_uri(url)})")
    persistent_notification.async_create(
        hass,
        "\n".join(lines),
        title=f"Pair a device with Blip for {subentry.title}",
        notification_id=NOTIFICATION_ID.format(child_id),
    )
    return {
        "code": pending.code,
        "url": url,
        "expires_at": pending.expires_at,
        "child": subentry.title,
    }


def _loaded(hass: HomeAssistant) -> DeviceAccess:
    if (access := async_get_access(hass)) is None:
        raise ServiceValidationError(translation_domain=DOMAIN, translation_key="not_loaded")
    return access


def _child_id(hass: HomeAssistant, child: str) -> str:
    """A child's subentry id from their device (or one of their entities)."""
    from ..services import _child_from_call

    _, child_id = _child_from_call(hass, child)
    return child_id
